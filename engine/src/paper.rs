//! `charon run`: a paper-trading run, the same actors as a backtest (the simulated exchange
//! fills) fed by a live source in another process ([`crate::feed`]), recording every input in
//! its run log. It is built to be killed: at any moment, `kill -9` included, a restart opens
//! the log, restores the newest snapshot, re-derives the tail after it (comparing each event
//! with the record and completing a cascade the kill cut short), and asks the feed to resume
//! after the last input it holds. The log it ends with is the one an uninterrupted run writes:
//! nothing lost, nothing twice.
//!
//! Every frame of the feed becomes exactly one recorded input (a malformed frame is recorded
//! as a `market_data_gap`), so the count of inputs in the log is the feed position to resume
//! from.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use charon_actors::journal::{Journal, JournalSnapshot, ResumingSink};
use charon_actors::setup::build_actors;
use charon_events::payload::external::MarketDataGap;
use charon_events::payload::manifest::{ExecutionMode, RunManifest};
use charon_events::{Envelope, Event, EventLog, LogKind, Origin, Seq, Timestamp, Venue};
use clap::Args;

use crate::backtest::bundle::{Bundle, RunSpec};
use crate::failure::Failure;
use crate::feed::{FeedClient, FeedItem};
use crate::follow::FollowService;
use crate::open_log::open_within;
use crate::replay_cmd::manifest_of;

/// The venue a feed's gaps are recorded against.
const FEED_VENUE: &str = "feed";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The bot configuration (only for a new run: a restart runs the configuration recorded in
    /// its log, and refuses a different one).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The market feed to read (`charon feed` on a data log).
    #[arg(long)]
    pub feed: String,
    /// The run log: created on the first start, continued on every later one.
    #[arg(long)]
    pub log: PathBuf,
    /// Snapshot every actor's state after this many events (inputs and derived); 0: never.
    #[arg(long, default_value_t = 50_000)]
    pub snapshot_every: u64,
    /// Print `progress INPUTS` after every this many inputs (0: never).
    #[arg(long, default_value_t = 0)]
    pub progress_every: u64,
}

pub fn run(args: RunArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let work =
        tempfile::tempdir().map_err(|e| Failure::Failed(format!("a temporary directory: {e}")))?;
    let (log, spec) = open_or_create(&args, work.path())?;
    let mut run = open_run(log, &spec)?;
    let followers = FollowService::start(run.journal.sink().log())?;
    let resumed = run.journal.stats();
    // The time from here to ready: opening the log, restoring, re-deriving the tail.
    outln!(
        "charon run: {} at seq {} ({} inputs); snapshot through seq {}, {} events re-derived; \
         ready in {:.3} s",
        if resumed.inputs == 0 {
            "started"
        } else {
            "resumed"
        },
        run.journal.sink().next_seq() - 1,
        resumed.inputs,
        run.snapshot_seq,
        run.rederived,
        started.elapsed().as_secs_f64()
    );
    flush_stdout()?;

    let mut feed = FeedClient::connect(&args.feed, resumed.inputs)?;
    let mut malformed = 0u64;
    let mut last_snapshot = run.snapshot_seq;
    let mut last_ts = run.last_ts;
    loop {
        let input = match feed.next_item()? {
            FeedItem::End => break,
            FeedItem::Event(event) => {
                let mut event = *event;
                event.seq = 0;
                event
            }
            FeedItem::Malformed(reason) => {
                malformed += 1;
                eprintln!(
                    "charon run: skipped a malformed feed frame, recorded as a gap: {reason}"
                );
                let position = run.journal.stats().inputs;
                gap(last_ts, position)
            }
        };
        last_ts = input.ts;
        run.journal
            .process(input)
            .map_err(|e| Failure::Failed(format!("{}: {e}", args.log.display())))?;
        let stats = run.journal.stats();
        if args.progress_every > 0 && stats.inputs % args.progress_every == 0 {
            outln!("progress {}", stats.inputs);
            flush_stdout()?;
        }
        let at = run.journal.sink().next_seq() - 1;
        if args.snapshot_every > 0 && at - last_snapshot >= args.snapshot_every {
            snapshot(&run.journal, at)?;
            last_snapshot = at;
        }
    }
    let log = run.journal.sink().log();
    log.sync_through(log.last_seq())?;
    followers.stop();
    let stats = run.journal.stats();
    outln!(
        "charon run: the feed ended; {} inputs, {} derived events, {} malformed frames; log {} \
         through seq {}",
        stats.inputs,
        stats.derived,
        malformed,
        args.log.display(),
        log.last_seq()
    );
    Ok(())
}

fn flush_stdout() -> Result<(), Failure> {
    std::io::stdout()
        .flush()
        .map_err(|e| Failure::Failed(format!("stdout: {e}")))
}

/// A frame the run could not read, as the input it stands for.
fn gap(ts: Timestamp, position: u64) -> Envelope {
    Envelope::input(
        ts,
        Event::MarketDataGap(MarketDataGap {
            venue: Venue::new(FEED_VENUE).expect("a valid venue name"),
            last_seen_id: position,
            next_id: position + 2,
        }),
    )
}

/// Stores every actor's state as the snapshot through `seq` (the end of a cascade).
pub fn snapshot(journal: &Journal<ResumingSink>, seq: Seq) -> Result<(), Failure> {
    let state = journal
        .snapshot()
        .map_err(|e| Failure::Failed(format!("snapshot: {e}")))?;
    journal.sink().log().put_snapshot(seq, &state.encode())?;
    Ok(())
}

