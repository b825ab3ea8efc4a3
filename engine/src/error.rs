//! What a command can fail with. Each crate's errors stay typed up to here, the boundary that
//! shows them: one line on standard error and the exit code, 2 when the input is at fault (a
//! bad path, log, configuration or argument), 1 when the command or the machine failed
//! (including a verification or a diff that found a difference).

use std::path::PathBuf;

use charon_actors::config::ConfigErrors;
use charon_actors::journal::{JournalError, SinkError};
use charon_adapters::import::data_log::DataLogError;
use charon_adapters::import::ImportError;
use charon_events::{BotId, LogError, Seq, Symbol};
use charon_replay::inspect::InspectError;
use charon_replay::run::RunError;
use charon_replay::sweep::SweepError;

use crate::feed::FeedError;
use crate::follow::FollowError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Sweep(#[from] SweepError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    DataLog(#[from] DataLogError),
    #[error(transparent)]
    Inspect(#[from] InspectError),
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Follow(#[from] FollowError),
    /// The demo's own data files.
    #[error("demo data: {0}")]
    DemoData(#[source] ImportError),
    #[error("{}: already exists; the demo writes a new data log", .0.display())]
    DemoDataExists(PathBuf),
    #[error("no market events in {files} (format {format})")]
    NoMarketEvents { files: String, format: String },
    /// A split that cannot cut the run's span.
    #[error("{0}")]
    Split(String),
    #[error("--from {from} is after --to {to}")]
    SeqWindow { from: Seq, to: Seq },
    #[error("--from-ts {from} is after --to-ts {to}")]
    TimeWindow {
        from: charon_events::Timestamp,
        to: charon_events::Timestamp,
    },
    /// A live input's cascade failed (the run stops; its restart resumes from its log).
    #[error("{}: {source}", log.display())]
    Process {
        log: PathBuf,
        #[source]
        source: charon_actors::journal::JournalError,
    },
    /// A verification that found a difference, in an event of `bot` and `pair`.
    #[error("{}: diverges at seq {seq}", run.display())]
    Diverged {
        run: PathBuf,
        seq: Seq,
        bot: Option<BotId>,
        pair: Option<Symbol>,
    },
    /// A diff that found a difference.
    #[error("{} and {} differ from seq {seq}", a.display(), b.display())]
    Differ { a: PathBuf, b: PathBuf, seq: Seq },
    /// A file the command writes.
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot create: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: writing: {source}", path.display())]
    WriteFailed {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Something of the process itself: standard output, a temporary directory.
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("report: {0}")]
    Report(#[source] serde_json::Error),
    /// A benchmark's recorded data that cannot be used.
    #[error("{0}")]
    BenchData(String),
    /// A benchmark whose measurement could not be made.
    #[error("bench {bench}: {why}")]
    Bench { bench: &'static str, why: String },
}

impl CommandError {
    /// The process's exit code for this failure: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.is_bad_input() {
            2
        } else {
            1
        }
    }

    /// The seq the failure is about, when it is about one event (a divergence, a damaged
    /// record, a runaway cascade), and that event's bot and pair when known: fields of the
    /// failure's event in the log.
    pub fn located(&self) -> (Option<Seq>, Option<BotId>, Option<Symbol>) {
        let of_log = |error: &LogError| match error {
            LogError::Corrupt { seq, .. } => Some(*seq),
            LogError::CorruptBlock { first_seq, .. } => Some(*first_seq),
            LogError::Gap { found, .. } => Some(*found),
            _ => None,
        };
        let of_journal = |error: &JournalError| match error {
            JournalError::RunawayCascade { input } => Some(*input),
            JournalError::Sink(SinkError::Diverged { seq }) => Some(*seq),
            JournalError::Sink(SinkError::Log(error)) => of_log(error),
            _ => None,
        };
        match self {
            CommandError::Diverged { seq, bot, pair, .. } => (Some(*seq), *bot, *pair),
            CommandError::Differ { seq, .. } => (Some(*seq), None, None),
            CommandError::Log(error) | CommandError::Run(RunError::Log(error)) => {
                (of_log(error), None, None)
            }
            CommandError::Run(RunError::Journal(error) | RunError::Replay(error))
            | CommandError::Process { source: error, .. } => (of_journal(error), None, None),
            _ => (None, None, None),
        }
    }

    fn is_bad_input(&self) -> bool {
        match self {
            CommandError::Log(error) => error.is_bad_input(),
            CommandError::Run(error) => error.is_bad_input(),
            CommandError::Sweep(error) => error.is_bad_input(),
            CommandError::DataLog(error) => error.is_bad_input(),
            CommandError::Feed(error) => error.is_bad_input(),
            CommandError::Follow(error) => error.is_bad_input(),
            CommandError::Inspect(InspectError::Log(error)) => error.is_bad_input(),
            CommandError::Inspect(InspectError::Filter(_)) => true,
            CommandError::Inspect(InspectError::Output(_)) => false,
            CommandError::Config(_)
            | CommandError::Import(_)
            | CommandError::DemoData(_)
            | CommandError::DemoDataExists(_)
            | CommandError::NoMarketEvents { .. }
            | CommandError::Split(_)
            | CommandError::BenchData(_)
            | CommandError::SeqWindow { .. }
            | CommandError::TimeWindow { .. } => true,
            CommandError::Process { .. }
            | CommandError::Diverged { .. }
            | CommandError::Differ { .. }
            | CommandError::Write { .. }
            | CommandError::Create { .. }
            | CommandError::WriteFailed { .. }
            | CommandError::Io { .. }
            | CommandError::Report(_)
            | CommandError::Bench { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_exits_2_and_failures_exit_1_through_every_layer() {
        let run = PathBuf::from("demo.run");
        let bad = [
            CommandError::Run(RunError::NoManifest(run.clone())),
            CommandError::Sweep(SweepError::Run(RunError::Exists(run.clone()))),
            CommandError::Log(LogError::NotFound { path: run.clone() }),
            CommandError::SeqWindow { from: 9, to: 1 },
        ];
        for error in bad {
            assert_eq!(error.exit_code(), 2, "{error}");
        }
        let failed = [
            CommandError::Diverged {
                run: run.clone(),
                seq: 7,
                bot: None,
                pair: None,
            },
            CommandError::Run(RunError::SeqMissing {
                path: run.clone(),
                seq: 3,
            }),
            CommandError::Log(LogError::Locked { path: run }),
        ];
        for error in failed {
            assert_eq!(error.exit_code(), 1, "{error}");
        }
    }
}
