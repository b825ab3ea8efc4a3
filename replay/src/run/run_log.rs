//! A run's log and its manifest: the manifest a backtest's or a paper run's log opens with, a
//! new run log created with it, the manifest and configuration read back from a log, and the
//! data log a backtest cites found again.

use std::path::{Path, PathBuf};

use charon_events::payload::manifest::{DataRange, ExecutionMode, RunManifest};
use charon_events::{Envelope, Event, EventLog, LogKind, Timestamp};

use super::bundle::Bundle;
use super::error::RunError;
use super::spec::RunSpec;

/// The name a recorded configuration is known by in its errors (it is no file).
const RECORDED_CONFIG: &str = "run.toml";

/// The manifest that opens a backtest's run log over `range` of the data log at `data_path`.
pub fn backtest_manifest(spec: &RunSpec, range: DataRange, data_path: &Path) -> RunManifest {
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

/// The manifest that opens a paper run's log: the configuration in full, inputs recorded.
pub fn paper_manifest(bundle: &Bundle) -> RunManifest {
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

/// A paper run's manifest as the event that opens its log: it has no event time of its own,
/// and 0 keeps reruns identical.
pub fn paper_opening(bundle: &Bundle) -> Envelope {
    Envelope::input(
        Timestamp::from_nanos(0),
        Event::RunManifest(paper_manifest(bundle)),
    )
}

/// A new run log at `out` (which must not exist), opened with `opening`, the run's manifest.
pub fn create(out: &Path, mut opening: Envelope) -> Result<EventLog, RunError> {
    if out.exists() {
        return Err(RunError::Exists(out.to_path_buf()));
    }
    let log = EventLog::create(out, LogKind::Run)?;
    log.append(&mut opening)?;
    Ok(log)
}

/// The manifest a run log opens with.
pub fn manifest_of(run: &EventLog) -> Result<RunManifest, RunError> {
    match run.get(1)?.map(|event| event.payload) {
        Some(Event::RunManifest(manifest)) => Ok(manifest),
        _ => Err(RunError::NoManifest(run.path().to_path_buf())),
    }
}

/// The configuration a run's manifest recorded, loaded with the checks of any file.
pub fn recorded_spec(run: &Path, manifest: &RunManifest) -> Result<RunSpec, RunError> {
    let bundle = Bundle::from_toml(&manifest.config_toml)?;
    RunSpec::from_bundle(&bundle, Path::new(""), RECORDED_CONFIG).map_err(|source| {
        RunError::RecordedConfig {
            run: run.to_path_buf(),
            source,
        }
    })
}

/// Where the data log that the backtest `run` cites is: `given` (`--data`), else where its
/// manifest recorded it, if it is still there. `None` for a run that records its inputs.
pub fn cited_data_path(
    run: &Path,
    manifest: &RunManifest,
    given: Option<&Path>,
) -> Result<Option<PathBuf>, RunError> {
    let Some(range) = manifest.data else {
        return Ok(None);
    };
    if let Some(given) = given {
        return Ok(Some(given.to_path_buf()));
    }
    match manifest.data_path.as_deref().map(PathBuf::from) {
        Some(recorded) if recorded.exists() => Ok(Some(recorded)),
        Some(recorded) => Err(RunError::DataMoved {
            run: run.to_path_buf(),
            log_id: range.log_id,
            recorded,
        }),
        None => Err(RunError::DataNotGiven {
            run: run.to_path_buf(),
            log_id: range.log_id,
        }),
    }
}

/// That `data` is the data log `range` cites (the same id), whatever its path now.
pub fn check_cited(data: &EventLog, range: &DataRange) -> Result<(), RunError> {
    if data.meta().log_id != range.log_id {
        return Err(RunError::WrongDataLog {
            data: data.path().to_path_buf(),
            found: data.meta().log_id,
            cited: range.log_id,
        });
    }
    Ok(())
}
