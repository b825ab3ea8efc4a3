//! Decoding ahead for long scans whose caller has work of its own per event (a backtest's
//! actors, a verification's re-derivation): a second thread reads and decodes the range in
//! batches while the caller processes the previous ones, so decoding (a bar is five checked
//! decimals, a third of what re-deriving it costs) overlaps the caller's work on another core.
//! Short ranges are decoded in place; a spawn would cost more than it saves.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use crate::envelope::Envelope;
use crate::ids::Seq;
use crate::log::{EventLog, LogError, LogIter, READ_AHEAD_MIN_EVENTS};

type Item = Result<Envelope, LogError>;

/// Events decoded per message: enough that the channel's cost vanishes per event.
const BATCH: usize = 1024;
/// Batches the decoding thread may run ahead of the caller.
const DEPTH: usize = 4;

/// The events of a range, in order, decoded on a thread of their own when the range is long.
/// Yields exactly what [`EventLog::range`] yields, errors included.
pub struct DecodedAhead {
    source: Source,
}

enum Source {
    InPlace(Box<LogIter>),
    Thread {
        /// `None` once dropping: closing the channel stops the thread at its next batch.
        batches: Option<Receiver<Vec<Item>>>,
        batch: std::vec::IntoIter<Item>,
        decoder: Option<JoinHandle<()>>,
    },
}

impl DecodedAhead {
    pub(crate) fn new(log: &EventLog, from: Seq, to: Seq) -> Self {
        let to = to.min(log.last_seq());
        if to.saturating_sub(from) < READ_AHEAD_MIN_EVENTS {
            return Self {
                source: Source::InPlace(Box::new(log.range(from, to))),
            };
        }
        let (sender, batches) = sync_channel::<Vec<Item>>(DEPTH);
        // The thread reads sled itself: a third thread pulling blocks for it would only
        // compete for the same two cores.
        let events = log.range_in_place(from, to);
        let decoder = std::thread::Builder::new()
            .name("charon-decode".into())
            .spawn(move || {
                let mut batch = Vec::with_capacity(BATCH);
                for event in events {
                    batch.push(event);
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        if sender.send(full).is_err() {
                            return; // the scan was dropped
                        }
                    }
                }
                let _ = sender.send(batch);
            });
        match decoder {
            Ok(decoder) => Self {
                source: Source::Thread {
                    batches: Some(batches),
                    batch: Vec::new().into_iter(),
                    decoder: Some(decoder),
                },
            },
            Err(_) => Self {
                source: Source::InPlace(Box::new(log.range(from, to))),
            },
        }
    }
}

impl Iterator for DecodedAhead {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        match &mut self.source {
            Source::InPlace(events) => events.next(),
            Source::Thread { batches, batch, .. } => loop {
                if let Some(item) = batch.next() {
                    return Some(item);
                }
                // The thread is gone once it has sent everything.
                *batch = batches.as_ref()?.recv().ok()?.into_iter();
            },
        }
    }
}

impl Drop for DecodedAhead {
    /// Stops the thread and waits for it, so that the log's files are closed when the last
    /// handle the caller holds drops (a reopen right after must not find the log locked).
    fn drop(&mut self) {
        if let Source::Thread {
            batches, decoder, ..
        } = &mut self.source
        {
            drop(batches.take());
            if let Some(decoder) = decoder.take() {
                let _ = decoder.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogKind;
    use crate::samples;

    /// A data log of `n` sample events (each kind in turn), written in blocks.
    fn log_of(dir: &std::path::Path, n: usize) -> EventLog {
        let log = EventLog::create(dir.join("log"), LogKind::Data).unwrap();
        let kinds = samples::one_of_each();
        let mut events: Vec<Envelope> = kinds.iter().cycle().take(n).cloned().collect();
        log.append_batch(&mut events).unwrap();
        log
    }

    #[test]
    fn it_yields_what_range_yields_from_any_start_long_or_short() {
        let dir = tempfile::tempdir().unwrap();
        let n = 2 * READ_AHEAD_MIN_EVENTS as usize + 777;
        let log = log_of(dir.path(), n);
        let last = log.last_seq();
        for (from, to) in [
            (1, last),
            (17, last - 3),
            (5_001, 5_100),
            (last, last),
            (9, 8),
        ] {
            let expected: Vec<Envelope> = log.range(from, to).map(Result::unwrap).collect();
            let ahead: Vec<Envelope> = log
                .range_decoded_ahead(from, to)
                .map(Result::unwrap)
                .collect();
            assert_eq!(ahead.len(), expected.len(), "{from}..={to}");
            assert!(ahead == expected, "{from}..={to}");
        }
    }

    #[test]
    fn a_scan_dropped_early_leaves_the_log_free_to_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_of(dir.path(), 3 * READ_AHEAD_MIN_EVENTS as usize);
        let path = log.path().to_path_buf();
        let mut scan = log.range_decoded_ahead(1, u64::MAX);
        assert_eq!(scan.next().unwrap().unwrap().seq, 1);
        // The thread is mid-range: dropping the scan stops it, and the log then closes as a
        // log without scans does.
        drop(scan);
        drop(log);
        let reopened = EventLog::open(&path).expect("no thread holds the log");
        assert_eq!(reopened.last_seq(), 3 * READ_AHEAD_MIN_EVENTS);
    }

    #[test]
    fn a_damaged_block_ends_the_scan_with_its_error_after_every_event_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_of(dir.path(), 2 * READ_AHEAD_MIN_EVENTS as usize);
        log.sync_through(log.last_seq()).unwrap();
        let (key, mut value) = log
            .inner
            .events
            .iter()
            .nth(40)
            .map(|entry| entry.unwrap())
            .map(|(k, v)| (k, v.to_vec()))
            .unwrap();
        let first_seq = u64::from_be_bytes(key.as_ref().try_into().unwrap());
        let last = value.len() - 1;
        value[last] ^= 0x01;
        log.inner.events.insert(key, value).unwrap();

        let mut read = 0;
        let mut error = None;
        for item in log.range_decoded_ahead(1, u64::MAX) {
            match item {
                Ok(event) => {
                    read += 1;
                    assert_eq!(event.seq, read);
                }
                Err(e) => {
                    assert!(error.is_none(), "nothing after the error");
                    error = Some(e);
                }
            }
        }
        assert_eq!(read, first_seq - 1);
        assert!(
            matches!(error, Some(LogError::CorruptBlock { first_seq: at, .. }) if at == first_seq),
            "{error:?}"
        );
    }
}
