//! `replay verify`: re-derive every derived event of a run from its inputs, with the
//! configuration recorded in its manifest, and compare them with what the run log holds. It is
//! the one run with a sink that compares instead of appending.
//!
//! - **Inputs**: a backtest's inputs are cited by reference (data log id and seq range in
//!   the manifest); the data log is the one given, or the one at the path the manifest
//!   recorded, and its id must match. A paper or live log records its inputs itself, and they
//!   are replayed from it.
//! - **Comparison**: each re-derived event is encoded and compared byte for byte with the body
//!   stored at the same seq (read checked but not decoded; a record of an older format is
//!   decoded and compared as an event); the stored log must end where the re-derivation ends.
//! - **Divergence**: the first diverging seq, the recorded and the re-derived event, and what
//!   led to it: the input at the root of its cascade and the events of the same bot and pair
//!   recorded before it ([`describe`]).

mod comparing;
mod describe;

use charon_actors::journal::{JournalError, SinkError};
use charon_events::payload::manifest::RunManifest;
use charon_events::{Envelope, EventLog, Seq};

pub use describe::describe;

use crate::run::run_log::{check_cited, recorded_spec};
use crate::run::{FeedError, Inputs, Run, RunError, VenueSide};
use comparing::Comparing;

/// What a verification found.
#[derive(Debug)]
pub enum Verdict {
    /// Every derived event re-derived identically.
    Identical {
        inputs: u64,
        derived: u64,
    },
    Diverged(Box<Divergence>),
}

#[derive(Debug)]
pub struct Divergence {
    pub seq: Seq,
    /// What the log holds at `seq` (`None`: the log ends before it).
    pub recorded: Option<Envelope>,
    /// What the inputs derive at `seq` (`None`: the re-derivation ends before it).
    pub rederived: Option<Envelope>,
    /// The input at the root of the diverging cascade.
    pub input: Option<Envelope>,
    /// Recorded events of the same bot and pair before `seq`, oldest first.
    pub context: Vec<Envelope>,
}

/// Events of the same bot and pair kept for a divergence report.
const CONTEXT: usize = 8;

/// Re-derives `run` (whose manifest is `manifest`) from its inputs, in `data` for a backtest,
/// and compares.
pub fn verify(
    run: &EventLog,
    manifest: &RunManifest,
    data: Option<&EventLog>,
) -> Result<Verdict, RunError> {
    let inputs = match (data, &manifest.data) {
        (Some(data), Some(range)) => {
            check_cited(data, range)?;
            Inputs::DataSpan {
                data,
                first: range.first_seq,
                last: range.last_seq,
            }
        }
        (None, Some(_)) => return Err(RunError::DataMissing(run.path().to_path_buf())),
        (_, None) => Inputs::Recorded { log: run, after: 1 },
    };
    let spec = recorded_spec(run.path(), manifest)?;
    let by_reference = matches!(inputs, Inputs::DataSpan { .. });
    let scan = inputs.start();
    let recorded = run.bodies(2, Seq::MAX)?;
    let mut replay = Run::new(&spec, VenueSide::Simulated, || {
        Ok(Comparing::new(recorded, by_reference))
    })
    .map_err(|error| match error.in_recorded_run() {
        RunError::Journal(error) => RunError::Replay(error),
        other => other,
    })?;
    // A divergence stops the feed early; the backtest's decoding thread is then stopped and
    // joined when its scan drops.
    let fed = replay.feed(scan, &mut |_| {});
    let (inputs, derived) = (replay.stats().inputs, replay.stats().derived);
    let mut sink = replay.into_sink();
    if let Some(mut divergence) = sink.divergence.take() {
        divergence.input = root_input(&divergence, data);
        return Ok(Verdict::Diverged(divergence));
    }
    match fed {
        Err(FeedError::Source(error))
        | Err(FeedError::Journal(JournalError::Sink(SinkError::Log(error)))) => {
            return Err(RunError::Log(error))
        }
        Err(FeedError::Journal(error)) => return Err(RunError::Replay(error)),
        Ok(()) => {}
    }
    // Whatever the log holds past the last re-derived event is a divergence too.
    if let Some(extra) = sink.recorded.next().transpose()? {
        let divergence = sink.unexpected(extra).map_err(|error| match error {
            SinkError::Log(error) => RunError::Log(error),
            other => RunError::Replay(JournalError::Sink(other)),
        })?;
        return Ok(Verdict::Diverged(divergence));
    }
    Ok(Verdict::Identical { inputs, derived })
}

/// The input at the root of a divergence's cascade, when the inputs are in a data log.
fn root_input(divergence: &Divergence, data: Option<&EventLog>) -> Option<Envelope> {
    let event = divergence
        .rederived
        .as_ref()
        .or(divergence.recorded.as_ref())?;
    let cause = event.cause?;
    data.and_then(|data| data.get(cause).ok().flatten())
}
