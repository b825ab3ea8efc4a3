//! The Journal's sink during verification: it numbers re-derived events as the log did and
//! compares each with the record stored at its seq, stopping at the first difference.
//!
//! A record written in this build's format is compared byte for byte with the re-derived
//! event's encoding, without decoding it; one an older format wrote is decoded and compared
//! as an event (its bytes may differ where that format laid a payload out otherwise).

use std::collections::VecDeque;

use charon_actors::journal::{EventSink, SinkError};
use charon_events::codec::{encode_body, FORMAT_VERSION};
use charon_events::log::{BodyIter, StoredBody};
use charon_events::{Envelope, LogError, Seq};

use super::Divergence;

/// Recorded events kept for a divergence's context: the events of the same bot and pair are
/// picked from these.
const REMEMBERED: usize = super::CONTEXT * 8;

pub(super) struct Comparing {
    pub(super) recorded: BodyIter,
    next_seq: Seq,
    /// The re-derived event being compared, encoded (reused).
    encoded: Vec<u8>,
    /// The latest recorded events, for a divergence's context (decoded only if needed).
    context: VecDeque<StoredBody>,
    pub(super) divergence: Option<Box<Divergence>>,
    /// Inputs are cited by reference (a backtest), not among the records.
    by_reference: bool,
}

impl Comparing {
    /// Compares with `recorded`, the bodies of a run log after its manifest.
    pub(super) fn new(recorded: BodyIter, by_reference: bool) -> Self {
        Comparing {
            recorded,
            next_seq: 2,
            encoded: Vec::with_capacity(256),
            context: VecDeque::new(),
            divergence: None,
            by_reference,
        }
    }

    /// The remembered events of `event`'s bot and pair, decoded.
    fn context_for(&self, event: &Envelope) -> Result<Vec<Envelope>, SinkError> {
        let mut context = Vec::new();
        for stored in &self.context {
            let decoded = self.decode(stored)?;
            if decoded.bot == event.bot && decoded.pair == event.pair {
                context.push(decoded);
            }
        }
        Ok(context)
    }

    fn remember(&mut self, stored: StoredBody) {
        if self.context.len() == REMEMBERED {
            self.context.pop_front();
        }
        self.context.push_back(stored);
    }

    fn decode(&self, stored: &StoredBody) -> Result<Envelope, SinkError> {
        stored.decode().map_err(|source| {
            SinkError::Log(LogError::Corrupt {
                path: self.recorded.path().to_path_buf(),
                seq: stored.seq,
                source,
            })
        })
    }

    /// Whether `event` is what `stored` holds.
    fn same(&mut self, stored: &StoredBody, event: &Envelope) -> Result<bool, SinkError> {
        if stored.seq != event.seq {
            return Ok(false);
        }
        if stored.version != FORMAT_VERSION {
            return Ok(self.decode(stored)? == *event);
        }
        self.encoded.clear();
        Ok(encode_body(event, &mut self.encoded).is_ok() && stored.body() == self.encoded)
    }

    /// A recorded event where the re-derivation has none (past its end, or where a recorded
    /// input was expected).
    pub(super) fn unexpected(&self, stored: StoredBody) -> Result<Box<Divergence>, SinkError> {
        let recorded = self.decode(&stored)?;
        Ok(Box::new(Divergence {
            seq: stored.seq,
            context: self.context_for(&recorded)?,
            recorded: Some(recorded),
            rederived: None,
            input: None,
        }))
    }
}

impl EventSink for Comparing {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        if self.by_reference {
            return Ok(input.seq);
        }
        // A recorded input is the log's own record at its seq: step over it, unless the log
        // holds a derived event there that the re-derivation did not make.
        if let Some(stored) = self.recorded.next().transpose()? {
            if stored.seq != input.seq {
                let seq = stored.seq;
                self.divergence = Some(self.unexpected(stored)?);
                return Err(SinkError::Diverged { seq });
            }
        }
        self.next_seq = input.seq + 1;
        Ok(input.seq)
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        for event in events.iter_mut() {
            event.seq = self.next_seq;
            self.next_seq += 1;
            // A damaged record stops verification with its own error, naming its seq.
            let recorded = self.recorded.next().transpose()?;
            let same = match &recorded {
                Some(stored) => self.same(stored, event)?,
                None => false,
            };
            if same {
                self.remember(recorded.expect("compared above"));
                continue;
            }
            let recorded = recorded.map(|stored| self.decode(&stored)).transpose()?;
            let context = self.context_for(recorded.as_ref().unwrap_or(event))?;
            self.divergence = Some(Box::new(Divergence {
                seq: event.seq,
                recorded,
                rederived: Some(event.clone()),
                input: None,
                context,
            }));
            return Err(SinkError::Diverged { seq: event.seq });
        }
        Ok(())
    }
}
