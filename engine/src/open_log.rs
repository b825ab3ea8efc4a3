//! Opening a log that exists. sled locks a log's files for the one process that has it open; a
//! log that another process is closing stays locked for a moment, and so does one whose lock a
//! freshly forked child of that process still shares until it execs. A command waits a while
//! for such a lock to go instead of failing at once, and says so.

use std::path::Path;
use std::time::Duration;

use charon_events::{EventLog, LogError};

/// How long a command waits for a log another process holds before reporting it in use.
pub const COMMAND_PATIENCE: Duration = Duration::from_secs(5);

/// A lock that goes within this is a process closing the log, not worth a line on stderr.
const SAY_AFTER: Duration = Duration::from_millis(250);

/// Opens the log at `path`, waiting up to [`COMMAND_PATIENCE`] for another process to let go.
pub fn open_existing(path: &Path) -> Result<EventLog, LogError> {
    open_within(path, COMMAND_PATIENCE, "charon")
}

/// Opens the log at `path`, waiting up to `patience` for another process to let go; `command`
/// names who waits in the event logged when the wait lasts.
pub fn open_within(path: &Path, patience: Duration, command: &str) -> Result<EventLog, LogError> {
    let quiet = SAY_AFTER.min(patience);
    match EventLog::open_within(path, quiet) {
        Err(LogError::Locked { .. }) if patience > quiet => {
            tracing::warn!(
                log = %path.display(),
                waiting = command,
                patience_s = patience.as_secs(),
                "{} is in use by another process; waiting up to {} s",
                path.display(),
                patience.as_secs()
            );
            EventLog::open_within(path, patience - quiet)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charon_events::LogKind;
    use std::time::Instant;

    #[test]
    fn a_log_held_past_the_patience_is_reported_in_use_after_waiting_it_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held");
        let held = EventLog::create(&path, LogKind::Data).unwrap();
        let patience = Duration::from_millis(300);
        let started = Instant::now();
        let result = open_within(&path, patience, "test");
        assert!(
            matches!(result, Err(LogError::Locked { .. })),
            "{:?}",
            result.err()
        );
        assert!(
            started.elapsed() >= patience,
            "it waited {:?}",
            started.elapsed()
        );
        drop(held);
        assert!(open_within(&path, patience, "test").is_ok());
    }
}
