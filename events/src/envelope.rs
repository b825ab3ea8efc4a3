//! The envelope around every event: sequence, event time, origin, cause and routing keys.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::ids::{ActorId, BotId, Seq, Symbol, Timestamp};

/// Where an event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(tag = "origin", content = "actor", rename_all = "snake_case")]
pub enum Origin {
    /// From outside the deterministic core: market data, exchange reports, operators, AI, news.
    Input,
    /// Derived by an actor from earlier events.
    Derived(ActorId),
}

/// A recorded event. `seq` is assigned by the log on append; the rest is the caller's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: Seq,
    pub ts: Timestamp,
    #[serde(flatten)]
    pub origin: Origin,
    /// The seq of the event that caused this one (derived events always have one).
    pub cause: Option<Seq>,
    pub bot: Option<BotId>,
    /// The pair (for market data, the instrument's symbol).
    pub pair: Option<Symbol>,
    pub payload: Event,
}

impl Envelope {
    /// An input event with no routing keys; `seq` is left 0 until the log assigns it.
    pub fn input(ts: Timestamp, payload: Event) -> Self {
        Self {
            seq: 0,
            ts,
            origin: Origin::Input,
            cause: None,
            bot: None,
            pair: None,
            payload,
        }
    }

    /// An event derived by `actor` from the event at `cause`.
    pub fn derived(ts: Timestamp, actor: ActorId, cause: Seq, payload: Event) -> Self {
        Self {
            seq: 0,
            ts,
            origin: Origin::Derived(actor),
            cause: Some(cause),
            bot: None,
            pair: None,
            payload,
        }
    }

    pub fn with_bot(mut self, bot: BotId) -> Self {
        self.bot = Some(bot);
        self
    }

    pub fn with_pair(mut self, pair: Symbol) -> Self {
        self.pair = Some(pair);
        self
    }
}

/// The envelope without its seq: what a record's body holds (the seq is the record's key).
#[derive(Encode)]
pub(crate) struct BodyRef<'a> {
    pub ts: &'a Timestamp,
    pub origin: &'a Origin,
    pub cause: &'a Option<Seq>,
    pub bot: &'a Option<BotId>,
    pub pair: &'a Option<Symbol>,
    pub payload: &'a Event,
}

#[derive(Decode)]
pub(crate) struct Body {
    pub ts: Timestamp,
    pub origin: Origin,
    pub cause: Option<Seq>,
    pub bot: Option<BotId>,
    pub pair: Option<Symbol>,
    pub payload: Event,
}

impl<'a> From<&'a Envelope> for BodyRef<'a> {
    fn from(env: &'a Envelope) -> Self {
        BodyRef {
            ts: &env.ts,
            origin: &env.origin,
            cause: &env.cause,
            bot: &env.bot,
            pair: &env.pair,
            payload: &env.payload,
        }
    }
}

impl Body {
    pub(crate) fn with_seq(self, seq: Seq) -> Envelope {
        Envelope {
            seq,
            ts: self.ts,
            origin: self.origin,
            cause: self.cause,
            bot: self.bot,
            pair: self.pair,
            payload: self.payload,
        }
    }
}
