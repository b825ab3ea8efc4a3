//! Binance market-stream frames (spot and USD-M futures) to charon market events.
//!
//! One parser serves the live WebSocket client and the importer of raw recordings, so a
//! backtest sees exactly what the live engine would have seen. Frames may be combined-stream
//! (`{"stream": "btcusdt@trade", "data": {...}}`) or raw (`{"e": "trade", ...}`). Streams charon
//! does not record as events (order-book depth, snapshots) parse to `None`.

use charon_events::payload::market::{Aggressor, Bar, BookTicker, Interval, MarkPrice, Trade};
use charon_events::{Event, Price, Quantity, Rate, Symbol, Timestamp};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A frame that is not valid Binance market-stream JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("not JSON of a known Binance stream: {0}")]
    Json(String),
    #[error("field {field}: {reason}")]
    Field { field: &'static str, reason: String },
}

/// A market event for one symbol, as parsed from a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketEvent {
    pub symbol: Symbol,
    pub event: Event,
}

#[derive(Deserialize)]
struct Combined<'a> {
    #[serde(borrow)]
    stream: &'a str,
    #[serde(borrow)]
    data: &'a RawValue,
}

#[derive(Deserialize)]
struct EventType<'a> {
    #[serde(rename = "e", borrow, default)]
    event_type: Option<&'a str>,
    #[serde(rename = "u", default)]
    update_id: Option<u64>,
    #[serde(rename = "lastUpdateId", default)]
    snapshot_id: Option<u64>,
}

#[derive(Deserialize)]
struct RawTrade<'a> {
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "t")]
    trade_id: u64,
    #[serde(rename = "p")]
    price: &'a str,
    #[serde(rename = "q")]
    qty: &'a str,
    #[serde(rename = "m")]
    buyer_is_maker: bool,
    /// Futures only: `MARKET`, `INSURANCE_FUND`, `ADL`, `NA`. Only market trades are the tape.
    #[serde(rename = "X", default)]
    execution: Option<&'a str>,
}

#[derive(Deserialize)]
struct RawAggTrade<'a> {
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "a")]
    agg_id: u64,
    #[serde(rename = "p")]
    price: &'a str,
    #[serde(rename = "q")]
    qty: &'a str,
    #[serde(rename = "m")]
    buyer_is_maker: bool,
}

#[derive(Deserialize)]
struct RawBookTicker<'a> {
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "u")]
    update_id: u64,
    #[serde(rename = "b")]
    bid: &'a str,
    #[serde(rename = "B")]
    bid_qty: &'a str,
    #[serde(rename = "a")]
    ask: &'a str,
    #[serde(rename = "A")]
    ask_qty: &'a str,
}

#[derive(Deserialize)]
struct RawKlineFrame<'a> {
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "k", borrow)]
    kline: RawKline<'a>,
}

#[derive(Deserialize)]
struct RawKline<'a> {
    #[serde(rename = "t")]
    open_time: i64,
    #[serde(rename = "i")]
    interval: &'a str,
    #[serde(rename = "o")]
    open: &'a str,
    #[serde(rename = "h")]
    high: &'a str,
    #[serde(rename = "l")]
    low: &'a str,
    #[serde(rename = "c")]
    close: &'a str,
    #[serde(rename = "v")]
    volume: &'a str,
    #[serde(rename = "n")]
    trades: u64,
    #[serde(rename = "x")]
    closed: bool,
}

#[derive(Deserialize)]
struct RawMarkPrice<'a> {
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "p")]
    mark: &'a str,
    #[serde(rename = "i", default)]
    index: Option<&'a str>,
    #[serde(rename = "r", default)]
    funding_rate: Option<&'a str>,
    #[serde(rename = "T", default)]
    next_funding_time: Option<i64>,
}

fn json<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, FrameError> {
    serde_json::from_str(text).map_err(|e| FrameError::Json(e.to_string()))
}

fn decimal<T: std::str::FromStr>(field: &'static str, text: &str) -> Result<T, FrameError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| FrameError::Field {
        field,
        reason: format!("{text:?}: {e}"),
    })
}

fn symbol(text: &str) -> Result<Symbol, FrameError> {
    Symbol::new(text).map_err(|e| FrameError::Field {
        field: "s",
        reason: e.to_string(),
    })
}

fn aggressor(buyer_is_maker: bool) -> Aggressor {
    if buyer_is_maker {
        Aggressor::Seller
    } else {
        Aggressor::Buyer
    }
}

/// A tape trade; `trade` and `aggTrade` frames differ only in where the id comes from.
fn trade(
    symbol_text: &str,
    trade_id: u64,
    price: &str,
    qty: &str,
    buyer_is_maker: bool,
) -> Result<Option<MarketEvent>, FrameError> {
    Ok(Some(MarketEvent {
        symbol: symbol(symbol_text)?,
        event: Event::Trade(Trade {
            trade_id,
            price: decimal::<Price>("p", price)?,
            qty: decimal::<Quantity>("q", qty)?,
            aggressor: aggressor(buyer_is_maker),
        }),
    }))
}

