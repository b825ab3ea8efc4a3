//! The sink of a run that continues a log (a restart, or opening a run from a snapshot): the
//! events the log already holds are re-derived and compared with it at their seqs instead of
//! written again, and everything past the log's end is appended. So a cascade that a crash cut
//! short is completed, never repeated: nothing recorded (an order intent above all) is issued
//! twice, and a re-derived event that differs from the record stops the run at its seq.

use charon_events::log::LogIter;
use charon_events::{Envelope, EventLog, Seq};

use super::sink::{EventSink, SinkError};

/// Inputs are recorded in full (a paper or live log).
pub struct ResumingSink {
    /// The records still to compare, read in order (a block log serves a scan far faster
    /// than a lookup per seq). Declared first so that it drops before `log`, whose last
    /// handle then waits for sled to release the log.
    recorded: LogIter,
    log: EventLog,
    next: Seq,
    /// The log's last seq when the run was opened: up to it, events are compared.
    recorded_through: Seq,
}

impl ResumingSink {
    /// Continues `log` after seq `after` (where its snapshot, or its manifest, ends).
    pub fn new(log: EventLog, after: Seq) -> Self {
        let recorded_through = log.last_seq();
        let recorded = log.range(after + 1, recorded_through);
        Self {
            log,
            next: after + 1,
            recorded_through,
            recorded,
        }
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The seq the next event will have.
    pub fn next_seq(&self) -> Seq {
        self.next
    }

    /// Whether every event the log held when opened has been re-derived.
    pub fn caught_up(&self) -> bool {
        self.next > self.recorded_through
    }

    fn place(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        let mut placed = 0;
        while placed < events.len() && !self.caught_up() {
            let event = &mut events[placed];
            event.seq = self.next;
            let recorded = self.recorded.next().transpose()?;
            if recorded.as_ref() != Some(event) {
                return Err(SinkError::Diverged { seq: self.next });
            }
            self.next += 1;
            placed += 1;
        }
        if placed < events.len() {
            let last = self.log.append_batch(&mut events[placed..])?;
            self.next = last + 1;
        }
        Ok(())
    }
}

impl EventSink for ResumingSink {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        self.place(std::slice::from_mut(input))?;
        Ok(input.seq)
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        self.place(events)
    }
}
