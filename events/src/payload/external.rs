//! Inputs from the non-deterministic world: AI decisions, news, exchange connectivity and API
//! errors, clock ticks. Recorded so that replay never calls out.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::ids::{Symbol, Timestamp, Venue};
use crate::money::Rate;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    EnterLong,
    EnterShort,
    Exit,
    Hold,
}

/// A pair asked its decision provider for a decision (derived).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct DecisionRequested {
    pub request_id: u64,
    pub provider: String,
    /// The full context sent to the provider, so the request can be audited and re-asked.
    pub context: String,
}

/// A decision provider's answer (input).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct DecisionMade {
    pub request_id: u64,
    pub provider: String,
    pub model: String,
    pub action: DecisionAction,
    pub confidence: Option<Rate>,
    pub rationale: String,
    pub latency_ms: u32,
}

/// A news item or scheduled event (input).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct NewsItem {
    pub source: String,
    pub external_id: String,
    pub headline: String,
    pub body: String,
    pub url: Option<String>,
    pub published_at: Timestamp,
    pub symbols: Vec<Symbol>,
    /// Sentiment in [-1, 1] when the source scores it.
    pub sentiment: Option<Rate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Connected,
    Disconnected,
    Reconnecting,
}

/// A stream or session to a venue changed state (input).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ConnectionChanged {
    pub venue: Venue,
    /// Which stream: `market`, `user`, `rest`.
    pub stream: String,
    pub state: LinkState,
    pub reason: String,
}

/// Market data was missed between two venue update ids (detected on reconnect or sequencing).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct MarketDataGap {
    pub venue: Venue,
    pub last_seen_id: u64,
    pub next_id: u64,
}

/// A venue API call failed (input). Messages are the venue's; request signatures never appear.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ApiError {
    pub venue: Venue,
    pub endpoint: String,
    pub http_status: Option<u16>,
    pub code: Option<i64>,
    pub message: String,
}

/// Time passing with no market event: lets time-based rules fire in quiet markets (input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ClockTick {}