/// Parses one frame. `Ok(None)` for valid frames of streams that are not recorded as events.
pub fn parse_frame(frame: &str) -> Result<Option<MarketEvent>, FrameError> {
    let data = match json::<Combined>(frame) {
        Ok(combined) => {
            if combined.stream.contains("@depth") {
                return Ok(None);
            }
            combined.data.get()
        }
        Err(_) => frame,
    };
    let head: EventType = json(data)?;
    match head.event_type {
        Some("trade") => {
            let raw: RawTrade = json(data)?;
            if raw.execution.is_some_and(|x| x != "MARKET") {
                return Ok(None);
            }
            trade(
                raw.symbol,
                raw.trade_id,
                raw.price,
                raw.qty,
                raw.buyer_is_maker,
            )
        }
        Some("aggTrade") => {
            let raw: RawAggTrade = json(data)?;
            trade(
                raw.symbol,
                raw.agg_id,
                raw.price,
                raw.qty,
                raw.buyer_is_maker,
            )
        }
        Some("bookTicker") | None if head.update_id.is_some() => {
            let raw: RawBookTicker = json(data)?;
            Ok(Some(MarketEvent {
                symbol: symbol(raw.symbol)?,
                event: Event::BookTicker(BookTicker {
                    update_id: raw.update_id,
                    bid: decimal::<Price>("b", raw.bid)?,
                    bid_qty: decimal::<Quantity>("B", raw.bid_qty)?,
                    ask: decimal::<Price>("a", raw.ask)?,
                    ask_qty: decimal::<Quantity>("A", raw.ask_qty)?,
                }),
            }))
        }
        Some("kline") => {
            let raw: RawKlineFrame = json(data)?;
            let k = raw.kline;
            let interval: Interval = k.interval.parse().map_err(|reason| FrameError::Field {
                field: "k.i",
                reason,
            })?;
            Ok(Some(MarketEvent {
                symbol: symbol(raw.symbol)?,
                event: Event::Bar(Bar {
                    interval,
                    open_time: Timestamp::from_millis(k.open_time),
                    open: decimal::<Price>("k.o", k.open)?,
                    high: decimal::<Price>("k.h", k.high)?,
                    low: decimal::<Price>("k.l", k.low)?,
                    close: decimal::<Price>("k.c", k.close)?,
                    volume: decimal::<Quantity>("k.v", k.volume)?,
                    trades: Some(k.trades),
                    closed: k.closed,
                }),
            }))
        }
        Some("markPriceUpdate") => {
            let raw: RawMarkPrice = json(data)?;
            let funding_rate = raw.funding_rate.filter(|r| !r.is_empty());
            Ok(Some(MarketEvent {
                symbol: symbol(raw.symbol)?,
                event: Event::MarkPrice(MarkPrice {
                    mark: decimal::<Price>("p", raw.mark)?,
                    index: raw.index.map(|i| decimal::<Price>("i", i)).transpose()?,
                    funding_rate: funding_rate.map(|r| decimal::<Rate>("r", r)).transpose()?,
                    next_funding_time: raw
                        .next_funding_time
                        .filter(|&t| t > 0)
                        .map(Timestamp::from_millis),
                }),
            }))
        }
        Some("depthUpdate") => Ok(None),
        None if head.snapshot_id.is_some() => Ok(None),
        Some(other) => Err(FrameError::Json(format!(
            "unsupported event type {other:?}"
        ))),
        None => Err(FrameError::Json(
            "frame has neither an event type nor an update id".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_trade_from_the_recording() {
        let frame = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#;
        let parsed = parse_frame(frame).unwrap().unwrap();
        assert_eq!(parsed.symbol.as_str(), "BTCUSDT");
        let Event::Trade(trade) = parsed.event else {
            panic!("not a trade")
        };
        assert_eq!(trade.trade_id, 3_735_683_259);
        assert_eq!(trade.price.to_string(), "61837.63000000");
        assert_eq!(
            trade.aggressor,
            Aggressor::Seller,
            "m=true: the buyer was the maker"
        );
    }

    #[test]
    fn spot_book_ticker_has_no_event_type() {
        let frame = r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
        let Event::BookTicker(book) = parse_frame(frame).unwrap().unwrap().event else {
            panic!()
        };
        assert_eq!(
            (book.update_id, book.ask.to_string()),
            (50_093_239_212, "61837.64000000".into())
        );
    }

    #[test]
    fn futures_non_market_trades_and_depth_are_skipped() {
        let adl = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":5,"p":"61800.30","q":"0.006","X":"ADL","m":false}}"#;
        assert_eq!(parse_frame(adl).unwrap(), None);
        let depth = r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}"#;
        assert_eq!(parse_frame(depth).unwrap(), None);
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        assert!(parse_frame("not json").is_err());
        let bad_price =
            r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"abc","q":"1","T":1,"m":true}"#;
        assert!(matches!(
            parse_frame(bad_price),
            Err(FrameError::Field { field: "p", .. })
        ));
    }
}
