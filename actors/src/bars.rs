//! Bars from trades: [`BarAggregator`] turns one instrument's trades into closed OHLCV bars of a
//! fixed [`Interval`], for strategies that run on bars when the data holds only trades; and bars
//! from shorter bars: [`BarResampler`] turns closed bars of a short interval into bars of a
//! longer one (1m → 15m), so a pair configured with a 15m timeframe can run on 1-minute data.
//!
//! # Semantics of [`BarAggregator`]
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
//!
//! # Semantics of [`BarResampler`]
//!
//! - **Windows** of the target interval are aligned to the epoch as above:
//!   `open_time = floor(t / target) · target`. An input bar belongs to the window containing its
//!   `open_time`, and must lie wholly inside it: its interval must divide the target
//!   ([`BarError::IntervalMismatch`]), and a bar not aligned to its own interval that reaches
//!   past the window's end is refused ([`BarError::Straddles`]).
//! - A target bar's **open** is its first input's open, **high/low** the max/min of the inputs'
//!   highs/lows, **close** the last input's close, **volume** the exact sum of the inputs'
//!   volumes ([`BarError::BarVolumeInexact`] otherwise), and **trades** the sum of the inputs'
//!   counts when every input has one, else `None`. It has `interval: target`, `closed: true`.
//! - A target bar is emitted as soon as it is known to be complete: by the input that ends at
//!   the window's end (at once: its event is stamped at that close), or, when inputs are
//!   missing at the end of the window, by the first input of a later window. Windows without
//!   input bars produce no bar; a window with missing inputs makes a bar from those it has. A
//!   window still open at the end of the data is not emitted; [`BarResampler::forming`] shows it.
//! - **Order**: input bars must come in time order without overlapping (each opens at or after
//!   the previous one's end), else [`BarError::BarOutOfOrder`]. Input bars with
//!   `closed: false` (live bars still forming) are ignored. A refused bar leaves the resampler
//!   unchanged.
//! - **Event time**: as for trades, the caller stamps a target bar with [`close_time`]`(bar)`,
//!   the window's end, also when the bar is emitted late (after missing inputs).
//! - With equal input and target intervals, bars pass through unchanged.

use charon_events::payload::market::{Bar, Interval};
use charon_events::{Price, Quantity, Timestamp};
use rust_decimal::prelude::ToPrimitive;

use crate::exchange::exact;
use crate::indicators::Candle;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Why a trade, a bar or an interval was refused.
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
    #[error(
        "a {input} bar cannot be resampled to {target} bars: {target} is not a whole multiple \
         of {input}"
    )]
    IntervalMismatch { input: Interval, target: Interval },
    #[error("the {input} bar opening at {open_time} straddles the end of a {target} window")]
    Straddles {
        open_time: Timestamp,
        input: Interval,
        target: Interval,
    },
    #[error("bar opening at {open_time} starts before the previous bar's end at {previous_end}")]
    BarOutOfOrder {
        open_time: Timestamp,
        previous_end: Timestamp,
    },
    #[error(
        "bar opening at {open_time}: it or its window would end beyond the representable times"
    )]
    BarOutOfRange { open_time: Timestamp },
    #[error("bar opening at {open_time}: the resampled bar's volume cannot be summed exactly")]
    BarVolumeInexact { open_time: Timestamp },
}

/// The bar being built.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
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

/// Builds bars of a longer interval (the target) from closed bars of a shorter one, of one
/// instrument (see the module doc): 1m bars → 15m bars, for instance.
///
/// Windows are aligned to the epoch (`open_time = floor(t / target) · target`); an input bar
/// belongs to the window containing its `open_time` and must not straddle the window's end (its
/// interval must divide the target). Input bars must come in time order without overlapping;
/// `closed: false` inputs are ignored. A target bar is emitted by the input that completes its
/// window (ends at the window's end), or, when the window's last inputs are missing, by the
/// first input of a later window. Its open is the first input's open, high/low the extremes,
/// close the last close, volume the exact sum, trades the sum if every input has a count.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BarResampler {
    target: Interval,
    /// The target interval in nanoseconds.
    length: i64,
    /// The target bar being built: `interval: target`, `closed: false`.
    current: Option<Bar>,
    /// The end (`open_time + interval`) of the latest input bar.
    last_end: Option<i64>,
}

