//! The actix shells: each actor's state machine runs in an actix actor of its own, and the
//! [`ActixJournal`] delivers to them through their mailboxes. The state machines are the very
//! ones the direct [`Journal`](super::Journal) calls, and the delivery order is the same (the
//! journal awaits each actor's answer before asking the next), so both write identical logs.
//! The daemon runs this way; backtests may use the direct driver for speed.

use actix::{Actor as ActixActor, Addr, Context, Handler, Message, MessageResult};
use charon_events::{ActorId, Envelope, Seq, Timestamp};

use super::{
    deliver, sorted_unique, Actor, Cascade, EventSink, JournalError, JournalStats, Routes,
};

/// An event for an actor to react to, with its cascade's cause and time.
pub struct Deliver {
    pub event: Envelope,
    pub cause: Seq,
    pub ts: Timestamp,
}

impl Message for Deliver {
    /// What the actor derived, in order (empty when the event does not concern it).
    type Result = Vec<Envelope>;
}

/// An actix actor around one state machine.
pub struct Shell {
    state: Box<dyn Actor>,
}

impl ActixActor for Shell {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Shell {
    type Result = MessageResult<Deliver>;

    fn handle(&mut self, message: Deliver, _: &mut Context<Self>) -> Self::Result {
        let mut derived = Vec::new();
        deliver(
            self.state.as_mut(),
            &message.event,
            message.cause,
            message.ts,
            &mut derived,
        );
        MessageResult(derived)
    }
}

/// The Journal over actix actors. Must be started inside an actix system.
pub struct ActixJournal<S: EventSink> {
    actors: Vec<(ActorId, Addr<Shell>)>,
    routes: Routes,
    sink: S,
    stats: JournalStats,
    cascade: Cascade,
    scratch: Vec<Envelope>,
}

impl<S: EventSink> ActixJournal<S> {
    /// Starts one actix actor per state machine on the current arbiter.
    pub fn start(actors: Vec<Box<dyn Actor>>, sink: S) -> Result<Self, JournalError> {
        let actors = sorted_unique(actors)?;
        let routes = Routes::of(&actors);
        let actors = actors
            .into_iter()
            .map(|state| (state.id(), Shell { state }.start()))
            .collect();
        Ok(Self {
            actors,
            routes,
            sink,
            stats: JournalStats::default(),
            cascade: Cascade::new(),
            scratch: Vec::new(),
        })
    }

    pub fn stats(&self) -> JournalStats {
        self.stats
    }

    pub fn into_sink(self) -> S {
        self.sink
    }

    /// Records `input` and runs its cascade to completion through the actors' mailboxes.
    pub async fn process(&mut self, input: Envelope) -> Result<(), JournalError> {
        let cascade = &mut self.cascade;
        cascade.begin(&mut self.sink, input)?;
        self.stats.inputs += 1;
        while let Some(index) = cascade.next_event() {
            for &actor in self.routes.to(&cascade.events[index]) {
                let (id, address) = &self.actors[actor];
                let message = Deliver {
                    event: cascade.events[index].clone(),
                    cause: cascade.root,
                    ts: cascade.ts,
                };
                let derived = address
                    .send(message)
                    .await
                    .map_err(|_| JournalError::Mailbox(*id))?;
                self.scratch.extend(derived);
            }
            self.stats.derived += cascade.derived(&mut self.sink, &mut self.scratch)?;
        }
        Ok(())
    }
}
