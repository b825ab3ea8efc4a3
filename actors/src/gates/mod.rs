//! Entry gates of a pair (risk layer 2): checks run after a signal and before its entry. A
//! blocked signal is still recorded, with the [`RiskCheck`] of the gate that blocked it (the
//! caller derives `SignalBlocked`); exits are never gated.
//!
//! [`Gates`] is built from a pair's validated `gates` table ([`GatesConfig`], docs/CONFIG.md),
//! fed every closed bar of the pair's timeframe ([`Gates::on_bar`], before entries are
//! considered on that bar) and every funding rate of the symbol ([`Gates::on_funding`]), and
//! asked with [`Gates::check`] whether an entry on a side may go ahead at the deciding bar's
//! close.
//!
//! # Order
//!
//! The gates are evaluated in a fixed order, and the **first** that blocks is reported:
//! funding, ATR, volume spike, volatility regime. A gate that is not configured never blocks.
//!
//! # Recorded values
//!
//! Every [`RiskCheck`] carries its rule, a threshold, the observed value and a message with the
//! numbers. Values computed in `f64` (ATR, volume ratio) are rounded from their exact binary
//! value to 8 decimal places (half to even); percentiles
//! are computed in `Decimal` and rounded the same way. **Each gate decides on the value it
//! records**: the rounded observation is compared with the configured `Decimal` threshold, so
//! the log never shows a value that contradicts its verdict, and a backtest is reproducible
//! from the record alone. A value too large for a `Decimal` is recorded as `Decimal::MAX`.
//!
//! # The gates
//!
//! - **Funding** (`funding`, [`RiskRule::FundingRateGate`]), on the latest rate given to
//!   [`Gates::on_funding`] (a `FundingRate` event's rate or a `MarkPrice`'s predicted rate,
//!   whichever the caller saw last), exactly in `Decimal`:
//!   - with `max_abs_rate_pct`: blocks when `|rate| · 100 > max_abs_rate_pct` (at the
//!     threshold passes). Threshold `max_abs_rate_pct`, observed `|rate| · 100`.
//!   - with `block_against_side`: blocks an entry that would pay funding at that rate: a long
//!     when `rate > 0`, a short when `rate < 0` (a zero rate passes both). Threshold 0,
//!     observed `rate · 100` (signed). Checked after the magnitude.
//!
//!   No rate seen yet does not block: spot symbols have none, and a perpetual's first rate
//!   arrives with its first mark price or funding event.
//! - **ATR** (`atr`, [`RiskRule::AtrGate`]): Wilder's ATR over `period` bars
//!   ([`crate::indicators::Atr`]) as a percentage of the deciding price, `ATR · 100 / price`.
//!   Blocks when it is below `min_pct` or above `max_pct` (each optional; the band is closed:
//!   a value at a bound passes). Threshold the bound crossed, observed the percentage. A
//!   non-positive price blocks (the percentage is undefined; threshold 0, observed the price).
//! - **Volume spike** (`volume_spike`, [`RiskRule::VolumeSpikeGate`]): the ratio of the latest
//!   bar's volume to the simple average volume of the `period` bars **before** it (the current
//!   bar is excluded: a spike is measured against the recent average, not one it is part of).
//!   Blocks when the ratio is above `max_ratio` (a spike) or below `min_ratio` (a thin market),
//!   each optional, bounds passing. An average of 0 (or less) blocks whatever the bar's volume:
//!   no volume over the whole window is a thin market and the ratio is undefined (threshold 0,
//!   observed the average).
//! - **Volatility regime** (`volatility_regime`, [`RiskRule::VolatilityRegimeGate`]): realized
//!   volatility `σ_t` is the population standard deviation of the last `period` log returns of
//!   closes, `ln(close_i / close_{i−1})`. Its percentile rank is taken among the last
//!   `lookback` values of `σ` (the current one included): `p = 100 · #{h ∈ history : h ≤ σ_t}
//!   / |history|`, so `p ∈ (0, 100]` and the largest value of the window reads 100. The regime
//!   is `low` when `p < low_pct`, `high` when `p > high_pct`, `normal` otherwise (bounds are
//!   normal). Blocks when the regime is not in `allow`. Threshold the regime boundary nearest
//!   to `p` (`low_pct` for low, `high_pct` for high, the nearer of the two for normal),
//!   observed `p`. A non-positive close (no real price) has no log return: it restarts this
//!   gate's warm-up.
//!
//! # Warm-up
//!
//! A configured gate that cannot be evaluated yet **blocks** the entry, with a message saying
//! it is warming up: risk wins, an unknown market is not a safe one. Threshold and observed are
//! then the closed bars the gate needs and the bars it has seen:
//! - ATR: `period` bars (the first ATR);
//! - volume spike: `period + 1` bars (`period` bars of average before the current one);
//! - volatility regime: `period + min(lookback, 30)` bars: `period + 1` closes give the first
//!   `σ`, and the percentile needs at least `min(lookback, 30)` values of `σ` (the history
//!   then grows to `lookback` values; ranks over fewer than 30 values would be too coarse to
//!   call a regime);
//! - funding: none (see above).
//!
//! Bars with `closed == false` (a live bar still forming) are ignored, as the Pair ignores them.
//!
//! # Cost
//!
//! `on_bar` is O(1): ATR and the volume average are the running sums of
//! [`crate::indicators`], σ a running standard deviation of the log returns (its sums
//! recomputed exactly every `period` returns), and the regime's window of σ a ring buffer. `check` is O(1), plus one
//! O(lookback) scan for the regime's rank (`lookback` is at most 10,000 by validation); checks
//! happen only on entry signals, far fewer than bars.
//!
//! The gates do not know the pair's market: a spot pair never receives a funding rate, so its
//! funding gate never blocks.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;

