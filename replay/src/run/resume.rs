//! A run reopened from its log, to continue it (a paper run's restart, after a stop or a
//! `kill -9`): the actors built from the configuration its manifest recorded, the newest
//! snapshot the log fully holds restored, and the inputs after it re-derived through the
//! Journal's resuming sink, which compares each event with the record instead of writing it
//! again and completes a cascade the kill cut short. The run is then ready for its next input.

use std::path::Path;

use charon_actors::journal::{JournalSnapshot, ResumingSink};
use charon_events::payload::manifest::ExecutionMode;
use charon_events::{EventLog, LogError, LogKind, Origin, Seq, Timestamp};

use super::error::RunError;
use super::run_log::{manifest_of, paper_opening, recorded_spec};
use super::spec::RunSpec;
use super::{Run, VenueSide};

/// A run opened from its log, ready for new inputs.
pub struct Resumed {
    pub run: Run<ResumingSink>,
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
pub fn resume(log: EventLog, spec: &RunSpec) -> Result<Resumed, RunError> {
    let path = log.path().to_path_buf();
    let last = log.last_seq();
    let (snapshot_seq, state) = match log.snapshot_through(last)? {
        Some((seq, bytes)) => (seq, Some(bytes)),
        None => (1, None),
    };
    let sink = ResumingSink::new(log.clone(), snapshot_seq);
    let mut run =
        Run::new(spec, VenueSide::Simulated, || Ok(sink)).map_err(RunError::in_recorded_run)?;
    if let Some(bytes) = state {
        JournalSnapshot::decode(&bytes)
            .and_then(|snapshot| run.restore(&snapshot))
            .map_err(|source| RunError::BadSnapshot {
                log: path.clone(),
                seq: snapshot_seq,
                source,
            })?;
    }
    let mut last_ts = Timestamp::from_nanos(0);
    let derived_before = run.stats().derived;
    for event in log.iter_from(snapshot_seq + 1) {
        let event = event?;
        if event.origin != Origin::Input {
            continue;
        }
        last_ts = event.ts;
        run.process(event).map_err(|source| RunError::Resume {
            log: path.clone(),
            source,
        })?;
    }
    if last_ts == Timestamp::from_nanos(0) && snapshot_seq > 1 {
        last_ts = log.get(snapshot_seq)?.map_or(last_ts, |event| event.ts);
    }
    let rederived = run.stats().derived - derived_before;
    Ok(Resumed {
        run,
        snapshot_seq,
        rederived,
        last_ts,
    })
}

/// Stores every actor's state as the snapshot through `seq` (the end of a cascade).
pub fn snapshot(run: &Run<ResumingSink>, seq: Seq) -> Result<(), RunError> {
    let state = run.snapshot().map_err(RunError::Snapshot)?;
    run.sink().log().put_snapshot(seq, &state.encode())?;
    Ok(())
}

/// Writes the manifest of a paper run of `spec` into the empty run log `log`, durably.
pub fn start_paper(log: &EventLog, spec: &RunSpec) -> Result<(), RunError> {
    let mut opening = paper_opening(&spec.bundle);
    log.append(&mut opening)?;
    log.sync_through(1)?;
    Ok(())
}

/// The paper run log at `path` and the configuration to run: a new log opened with the
/// manifest of `given` (`--config`), or an existing one (opened by `open`) with the
/// configuration its manifest recorded, which `given`, if any, must be.
pub fn open_paper_log(
    path: &Path,
    given: Option<RunSpec>,
    open: impl FnOnce(&Path) -> Result<EventLog, LogError>,
) -> Result<(EventLog, RunSpec), RunError> {
    if given.is_none() && !path.exists() {
        return Err(RunError::NeedsConfig(path.to_path_buf()));
    }
    let log = if path.exists() {
        open(path)?
    } else {
        EventLog::create(path, LogKind::Run)?
    };
    if log.kind() != LogKind::Run {
        return Err(RunError::NotARunLog {
            path: path.to_path_buf(),
            kind: log.kind(),
        });
    }
    // A log killed before its manifest was written holds nothing yet: start it again.
    if log.last_seq() == 0 {
        let spec = given.ok_or_else(|| RunError::NeedsConfig(path.to_path_buf()))?;
        start_paper(&log, &spec)?;
        return Ok((log, spec));
    }
    let recorded = manifest_of(&log)?;
    if recorded.mode != ExecutionMode::Paper {
        return Err(RunError::NotPaper {
            log: path.to_path_buf(),
            mode: recorded.mode,
        });
    }
    if let Some(spec) = &given {
        if spec.bundle.hash() != recorded.config_hash {
            return Err(RunError::OtherConfig {
                log: path.to_path_buf(),
                recorded: recorded.config_hash,
            });
        }
    }
    let spec = recorded_spec(path, &recorded)?;
    Ok((log, spec))
}
