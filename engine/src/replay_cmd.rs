//! `charon replay verify RUN`: re-derive every derived event of a run from its inputs, with
//! the configuration recorded in its manifest, and compare them with what the run log holds.
//!
//! - **Inputs**: a backtest's inputs are cited by reference (data log id and seq range in
//!   the manifest); `--data` names the data log, whose id must match. A paper or live log
//!   records its inputs itself, and they are replayed from it.
//! - **Comparison**: each re-derived event is encoded and compared byte for byte with the body
//!   stored at the same seq (read checked but not decoded); the stored log must end where the
//!   re-derivation ends.
//! - **Divergence**: exit 1 with the first diverging seq, the recorded and the re-derived event
//!   side by side, and what led to it: the input at the root of its cascade and the events of
//!   the same bot and pair recorded before it.
//! - A manifest written by another `charon` version is verified anyway, with a warning: a
//!   difference may then be the code's, not the log's.
//!
//! `charon replay run RUN --config OTHER.toml --out NEW` is a what-if: another configuration
//! over exactly the inputs RUN cites (the same data log, checked by id, and the same seq
//! range), written as a backtest of its own that `verify` and `diff` (`replay_diff.rs`) read
//! like any other. Over a paper run, the inputs its log recorded are replayed and recorded
//! again in the new log, a paper run of its own; a live run is refused (its inputs include
//! the venue's reports on its own orders).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use charon_actors::journal::{EventSink, Journal, JournalError, SinkError};
use charon_actors::setup::build_actors;
use charon_events::codec::encode_body;
use charon_events::log::{BodyIter, StoredBody};
use charon_events::payload::manifest::{ExecutionMode, RunManifest};
use charon_events::{Envelope, Event, EventLog, Origin, Seq};
use charon_replay::inspect::render_json;
use clap::{Args, Subcommand};

use crate::backtest::bundle::{Bundle, RunSpec};
use crate::backtest::{report, runner, ReportArgs};
use crate::failure::Failure;
use crate::open_log::open_existing;
use crate::replay_diff::{diff_cmd, mode_name, DiffArgs};

#[derive(Debug, Subcommand)]
pub enum ReplayCommand {
    /// Re-derive every derived event of a run from its inputs and compare byte for byte.
    Verify(VerifyArgs),
    /// What-if: run another configuration over exactly the inputs of a recorded run.
    Run(WhatIfArgs),
    /// Summarize how two runs over the same inputs differ (exit 0 identical, 1 different).
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The run log.
    pub run: PathBuf,
    /// The data log a backtest's inputs are cited from.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WhatIfArgs {
    /// The recorded run whose inputs to reuse.
    pub run: PathBuf,
    /// The configuration to run instead (TOML, with its strategy templates beside it).
    #[arg(long)]
    pub config: PathBuf,
    /// The new run log to write (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// The data log a backtest's inputs are cited from.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(command: ReplayCommand) -> Result<(), Failure> {
    match command {
        ReplayCommand::Verify(args) => verify_cmd(args),
        ReplayCommand::Run(args) => what_if_cmd(args),
        ReplayCommand::Diff(args) => diff_cmd(args),
    }
}

/// The data log a run cites, opened from `data` and checked against the manifest's id; `None`
/// for a run that records its inputs itself (paper, live).
fn cited_data(
    run: &Path,
    manifest: &RunManifest,
    data: Option<&Path>,
) -> Result<Option<EventLog>, Failure> {
    let Some(range) = manifest.data else {
        return Ok(None);
    };
    let Some(path) = data else {
        return Err(Failure::BadInput(format!(
            "{}: a backtest citing data log {}: pass it with --data",
            run.display(),
            range.log_id.0
        )));
    };
    let data = open_existing(path)?;
    if data.meta().log_id != range.log_id {
        return Err(Failure::BadInput(format!(
            "{}: data log {} is not the run's, {}",
            data.path().display(),
            data.meta().log_id.0,
            range.log_id.0
        )));
    }
    Ok(Some(data))
}

/// `replay run`: the configuration at `--config` over exactly the inputs `RUN` cites.
fn what_if_cmd(args: WhatIfArgs) -> Result<(), Failure> {
    let run = open_existing(&args.run)?;
    let manifest = manifest_of(&run)?;
    let Some(range) = manifest.data else {
        return what_if_recorded(&args, &run, &manifest);
    };
    drop(run);
    let data = cited_data(&args.run, &manifest, args.data.as_deref())?
        .expect("a backtest's data log, checked above");
    if data.last_seq() < range.last_seq {
        return Err(Failure::BadInput(format!(
            "{}: holds seqs up to {}, but {} cites {}..={}",
            data.path().display(),
            data.last_seq(),
            args.run.display(),
            range.first_seq,
            range.last_seq
        )));
    }
    let spec = RunSpec::from_file(&args.config)?;
    let outcome = runner::run(
        &spec,
        &data,
        range.first_seq,
        range.last_seq,
        &args.out,
        true,
        &args.report.risk_free_rate,
    )?;
    report(&outcome, &args.out, &args.report)
}

