//! Following a log as it grows: an async stream of new events for in-process followers
//! (dashboards, notifiers, the control API).

use std::collections::VecDeque;

use tokio::sync::watch;

use crate::envelope::Envelope;
use crate::ids::Seq;
use crate::log::{EventLog, LogError};

/// Yields every event from a starting seq onwards, waiting for appends when caught up.
pub struct Tail {
    log: EventLog,
    next_seq: Seq,
    appended: watch::Receiver<Seq>,
    buffered: VecDeque<Envelope>,
}

impl Tail {
    pub(crate) fn new(log: EventLog, from: Seq, appended: watch::Receiver<Seq>) -> Self {
        Self {
            log,
            next_seq: from.max(1),
            appended,
            buffered: VecDeque::new(),
        }
    }

    /// The next event, waiting for it to be appended if need be. Cancel-safe: dropping the
    /// future loses nothing.
    pub async fn next(&mut self) -> Result<Envelope, LogError> {
        loop {
            if let Some(env) = self.buffered.pop_front() {
                self.next_seq = env.seq + 1;
                return Ok(env);
            }
            let last = *self.appended.borrow_and_update();
            if self.next_seq <= last {
                for env in self.log.range(self.next_seq, last) {
                    self.buffered.push_back(env?);
                }
                continue;
            }
            // The sender lives as long as the log, which this tail keeps alive.
            if self.appended.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
