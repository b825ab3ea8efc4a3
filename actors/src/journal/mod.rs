//! The Journal: the sequencer at the heart of every run. It takes one input, records it,
//! delivers it to the actors it concerns, appends what they derive, delivers those, and so on
//! until nothing more is derived; only then does it take the next input. The order of a log is
//! therefore a function of its inputs alone, whatever paced them (DESIGN.md, "Determinism").
//!
//! - **Delivery order**: an event goes to every actor it concerns in `ActorId` order (only
//!   actors whose [`Actor::kinds`] include its kind are asked); what
//!   they derive is appended in that order, after the event, before anything else is delivered
//!   (a FIFO queue: each event's derived events follow all events queued before them).
//! - **Cause and time**: every derived event carries the seq and the time of the *input* at
//!   the root of its cascade. The rule reads the same in a live log (inputs recorded in the
//!   same log) and in a backtest run log (inputs kept in the data log, cited by their data-log
//!   seq). Links between derived events travel in their payloads (order ids).
//! - **Runaway cascades** (an actor answering its own events forever) are stopped at
//!   [`MAX_CASCADE`] derived events and reported, never left to hang a run.

mod resume;
mod shell;
mod sink;
mod snapshot;

use std::collections::BTreeSet;

use charon_events::{ActorId, BotId, Envelope, Event, EventKind, Seq, Symbol, Timestamp};

pub use resume::ResumingSink;
pub use shell::{ActixJournal, Deliver, Shell};
pub use sink::{EventSink, InputMode, LogSink, MemorySink, SinkError};
pub use snapshot::{decode_state, encode_state, JournalSnapshot, SnapshotError};

/// Most events one input may derive, across its whole cascade.
pub const MAX_CASCADE: usize = 100_000;

/// A deterministic state machine the Journal delivers events to. It reads time only from
/// envelopes and derives events only through [`Derived`].
pub trait Actor {
    fn id(&self) -> ActorId;
    /// The only kinds of event that can concern this actor (`None`: any kind). The Journal
    /// asks [`Actor::concerns`] only about events of these kinds, so most events never reach
    /// most actors at all. It must agree with `concerns`: an event of any other kind must not
    /// concern the actor (each actor's tests check this against one event of every kind).
    fn kinds(&self) -> Option<&'static [EventKind]> {
        None
    }
    /// Whether `event` concerns this actor; only then is it delivered.
    fn concerns(&self, event: &Envelope) -> bool;
    /// Reacts to `event`, deriving events through `out`.
    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>);
    /// Its whole state, for a snapshot (taken between cascades).
    fn snapshot(&self) -> Result<Vec<u8>, SnapshotError>;
    /// Takes back the state of [`Actor::snapshot`], given to an actor built from the same
    /// configuration.
    fn restore(&mut self, state: &[u8]) -> Result<(), SnapshotError>;
}

/// What an actor derives from one event: the Journal stamps origin, cause and time.
pub struct Derived<'a> {
    actor: ActorId,
    cause: Seq,
    ts: Timestamp,
    events: &'a mut Vec<Envelope>,
}

impl Derived<'_> {
    /// The seq of the input at the root of this cascade: what derived order ids are made of.
    pub fn cause(&self) -> Seq {
        self.cause
    }

    /// The time of the input at the root of this cascade.
    pub fn ts(&self) -> Timestamp {
        self.ts
    }

    /// Derives `payload`, routed to `bot` and `pair`.
    pub fn emit(&mut self, payload: Event, bot: Option<BotId>, pair: Option<Symbol>) {
        let mut event = Envelope::derived(self.ts, self.actor, self.cause, payload);
        event.bot = bot;
        event.pair = pair;
        self.events.push(event);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("two actors share the id {0}")]
    DuplicateActor(ActorId),
    #[error("the input at seq {input} derived more than {MAX_CASCADE} events; an actor is answering itself")]
    RunawayCascade { input: Seq },
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("actor {0} stopped while the journal was delivering to it")]
    Mailbox(ActorId),
}

/// Counts of what a run processed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JournalStats {
    pub inputs: u64,
    pub derived: u64,
}

/// One input's cascade in progress: its events in delivery order (the input first, then what
/// was derived, appended in actor order) and how far delivery has got. Both drivers (direct
/// and actix) run cascades through it, so they differ only in how an event reaches the
/// actors. Events are delivered in place and the buffer is reused from input to input: an
/// envelope is moved once, when it is appended, not queued and dequeued.
struct Cascade {
    root: Seq,
    ts: Timestamp,
    events: Vec<Envelope>,
    next: usize,
    derived: usize,
}

impl Cascade {
    fn new() -> Self {
        Self {
            root: 0,
            ts: Timestamp::from_nanos(0),
            events: Vec::new(),
            next: 0,
            derived: 0,
        }
    }

    fn begin<S: EventSink>(
        &mut self,
        sink: &mut S,
        mut input: Envelope,
    ) -> Result<(), JournalError> {
        self.events.clear();
        self.root = sink.input(&mut input)?;
        self.ts = input.ts;
        self.events.push(input);
        self.next = 0;
        self.derived = 0;
        Ok(())
    }

    /// The index of the next event to deliver, if any is left.
    fn next_event(&mut self) -> Option<usize> {
        let index = self.next;
        (index < self.events.len()).then(|| {
            self.next += 1;
            index
        })
    }