use charon_events::payload::market::Bar;
use charon_events::payload::order::PositionSide;
use charon_events::payload::risk::{RiskCheck, RiskRule};
use charon_events::{Num, Price, Rate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use crate::config::GatesConfig;
use crate::indicators::{Atr, Candle, Indicator, Sma};

/// Decimal places of the values a gate records and decides on.
const PLACES: u32 = 8;

/// The fewest realized-volatility values the regime's percentile is taken over (or `lookback`
/// if it is smaller).
pub const MIN_VOLATILITY_HISTORY: usize = 30;

/// A regime of realized volatility, by its percentile over the lookback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VolatilityRegime {
    /// The percentile is below `low_pct`.
    Low,
    /// Between `low_pct` and `high_pct`, both included.
    Normal,
    /// The percentile is above `high_pct`.
    High,
}

impl VolatilityRegime {
    pub const ALL: [VolatilityRegime; 3] = [
        VolatilityRegime::Low,
        VolatilityRegime::Normal,
        VolatilityRegime::High,
    ];
}

impl fmt::Display for VolatilityRegime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VolatilityRegime::Low => "low",
            VolatilityRegime::Normal => "normal",
            VolatilityRegime::High => "high",
        })
    }
}

/// The entry gates of one pair, with the market state they need.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Gates {
    funding: Option<FundingGate>,
    atr: Option<AtrGate>,
    volume: Option<VolumeGate>,
    regime: Option<RegimeGate>,
}

impl Gates {
    /// The gates of a validated `gates` table (a period of 0, which validation refuses, panics).
    pub fn new(config: &GatesConfig) -> Gates {
        let funding = config.funding.as_ref().map(|c| FundingGate {
            max_abs_rate_pct: c.max_abs_rate_pct,
            block_against_side: c.block_against_side,
            latest: None,
        });
        let atr = config.atr.as_ref().map(|c| AtrGate {
            atr: Atr::new(c.period as usize).expect("a validated ATR period"),
            bars: 0,
            min_pct: c.min_pct,
            max_pct: c.max_pct,
        });
        let volume = config.volume_spike.as_ref().map(|c| VolumeGate {
            average: Sma::new(c.period as usize).expect("a validated volume period"),
            average_before: None,
            volume: 0.0,
            bars: 0,
            max_ratio: c.max_ratio,
            min_ratio: c.min_ratio,
        });
        let regime = config.volatility_regime.as_ref().map(|c| {
            let lookback = c.lookback as usize;
            RegimeGate {
                period: c.period as usize,
                min_history: lookback.min(MIN_VOLATILITY_HISTORY),
                low_pct: c.low_pct,
                high_pct: c.high_pct,
                allow: c.allow.clone(),
                previous_close: None,
                volatility: realized_volatility(c.period as usize),
                history: PercentileWindow::new(lookback),
                bars: 0,
            }
        });
        Gates {
            funding,
            atr,
            volume,
            regime,
        }
    }

