//! The one run: the actors of a configuration under the Journal, fed by a source of inputs,
//! writing into a sink, with a venue side that fills its orders. Every way charon runs a
//! configuration is this run with different parts:
//!
//! | use | inputs | sink |
//! |---|---|---|
//! | backtest | [`Inputs::DataSpan`] (cited by reference) | run log, inputs by reference, feeding the report |
//! | sweep point | [`Inputs::Memory`] (the span, read once for every point) | the report alone ([`Numbering`]) |
//! | what-if of a backtest | the original's data span | a new run log, as a backtest |
//! | what-if of a paper run | [`Inputs::Recorded`] (the original's inputs) | a new run log, inputs recorded |
//! | `replay verify` | the data span, or the recorded inputs | a sink that compares instead of appending |
//! | paper run (`charon run`) | a live feed, one input at a time ([`Run::process`]) | the run log, resumed ([`resume`]) |
//!
//! The venue side is [`VenueSide::Simulated`] today: the simulated Exchange inside the
//! deterministic core fills every order. A live run puts the venue connection actor in its
//! place, and the venue gateway outside the core, behind the durability barrier (the effects
//! runner performs a request only once `sync_through` covers it), and its answers come back
//! through [`Run::process`] as inputs like any other: a live stream is an input source whose
//! inputs arrive one by one, which is why it is driven by `process` rather than [`Run::feed`].

pub mod bundle;
pub mod error;
pub mod reported;
pub mod resume;
pub mod run_log;
pub mod sinks;
pub mod span;
pub mod spec;

use charon_actors::journal::{EventSink, Journal, JournalSnapshot, JournalStats, SnapshotError};
use charon_actors::setup::build_actors;
use charon_events::log::{DecodedAhead, LogIter};
use charon_events::{Envelope, EventLog, LogError, Origin, Seq};

pub use bundle::{Bundle, BundleError};
pub use error::{mode_name, RunError};
pub use sinks::{Numbering, ReportingSink};
pub use spec::RunSpec;

/// Events scanned between two calls of a run's progress callback.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// What fills a run's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueSide {
    /// The simulated Exchange, an actor of the deterministic core, with the configuration's
    /// fill model (backtests, sweeps, paper runs, replays).
    Simulated,
}

/// Where a run's inputs come from, when they are at hand (a live stream is fed to
/// [`Run::process`] as its inputs arrive).
#[derive(Clone, Copy)]
pub enum Inputs<'a> {
    /// Seqs `first..=last` of a data log, read ahead and decoded on a second thread; the
    /// sink cites them by their seq there.
    DataSpan {
        data: &'a EventLog,
        first: Seq,
        last: Seq,
    },
    /// The inputs a run log recorded after seq `after`, in their order; its derived events
    /// are passed over (the run derives its own).
    Recorded { log: &'a EventLog, after: Seq },
    /// Inputs already in memory, each handed to the run as a copy.
    Memory(&'a [Envelope]),
}

/// A source being read: what [`Inputs::start`] returns and [`Run::feed`] takes.
pub enum InputScan<'a> {
    DataSpan(DecodedAhead),
    Recorded(Box<LogIter>),
    Memory(std::slice::Iter<'a, Envelope>),
}

impl<'a> Inputs<'a> {
    /// Starts reading: a long data span's decoding thread starts at once, so a caller that
    /// starts the scan before assembling its run (creating a run log costs a few syncs) finds
    /// its first inputs decoded.
    pub fn start(self) -> InputScan<'a> {
        match self {
            Inputs::DataSpan { data, first, last } => {
                InputScan::DataSpan(data.range_decoded_ahead(first, last))
            }
            Inputs::Recorded { log, after } => {
                InputScan::Recorded(Box::new(log.iter_from(after + 1)))
            }
            Inputs::Memory(inputs) => InputScan::Memory(inputs.iter()),
        }
    }

    /// How many events the source will scan (inputs, and for [`Inputs::Recorded`] the derived
    /// events passed over), for progress.
    pub fn events(&self) -> u64 {
        match *self {
            Inputs::DataSpan { first, last, .. } => (last + 1).saturating_sub(first),
            Inputs::Recorded { log, after } => log.last_seq().saturating_sub(after),
            Inputs::Memory(inputs) => inputs.len() as u64,
        }
    }
}

