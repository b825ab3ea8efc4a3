//! What can go wrong in a run over recorded inputs, typed by kind so that a caller (the
//! command line, and later the control API) can tell bad input from a failure of the run, and
//! with the one-line message it shows.

use std::path::PathBuf;

use charon_actors::config::ConfigErrors;
use charon_actors::journal::{JournalError, SinkError, SnapshotError};
use charon_actors::setup::SetupError;
use charon_events::codec::CodecError;
use charon_events::payload::manifest::ExecutionMode;
use charon_events::{LogError, LogId, LogKind, Seq};

use super::bundle::BundleError;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading a log or writing the run log.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A configuration file given to the run.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// The configuration recorded in a run's manifest no longer loads.
    #[error("{}: the run's configuration: {source}", run.display())]
    RecordedConfig {
        run: PathBuf,
        #[source]
        source: ConfigErrors,
    },
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The actors of a configuration given to the run could not be built.
    #[error("configuration: {0}")]
    Setup(#[source] SetupError),
    /// The actors of a run's recorded configuration could not be built.
    #[error("the run's configuration: {0}")]
    RecordedSetup(#[source] SetupError),
    /// A cascade failed while the run derived.
    #[error("run: {0}")]
    Journal(#[source] JournalError),
    /// A cascade failed while a recorded run was re-derived to be verified.
    #[error("replay: {0}")]
    Replay(#[source] JournalError),
    /// A cascade failed while a run reopened from its log re-derived the events after its
    /// snapshot.
    #[error("{}: re-deriving the log's tail: {source}", log.display())]
    Resume {
        log: PathBuf,
        #[source]
        source: JournalError,
    },
    #[error("{}: snapshot through seq {seq}: {source}", log.display())]
    BadSnapshot {
        log: PathBuf,
        seq: Seq,
        #[source]
        source: SnapshotError,
    },
    #[error("snapshot: {0}")]
    Snapshot(#[source] SnapshotError),
    #[error("encoding seq {seq}: {source}")]
    Encode {
        seq: Seq,
        #[source]
        source: CodecError,
    },
    #[error("{}: already exists; a run log is never overwritten", .0.display())]
    Exists(PathBuf),
    #[error("{}: a {kind:?} log, not a data log", path.display())]
    NotADataLog { path: PathBuf, kind: LogKind },
    #[error("{}: a {kind:?} log, not a run log", path.display())]
    NotARunLog { path: PathBuf, kind: LogKind },
    #[error("{}: not a run log: its first event is not a run manifest", .0.display())]
    NoManifest(PathBuf),
    #[error("{}: no market data in the requested period", .0.display())]
    NoDataInPeriod(PathBuf),
    #[error("{}: seq {seq} is missing", path.display())]
    SeqMissing { path: PathBuf, seq: Seq },
    #[error("{}: a backtest citing data log {}: pass it with --data", run.display(), log_id.0)]
    DataNotGiven { run: PathBuf, log_id: LogId },
    #[error(
        "{}: a backtest citing data log {}, which is no longer at {}: pass it with --data",
        run.display(), log_id.0, recorded.display()
    )]
    DataMoved {
        run: PathBuf,
        log_id: LogId,
        recorded: PathBuf,
    },
    #[error("{}: data log {} is not the run's, {}", data.display(), found.0, cited.0)]
    WrongDataLog {
        data: PathBuf,
        found: LogId,
        cited: LogId,
    },
    #[error(
        "{}: holds seqs up to {held}, but {} cites {first}..={last}",
        data.display(), run.display()
    )]
    DataTooShort {
        data: PathBuf,
        held: Seq,
        run: PathBuf,
        first: Seq,
        last: Seq,
    },
    #[error("{}: a backtest's inputs are in its data log, which was not given", .0.display())]
    DataMissing(PathBuf),
    #[error("{}: a paper run records its inputs; --data is for backtests", .0.display())]
    DataForRecorded(PathBuf),
    #[error(
        "{}: a {} run's inputs include the venue's reports on its own orders, which another \
         configuration's orders would not have had; a what-if replays a backtest's or a paper \
         run's market inputs",
        run.display(), mode_name(*.mode)
    )]
    NoWhatIf { run: PathBuf, mode: ExecutionMode },
    #[error("{}: a new run needs --config", .0.display())]
    NeedsConfig(PathBuf),
    #[error("{}: a {mode:?} run; `charon run` continues paper runs only", log.display())]
    NotPaper { log: PathBuf, mode: ExecutionMode },
    #[error(
        "{}: the run was started with another configuration (hash {recorded}); give none to \
         continue it, or a new --log",
        log.display()
    )]
    OtherConfig { log: PathBuf, recorded: String },
}

impl RunError {
    /// Whether the input is at fault (a bad path, log or configuration: exit 2), rather than
    /// the run itself or the machine (exit 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            RunError::Log(error) => error.is_bad_input(),
            RunError::Bundle(error) => !matches!(error, BundleError::Write { .. }),
            RunError::Journal(error) | RunError::Replay(error) => journal_bad_input(error),
            RunError::Resume { .. }
            | RunError::Snapshot(_)
            | RunError::Encode { .. }
            | RunError::SeqMissing { .. } => false,
            RunError::Config(_)
            | RunError::RecordedConfig { .. }
            | RunError::Setup(_)
            | RunError::RecordedSetup(_)
            | RunError::BadSnapshot { .. }
            | RunError::Exists(_)
            | RunError::NotADataLog { .. }
            | RunError::NotARunLog { .. }
            | RunError::NoManifest(_)
            | RunError::NoDataInPeriod(_)
            | RunError::DataNotGiven { .. }
            | RunError::DataMoved { .. }
            | RunError::WrongDataLog { .. }
            | RunError::DataTooShort { .. }
            | RunError::DataMissing(_)
            | RunError::DataForRecorded(_)
            | RunError::NoWhatIf { .. }
            | RunError::NeedsConfig(_)
            | RunError::NotPaper { .. }
            | RunError::OtherConfig { .. } => true,
        }
    }
}

impl RunError {
    /// The same failure, said of a run rebuilt from its manifest: a configuration that no
    /// longer builds is the recorded one.
    pub fn in_recorded_run(self) -> RunError {
        match self {
            RunError::Setup(error) => RunError::RecordedSetup(error),
            other => other,
        }
    }
}

/// A cascade's failure is bad input only when it was a damaged or foreign log being read.
fn journal_bad_input(error: &JournalError) -> bool {
    matches!(error, JournalError::Sink(SinkError::Log(e)) if e.is_bad_input())
}

/// An execution mode as people write it.
pub fn mode_name(mode: ExecutionMode) -> &'static str {
    match mode {
        ExecutionMode::Backtest => "backtest",
        ExecutionMode::Paper => "paper",
        ExecutionMode::Live => "live",
    }
}
