//! Market data: trades, best bid/ask, bars, funding rates and mark prices. The instrument is the
//! envelope's `pair`, so these payloads do not repeat it.

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::ids::Timestamp;
use crate::money::{Price, Quantity, Rate};

/// Which side took liquidity in a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggressor {
    Buyer,
    Seller,
    /// The venue did not say (e.g. bars aggregated elsewhere).
    Unknown,
}

/// One trade on the venue's tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Trade {
    pub trade_id: u64,
    pub price: Price,
    pub qty: Quantity,
    pub aggressor: Aggressor,
}

/// The best bid and ask (Binance `bookTicker`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct BookTicker {
    pub update_id: u64,
    pub bid: Price,
    pub bid_qty: Quantity,
    pub ask: Price,
    pub ask_qty: Quantity,
}

/// A bar length in seconds (60 = 1m, 3600 = 1h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize)]
#[serde(transparent)]
pub struct Interval(pub u32);

/// An OHLCV bar. The envelope's `ts` is the bar's close time; `open_time` its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Bar {
    pub interval: Interval,
    pub open_time: Timestamp,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub close: Price,
    pub volume: Quantity,
    /// Number of trades, when the source says.
    pub trades: Option<u64>,
    /// False while a live bar is still forming (Binance kline `x`).
    pub closed: bool,
}

/// A funding rate of a perpetual, applied to positions open at `funding_time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct FundingRate {
    pub rate: Rate,
    pub funding_time: Timestamp,
}

/// A perpetual's mark price (Binance `markPriceUpdate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct MarkPrice {
    pub mark: Price,
    pub index: Option<Price>,
    pub funding_rate: Option<Rate>,
    pub next_funding_time: Option<Timestamp>,
}
