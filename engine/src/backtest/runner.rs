//! Runs a backtest: the run's actors under the direct Journal over a span of a data log,
//! writing a run log that holds the manifest, cites its inputs by reference (data log id and
//! seq range) and stores every derived event, while the report is built on the way.

use std::io::IsTerminal;
use std::path::Path;

use charon_actors::journal::{EventSink, InputMode, Journal, LogSink, SinkError};
use charon_actors::setup::build_actors;
use charon_events::payload::manifest::{DataRange, ExecutionMode, RunManifest};
use charon_events::{Envelope, Event, EventLog, LogError, LogKind, Origin, Seq, Timestamp};
use charon_replay::report::{Report, ReportBuilder};
use charon_replay::statistics::Settings;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::bundle::RunSpec;
use crate::failure::Failure;

/// Inputs processed between progress-bar updates.
const PROGRESS_EVERY: u64 = 1 << 16;

/// What a finished backtest produced.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub inputs: u64,
    pub derived: u64,
    /// The data log span a backtest cites; `None` for a run whose log records its inputs.
    pub range: Option<DataRange>,
    /// The manifest's `config_hash`: the SHA-256 of the configuration and its templates.
    pub config_hash: String,
}

/// A sink that records through `inner` and feeds every event to the run report: in a backtest,
/// `inner` is the run log.
pub struct ReportingSink<S> {
    pub inner: S,
    pub report: ReportBuilder,
}

impl<S: EventSink> EventSink for ReportingSink<S> {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        let seq = self.inner.input(input)?;
        self.report.observe(input);
        Ok(seq)
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        self.inner.derived(events)?;
        for event in events.iter() {
            self.report.observe(event);
        }
        Ok(())
    }
}

/// A sink that numbers derived events from `next` on, as a log would, and keeps nothing: a
/// backtest without a run log (a sweep point, a benchmark's engine loop).
pub struct Numbering {
    pub next: Seq,
}

impl EventSink for Numbering {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        Ok(input.seq)
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        for event in events.iter_mut() {
            event.seq = self.next;
            self.next += 1;
        }
        Ok(())
    }
}

/// The manifest that opens a backtest's run log over `range` of the data log at `data_path`.
pub fn manifest(spec: &RunSpec, range: DataRange, data_path: &Path) -> RunManifest {
    RunManifest {
        mode: ExecutionMode::Backtest,
        binary_version: env!("CARGO_PKG_VERSION").to_string(),
        config_hash: spec.bundle.hash(),
        config_toml: spec.bundle.to_toml(),
        data: Some(range),
        seed: 0,
        data_path: data_path
            .canonicalize()
            .ok()
            .and_then(|path| path.to_str().map(String::from)),
    }
}

/// Runs `spec` over seqs `first..=last` of `data`, writing the run log at `out` (which must
/// not exist), and reports with statistics under `settings`. A progress bar is drawn on
/// standard error when it is a terminal and `progress`.
pub fn run(
    spec: &RunSpec,
    data: &EventLog,
    first: Seq,
    last: Seq,
    out: &Path,
    progress: bool,
    settings: &Settings,
) -> Result<Outcome, Failure> {
    check_span(data, first, last)?;
    let range = DataRange {
        log_id: data.meta().log_id,
        first_seq: first,
        last_seq: last,
    };
    let first_ts = data
        .get(first)?
        .map_or(Timestamp::from_nanos(0), |event| event.ts);
    let opening = Envelope::input(
        first_ts,
        Event::RunManifest(manifest(spec, range, data.path())),
    );
    let run = Run {
        spec,
        out,
        opening,
        mode: InputMode::ByReference,
        range: Some(range),
        total: last - first + 1,
        progress,
        settings,
    };
    run.over(data.range_decoded_ahead(first, last))
}

/// Runs `spec` over the inputs a paper run's log recorded (`source`), in their order, writing a
/// paper run log of its own at `out`: its manifest, each input again and what `spec` derives
/// from them. It verifies and diffs like the run it came from.
pub fn run_recorded(
    spec: &RunSpec,
    source: &EventLog,
    out: &Path,
    progress: bool,
    settings: &Settings,
) -> Result<Outcome, Failure> {
    let opening = Envelope::input(
        // As `charon run` writes it: no event time of its own, so reruns are identical.
        Timestamp::from_nanos(0),
        Event::RunManifest(crate::paper::manifest(&spec.bundle)),
    );
    let run = Run {
        spec,
        out,
        opening,
        mode: InputMode::Recorded,
        range: None,
        total: source.last_seq().saturating_sub(1),
        progress,
        settings,
    };
    // Every event after the manifest: the inputs are replayed, the derived ones only counted.
    run.over(source.iter_from(2))
}

impl Outcome {
    /// Where the inputs came from, for people: `45031 inputs (data log …, seqs 1..=45031)`.
    pub fn inputs_text(&self) -> String {
        match &self.range {
            Some(range) => format!(
                "{} inputs (data log {} seqs {}..={})",
                self.inputs, range.log_id.0, range.first_seq, range.last_seq
            ),
            None => format!("{} inputs (recorded in the log)", self.inputs),
        }
    }
}

