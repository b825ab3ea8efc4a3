//! Bars from trades: [`BarAggregator`] turns one instrument's trades into closed OHLCV bars of a
//! fixed [`Interval`], for strategies that run on bars when the data holds only trades.
//!
//! # Semantics
//!
//! - **Windows** are aligned to multiples of the interval since the Unix epoch: a trade at `ts`
//!   belongs to the window `[open_time, open_time + interval)` with
//!   `open_time = floor(ts / interval) · interval` (floored for times before 1970 too). A trade
//!   at exactly a window's end belongs to the next window.
//! - A bar's **open, high, low and close** are the prices of its window's trades in the order
//!   they arrived, its **volume** the exact `Decimal` sum of their quantities, `trades` their
//!   count, and `closed` is true: only complete bars are emitted.
//! - A bar is emitted when it is known to be complete: by [`BarAggregator::on_trade`] when a
//!   trade falls in a later window, or by [`BarAggregator::close_through`] when the time (a
//!   clock tick, the end of the data's time range) reaches the window's end.
//! - **Windows without trades produce no bar**: after a gap, the next bar is the window of the
//!   next trade. (An exchange's klines would show flat bars there; a strategy fed these bars
//!   sees fewer bars, and its indicators' periods count bars, not time.) A window that is still
//!   open at the end of the data is not emitted; [`BarAggregator::forming`] shows it.
//! - **Order**: trades must come in time order (equal times are fine). A trade older than the
//!   previous trade, or in a window already closed (by a later trade or by `close_through`), is
//!   refused with a [`BarError`] and leaves the aggregator unchanged: it is never merged into
//!   the wrong bar, and the caller decides whether to skip it.
//! - **Event time**: a bar is complete at its window's end, so the caller stamps the bar event
//!   with [`close_time`]`(bar) = open_time + interval` (as the importer stamps Binance's klines),
//!   never with the time of the trade or tick that revealed it.
//!
//! Prices and quantities are taken as given (the trade events were validated when they were
//! made); the sum of quantities is exact or refused ([`BarError::VolumeInexact`]).

use charon_events::payload::market::{Bar, Interval};
use charon_events::{Price, Quantity, Timestamp};
use rust_decimal::prelude::ToPrimitive;

use crate::exchange::exact;
use crate::indicators::Candle;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Why a trade or an interval was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BarError {
    #[error("a bar interval must be at least one second")]
    ZeroInterval,
    #[error("trade at {ts} is older than the previous trade at {previous}")]
    OutOfOrder { ts: Timestamp, previous: Timestamp },
    #[error("trade at {ts} falls in a bar already closed (closed through {closed_through})")]
    WindowClosed {
        ts: Timestamp,
        closed_through: Timestamp,
    },
    #[error("trade at {ts}: its bar would start or end beyond the representable times")]
    OutOfRange { ts: Timestamp },
    #[error("trade at {ts}: the bar's volume cannot be summed exactly")]
    VolumeInexact { ts: Timestamp },
}

/// The bar being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Forming {
    open_time: i64,
    /// `open_time + interval`, representable (checked when the window is opened).
    end: i64,
    open: Price,
    high: Price,
    low: Price,
    close: Price,
    volume: Quantity,
    trades: u64,
}

/// Builds bars of one instrument and one interval from its trades (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarAggregator {
    interval: Interval,
    /// The interval in nanoseconds.
    length: i64,
    current: Option<Forming>,
    /// The latest trade's time.
    last_trade: Option<i64>,
    /// Every window ending at or before this time is closed: the latest `close_through` time or
    /// the end of the latest emitted bar.
    closed_through: Option<i64>,
}