/// A what-if over the inputs a paper run recorded: they are replayed from its log and
/// recorded again in the new one, a paper run of its own. A live run's inputs include the
/// venue's reports on the orders it placed, which another configuration's orders would not
/// have had: that what-if would be fiction, and is refused.
fn what_if_recorded(
    args: &WhatIfArgs,
    run: &EventLog,
    manifest: &RunManifest,
) -> Result<(), Failure> {
    if manifest.mode != ExecutionMode::Paper {
        return Err(Failure::BadInput(format!(
            "{}: a {} run's inputs include the venue's reports on its own orders, which another \
             configuration's orders would not have had; a what-if replays a backtest's or a \
             paper run's market inputs",
            args.run.display(),
            mode_name(manifest.mode)
        )));
    }
    if args.data.is_some() {
        return Err(Failure::BadInput(format!(
            "{}: a paper run records its inputs; --data is for backtests",
            args.run.display()
        )));
    }
    let spec = RunSpec::from_file(&args.config)?;
    let outcome = runner::run_recorded(&spec, run, &args.out, true, &args.report.risk_free_rate)?;
    report(&outcome, &args.out, &args.report)
}

/// What a verification found.
#[derive(Debug)]
pub enum Verdict {
    /// Every derived event re-derived identically.
    Identical {
        inputs: u64,
        derived: u64,
    },
    Diverged(Box<Divergence>),
}

#[derive(Debug)]
pub struct Divergence {
    pub seq: Seq,
    /// What the log holds at `seq` (`None`: the log ends before it).
    pub recorded: Option<Envelope>,
    /// What the inputs derive at `seq` (`None`: the re-derivation ends before it).
    pub rederived: Option<Envelope>,
    /// The input at the root of the diverging cascade.
    pub input: Option<Envelope>,
    /// Recorded events of the same bot and pair before `seq`, oldest first.
    pub context: Vec<Envelope>,
}

/// Events of the same bot and pair kept for a divergence report.
const CONTEXT: usize = 8;

fn verify_cmd(args: VerifyArgs) -> Result<(), Failure> {
    let run = open_existing(&args.run)?;
    let manifest = manifest_of(&run)?;
    if manifest.binary_version != env!("CARGO_PKG_VERSION") {
        eprintln!(
            "charon: warning: {} was written by charon {}, this is {}; a difference may be the code's",
            args.run.display(),
            manifest.binary_version,
            env!("CARGO_PKG_VERSION")
        );
    }
    let data = cited_data(&args.run, &manifest, args.data.as_deref())?;
    match verify(&run, &manifest, data.as_ref())? {
        Verdict::Identical { inputs, derived } => {
            outln!(
                "{}: verified: {derived} derived events re-derived identically from {inputs} inputs",
                args.run.display()
            );
            Ok(())
        }
        Verdict::Diverged(divergence) => {
            out!("{}", describe(&divergence));
            Err(Failure::Failed(format!(
                "{}: diverges at seq {}",
                args.run.display(),
                divergence.seq
            )))
        }
    }
}

/// The manifest a run log opens with.
pub fn manifest_of(run: &EventLog) -> Result<RunManifest, Failure> {
    match run.get(1)?.map(|event| event.payload) {
        Some(Event::RunManifest(manifest)) => Ok(manifest),
        _ => Err(Failure::BadInput(format!(
            "{}: not a run log: its first event is not a run manifest",
            run.path().display()
        ))),
    }
}