impl BarResampler {
    /// A resampler to bars of `target`. Each input bar's interval must divide `target` (checked
    /// per bar, by [`BarResampler::on_bar`]).
    pub fn new(target: Interval) -> Result<BarResampler, BarError> {
        if target.0 == 0 {
            return Err(BarError::ZeroInterval);
        }
        Ok(BarResampler {
            target,
            // At most 2^32 s ≈ 4.3·10^18 ns, inside i64.
            length: i64::from(target.0) * NANOS_PER_SECOND,
            current: None,
            last_end: None,
        })
    }

    pub fn target(&self) -> Interval {
        self.target
    }

    /// Takes the next closed input bar (in time order). Returns the target bars it completes,
    /// in time order, filling the first slot first:
    /// - the bar of the previous window, when this input starts a later window (the previous
    ///   window's last inputs are missing), and/or
    /// - the bar of this input's window, when this input ends at the window's end.
    ///
    /// An input with `closed: false` is ignored (`[None, None]`). A refused input leaves the
    /// resampler unchanged.
    pub fn on_bar(&mut self, bar: &Bar) -> Result<[Option<Bar>; 2], BarError> {
        if !bar.closed {
            return Ok([None, None]);
        }
        let (input, target, open_time) = (bar.interval, self.target, bar.open_time);
        if input.0 == 0 {
            return Err(BarError::ZeroInterval);
        }
        if target.0 % input.0 != 0 {
            return Err(BarError::IntervalMismatch { input, target });
        }
        let start = open_time.nanos();
        let out_of_range = BarError::BarOutOfRange { open_time };
        let end = start
            .checked_add(i64::from(input.0) * NANOS_PER_SECOND)
            .ok_or(out_of_range)?;
        if let Some(previous) = self.last_end.filter(|&previous| start < previous) {
            return Err(BarError::BarOutOfOrder {
                open_time,
                previous_end: Timestamp::from_nanos(previous),
            });
        }
        let window = start
            .div_euclid(self.length)
            .checked_mul(self.length)
            .ok_or(out_of_range)?;
        let window_end = window.checked_add(self.length).ok_or(out_of_range)?;
        if end > window_end {
            return Err(BarError::Straddles {
                open_time,
                input,
                target,
            });
        }

        let mut completed = [None, None];
        match &mut self.current {
            Some(forming) if forming.open_time.nanos() == window => {
                forming.volume = exact::add(forming.volume.0, bar.volume.0)
                    .map(Quantity)
                    .map_err(|_| BarError::BarVolumeInexact { open_time })?;
                forming.high = forming.high.max(bar.high);
                forming.low = forming.low.min(bar.low);
                forming.close = bar.close;
                // Counts of 2^64 trades are out of reach; saturate rather than wrap.
                forming.trades = forming
                    .trades
                    .zip(bar.trades)
                    .map(|(a, b)| a.saturating_add(b));
            }
            // The order check keeps the inputs' windows from going back: this is a later window.
            _ => {
                completed[0] = self.take();
                self.current = Some(Bar {
                    interval: target,
                    open_time: Timestamp::from_nanos(window),
                    closed: false,
                    ..*bar
                });
            }
        }
        self.last_end = Some(end);
        if end == window_end {
            let slot = usize::from(completed[0].is_some());
            completed[slot] = self.take();
        }
        Ok(completed)
    }

    /// The target bar being built, with `closed: false`, if its window has had an input bar.
    pub fn forming(&self) -> Option<Bar> {
        self.current
    }

    /// Forgets every input bar.
    pub fn reset(&mut self) {
        self.current = None;
        self.last_end = None;
    }

    /// Emits the target bar being built.
    fn take(&mut self) -> Option<Bar> {
        self.current.take().map(|bar| Bar {
            closed: true,
            ..bar
        })
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
        Candle {
            open: to_f64(bar.open.0),
            high: to_f64(bar.high.0),
            low: to_f64(bar.low.0),
            close: to_f64(bar.close.0),
            volume: to_f64(bar.volume.0),
        }
    }
}

/// Exact powers of ten as `f64` (every one up to 10^22 is representable).
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The `f64` nearest to `x`. Prices and volumes have mantissas below 2^53 and few decimal
/// places, so both the mantissa and 10^scale are exact doubles and one IEEE division rounds
/// correctly ([`nearest_f64`]), several times faster than the general conversion, which
/// handles the rest.
fn to_f64(x: rust_decimal::Decimal) -> f64 {
    nearest_f64(x).unwrap_or_else(|| x.to_f64().expect("every Decimal converts to an f64"))
}