    /// No gate is configured: [`Gates::check`] always passes.
    pub fn is_empty(&self) -> bool {
        self.funding.is_none()
            && self.atr.is_none()
            && self.volume.is_none()
            && self.regime.is_none()
    }

    /// Each closed bar of the pair's timeframe, in order (before entries are considered on it).
    /// A bar still forming (`closed == false`) is ignored.
    pub fn on_bar(&mut self, bar: &Bar) {
        if !bar.closed || self.is_empty() {
            return;
        }
        self.on_candle(&Candle::from(bar));
    }

    /// [`Gates::on_bar`] for a closed bar its caller has already converted (the Pair converts
    /// each bar once for its strategy, its exits and its gates).
    pub fn on_candle(&mut self, candle: &Candle) {
        let candle = *candle;
        if let Some(atr) = &mut self.atr {
            atr.atr.update(candle);
            atr.bars = atr.bars.saturating_add(1);
        }
        if let Some(volume) = &mut self.volume {
            volume.average_before = volume.average.value();
            volume.volume = candle.volume;
            volume.average.update(candle.volume);
            volume.bars = volume.bars.saturating_add(1);
        }
        if let Some(regime) = &mut self.regime {
            regime.on_close(candle.close);
        }
    }

    /// Each funding rate of the symbol (`FundingRate` events, or `MarkPrice.funding_rate`).
    pub fn on_funding(&mut self, rate: Rate) {
        if let Some(funding) = &mut self.funding {
            funding.latest = Some(rate);
        }
    }