/// One run's settings, shared by a backtest and a rerun of recorded inputs.
struct Run<'a> {
    spec: &'a RunSpec,
    out: &'a Path,
    /// The manifest event the run log opens with.
    opening: Envelope,
    /// `Recorded`: the events given are a run log's, whose derived events are skipped.
    mode: InputMode,
    range: Option<DataRange>,
    /// Events expected, for the progress bar.
    total: u64,
    progress: bool,
    settings: &'a Settings,
}

impl Run<'_> {
    /// Runs over `events`: a data log's inputs, or (`mode` `Recorded`) a run log's events.
    fn over(
        mut self,
        events: impl Iterator<Item = Result<Envelope, LogError>>,
    ) -> Result<Outcome, Failure> {
        if self.out.exists() {
            return Err(Failure::BadInput(format!(
                "{}: already exists; a run log is never overwritten",
                self.out.display()
            )));
        }
        let spec = self.spec;
        let actors = build_actors(&spec.config, &spec.templates)
            .map_err(|e| Failure::BadInput(format!("configuration: {e}")))?;
        let log = EventLog::create(self.out, LogKind::Run)?;
        log.append(&mut self.opening)?;
        let sink = ReportingSink {
            inner: LogSink::new(log, self.mode),
            report: ReportBuilder::new(&spec.capitals()),
        };
        let mut journal =
            Journal::new(actors, sink).map_err(|e| Failure::Failed(format!("run: {e}")))?;

        let bar = progress_bar(self.total, self.progress, "events");
        let mut done = 0u64;
        let replaying = self.mode == InputMode::Recorded;
        for event in events {
            let event = event?;
            done += 1;
            if done % PROGRESS_EVERY == 0 {
                bar.set_position(done);
            }
            if replaying && event.origin != Origin::Input {
                continue;
            }
            journal
                .process(event)
                .map_err(|e| Failure::Failed(format!("run: {e}")))?;
        }
        bar.finish_and_clear();

        let stats = journal.stats();
        let sink = journal.into_sink();
        let run_log = sink.inner.log();
        run_log.sync_through(run_log.last_seq())?;
        Ok(Outcome {
            report: sink.report.finish_with(self.settings),
            inputs: stats.inputs,
            derived: stats.derived,
            range: self.range,
            config_hash: spec.bundle.hash(),
        })
    }
}

/// That `data` is a data log and seqs `first..=last` (from [`seq_range`]) hold inputs.
pub fn check_span(data: &EventLog, first: Seq, last: Seq) -> Result<(), Failure> {
    if data.kind() != LogKind::Data {
        return Err(Failure::BadInput(format!(
            "{}: a {:?} log, not a data log",
            data.path().display(),
            data.kind()
        )));
    }
    if first == 0 || first > last {
        return Err(Failure::BadInput(format!(
            "{}: no market data in the requested period",
            data.path().display()
        )));
    }
    Ok(())
}

/// The event times of seqs `first` and `last` of `data`: the span a run over them covers.
pub fn time_span(
    data: &EventLog,
    first: Seq,
    last: Seq,
) -> Result<(Timestamp, Timestamp), Failure> {
    Ok((time_at(data, first)?, time_at(data, last)?))
}

/// The event time of `seq` in `data`, which must hold it.
fn time_at(data: &EventLog, seq: Seq) -> Result<Timestamp, Failure> {
    data.get(seq)?
        .map(|event| event.ts)
        .ok_or_else(|| Failure::Failed(format!("{}: seq {seq} is missing", data.path().display())))
}

/// A bar on standard error counting `unit`s, drawn only when `wanted` and standard error is a
/// terminal.
pub fn progress_bar(total: u64, wanted: bool, unit: &str) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template = format!(
        "{{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
    );
    let style = ProgressStyle::with_template(&template).expect("a valid progress template");
    bar.set_style(style);
    bar
}

/// The seqs of `data` whose events lie in `[from, to]` (either end open when `None`), found by
/// bisection: a data log is in time order. `(0, 0)` when none do.
pub fn seq_range(
    data: &EventLog,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<(Seq, Seq), Failure> {
    let last = data.last_seq();
    if last == 0 {
        return Ok((0, 0));
    }
    // The first seq whose time satisfies `past` (monotone over the log), or last + 1.
    let first_where = |past: &dyn Fn(Timestamp) -> bool| -> Result<Seq, Failure> {
        let (mut low, mut high) = (1, last + 1);
        while low < high {
            let middle = low + (high - low) / 2;
            if past(time_at(data, middle)?) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        Ok(low)
    };
    let first = match from {
        Some(from) => first_where(&|ts| ts >= from)?,
        None => 1,
    };
    let end = match to {
        Some(to) => first_where(&|ts| ts > to)? - 1,
        None => last,
    };
    if first > end {
        return Ok((0, 0));
    }
    Ok((first, end))
}