/// Re-derives `run` from its inputs (in `data` for a backtest) and compares.
pub fn verify(
    run: &EventLog,
    manifest: &RunManifest,
    data: Option<&EventLog>,
) -> Result<Verdict, Failure> {
    if manifest.data.is_some() && data.is_none() {
        return Err(Failure::BadInput(format!(
            "{}: a backtest's inputs are in its data log, which was not given",
            run.path().display()
        )));
    }
    let bundle = Bundle::from_toml(&manifest.config_toml).map_err(Failure::BadInput)?;
    let dir =
        tempfile::tempdir().map_err(|e| Failure::Failed(format!("a temporary directory: {e}")))?;
    let spec = RunSpec::from_bundle(&bundle, dir.path(), "run.toml")?;
    let actors = build_actors(&spec.config, &spec.templates)
        .map_err(|e| Failure::BadInput(format!("the run's configuration: {e}")))?;

    let sink = Comparing {
        recorded: run.bodies(2, Seq::MAX)?,
        next_seq: 2,
        encoded: Vec::with_capacity(256),
        context: VecDeque::new(),
        divergence: None,
        by_reference: data.is_some(),
    };
    let mut journal =
        Journal::new(actors, sink).map_err(|e| Failure::Failed(format!("replay: {e}")))?;
    let mut inputs = 0u64;
    let outcome = match (data, manifest.data) {
        (Some(data), Some(range)) => {
            if data.meta().log_id != range.log_id {
                return Err(Failure::BadInput(format!(
                    "{}: data log {} is not the run's, {}",
                    data.path().display(),
                    data.meta().log_id.0,
                    range.log_id.0
                )));
            }
            // Decoded on a second thread while the engine re-derives; dropping the scan (a
            // divergence stops early) stops and joins that thread.
            let mut scan = || {
                for input in data.range_decoded_ahead(range.first_seq, range.last_seq) {
                    inputs += 1;
                    let input = input.map_err(|e| JournalError::Sink(SinkError::Log(e)))?;
                    journal.process(input)?;
                }
                Ok(())
            };
            scan()
        }
        _ => {
            // Inputs recorded in the run log: the journal takes them back from the sink's
            // own reading of the log, so replay them through it.
            return verify_recorded(run, journal);
        }
    };
    finish(journal, outcome, inputs, data)
}

/// A paper or live log: its inputs are among its records.
fn verify_recorded(run: &EventLog, mut journal: Journal<Comparing>) -> Result<Verdict, Failure> {
    let mut inputs = 0u64;
    let mut outcome = Ok(());
    for event in run.iter_from(2) {
        let event = event?;
        if event.origin == Origin::Input {
            inputs += 1;
            outcome = journal.process(event);
            if outcome.is_err() {
                break;
            }
        }
    }
    finish(journal, outcome, inputs, None)
}

fn finish(
    journal: Journal<Comparing>,
    outcome: Result<(), charon_actors::journal::JournalError>,
    inputs: u64,
    data: Option<&EventLog>,
) -> Result<Verdict, Failure> {
    let derived = journal.stats().derived;
    let mut sink = journal.into_sink();
    if let Some(mut divergence) = sink.divergence.take() {
        divergence.input = root_input(&divergence, data);
        return Ok(Verdict::Diverged(divergence));
    }
    match outcome {
        Err(charon_actors::journal::JournalError::Sink(SinkError::Log(error))) => {
            return Err(error.into())
        }
        Err(error) => return Err(Failure::Failed(format!("replay: {error}"))),
        Ok(()) => {}
    }
    // Whatever the log holds past the last re-derived event is a divergence too.
    if let Some(extra) = sink.recorded.next().transpose()? {
        let divergence = sink.unexpected(extra).map_err(sink_failure)?;
        return Ok(Verdict::Diverged(divergence));
    }
    Ok(Verdict::Identical { inputs, derived })
}

fn sink_failure(error: SinkError) -> Failure {
    match error {
        SinkError::Log(error) => error.into(),
        other => Failure::Failed(format!("replay: {other}")),
    }
}

fn root_input(divergence: &Divergence, data: Option<&EventLog>) -> Option<Envelope> {
    let event = divergence
        .rederived
        .as_ref()
        .or(divergence.recorded.as_ref())?;
    let cause = event.cause?;
    data.and_then(|data| data.get(cause).ok().flatten())
}

/// The Journal's sink during verification: numbers re-derived events as the log did and
/// compares each, encoded, with the body stored at its seq, stopping at the first difference.
struct Comparing {
    recorded: BodyIter,
    next_seq: Seq,
    /// The re-derived event being compared, encoded (reused).
    encoded: Vec<u8>,
    /// The latest recorded events, for a divergence's context (decoded only if needed).
    context: VecDeque<StoredBody>,
    divergence: Option<Box<Divergence>>,
    by_reference: bool,
}

impl Comparing {
    /// The remembered events of `event`'s bot and pair, decoded.
    fn context_for(&self, event: &Envelope) -> Result<Vec<Envelope>, SinkError> {
        let mut context = Vec::new();
        for stored in &self.context {
            let decoded = self.decode(stored)?;
            if decoded.bot == event.bot && decoded.pair == event.pair {
                context.push(decoded);
            }
        }
        Ok(context)
    }

