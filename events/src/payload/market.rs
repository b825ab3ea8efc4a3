//! Market data: trades, best bid/ask, bars, funding rates and mark prices. The instrument is the
//! envelope's `pair`, so these payloads do not repeat it.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::ids::Timestamp;
use crate::money::{Price, Quantity, Rate};

/// Which side took liquidity in a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggressor {
    Buyer,
    Seller,
    /// The venue did not say (e.g. bars aggregated elsewhere).
    Unknown,
}

/// One trade on the venue's tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Trade {
    pub trade_id: u64,
    pub price: Price,
    pub qty: Quantity,
    pub aggressor: Aggressor,
}

/// The best bid and ask (Binance `bookTicker`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct BookTicker {
    pub update_id: u64,
    pub bid: Price,
    pub bid_qty: Quantity,
    pub ask: Price,
    pub ask_qty: Quantity,
}

/// A bar length in seconds (60 = 1m, 3600 = 1h).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Interval(pub u32);

const INTERVAL_UNITS: [(char, u32); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl std::str::FromStr for Interval {
    type Err = String;

    /// `30s`, `1m`, `15m`, `4h`, `1d`, `1w` (Binance's names; months have no fixed length).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not a bar length like 1m, 15m, 4h or 1d");
        let unit = text.chars().last().ok_or_else(bad)?;
        let (_, seconds) = INTERVAL_UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .ok_or_else(bad)?;
        let count: u32 = text[..text.len() - 1].parse().map_err(|_| bad())?;
        count
            .checked_mul(*seconds)
            .filter(|&total| total > 0)
            .map(Interval)
            .ok_or_else(bad)
    }
}

impl std::fmt::Display for Interval {
    /// The largest unit that divides the length evenly: 60 → `1m`, 5400 → `90m`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (unit, seconds) = INTERVAL_UNITS
            .iter()
            .find(|(_, seconds)| self.0 % seconds == 0)
            .expect("every length is a whole number of seconds");
        write!(f, "{}{unit}", self.0 / seconds)
    }
}

/// An OHLCV bar. The envelope's `ts` is the bar's close time; `open_time` its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct FundingRate {
    pub rate: Rate,
    pub funding_time: Timestamp,
}

/// A perpetual's mark price (Binance `markPriceUpdate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct MarkPrice {
    pub mark: Price,
    pub index: Option<Price>,
    pub funding_rate: Option<Rate>,
    pub next_funding_time: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::Interval;

    #[test]
    fn intervals_parse_and_print_binance_names() {
        for (text, seconds) in [
            ("1s", 1),
            ("1m", 60),
            ("15m", 900),
            ("4h", 14_400),
            ("1d", 86_400),
            ("1w", 604_800),
        ] {
            let interval: Interval = text.parse().unwrap();
            assert_eq!(interval, Interval(seconds));
            assert_eq!(interval.to_string(), text);
        }
        assert_eq!(Interval(5_400).to_string(), "90m");
        for bad in ["", "1M", "0m", "m", "1.5h", "-1m", "99999999999w"] {
            assert!(bad.parse::<Interval>().is_err(), "{bad:?}");
        }
    }
}