/// Writes the manifest of `spec` into the empty run log `log`.
pub fn open_with_manifest(log: &EventLog, spec: &RunSpec) -> Result<(), Failure> {
    // A paper run's manifest has no event time of its own; 0 keeps reruns identical.
    let mut opening = Envelope::input(
        Timestamp::from_nanos(0),
        Event::RunManifest(manifest(&spec.bundle)),
    );
    log.append(&mut opening)?;
    log.sync_through(1)?;
    Ok(())
}

/// The manifest that opens a paper run's log: the configuration in full, inputs recorded.
pub fn manifest(bundle: &Bundle) -> RunManifest {
    RunManifest {
        mode: ExecutionMode::Paper,
        binary_version: env!("CARGO_PKG_VERSION").to_string(),
        config_hash: bundle.hash(),
        config_toml: bundle.to_toml(),
        data: None,
        seed: 0,
        data_path: None,
    }
}

/// The run log and the configuration to run: a new log opened with the manifest of
/// `--config`, or an existing one with the configuration its manifest recorded.
fn open_or_create(args: &RunArgs, work: &Path) -> Result<(EventLog, RunSpec), Failure> {
    let given = args.config.as_deref().map(RunSpec::from_file).transpose()?;
    if given.is_none() && !args.log.exists() {
        return Err(Failure::BadInput(format!(
            "{}: a new run needs --config",
            args.log.display()
        )));
    }
    let log = if args.log.exists() {
        open_within(&args.log, LOCK_PATIENCE, "charon run")?
    } else {
        EventLog::create(&args.log, LogKind::Run)?
    };
    if log.kind() != LogKind::Run {
        return Err(Failure::BadInput(format!(
            "{}: a {:?} log, not a run log",
            args.log.display(),
            log.kind()
        )));
    }
    // A log killed before its manifest was written holds nothing yet: start it again.
    if log.last_seq() == 0 {
        let spec = given.ok_or_else(|| {
            Failure::BadInput(format!("{}: a new run needs --config", args.log.display()))
        })?;
        open_with_manifest(&log, &spec)?;
        return Ok((log, spec));
    }
    let recorded = manifest_of(&log)?;
    if recorded.mode != ExecutionMode::Paper {
        return Err(Failure::BadInput(format!(
            "{}: a {:?} run; `charon run` continues paper runs only",
            args.log.display(),
            recorded.mode
        )));
    }
    if let Some(spec) = &given {
        if spec.bundle.hash() != recorded.config_hash {
            return Err(Failure::BadInput(format!(
                "{}: the run was started with another configuration (hash {}); give none to \
                 continue it, or a new --log",
                args.log.display(),
                recorded.config_hash
            )));
        }
    }
    let bundle = Bundle::from_toml(&recorded.config_toml).map_err(Failure::BadInput)?;
    let spec = RunSpec::from_bundle(&bundle, work, "run.toml")?;
    Ok((log, spec))
}

/// How long a restart waits for a log that another process has open: a follower
/// (`charon log inspect --follow`) opens a log that no run serves, to read what it holds, and
/// may be doing so just as the run restarts. A second run on the same log waits, then fails.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// A run opened from its log, ready for new inputs.
pub struct OpenRun {
    pub journal: Journal<ResumingSink>,
    /// The seq the restored snapshot covered through (1, the manifest, without one).
    pub snapshot_seq: Seq,
    /// Events re-derived after the snapshot.
    pub rederived: u64,
    /// The time of the last input the log holds.
    pub last_ts: Timestamp,
}

/// Opens a run log holding recorded inputs: its actors from `spec`, the newest snapshot the
/// log fully holds, then the tail after it re-derived (compared with the record, a cut cascade
/// completed).
pub fn open_run(log: EventLog, spec: &RunSpec) -> Result<OpenRun, Failure> {
    let actors = build_actors(&spec.config, &spec.templates)
        .map_err(|e| Failure::BadInput(format!("the run's configuration: {e}")))?;
    let last = log.last_seq();
    let (snapshot_seq, state) = match log.snapshot_through(last)? {
        Some((seq, bytes)) => (seq, Some(bytes)),
        None => (1, None),
    };
    let mut journal = Journal::new(actors, ResumingSink::new(log.clone(), snapshot_seq))
        .map_err(|e| Failure::Failed(format!("run: {e}")))?;
    if let Some(bytes) = state {
        JournalSnapshot::decode(&bytes)
            .and_then(|snapshot| journal.restore(&snapshot))
            .map_err(|e| {
                Failure::BadInput(format!(
                    "{}: snapshot through seq {snapshot_seq}: {e}",
                    log.path().display()
                ))
            })?;
    }
    let mut last_ts = Timestamp::from_nanos(0);
    let derived_before = journal.stats().derived;
    for event in log.iter_from(snapshot_seq + 1) {
        let event = event?;
        if event.origin != Origin::Input {
            continue;
        }
        last_ts = event.ts;
        journal.process(event).map_err(|e| {
            Failure::Failed(format!(
                "{}: re-deriving the log's tail: {e}",
                log.path().display()
            ))
        })?;
    }
    if last_ts == Timestamp::from_nanos(0) && snapshot_seq > 1 {
        last_ts = log.get(snapshot_seq)?.map_or(last_ts, |event| event.ts);
    }
    let rederived = journal.stats().derived - derived_before;
    Ok(OpenRun {
        journal,
        snapshot_seq,
        rederived,
        last_ts,
    })
}
