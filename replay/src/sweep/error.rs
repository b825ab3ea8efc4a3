//! What stops a sweep, by kind: bad input (a grid, a point or a ranking the configuration
//! refuses; an output directory that exists) or a failure (a point that failed to run, files
//! that could not be written).

use std::path::PathBuf;

use crate::run::{BundleError, RunError};

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Run(#[from] RunError),
    /// The axes do not make a grid.
    #[error("{0}")]
    Grid(String),
    /// The split cannot cut the span.
    #[error("{0}")]
    Split(String),
    /// A point whose configuration is refused; nothing ran.
    #[error("sweep point {index} ({label}): {why}")]
    BadPoint {
        index: usize,
        label: String,
        why: String,
    },
    /// [`SweepError::BadPoint`] after the sweep's directory, which only held what the sweep
    /// had written, was removed.
    #[error("{source} (nothing ran; {} was removed)", out.display())]
    Removed {
        out: PathBuf,
        #[source]
        source: Box<SweepError>,
    },
    #[error(
        "--sort-bot {wanted}: the configuration has no such bot (it has {})",
        known.join(", ")
    )]
    NoSuchBot { wanted: String, known: Vec<String> },
    #[error("{}: already exists; a sweep never overwrites", .0.display())]
    Exists(PathBuf),
    /// A point that failed while it ran.
    #[error("sweep point {index} ({label}): {why}")]
    PointFailed {
        index: usize,
        label: String,
        why: String,
    },
    #[error(transparent)]
    Bundle(BundleError),
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: {source}")]
    Json {
        name: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl SweepError {
    /// Whether the input is at fault (exit 2) rather than the sweep or the machine (exit 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            SweepError::Run(error) => error.is_bad_input(),
            SweepError::Removed { source, .. } => source.is_bad_input(),
            SweepError::Grid(_)
            | SweepError::Split(_)
            | SweepError::BadPoint { .. }
            | SweepError::NoSuchBot { .. }
            | SweepError::Exists(_) => true,
            SweepError::PointFailed { .. }
            | SweepError::Bundle(_)
            | SweepError::Write { .. }
            | SweepError::Json { .. } => false,
        }
    }
}
