//! A run written into a new run log while its report is built: what a backtest and a what-if
//! produce. The log opens with the run's manifest and then holds what the run's sink keeps:
//! every derived event, and the inputs themselves when they are recorded rather than cited.

use std::path::Path;

use charon_actors::journal::{InputMode, LogSink};
use charon_events::payload::manifest::DataRange;
use charon_events::Envelope;

use super::error::RunError;
use super::run_log::create;
use super::sinks::ReportingSink;
use super::spec::RunSpec;
use super::{FeedError, Inputs, Run, VenueSide};
use crate::report::{Report, ReportBuilder};
use crate::statistics::Settings;

/// What a finished run produced.
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

/// Runs `spec` over `inputs` into a new run log at `out` (which must not exist) opened with
/// `opening`, the run's manifest, and reports with statistics under `settings`.
pub fn run_reported(
    spec: &RunSpec,
    inputs: Inputs<'_>,
    opening: Envelope,
    out: &Path,
    settings: &Settings,
    progress: &mut dyn FnMut(u64),
) -> Result<Outcome, RunError> {
    if out.exists() {
        return Err(RunError::Exists(out.to_path_buf()));
    }
    let (mode, range) = match inputs {
        Inputs::DataSpan { data, first, last } => (
            InputMode::ByReference,
            Some(DataRange {
                log_id: data.meta().log_id,
                first_seq: first,
                last_seq: last,
            }),
        ),
        Inputs::Recorded { .. } | Inputs::Memory(_) => (InputMode::Recorded, None),
    };
    // Reading starts first: the inputs decode while the actors are built and the log created.
    let scan = inputs.start();
    let mut run = Run::new(spec, VenueSide::Simulated, || {
        Ok(ReportingSink {
            inner: LogSink::new(create(out, opening)?, mode),
            report: ReportBuilder::new(&spec.capitals()),
        })
    })?;
    run.feed(scan, progress).map_err(|error| match error {
        FeedError::Source(error) => RunError::Log(error),
        FeedError::Journal(error) => RunError::Journal(error),
    })?;
    let stats = run.stats();
    let sink = run.into_sink();
    let log = sink.inner.log();
    log.sync_through(log.last_seq())?;
    Ok(Outcome {
        report: sink.report.finish_with(settings),
        inputs: stats.inputs,
        derived: stats.derived,
        range,
        config_hash: spec.bundle.hash(),
    })
}
