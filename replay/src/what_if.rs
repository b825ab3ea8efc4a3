//! `replay run RUN --config OTHER.toml --out NEW`: a what-if, another configuration over
//! exactly the inputs of a recorded run, written as a run of its own that `verify` and `diff`
//! read like any other.
//!
//! - Over a **backtest**: the same data log (checked by id) and the same seq range; the new run
//!   is a backtest.
//! - Over a **paper run**: the inputs its log recorded, replayed and recorded again in the new
//!   log, a paper run of its own.
//! - A **live** run is refused: its inputs include the venue's reports on the orders it placed,
//!   which another configuration's orders would not have had; that what-if would be fiction.

use std::path::Path;

use charon_events::payload::manifest::{DataRange, ExecutionMode, RunManifest};
use charon_events::EventLog;

use crate::backtest::backtest;
use crate::run::reported::{run_reported, Outcome};
use crate::run::run_log::{check_cited, paper_opening};
use crate::run::{Inputs, RunError, RunSpec};
use crate::statistics::Settings;

/// That a what-if over the run at `run` (which records its inputs) can be made: it must be a
/// paper run, and `--data` (`data_given`) is for backtests.
pub fn check_recorded(
    run: &Path,
    manifest: &RunManifest,
    data_given: bool,
) -> Result<(), RunError> {
    if manifest.mode != ExecutionMode::Paper {
        return Err(RunError::NoWhatIf {
            run: run.to_path_buf(),
            mode: manifest.mode,
        });
    }
    if data_given {
        return Err(RunError::DataForRecorded(run.to_path_buf()));
    }
    Ok(())
}

/// That `data` is the data log the backtest at `run` cites over `range`, and holds the range.
pub fn check_data(run: &Path, range: &DataRange, data: &EventLog) -> Result<(), RunError> {
    check_cited(data, range)?;
    if data.last_seq() < range.last_seq {
        return Err(RunError::DataTooShort {
            data: data.path().to_path_buf(),
            held: data.last_seq(),
            run: run.to_path_buf(),
            first: range.first_seq,
            last: range.last_seq,
        });
    }
    Ok(())
}

/// `spec` over the span `range` of `data` that a backtest cited (see [`check_data`]), into a
/// new backtest run log at `out`.
pub fn over_backtest(
    spec: &RunSpec,
    range: &DataRange,
    data: &EventLog,
    out: &Path,
    settings: &Settings,
    progress: &mut dyn FnMut(u64),
) -> Result<Outcome, RunError> {
    backtest(
        spec,
        data,
        range.first_seq,
        range.last_seq,
        out,
        settings,
        progress,
    )
}

/// `spec` over the inputs the paper run log `run` recorded, in their order (see
/// [`check_recorded`]), into a new paper run log at `out`: its manifest, each input again and
/// what `spec` derives from them.
pub fn over_recorded(
    spec: &RunSpec,
    run: &EventLog,
    out: &Path,
    settings: &Settings,
    progress: &mut dyn FnMut(u64),
) -> Result<Outcome, RunError> {
    let inputs = Inputs::Recorded { log: run, after: 1 };
    run_reported(
        spec,
        inputs,
        paper_opening(&spec.bundle),
        out,
        settings,
        progress,
    )
}
