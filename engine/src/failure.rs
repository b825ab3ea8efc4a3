//! What a command can fail with, and the exit code each failure maps to.

use std::fmt;

use charon_events::LogError;

/// A command's failure: bad input (exit 2) or a failure of the run itself (exit 1).
#[derive(Debug)]
pub enum Failure {
    BadInput(String),
    Failed(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::BadInput(_) => 2,
            Failure::Failed(_) => 1,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::BadInput(message) | Failure::Failed(message) => f.write_str(message),
        }
    }
}

impl From<LogError> for Failure {
    fn from(error: LogError) -> Self {
        if error.is_bad_input() {
            Failure::BadInput(error.to_string())
        } else {
            Failure::Failed(error.to_string())
        }
    }
}

impl From<charon_replay::inspect::InspectError> for Failure {
    fn from(error: charon_replay::inspect::InspectError) -> Self {
        match error {
            charon_replay::inspect::InspectError::Log(e) => e.into(),
            charon_replay::inspect::InspectError::Output(e) => {
                Failure::Failed(format!("writing output: {e}"))
            }
            charon_replay::inspect::InspectError::Filter(message) => Failure::BadInput(message),
        }
    }
}
