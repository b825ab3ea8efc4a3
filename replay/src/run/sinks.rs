//! Sinks a run composes with the Journal's own (`LogSink`, `ResumingSink`, `MemorySink`):
//! one that feeds the run's report on the way to another sink, and one that keeps nothing.

use charon_actors::journal::{EventSink, SinkError};
use charon_events::{Envelope, Seq};

use crate::report::ReportBuilder;

/// A sink that records through `inner` and feeds every event to the run report: in a backtest,
/// `inner` is the run log; in a sweep point, [`Numbering`].
pub struct ReportingSink<S> {
    pub inner: S,
    pub report: ReportBuilder,
}

impl<S: EventSink> EventSink for ReportingSink<S> {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        let seq = self.inner.input(input)?;
        self.report.observe(input);
        Ok(seq)
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        self.inner.derived(events)?;
        for event in events.iter() {
            self.report.observe(event);
        }
        Ok(())
    }
}

/// A sink that numbers derived events from `next` on, as a log would, and keeps nothing: a
/// backtest without a run log (a sweep point, a benchmark's engine loop).
pub struct Numbering {
    pub next: Seq,
}

impl EventSink for Numbering {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        Ok(input.seq)
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        for event in events.iter_mut() {
            event.seq = self.next;
            self.next += 1;
        }
        Ok(())
    }
}