impl<'a> From<Inputs<'a>> for InputScan<'a> {
    fn from(inputs: Inputs<'a>) -> Self {
        inputs.start()
    }
}

/// Why feeding a run stopped before its source ended.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The source could not be read (a damaged record, a storage error).
    #[error(transparent)]
    Source(#[from] LogError),
    /// A cascade failed, or the sink stopped the run (a verification that diverged).
    #[error(transparent)]
    Journal(#[from] charon_actors::journal::JournalError),
}

/// One run: a configuration's actors under the direct Journal, writing into `K`.
pub struct Run<K: EventSink> {
    journal: Journal<K>,
}

impl<K: EventSink> Run<K> {
    /// Puts a run together: the actors of `spec` facing `venue`, the Journal, and the sink
    /// that `sink` makes once the actors are built (so that a configuration whose actors
    /// cannot be built leaves no run log behind).
    pub fn new(
        spec: &RunSpec,
        venue: VenueSide,
        sink: impl FnOnce() -> Result<K, RunError>,
    ) -> Result<Self, RunError> {
        let actors = match venue {
            VenueSide::Simulated => build_actors(&spec.config, &spec.templates),
        }
        .map_err(RunError::Setup)?;
        let journal = Journal::new(actors, sink()?).map_err(RunError::Journal)?;
        Ok(Run { journal })
    }

    /// Takes one input and runs its cascade to completion.
    pub fn process(&mut self, input: Envelope) -> Result<(), charon_actors::journal::JournalError> {
        self.journal.process(input)
    }

    /// Takes every input of `inputs` (a source, or one already [started](Inputs::start)) in
    /// order, calling `progress` with the events scanned every [`PROGRESS_EVERY`] of them.
    pub fn feed<'a>(
        &mut self,
        inputs: impl Into<InputScan<'a>>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), FeedError> {
        match inputs.into() {
            InputScan::DataSpan(scan) => self.drive(scan, false, progress),
            InputScan::Recorded(scan) => self.drive(*scan, true, progress),
            InputScan::Memory(inputs) => {
                for input in inputs {
                    self.journal.process(input.clone())?;
                }
                Ok(())
            }
        }
    }

    fn drive(
        &mut self,
        events: impl Iterator<Item = Result<Envelope, LogError>>,
        recorded: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), FeedError> {
        let mut scanned = 0u64;
        for event in events {
            let event = event?;
            scanned += 1;
            if scanned % PROGRESS_EVERY == 0 {
                progress(scanned);
            }
            if recorded && event.origin != Origin::Input {
                continue;
            }
            self.journal.process(event)?;
        }
        Ok(())
    }

    /// Inputs taken and events derived so far.
    pub fn stats(&self) -> JournalStats {
        self.journal.stats()
    }

    pub fn sink(&self) -> &K {
        self.journal.sink()
    }

    pub fn sink_mut(&mut self) -> &mut K {
        self.journal.sink_mut()
    }

    pub fn into_sink(self) -> K {
        self.journal.into_sink()
    }

    /// Every actor's state and the run's counts (between cascades).
    pub fn snapshot(&self) -> Result<JournalSnapshot, SnapshotError> {
        self.journal.snapshot()
    }

    /// Restores a [`Run::snapshot`] of a run of the same configuration.
    pub fn restore(&mut self, snapshot: &JournalSnapshot) -> Result<(), SnapshotError> {
        self.journal.restore(snapshot)
    }
}

#[cfg(test)]
mod tests;