/// The correctly rounded `f64` of `x` when its mantissa is below 2^53 and its scale at most
/// 22, else `None`. Correct rounding is monotonic (`a ≤ b` gives `f(a) ≤ f(b)`), which the
/// Pair's stop filter relies on.
pub(crate) fn nearest_f64(x: rust_decimal::Decimal) -> Option<f64> {
    // Through i64: the hardware converts it, where i128 takes a software routine.
    let mantissa = i64::try_from(x.mantissa())
        .ok()
        .filter(|m| m.unsigned_abs() < (1 << 53))?;
    let power = POWERS_OF_TEN.get(x.scale() as usize)?;
    Some(mantissa as f64 / power)
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

    // Resampling.

    fn five_minutes() -> BarResampler {
        BarResampler::new(Interval(300)).unwrap()
    }

    /// A closed 1-minute input bar opening at `minute`.
    fn minute_bar(minute: i64, ohlc: [&str; 4], v: &str, trades: Option<u64>) -> Bar {
        let [o, h, l, c] = ohlc;
        Bar {
            trades,
            ..bar(minute * MINUTE, o, h, l, c, v, 0)
        }
    }

    /// A target bar of `minutes` minutes opening at `minute`.
    fn resampled(minute: i64, minutes: u32, ohlc: [&str; 4], v: &str, trades: Option<u64>) -> Bar {
        Bar {
            interval: Interval(60 * minutes),
            ..minute_bar(minute, ohlc, v, trades)
        }
    }

    #[test]
    fn five_one_minute_bars_make_a_five_minute_bar_emitted_with_the_fifth() {
        let mut bars = five_minutes();
        assert_eq!(bars.target(), Interval(300));
        let inputs = [
            minute_bar(0, ["100", "101", "99", "100.5"], "1", Some(3)),
            minute_bar(1, ["100.5", "104", "100", "103"], "2.25", Some(2)),
            minute_bar(2, ["103", "103.5", "98", "99"], "0.5", Some(1)),
            minute_bar(3, ["99", "100", "97.5", "98"], "1", Some(4)),
            minute_bar(4, ["98", "99", "98", "98.75"], "0.25", Some(5)),
        ];
        for input in &inputs[..4] {
            assert_eq!(bars.on_bar(input), Ok([None, None]));
        }
        let forming = Bar {
            closed: false,
            ..resampled(0, 5, ["100", "104", "97.5", "98"], "4.75", Some(10))
        };
        assert_eq!(bars.forming(), Some(forming));
        let expected = resampled(0, 5, ["100", "104", "97.5", "98.75"], "5", Some(15));
        assert_eq!(bars.on_bar(&inputs[4]), Ok([Some(expected), None]));
        assert_eq!(close_time(&expected), close_time(&inputs[4]));
        assert_eq!(close_time(&expected), at(300.0));
        assert_eq!(bars.forming(), None);
        // The next minute opens the next window.
        let next = minute_bar(5, ["98.75", "99", "98", "98.5"], "1", Some(1));
        assert_eq!(bars.on_bar(&next), Ok([None, None]));
        assert_eq!(bars.forming().map(|b| b.open_time), Some(at(300.0)));
    }

    #[test]
    fn a_window_with_missing_minutes_is_emitted_by_a_later_window() {
        let mut bars = five_minutes();
        let first = minute_bar(1, ["10", "11", "9", "10.5"], "1", Some(1));
        let second = minute_bar(2, ["10.5", "12", "10", "11"], "2", Some(1));
        assert_eq!(bars.on_bar(&first), Ok([None, None]));
        assert_eq!(bars.on_bar(&second), Ok([None, None]));
        // Minutes 3..=6 are missing; minute 7 reveals that the window [0, 5) is over.
        let seventh = minute_bar(7, ["20", "21", "19", "20.5"], "3", Some(2));
        let window0 = resampled(0, 5, ["10", "12", "9", "11"], "3", Some(2));
        assert_eq!(bars.on_bar(&seventh), Ok([Some(window0), None]));
        assert_eq!(
            close_time(&window0),
            at(300.0),
            "stamped at its window's end"
        );
        assert_eq!(
            bars.forming(),
            Some(Bar {
                closed: false,
                ..resampled(5, 5, ["20", "21", "19", "20.5"], "3", Some(2))
            })
        );
        // Minute 14 both ends the window [5, 10) and completes the window [10, 15): two bars,
        // in time order.
        let fourteenth = minute_bar(14, ["30", "31", "29", "30.5"], "4", Some(3));
        assert_eq!(
            bars.on_bar(&fourteenth),
            Ok([
                Some(resampled(5, 5, ["20", "21", "19", "20.5"], "3", Some(2))),
                Some(resampled(10, 5, ["30", "31", "29", "30.5"], "4", Some(3))),
            ])
        );
        assert_eq!(bars.forming(), None);
        // Empty windows [15, 20) and [20, 25) make no bars.
        let thirty = minute_bar(30, ["5", "6", "4", "5"], "1", Some(1));
        assert_eq!(bars.on_bar(&thirty), Ok([None, None]));
    }

    #[test]
    fn intervals_that_do_not_divide_the_target_are_refused() {
        assert_eq!(BarResampler::new(Interval(0)), Err(BarError::ZeroInterval));
        let mut bars = five_minutes();
        bars.on_bar(&minute_bar(0, ["1", "1", "1", "1"], "1", Some(1)))
            .unwrap();
        let before = bars.clone();
        let two_minutes = Bar {
            interval: Interval(120),
            ..minute_bar(2, ["1", "1", "1", "1"], "1", Some(1))
        };
        let refused = bars.on_bar(&two_minutes);
        assert_eq!(
            refused,
            Err(BarError::IntervalMismatch {
                input: Interval(120),
                target: Interval(300)
            })
        );
        assert_eq!(
            refused.unwrap_err().to_string(),
            "a 2m bar cannot be resampled to 5m bars: 5m is not a whole multiple of 2m"
        );
        let zero = Bar {
            interval: Interval(0),
            ..two_minutes
        };
        assert_eq!(bars.on_bar(&zero), Err(BarError::ZeroInterval));
        // A 1-minute bar not aligned to minutes would straddle the window's end.
        let straddling = Bar {
            open_time: at(270.0),
            ..minute_bar(0, ["1", "1", "1", "1"], "1", Some(1))
        };
        assert_eq!(
            bars.on_bar(&straddling),
            Err(BarError::Straddles {
                open_time: at(270.0),
                input: Interval(60),
                target: Interval(300)
            })
        );
        // Bars whose window would end beyond the representable times.
        for ns in [i64::MIN, i64::MAX - 1] {
            let far = Bar {
                open_time: Timestamp::from_nanos(ns),
                ..two_minutes
            };
            let mut fresh = BarResampler::new(Interval(120)).unwrap();
            assert_eq!(
                fresh.on_bar(&far),
                Err(BarError::BarOutOfRange {
                    open_time: Timestamp::from_nanos(ns)
                })
            );
        }
        assert_eq!(bars, before, "refused bars change nothing");
        // Dividing intervals of any length are taken, in the same window.
        let half = Bar {
            interval: Interval(150),
            open_time: at(150.0),
            ..minute_bar(0, ["2", "3", "0.5", "2"], "1", None)
        };
        assert_eq!(
            bars.on_bar(&half),
            Ok([
                Some(resampled(0, 5, ["1", "3", "0.5", "2"], "2", None)),
                None
            ])
        );
    }

    #[test]
    fn out_of_order_or_overlapping_bars_are_refused_and_change_nothing() {
        let mut bars = five_minutes();
        bars.on_bar(&minute_bar(3, ["1", "1", "1", "1"], "1", Some(1)))
            .unwrap();
        let before = bars.clone();
        assert_eq!(
            bars.on_bar(&minute_bar(2, ["9", "9", "9", "9"], "1", Some(1))),
            Err(BarError::BarOutOfOrder {
                open_time: at(120.0),
                previous_end: at(240.0)
            })
        );
        // The same minute again, and bars opening inside the previous one, overlap it.
        for open_time in [at(180.0), at(210.0), Timestamp::from_nanos(4 * MINUTE - 1)] {
            let overlapping = Bar {
                open_time,
                interval: Interval(30),
                ..minute_bar(0, ["9", "9", "9", "9"], "1", Some(1))
            };
            assert!(matches!(
                bars.on_bar(&overlapping),
                Err(BarError::BarOutOfOrder { .. })
            ));
        }
        assert_eq!(bars, before);
        // A bar opening at the previous one's end is in order, and completes the window.
        let fourth = minute_bar(4, ["2", "2", "2", "2"], "1", Some(1));
        assert_eq!(
            bars.on_bar(&fourth).map(|out| out[0].map(|b| b.close)),
            Ok(Some(price("2")))
        );
        // A bar of the emitted window is refused.
        assert!(matches!(
            bars.on_bar(&minute_bar(1, ["9", "9", "9", "9"], "1", Some(1))),
            Err(BarError::BarOutOfOrder { .. })
        ));
    }

    #[test]
    fn trades_are_counted_only_when_every_input_counts_them() {
        let mut bars = five_minutes();
        bars.on_bar(&minute_bar(0, ["1", "1", "1", "1"], "1", Some(2)))
            .unwrap();
        assert_eq!(bars.forming().unwrap().trades, Some(2));
        bars.on_bar(&minute_bar(1, ["1", "1", "1", "1"], "1", None))
            .unwrap();
        assert_eq!(bars.forming().unwrap().trades, None);
        bars.on_bar(&minute_bar(2, ["1", "1", "1", "1"], "1", Some(3)))
            .unwrap();
        assert_eq!(
            bars.forming().unwrap().trades,
            None,
            "a missing count stays missing"
        );
        let out = bars
            .on_bar(&minute_bar(4, ["1", "1", "1", "1"], "1", Some(4)))
            .unwrap();
        assert_eq!(out[0].map(|b| (b.trades, b.volume)), Some((None, qty("4"))));
        // A window whose inputs all count them sums them.
        let out = bars
            .on_bar(&minute_bar(9, ["1", "1", "1", "1"], "1", Some(7)))
            .unwrap();
        assert_eq!(out[0].map(|b| b.trades), Some(Some(7)));
    }

    #[test]
    fn bars_still_forming_are_ignored() {
        let mut bars = five_minutes();
        bars.on_bar(&minute_bar(0, ["1", "1", "1", "1"], "1", Some(1)))
            .unwrap();
        let before = bars.clone();
        for forming in [
            minute_bar(1, ["99", "99", "99", "99"], "9", Some(9)),
            // Not even checked: a bad interval, a time in the past.
            Bar {
                interval: Interval(7),
                ..minute_bar(-10, ["99", "99", "99", "99"], "9", Some(9))
            },
            // Nor does it complete anything.
            minute_bar(4, ["99", "99", "99", "99"], "9", Some(9)),
        ] {
            let forming = Bar {
                closed: false,
                ..forming
            };
            assert_eq!(bars.on_bar(&forming), Ok([None, None]));
        }
        assert_eq!(bars, before);
    }

    #[test]
    fn equal_intervals_pass_bars_through() {
        let mut bars = five_minutes();
        let inputs = [
            resampled(5, 5, ["1.5", "2", "1", "1.75"], "12.5", Some(30)),
            resampled(15, 5, ["2", "2.5", "1.5", "2"], "0", None),
        ];
        for input in inputs {
            assert_eq!(bars.on_bar(&input), Ok([Some(input), None]));
        }
        // 5m bars into 15m bars: the first input is alone in the window [0, 15).
        let mut bars = BarResampler::new(Interval(900)).unwrap();
        assert_eq!(bars.on_bar(&inputs[0]), Ok([None, None]));
        assert_eq!(
            bars.on_bar(&inputs[1]),
            Ok([
                Some(resampled(
                    0,
                    15,
                    ["1.5", "2", "1", "1.75"],
                    "12.5",
                    Some(30)
                )),
                None
            ])
        );
        let last = resampled(25, 5, ["2", "3", "2", "3"], "1", Some(1));
        assert_eq!(
            bars.on_bar(&last),
            Ok([
                Some(resampled(15, 15, ["2", "3", "1.5", "3"], "1", None)),
                None
            ])
        );
    }

    #[test]
    fn a_resampled_volume_that_cannot_be_summed_exactly_is_refused() {
        let mut bars = five_minutes();
        let huge = Bar {
            volume: Quantity(Decimal::MAX),
            ..minute_bar(0, ["1", "1", "1", "1"], "1", Some(1))
        };
        bars.on_bar(&huge).unwrap();
        let before = bars.clone();
        assert_eq!(
            bars.on_bar(&minute_bar(1, ["1", "1", "1", "1"], "1", Some(1))),
            Err(BarError::BarVolumeInexact {
                open_time: at(60.0)
            })
        );
        assert_eq!(bars, before);
    }

    #[test]
    fn reset_forgets_the_inputs() {
        let mut bars = five_minutes();
        bars.on_bar(&minute_bar(7, ["1", "1", "1", "1"], "1", Some(1)))
            .unwrap();
        bars.reset();
        assert_eq!(bars.forming(), None);
        let earlier = minute_bar(-1, ["2", "2", "2", "2"], "1", Some(1));
        let out = bars.on_bar(&earlier).unwrap();
        assert_eq!(out[0].map(|b| b.open_time), Some(at(-300.0)), "floored");
    }

    /// Target bars computed directly: input bars grouped by window, in order.
    fn resampled_reference(inputs: &[Bar], length: i64) -> Vec<Bar> {
        let mut windows: BTreeMap<i64, Vec<Bar>> = BTreeMap::new();
        for input in inputs {
            let t = input.open_time.nanos();
            windows
                .entry(t.div_euclid(length) * length)
                .or_default()
                .push(*input);
        }
        windows
            .into_iter()
            .map(|(open_time, bars)| Bar {
                interval: Interval((length / NANOS_PER_SECOND) as u32),
                open_time: Timestamp::from_nanos(open_time),
                open: bars[0].open,
                high: bars.iter().map(|b| b.high).max().unwrap(),
                low: bars.iter().map(|b| b.low).min().unwrap(),
                close: bars[bars.len() - 1].close,
                volume: Quantity(bars.iter().map(|b| b.volume.0).sum()),
                trades: bars.iter().map(|b| b.trades).sum(),
                closed: true,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn resampling_minutes_to_five_minutes_matches_a_direct_grouping(
            first_minute in -2_000i64..2_000,
            // Minutes skipped before each bar: mostly none, sometimes across windows.
            steps in prop::collection::vec(
                (
                    prop_oneof![4 => Just(0i64), 1 => 0i64..12],
                    (10_000i64..20_000, 10_000i64..20_000, 0i64..500, 0i64..500),
                    (0i64..100_000, 0u32..4),
                    prop::option::weighted(0.9, 0u64..1_000),
                    prop::bool::weighted(0.1),
                ),
                1..150,
            ),
        ) {
            let length = 5 * MINUTE;
            let mut bars = five_minutes();
            let mut minute = first_minute - 1;
            let mut inputs = Vec::new();
            let mut emitted = Vec::new();
            for &(skip, (o, c, up, down), (v, v_scale), trades, live) in &steps {
                minute += 1 + skip;
                let (open, close) = (Price::new(o, 2), Price::new(c, 2));
                let input = Bar {
                    interval: Interval(60),
                    open_time: Timestamp::from_nanos(minute * MINUTE),
                    open,
                    high: Price::new(o.max(c) + up, 2),
                    low: Price::new(o.min(c) - down, 2),
                    close,
                    volume: Quantity::new(v, v_scale),
                    trades,
                    closed: true,
                };
                if live {
                    // A live bar, still forming, with wild values: ignored.
                    let forming = Bar {
                        high: Price::new(1_000_000, 0),
                        low: Price::new(1, 0),
                        closed: false,
                        ..input
                    };
                    prop_assert_eq!(bars.on_bar(&forming), Ok([None, None]));
                }
                let out = bars.on_bar(&input).unwrap();
                prop_assert!(out[0].is_some() || out[1].is_none(), "first slot first");
                for bar in out.iter().flatten() {
                    // Emitted when completed by this input, or revealed by a later window.
                    let end = close_time(bar);
                    prop_assert!(end == close_time(&input) || end <= input.open_time);
                    prop_assert!(bar.closed);
                    prop_assert_eq!(bar.interval, Interval(300));
                }
                emitted.extend(out.into_iter().flatten());
                // A window is emitted as soon as its last minute is in.
                let ends_window = (minute + 1).rem_euclid(5) == 0;
                prop_assert_eq!(bars.forming().is_none(), ends_window);
                inputs.push(input);
            }
            emitted.extend(bars.forming().map(|bar| Bar { closed: true, ..bar }));
            for pair in emitted.windows(2) {
                prop_assert!(pair[0].open_time < pair[1].open_time);
            }
            prop_assert_eq!(emitted, resampled_reference(&inputs, length));
        }
    }

    #[test]
    fn decimals_convert_to_the_nearest_double() {
        for text in [
            "46319.0",
            "0.1",
            "1.18821881",
            "-2.5",
            "0",
            "123456789.123456789",
        ] {
            let x: Decimal = text.parse().unwrap();
            assert_eq!(to_f64(x), text.parse::<f64>().unwrap(), "{text}");
        }
        // Beyond 2^53 the general conversion takes over.
        let big: Decimal = "79228162514264337593543950335".parse().unwrap();
        assert_eq!(to_f64(big), 7.922816251426434e28);
    }
}