    fn remember(&mut self, stored: StoredBody) {
        if self.context.len() == CONTEXT * 8 {
            self.context.pop_front();
        }
        self.context.push_back(stored);
    }

    fn decode(&self, stored: &StoredBody) -> Result<Envelope, SinkError> {
        stored.decode().map_err(|source| {
            SinkError::Log(charon_events::LogError::Corrupt {
                path: self.recorded.path().to_path_buf(),
                seq: stored.seq,
                source,
            })
        })
    }

    /// A recorded event where the re-derivation has none (past its end, or where a recorded
    /// input was expected).
    fn unexpected(&self, stored: StoredBody) -> Result<Box<Divergence>, SinkError> {
        let recorded = self.decode(&stored)?;
        Ok(Box::new(Divergence {
            seq: stored.seq,
            context: self.context_for(&recorded)?,
            recorded: Some(recorded),
            rederived: None,
            input: None,
        }))
    }
}

impl EventSink for Comparing {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        if self.by_reference {
            return Ok(input.seq);
        }
        // A recorded input is the log's own record at its seq: step over it, unless the log
        // holds a derived event there that the re-derivation did not make.
        if let Some(stored) = self.recorded.next().transpose()? {
            if stored.seq != input.seq {
                let seq = stored.seq;
                self.divergence = Some(self.unexpected(stored)?);
                return Err(SinkError::Diverged { seq });
            }
        }
        self.next_seq = input.seq + 1;
        Ok(input.seq)
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        for event in events.iter_mut() {
            event.seq = self.next_seq;
            self.next_seq += 1;
            // A damaged record stops verification with its own error, naming its seq.
            let recorded = self.recorded.next().transpose()?;
            self.encoded.clear();
            let same = match &recorded {
                Some(stored) if stored.seq == event.seq => {
                    encode_body(event, &mut self.encoded).is_ok()
                        && stored.body() == self.encoded.as_slice()
                }
                _ => false,
            };
            if same {
                self.remember(recorded.expect("compared above"));
                continue;
            }
            let recorded = recorded.map(|stored| self.decode(&stored)).transpose()?;
            let context = self.context_for(recorded.as_ref().unwrap_or(event))?;
            self.divergence = Some(Box::new(Divergence {
                seq: event.seq,
                recorded,
                rederived: Some(event.clone()),
                input: None,
                context,
            }));
            return Err(SinkError::Diverged { seq: event.seq });
        }
        Ok(())
    }
}

/// A divergence for people: the two events side by side and what led to them.
pub fn describe(divergence: &Divergence) -> String {
    let show = |event: &Option<Envelope>| {
        event
            .as_ref()
            .map_or_else(|| "(nothing)".to_string(), render_json)
    };
    let mut text = format!(
        "divergence at seq {}\n  recorded:    {}\n  re-derived:  {}\n",
        divergence.seq,
        show(&divergence.recorded),
        show(&divergence.rederived)
    );
    if let (Some(recorded), Some(rederived)) = (&divergence.recorded, &divergence.rederived) {
        let mut differences = Vec::new();
        differing_fields(
            "",
            &serde_json::to_value(recorded).unwrap_or_default(),
            &serde_json::to_value(rederived).unwrap_or_default(),
            &mut differences,
        );
        for (path, was, now) in differences {
            text.push_str(&format!(
                "  differs in {path}: recorded {was}, re-derived {now}\n"
            ));
        }
    }
    if let Some(input) = &divergence.input {
        text.push_str(&format!(
            "caused by input {} of the data log:\n  {}\n",
            input.seq,
            render_json(input)
        ));
    }
    let context: Vec<&Envelope> = divergence.context.iter().rev().take(CONTEXT).collect();
    if !context.is_empty() {
        text.push_str("preceding events of the same bot and pair (recorded, identical):\n");
        for event in context.into_iter().rev() {
            text.push_str(&format!("  {}\n", render_json(event)));
        }
    }
    text
}

/// The leaf fields where two JSON values differ, as (dotted path, recorded, re-derived).
pub(crate) fn differing_fields(
    path: &str,
    recorded: &serde_json::Value,
    rederived: &serde_json::Value,
    out: &mut Vec<(String, String, String)>,
) {
    use serde_json::Value;
    match (recorded, rederived) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let null = Value::Null;
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                differing_fields(
                    &child,
                    a.get(key).unwrap_or(&null),
                    b.get(key).unwrap_or(&null),
                    out,
                );
            }
        }
        (a, b) if a != b => out.push((path.to_string(), a.to_string(), b.to_string())),
        _ => {}
    }
}