    /// Appends what the actors derived from one event (in actor order), to be delivered after
    /// everything already in the cascade.
    fn derived<S: EventSink>(
        &mut self,
        sink: &mut S,
        events: &mut Vec<Envelope>,
    ) -> Result<u64, JournalError> {
        if events.is_empty() {
            return Ok(0);
        }
        self.derived += events.len();
        if self.derived > MAX_CASCADE {
            return Err(JournalError::RunawayCascade { input: self.root });
        }
        sink.derived(events)?;
        let count = events.len() as u64;
        self.events.append(events);
        Ok(count)
    }
}

/// Runs `actor` on `event` if it concerns it, appending what it derives to `out`.
fn deliver(
    actor: &mut dyn Actor,
    event: &Envelope,
    cause: Seq,
    ts: Timestamp,
    out: &mut Vec<Envelope>,
) {
    if actor.concerns(event) {
        let mut derived = Derived {
            actor: actor.id(),
            cause,
            ts,
            events: out,
        };
        actor.handle(event, &mut derived);
    }
}

/// For each event kind, the actors (by index, in delivery order) that may be concerned with it.
struct Routes(Vec<Vec<usize>>);

impl Routes {
    fn of(actors: &[Box<dyn Actor>]) -> Routes {
        let mut routes = vec![Vec::new(); EventKind::ALL.len()];
        for (index, actor) in actors.iter().enumerate() {
            match actor.kinds() {
                Some(kinds) => kinds
                    .iter()
                    .for_each(|&kind| routes[kind as usize].push(index)),
                None => routes.iter_mut().for_each(|route| route.push(index)),
            }
        }
        Routes(routes)
    }

    fn to(&self, event: &Envelope) -> &[usize] {
        &self.0[event.payload.kind() as usize]
    }
}

fn sorted_unique(mut actors: Vec<Box<dyn Actor>>) -> Result<Vec<Box<dyn Actor>>, JournalError> {
    actors.sort_by_key(|actor| actor.id());
    let mut seen = BTreeSet::new();
    for actor in &actors {
        if !seen.insert(actor.id()) {
            return Err(JournalError::DuplicateActor(actor.id()));
        }
    }
    Ok(actors)
}

/// The sequencer over a set of actors and a sink, delivering in-thread (no mailboxes): the
/// direct driver, which backtests use for speed.
pub struct Journal<S: EventSink> {
    actors: Vec<Box<dyn Actor>>,
    routes: Routes,
    sink: S,
    stats: JournalStats,
    cascade: Cascade,
    scratch: Vec<Envelope>,
}

impl<S: EventSink> Journal<S> {
    pub fn new(actors: Vec<Box<dyn Actor>>, sink: S) -> Result<Self, JournalError> {
        let actors = sorted_unique(actors)?;
        Ok(Self {
            routes: Routes::of(&actors),
            actors,
            sink,
            stats: JournalStats::default(),
            cascade: Cascade::new(),
            scratch: Vec::new(),
        })
    }

    pub fn stats(&self) -> JournalStats {
        self.stats
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    pub fn into_sink(self) -> S {
        self.sink
    }

    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Every actor's state and the run's counts, between cascades.
    pub fn snapshot(&self) -> Result<JournalSnapshot, SnapshotError> {
        let actors = self
            .actors
            .iter()
            .map(|actor| Ok((actor.id(), actor.snapshot()?)))
            .collect::<Result<_, SnapshotError>>()?;
        Ok(JournalSnapshot {
            inputs: self.stats.inputs,
            derived: self.stats.derived,
            actors,
        })
    }

    /// Restores a [`Journal::snapshot`] into this journal's actors, which must be the same
    /// set (built from the same configuration).
    pub fn restore(&mut self, snapshot: &JournalSnapshot) -> Result<(), SnapshotError> {
        let expected: Vec<ActorId> = self.actors.iter().map(|actor| actor.id()).collect();
        let found: Vec<ActorId> = snapshot.actors.iter().map(|(id, _)| *id).collect();
        if expected != found {
            return Err(SnapshotError::Actors { expected, found });
        }
        for (actor, (_, state)) in self.actors.iter_mut().zip(&snapshot.actors) {
            actor.restore(state)?;
        }
        self.stats = snapshot.stats();
        Ok(())
    }

    /// Records `input` and runs its cascade to completion.
    pub fn process(&mut self, input: Envelope) -> Result<(), JournalError> {
        let cascade = &mut self.cascade;
        cascade.begin(&mut self.sink, input)?;
        self.stats.inputs += 1;
        while let Some(index) = cascade.next_event() {
            let event = &cascade.events[index];
            for &actor in self.routes.to(event) {
                deliver(
                    self.actors[actor].as_mut(),
                    event,
                    cascade.root,
                    cascade.ts,
                    &mut self.scratch,
                );
            }
            self.stats.derived += cascade.derived(&mut self.sink, &mut self.scratch)?;
        }
        Ok(())
    }

    /// Processes inputs as an async source delivers them (a live feed, a replaying task), one
    /// cascade at a time, until the source closes. The log is the same as `process` over the
    /// same inputs, however they were paced.
    pub async fn run(
        &mut self,
        inputs: &mut tokio::sync::mpsc::Receiver<Envelope>,
    ) -> Result<(), JournalError> {
        while let Some(input) = inputs.recv().await {
            self.process(input)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
