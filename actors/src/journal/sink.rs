//! Where the Journal's events go: an [`EventLog`] (run and live logs) or memory (tests, and
//! backtests that keep their derived events before writing them).

use charon_events::{Envelope, EventLog, LogError, Seq};

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(
        "a by-reference input has no seq: inputs cited by reference must come from a data log"
    )]
    UnsequencedInput,
    /// A sink that compares events with a recorded log (replay verification) met a
    /// difference at `seq`; the sink keeps the details.
    #[error("the re-derived event at seq {seq} differs from the recorded one")]
    Diverged { seq: charon_events::Seq },
}

/// How inputs are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Appended to the log like any event (paper and live).
    Recorded,
    /// Kept where they are (a data log) and cited by their seq there (backtests).
    ByReference,
}

/// Receives a run's events in order.
pub trait EventSink {
    /// Takes an input; returns the seq its cascade's events cite as their cause.
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError>;
    /// Appends derived events in order, assigning their seqs.
    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError>;
}

/// The Journal writing into an event log.
pub struct LogSink {
    log: EventLog,
    inputs: InputMode,
}

impl LogSink {
    pub fn new(log: EventLog, inputs: InputMode) -> Self {
        Self { log, inputs }
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }
}

fn cited(input: &Envelope) -> Result<Seq, SinkError> {
    if input.seq == 0 {
        Err(SinkError::UnsequencedInput)
    } else {
        Ok(input.seq)
    }
}

impl EventSink for LogSink {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        match self.inputs {
            InputMode::Recorded => Ok(self.log.append(input)?),
            InputMode::ByReference => cited(input),
        }
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        self.log.append_batch(events)?;
        Ok(())
    }
}

/// Keeps every event in memory, seqs assigned as a log would.
#[derive(Debug, Clone)]
pub struct MemorySink {
    pub events: Vec<Envelope>,
    inputs: InputMode,
}

impl MemorySink {
    pub fn new(inputs: InputMode) -> Self {
        Self {
            events: Vec::new(),
            inputs,
        }
    }
}

impl EventSink for MemorySink {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        match self.inputs {
            InputMode::Recorded => {
                input.seq = self.events.len() as Seq + 1;
                self.events.push(input.clone());
                Ok(input.seq)
            }
            InputMode::ByReference => cited(input),
        }
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        for event in events.iter_mut() {
            event.seq = self.events.len() as Seq + 1;
            self.events.push(event.clone());
        }
        Ok(())
    }
}