impl BarAggregator {
    pub fn new(interval: Interval) -> Result<BarAggregator, BarError> {
        if interval.0 == 0 {
            return Err(BarError::ZeroInterval);
        }
        Ok(BarAggregator {
            interval,
            // At most 2^32 s ≈ 4.3·10^18 ns, inside i64.
            length: i64::from(interval.0) * NANOS_PER_SECOND,
            current: None,
            last_trade: None,
            closed_through: None,
        })
    }

    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// Takes the next trade. Returns the bar it completes, if it is the first trade of a later
    /// window than the bar being built.
    pub fn on_trade(
        &mut self,
        ts: Timestamp,
        price: Price,
        qty: Quantity,
    ) -> Result<Option<Bar>, BarError> {
        let t = ts.nanos();
        if let Some(previous) = self.last_trade.filter(|&previous| t < previous) {
            return Err(BarError::OutOfOrder {
                ts,
                previous: Timestamp::from_nanos(previous),
            });
        }
        let out_of_range = BarError::OutOfRange { ts };
        let open_time = t
            .div_euclid(self.length)
            .checked_mul(self.length)
            .ok_or(out_of_range)?;
        let end = open_time.checked_add(self.length).ok_or(out_of_range)?;
        if let Some(closed) = self.closed_through.filter(|&closed| end <= closed) {
            return Err(BarError::WindowClosed {
                ts,
                closed_through: Timestamp::from_nanos(closed),
            });
        }
        match &mut self.current {
            Some(bar) if bar.open_time == open_time => {
                bar.volume = exact::add(bar.volume.0, qty.0)
                    .map(Quantity)
                    .map_err(|_| BarError::VolumeInexact { ts })?;
                bar.high = bar.high.max(price);
                bar.low = bar.low.min(price);
                bar.close = price;
                // A bar of 2^64 trades is out of reach; saturate rather than wrap.
                bar.trades = bar.trades.saturating_add(1);
                self.last_trade = Some(t);
                Ok(None)
            }
            _ => {
                let completed = self.take();
                self.current = Some(Forming {
                    open_time,
                    end,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume: qty,
                    trades: 1,
                });
                self.last_trade = Some(t);
                Ok(completed)
            }
        }
    }

    /// Declares that time `ts` has been reached (a clock tick, the end of the data): every
    /// window ending at or before `ts` is complete. Returns the bar being built if its window
    /// has ended. Trades in closed windows are refused afterwards. Times earlier than one
    /// already declared change nothing.
    pub fn close_through(&mut self, ts: Timestamp) -> Option<Bar> {
        let t = ts.nanos();
        self.closed_through = Some(self.closed_through.map_or(t, |closed| closed.max(t)));
        match self.current {
            Some(bar) if bar.end <= t => self.take(),
            _ => None,
        }
    }

    /// The bar being built, with `closed: false`, if its window has had a trade.
    pub fn forming(&self) -> Option<Bar> {
        self.current.map(|bar| self.bar(bar, false))
    }

    /// Forgets every trade and the time declared by `close_through`.
    pub fn reset(&mut self) {
        self.current = None;
        self.last_trade = None;
        self.closed_through = None;
    }

    /// Emits the bar being built, marking its window closed.
    fn take(&mut self) -> Option<Bar> {
        let bar = self.current.take()?;
        self.closed_through = Some(self.closed_through.map_or(bar.end, |c| c.max(bar.end)));
        Some(self.bar(bar, true))
    }

    fn bar(&self, bar: Forming, closed: bool) -> Bar {
        Bar {
            interval: self.interval,
            open_time: Timestamp::from_nanos(bar.open_time),
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
            trades: Some(bar.trades),
            closed,
        }
    }
}

/// The time a bar is complete and its event is stamped with: `open_time + interval`
/// (saturating at the last representable time; never reached by bars of [`BarAggregator`]).
pub fn close_time(bar: &Bar) -> Timestamp {
    let length = i64::from(bar.interval.0) * NANOS_PER_SECOND;
    Timestamp::from_nanos(bar.open_time.nanos().saturating_add(length))
}