    /// The first gate that blocks an entry on `side` at `price` (the deciding bar's close), in a
    /// fixed order: funding, atr, volume_spike, volatility_regime. `None`: the entry may go
    /// ahead.
    pub fn check(&self, side: PositionSide, price: Price) -> Option<RiskCheck> {
        if let Some(check) = self.funding.as_ref().and_then(|g| g.check(side)) {
            return Some(check);
        }
        if let Some(check) = self.atr.as_ref().and_then(|g| g.check(price)) {
            return Some(check);
        }
        if let Some(check) = self.volume.as_ref().and_then(VolumeGate::check) {
            return Some(check);
        }
        self.regime.as_ref().and_then(RegimeGate::check)
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct FundingGate {
    max_abs_rate_pct: Option<Decimal>,
    block_against_side: bool,
    latest: Option<Rate>,
}

impl FundingGate {
    fn check(&self, side: PositionSide) -> Option<RiskCheck> {
        let rate = self.latest?.0;
        let rule = RiskRule::FundingRateGate;
        if let Some(max) = self.max_abs_rate_pct {
            let observed = percent(rate.abs()).normalize();
            if observed > max {
                return Some(blocked(
                    rule,
                    max,
                    observed,
                    format!(
                        "funding rate {}% is above the maximum magnitude {max}%",
                        percent(rate).normalize()
                    ),
                ));
            }
        }
        if self.block_against_side {
            let (pays, sign) = match side {
                PositionSide::Long => (rate > Decimal::ZERO, "positive"),
                PositionSide::Short => (rate < Decimal::ZERO, "negative"),
            };
            if pays {
                let observed = percent(rate).normalize();
                return Some(blocked(
                    rule,
                    Decimal::ZERO,
                    observed,
                    format!(
                        "funding rate {observed}% is {sign}: a {} entry would pay it",
                        side_name(side)
                    ),
                ));
            }
        }
        None
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct AtrGate {
    atr: Atr,
    bars: u64,
    min_pct: Option<Decimal>,
    max_pct: Option<Decimal>,
}

impl AtrGate {
    fn check(&self, price: Price) -> Option<RiskCheck> {
        let rule = RiskRule::AtrGate;
        let period = self.atr.period();
        let Some(atr) = self.atr.value() else {
            return Some(warming_up(
                rule,
                &format!("ATR({period})"),
                period,
                self.bars,
            ));
        };
        if price.0 <= Decimal::ZERO {
            return Some(blocked(
                rule,
                Decimal::ZERO,
                price.0,
                format!("price {price} is not positive: ATR has no percentage of it"),
            ));
        }
        let observed = from_f64(100.0 * atr / to_f64(price.0));
        if let Some(min) = self.min_pct.filter(|min| observed < *min) {
            return Some(blocked(
                rule,
                min,
                observed,
                format!("ATR({period}) {observed}% of price is below the minimum {min}%"),
            ));
        }
        if let Some(max) = self.max_pct.filter(|max| observed > *max) {
            return Some(blocked(
                rule,
                max,
                observed,
                format!("ATR({period}) {observed}% of price is above the maximum {max}%"),
            ));
        }
        None
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct VolumeGate {
    /// The average over the last `period` bars, the current one included (after `on_bar`).
    average: Sma,
    /// The average over the `period` bars before the current one.
    average_before: Option<f64>,
    /// The current bar's volume.
    volume: f64,
    bars: u64,
    max_ratio: Option<Decimal>,
    min_ratio: Option<Decimal>,
}

impl VolumeGate {
    fn check(&self) -> Option<RiskCheck> {
        let rule = RiskRule::VolumeSpikeGate;
        let period = self.average.period();
        let Some(average) = self.average_before else {
            return Some(warming_up(
                rule,
                &format!("the {period}-bar volume average"),
                period.saturating_add(1),
                self.bars,
            ));
        };
        if average <= 0.0 {
            return Some(blocked(
                rule,
                Decimal::ZERO,
                from_f64(average),
                format!(
                    "the average volume of the {period} bars before this one is {}: a thin market",
                    from_f64(average)
                ),
            ));
        }
        let observed = from_f64(self.volume / average);
        if let Some(max) = self.max_ratio.filter(|max| observed > *max) {
            return Some(blocked(
                rule,
                max,
                observed,
                format!(
                    "volume {observed}x its {period}-bar average is above the maximum {max}x (a spike)"
                ),
            ));
        }
        if let Some(min) = self.min_ratio.filter(|min| observed < *min) {
            return Some(blocked(
                rule,
                min,
                observed,
                format!(
                    "volume {observed}x its {period}-bar average is below the minimum {min}x (a thin market)"
                ),
            ));
        }
        None
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct RegimeGate {
    period: usize,
    /// The fewest values of σ the percentile is taken over: `min(lookback, 30)`.
    min_history: usize,
    low_pct: Decimal,
    high_pct: Decimal,
    allow: Vec<VolatilityRegime>,
    previous_close: Option<f64>,
    /// The population standard deviation of the last `period` log returns, O(1) per update.
    volatility: RollingStd,
    /// The last `lookback` values of σ.
    history: PercentileWindow,
    /// Closed bars since creation or the last restart.
    bars: u64,
}

/// Realized volatility over `period` returns.
fn realized_volatility(period: usize) -> RollingStd {
    RollingStd::new(period)
}

/// The population standard deviation of the last `period` values, O(1) per value: running
/// sums of the values less the window's first (shifting keeps the sums small, so the variance
/// does not cancel), recomputed exactly every `period` values so rounding cannot accumulate.
/// A window of equal values has a deviation of exactly 0.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct RollingStd {
    period: usize,
    values: VecDeque<f64>,
    shift: f64,
    sum: f64,
    squares: f64,
    since_exact: usize,
    equal_run: usize,
}

impl RollingStd {
    fn new(period: usize) -> Self {
        Self {
            period,
            values: VecDeque::with_capacity(period + 1),
            shift: 0.0,
            sum: 0.0,
            squares: 0.0,
            since_exact: 0,
            equal_run: 0,
        }
    }

    /// Takes the next value; the deviation once `period` values are in.
    fn update(&mut self, x: f64) -> Option<f64> {
        self.equal_run = match self.values.back() {
            Some(&last) if last == x => self.equal_run + 1,
            _ => 1,
        };
        if self.values.is_empty() {
            self.shift = x;
        }
        self.values.push_back(x);
        let y = x - self.shift;
        self.sum += y;
        self.squares += y * y;
        if self.values.len() > self.period {
            if let Some(old) = self.values.pop_front() {
                let z = old - self.shift;
                self.sum -= z;
                self.squares -= z * z;
            }
        }
        self.since_exact += 1;
        if self.since_exact >= self.period {
            self.exact_sums();
        }
        if self.values.len() < self.period {
            return None;
        }
        if self.equal_run >= self.period {
            return Some(0.0);
        }
        let n = self.period as f64;
        let mean = self.sum / n;
        Some((self.squares / n - mean * mean).max(0.0).sqrt())
    }

    /// Recomputes the sums from the window, shifted by its current first value.
    fn exact_sums(&mut self) {
        self.since_exact = 0;
        self.shift = self.values.front().copied().unwrap_or(0.0);
        let (mut sum, mut squares) = (0.0, 0.0);
        for &x in &self.values {
            let y = x - self.shift;
            sum += y;
            squares += y * y;
        }
        self.sum = sum;
        self.squares = squares;
    }
}

impl RegimeGate {
    fn on_close(&mut self, close: f64) {
        // A NaN (which no Decimal converts to) restarts too.
        if close <= 0.0 || close.is_nan() {
            self.previous_close = None;
            self.volatility = realized_volatility(self.period);
            self.history.clear();
            self.bars = 0;
            return;
        }
        self.bars = self.bars.saturating_add(1);
        if let Some(previous) = self.previous_close.replace(close) {
            if let Some(sigma) = self.volatility.update((close / previous).ln()) {
                self.history.push(sigma);
            }
        }
    }

    /// The percentile of the current σ (rounded to 8 places), or `None` while warming up.
    fn percentile(&self) -> Option<Decimal> {
        if self.history.len() < self.min_history {
            return None;
        }
        let current = self.history.latest()?;
        Some(percentile_rank(
            self.history.count_at_most(current),
            self.history.len(),
        ))
    }

    fn check(&self) -> Option<RiskCheck> {
        let rule = RiskRule::VolatilityRegimeGate;
        let Some(observed) = self.percentile() else {
            let needed = self.period.saturating_add(self.min_history);
            return Some(warming_up(
                rule,
                &format!(
                    "the volatility regime ({} returns, percentile over at least {} values)",
                    self.period, self.min_history
                ),
                needed,
                self.bars,
            ));
        };
        let regime = classify(observed, self.low_pct, self.high_pct);
        if self.allow.contains(&regime) {
            return None;
        }
        let (low, high) = (self.low_pct, self.high_pct);
        let (threshold, where_) = match regime {
            VolatilityRegime::Low => (low, format!("below {low}")),
            VolatilityRegime::High => (high, format!("above {high}")),
            VolatilityRegime::Normal => {
                let nearest = if observed - low <= high - observed {
                    low
                } else {
                    high
                };
                (nearest, format!("within [{low}, {high}]"))
            }
        };
        let allowed: Vec<String> = self.allow.iter().map(ToString::to_string).collect();
        Some(blocked(
            rule,
            threshold,
            observed,
            format!(
                "realized volatility ({} returns) at percentile {observed} of the last {} values \
                 is {where_}: the {regime} regime is not allowed ({})",
                self.period,
                self.history.len(),
                allowed.join(", ")
            ),
        ))
    }
}

/// `100 · count / len`, rounded to 8 places (`len > 0`).
fn percentile_rank(count: usize, len: usize) -> Decimal {
    round(Decimal::from(count) * Decimal::ONE_HUNDRED / Decimal::from(len))
}

/// The regime of a percentile: low below `low_pct`, high above `high_pct`, normal between
/// (bounds included).
fn classify(percentile: Decimal, low_pct: Decimal, high_pct: Decimal) -> VolatilityRegime {
    if percentile < low_pct {
        VolatilityRegime::Low
    } else if percentile > high_pct {
        VolatilityRegime::High
    } else {
        VolatilityRegime::Normal
    }
}

/// The last `capacity` values in arrival order, for percentile ranks: O(1) per push and one
/// O(n) scan per rank. A rank is needed only when an entry signal asks the gate, a small
/// fraction of bars, so keeping the window sorted on every bar (an O(n) memory move each time)
/// cost more than it saved. Values are finite (σ is never NaN: closes are positive and
/// finite).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct PercentileWindow {
    capacity: usize,
    arrival: VecDeque<f64>,
}

impl PercentileWindow {
    /// `capacity` must be at least 1. Nothing is preallocated.
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            arrival: VecDeque::new(),
        }
    }

    fn push(&mut self, x: f64) {
        if self.arrival.len() == self.capacity {
            self.arrival.pop_front();
        }
        self.arrival.push_back(x);
    }

    /// How many values of the window are at most `x` (compared numerically: the values are
    /// finite, and a branch-free `<=` over both halves of the ring vectorizes).
    fn count_at_most(&self, x: f64) -> usize {
        let (front, back) = self.arrival.as_slices();
        let count = |values: &[f64]| values.iter().map(|v| usize::from(*v <= x)).sum::<usize>();
        count(front) + count(back)
    }

    fn latest(&self) -> Option<f64> {
        self.arrival.back().copied()
    }

    fn len(&self) -> usize {
        self.arrival.len()
    }

    fn clear(&mut self) {
        self.arrival.clear();
    }
}

fn side_name(side: PositionSide) -> &'static str {
    match side {
        PositionSide::Long => "long",
        PositionSide::Short => "short",
    }
}

fn blocked(rule: RiskRule, threshold: Decimal, observed: Decimal, message: String) -> RiskCheck {
    RiskCheck {
        rule,
        threshold: Num(threshold),
        observed: Num(observed),
        message,
    }
}

/// The check of a gate that cannot be evaluated yet: `needed` bars, `seen` so far.
fn warming_up(rule: RiskRule, what: &str, needed: usize, seen: u64) -> RiskCheck {
    blocked(
        rule,
        Decimal::from(needed),
        Decimal::from(seen),
        format!("{what} is warming up: {seen} of {needed} bars seen; entries wait for it"),
    )
}

/// `x · 100`, exactly (saturating at the largest `Decimal`, far beyond any rate).
fn percent(x: Decimal) -> Decimal {
    x.checked_mul(Decimal::ONE_HUNDRED)
        .unwrap_or(if x < Decimal::ZERO {
            Decimal::MIN
        } else {
            Decimal::MAX
        })
}

/// Rounds to [`PLACES`] (half to even) and drops trailing zeros.
fn round(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(PLACES, RoundingStrategy::MidpointNearestEven)
        .normalize()
}

/// An `f64` observation as the `Decimal` a gate records and decides on: its exact value rounded
/// to 8 places; saturating at `Decimal::MAX`/`MIN` beyond their range (a NaN, which finite inputs
/// never give, reads as `Decimal::MAX`: it blocks against a maximum).
fn from_f64(x: f64) -> Decimal {
    match rounded_8dp(x) {
        Some(value) => value,
        None if x < 0.0 => Decimal::MIN,
        None => Decimal::MAX,
    }
}

/// The exact value of `x` rounded to 8 places, half to even, computed from its binary form
/// (`mantissa · 2^exponent`) with integer arithmetic: the same result as converting its full
/// expansion to a decimal and rounding, at a fraction of the cost. `None` for a NaN, an
/// infinity, or a value beyond `Decimal`'s 96-bit range.
fn rounded_8dp(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    let bits = x.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    // x·10⁸ = mantissa·10⁸·2^exponent; mantissa·10⁸ < 2⁵³·2²⁷ = 2⁸⁰.
    let scaled = u128::from(mantissa) * 100_000_000;
    let units = if exponent >= 0 {
        if exponent > 40 {
            return None;
        }
        scaled << exponent
    } else {
        let shift = exponent.unsigned_abs();
        if shift >= 127 {
            0
        } else {
            let quotient = scaled >> shift;
            let remainder = scaled - (quotient << shift);
            let half = 1u128 << (shift - 1);
            let up = remainder > half || (remainder == half && quotient & 1 == 1);
            quotient + u128::from(up)
        }
    };
    if units >= 1 << 96 {
        return None;
    }
    let signed = i128::try_from(units).ok()?;
    let value = Decimal::from_i128_with_scale(if negative { -signed } else { signed }, PLACES);
    Some(value.normalize())
}

/// A `Decimal` as the nearest `f64` (every `Decimal` converts).
fn to_f64(x: Decimal) -> f64 {
    crate::bars::nearest_f64(x)
        .unwrap_or_else(|| x.to_f64().expect("every Decimal converts to an f64"))
}