impl From<&Bar> for Candle {
    /// The bar in `f64`, as the indicators read it (every `Decimal` converts to a finite `f64`,
    /// to the nearest representable value).
    fn from(bar: &Bar) -> Candle {
        let f = |x: rust_decimal::Decimal| x.to_f64().expect("every Decimal converts to an f64");
        Candle {
            open: f(bar.open.0),
            high: f(bar.high.0),
            low: f(bar.low.0),
            close: f(bar.close.0),
            volume: f(bar.volume.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;

    const MINUTE: i64 = 60 * NANOS_PER_SECOND;

    fn at(seconds: f64) -> Timestamp {
        Timestamp::from_nanos((seconds * 1e9).round() as i64)
    }

    fn price(text: &str) -> Price {
        text.parse().unwrap()
    }

    fn qty(text: &str) -> Quantity {
        text.parse().unwrap()
    }

    fn minute_bars() -> BarAggregator {
        BarAggregator::new(Interval(60)).unwrap()
    }

    fn bar(open_time: i64, o: &str, h: &str, l: &str, c: &str, v: &str, trades: u64) -> Bar {
        Bar {
            interval: Interval(60),
            open_time: Timestamp::from_nanos(open_time),
            open: price(o),
            high: price(h),
            low: price(l),
            close: price(c),
            volume: qty(v),
            trades: Some(trades),
            closed: true,
        }
    }

    #[test]
    fn trades_across_a_boundary_make_one_bar() {
        let mut bars = minute_bars();
        let trades = [
            (at(0.0), "100", "1"),
            (at(10.0), "105", "2"),
            (at(30.0), "99", "0.5"),
            (Timestamp::from_nanos(MINUTE - 1), "101", "1"),
        ];
        for (ts, p, q) in trades {
            assert_eq!(bars.on_trade(ts, price(p), qty(q)), Ok(None));
        }
        let forming = bars.forming().unwrap();
        assert!(!forming.closed);
        assert_eq!(forming.close, price("101"));
        // A trade at exactly the window's end opens the next window and completes this one.
        let completed = bars.on_trade(at(60.0), price("102"), qty("1")).unwrap();
        let expected = bar(0, "100", "105", "99", "101", "4.5", 4);
        assert_eq!(completed, Some(expected));
        assert_eq!(
            close_time(&expected),
            at(60.0),
            "stamped at the window's end"
        );
        assert_eq!(bars.forming().unwrap().open_time, at(60.0));
    }

    #[test]
    fn empty_windows_make_no_bars() {
        let mut bars = minute_bars();
        assert_eq!(bars.on_trade(at(61.0), price("10"), qty("1")), Ok(None));
        // Four empty minutes, then a trade: only the 1-minute bar comes out.
        let completed = bars.on_trade(at(300.0), price("12"), qty("3")).unwrap();
        assert_eq!(completed, Some(bar(MINUTE, "10", "10", "10", "10", "1", 1)));
        assert_eq!(bars.close_through(at(359.999)), None, "not yet at the end");
        assert_eq!(
            bars.close_through(at(360.0)),
            Some(bar(5 * MINUTE, "12", "12", "12", "12", "3", 1))
        );
        assert_eq!(bars.close_through(at(900.0)), None, "nothing is forming");
        assert_eq!(bars.forming(), None);
    }

    #[test]
    fn trades_in_closed_windows_are_refused() {
        let mut bars = minute_bars();
        bars.on_trade(at(10.0), price("10"), qty("1")).unwrap();
        assert_eq!(
            bars.close_through(at(60.0)).map(|b| b.trades),
            Some(Some(1))
        );
        assert_eq!(
            bars.on_trade(at(59.0), price("11"), qty("1")),
            Err(BarError::WindowClosed {
                ts: at(59.0),
                closed_through: at(60.0)
            })
        );
        // Once `close_through` has declared a time, its windows are closed even without a bar.
        let mut bars = minute_bars();
        assert_eq!(bars.close_through(at(130.0)), None);
        assert_eq!(
            bars.on_trade(at(119.0), price("11"), qty("1")),
            Err(BarError::WindowClosed {
                ts: at(119.0),
                closed_through: at(130.0)
            })
        );
        // The window containing the declared time is still open.
        assert_eq!(bars.on_trade(at(125.0), price("11"), qty("1")), Ok(None));
        // A time earlier than one already declared changes nothing.
        assert_eq!(bars.close_through(at(10.0)), None);
        assert_eq!(bars.forming().map(|b| b.trades), Some(Some(1)));
    }

    #[test]
    fn out_of_order_trades_are_refused_and_change_nothing() {
        let mut bars = minute_bars();
        bars.on_trade(at(20.0), price("10"), qty("1")).unwrap();
        let before = bars.clone();
        assert_eq!(
            bars.on_trade(at(19.0), price("99"), qty("1")),
            Err(BarError::OutOfOrder {
                ts: at(19.0),
                previous: at(20.0)
            })
        );
        assert_eq!(bars, before);
        // Equal times are in order.
        assert_eq!(bars.on_trade(at(20.0), price("11"), qty("1")), Ok(None));
        // After a bar is emitted, a trade of its window is refused as out of order.
        bars.on_trade(at(70.0), price("12"), qty("1")).unwrap();
        assert!(matches!(
            bars.on_trade(at(50.0), price("12"), qty("1")),
            Err(BarError::OutOfOrder { .. })
        ));
    }

    #[test]
    fn windows_before_the_epoch_are_floored() {
        let mut bars = minute_bars();
        bars.on_trade(Timestamp::from_nanos(-1), price("1"), qty("1"))
            .unwrap();
        assert_eq!(bars.forming().unwrap().open_time.nanos(), -MINUTE);
        let completed = bars.on_trade(at(0.0), price("2"), qty("1")).unwrap();
        assert_eq!(completed.map(|b| b.open_time.nanos()), Some(-MINUTE));
    }

    #[test]
    fn bad_intervals_and_times_are_refused() {
        assert_eq!(BarAggregator::new(Interval(0)), Err(BarError::ZeroInterval));
        for ns in [i64::MAX, i64::MIN] {
            let ts = Timestamp::from_nanos(ns);
            assert_eq!(
                minute_bars().on_trade(ts, price("1"), qty("1")),
                Err(BarError::OutOfRange { ts })
            );
        }
        let week = BarAggregator::new(Interval(u32::MAX)).unwrap();
        assert_eq!(week.interval(), Interval(u32::MAX));
    }

    #[test]
    fn a_volume_that_cannot_be_summed_exactly_is_refused() {
        let mut bars = minute_bars();
        bars.on_trade(at(1.0), price("1"), Quantity(Decimal::MAX))
            .unwrap();
        let before = bars.clone();
        assert_eq!(
            bars.on_trade(at(2.0), price("1"), qty("1")),
            Err(BarError::VolumeInexact { ts: at(2.0) })
        );
        assert_eq!(bars, before);
    }

    #[test]
    fn a_bar_reads_as_a_candle() {
        let candle = Candle::from(&bar(0, "100.5", "105", "99.25", "101", "4.5", 4));
        assert_eq!(
            candle,
            Candle {
                open: 100.5,
                high: 105.0,
                low: 99.25,
                close: 101.0,
                volume: 4.5
            }
        );
    }

    /// Bars computed directly: trades grouped by window, in order.
    fn reference(trades: &[(i64, Price, Quantity)], length: i64) -> Vec<Bar> {
        let mut windows: BTreeMap<i64, Vec<(Price, Quantity)>> = BTreeMap::new();
        for &(t, p, q) in trades {
            windows
                .entry(t.div_euclid(length) * length)
                .or_default()
                .push((p, q));
        }
        windows
            .into_iter()
            .map(|(open_time, trades)| Bar {
                interval: Interval((length / NANOS_PER_SECOND) as u32),
                open_time: Timestamp::from_nanos(open_time),
                open: trades[0].0,
                high: trades.iter().map(|t| t.0).max().unwrap(),
                low: trades.iter().map(|t| t.0).min().unwrap(),
                close: trades[trades.len() - 1].0,
                volume: Quantity(trades.iter().map(|t| t.1 .0).sum()),
                trades: Some(trades.len() as u64),
                closed: true,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn bars_hold_every_trade_and_match_a_direct_grouping(
            seconds in 1u32..120,
            start in -200_000_000_000i64..200_000_000_000,
            // Gaps in ns: often zero or inside a window, sometimes across several windows.
            steps in prop::collection::vec(
                (
                    prop_oneof![Just(0i64), 0i64..3_000_000_000, 0i64..600_000_000_000],
                    1i64..1_000_000,
                    0u32..4,
                    1i64..100_000,
                    0u32..6,
                ),
                1..200,
            ),
            tick_every in 1usize..50,
        ) {
            let length = i64::from(seconds) * NANOS_PER_SECOND;
            let mut bars = BarAggregator::new(Interval(seconds)).unwrap();
            let mut t = start;
            let mut trades = Vec::new();
            let mut emitted = Vec::new();
            for (i, &(gap, p, p_scale, q, q_scale)) in steps.iter().enumerate() {
                t += gap;
                let (p, q) = (Price::new(p, p_scale), Quantity::new(q, q_scale));
                trades.push((t, p, q));
                emitted.extend(bars.on_trade(Timestamp::from_nanos(t), p, q).unwrap());
                // A clock tick at the latest trade's time closes nothing that is still open.
                if i % tick_every == 0 {
                    emitted.extend(bars.close_through(Timestamp::from_nanos(t)));
                }
            }
            emitted.extend(bars.close_through(Timestamp::from_nanos(t + length)));
            prop_assert_eq!(bars.forming(), None);

            let total: Decimal = trades.iter().map(|t| t.2 .0).sum();
            let volume: Decimal = emitted.iter().map(|b| b.volume.0).sum();
            prop_assert_eq!(volume, total);
            let count: u64 = emitted.iter().filter_map(|b| b.trades).sum();
            prop_assert_eq!(count, trades.len() as u64);
            for bar in &emitted {
                prop_assert!(bar.high >= bar.open && bar.high >= bar.close);
                prop_assert!(bar.low <= bar.open && bar.low <= bar.close);
                prop_assert_eq!(bar.open_time.nanos().rem_euclid(length), 0);
                prop_assert!(bar.closed);
            }
            prop_assert_eq!(emitted, reference(&trades, length));
        }
    }
}
