//! The exit rules of a pair (risk layer 1), as the small state machine [`ExitRules`] that the
//! [`Pair`](super::Pair) owns: per position it keeps what the rules need (the best price
//! since entry, whether thresholds were reached, ratcheted levels, bars held) and answers with
//! one **effective stop**, the target, and whether the time stop is due. Any combination of
//! rules may be configured (`exits` table, docs/CONFIG.md); any one that fires closes the whole
//! position, and the exit's `Signal` (rule `stop_loss`, `trailing_stop`, ...) and its intent's
//! reason name the rule.
//!
//! **Levels.** Every stop-type rule gives a level; they combine into one effective stop, the
//! tightest (the highest for a long, the lowest for a short; on a tie, the first of the order
//! below). The Pair checks it and the target against every market input with the run's
//! intrabar conventions ([`Intrabar`](crate::exchange::Intrabar); by default gaps fill at the
//! open and the stop wins a bar that holds both). For a long (a short mirrors every comparison
//! and sign):
//!
//! | rule | level |
//! |---|---|
//! | `stop_loss` | `avg_entry·(1 − stop_loss_pct/100)` |
//! | `trailing_stop` | `best·(1 − trailing_stop_pct/100)`, where `best` is the highest price since entry: the average entry, then each bar's high. With `trailing_activation_pct`, only from the first bar whose high reaches `avg_entry·(1 + activation/100)`; without it, from the entry (at `avg_entry·(1 − pct/100)`) |
//! | `break_even` | `avg_entry·(1 + 2·taker_fee)` (entry plus the round trip's fees), from the first bar whose high reaches `avg_entry·(1 + break_even_after_pct/100)` |
//! | `chandelier` | `best − k·ATR(chandelier_atr_period)` |
//! | `volatility_exit` | `avg_entry − k·ATR(volatility_atr_period)` |
//!
//! and `take_profit`'s target is `avg_entry·(1 + take_profit_pct/100)`, or with
//! `take_profit = "roi"` the price that nets `take_profit_pct` after both legs' taker fees,
//! `avg_entry·(1 + fee + pct/100)/(1 − fee)` ([`roi_target`]), reached only strictly beyond.
//! Thresholds are reached **at or beyond** their level (`high ≥ threshold`); a stop at or
//! beyond its level exits (`low ≤ stop`).
//!
//! **When levels move.** Levels that depend on bars (the best price, the activations, the ATR)
//! take each closed bar of the pair's timeframe and apply **from the next market input on**:
//! a bar's own range is never checked against a level its high or low produced, since the
//! order of its high and low is unknown (no intrabar path is assumed). With
//! `trailing = "high_first"` (Freqtrade) the Pair assumes one: every market input's favourable
//! extreme first moves the best price and the activations, and with them the trailing,
//! break-even and chandelier levels ([`ExitRules::favourable_first`]), provided the input does
//! not reach the current stop; its adverse extreme is then checked against the moved stop. On
//! the entry candle, a trailing stop moved that way fills at Freqtrade's worst case
//! ([`ExitRules::entry_bar_trailing`]). The ATR still takes closed bars only. Trailing, chandelier
//! and volatility levels **ratchet**: they only ever tighten while the position is unchanged,
//! so the effective stop never loosens (a volatility level whose ATR grows keeps its tighter
//! value). Thresholds are sticky: once activated, the trailing stop and the break-even stop
//! stay on for the position.
//!
//! **The ATR** is the Pair's own (Wilder's, [`Atr`], `f64`), fed every bar of the timeframe
//! whatever the strategy computes, so a level uses the ATR of the bars closed before the
//! input it is checked against. `k·ATR` is computed in `f64` like the ATR itself and rounded to
//! 8 places (half away from zero) as an amount; the level is then rounded to 8 places (half to
//! even, as every computed price). While the ATR is warming up
//! (`period − 1` bars) its levels are absent; a level that would not be a positive price is
//! absent too.
//!
//! **Bars held** are the bars of the timeframe that closed while the position was held (known
//! to the Pair): a next-bar-open entry fills at a bar's open after the Pair has already
//! evaluated that bar's close, so that bar is neither counted nor folded into the levels. The
//! **time stop** is due at a bar close when `bars held ≥ max_bars`, or when the bar's event
//! time minus the entry fill's event time reaches `max_duration`; the Pair then exits at
//! market. The **signal flip** (the opposite side's entry rule firing while open) is the
//! Pair's, from the strategy's rules; a spot pair evaluates its template's `[short]` rules for
//! it (it still never enters short).
//!
//! **Per position.** Everything resets when the position goes flat; re-entry needs a later
//! entry signal. An add-on changes the average entry: the entry-relative levels (stop-loss,
//! target, break-even, volatility) are recomputed from it, the volatility level's ratchet
//! starting again; the best price, the activations and the trailing and chandelier levels are
//! kept.

use charon_events::payload::market::Bar;
use charon_events::payload::order::PositionSide;
use charon_events::payload::risk::RiskRule;
use charon_events::{Price, Rate, Timestamp};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::config::ExitConfig;
use crate::exchange::precision::PRICE_DP;
use crate::exchange::{roi_target, TakeProfitAt};
use crate::indicators::{Atr, Candle, Indicator};

use super::sizing::moved_by_pct;

/// The name of a layer-1 rule in signals and reasons: the snake case of its [`RiskRule`].
pub fn rule_name(rule: RiskRule) -> &'static str {
    match rule {
        RiskRule::StopLoss => "stop_loss",
        RiskRule::TakeProfit => "take_profit",
        RiskRule::TrailingStop => "trailing_stop",
        RiskRule::BreakEven => "break_even",
        RiskRule::Chandelier => "chandelier",
        RiskRule::VolatilityExit => "volatility_exit",
        RiskRule::TimeStop => "time_stop",
        RiskRule::SignalFlip => "signal_flip",
        _ => "risk",
    }
}

/// A stop level and the rule it belongs to.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub price: Price,
    pub rule: RiskRule,
}

/// `k` ATRs over `period` bars.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct AtrRule {
    /// k, as the indicator's own `f64` (the offset k·ATR is a volatility measure, computed
    /// like the ATR itself, then rounded to a price).
    mult_f64: f64,
    atr: Atr,
}

impl AtrRule {
    fn new(mult: Option<Decimal>, period: usize) -> Option<Self> {
        Some(Self {
            mult_f64: mult?.to_f64()?,
            // `validate` refuses a period of 0.
            atr: Atr::new(period.max(1)).expect("a period of at least 1"),
        })
    }

    /// k·ATR in units of 10⁻⁸ (see [`offset_8dp`]), or `None` while the ATR warms up.
    fn offset_units(&self) -> Option<i64> {
        offset_units(self.mult_f64 * self.atr.value()?)
    }
}

/// `from` moved `units`·10⁻⁸ toward the position's loss, rounded to 8 places; `None` when the
/// level is not a positive price.
fn level_at(side: PositionSide, from: Price, units: i64) -> Option<Price> {
    let offset = Decimal::new(units, PRICE_DP);
    let level = match side {
        PositionSide::Long => from.0.checked_sub(offset)?,
        PositionSide::Short => from.0.checked_add(offset)?,
    }
    .round_dp(PRICE_DP)
    .normalize();
    (level > Decimal::ZERO).then_some(Price(level))
}

/// A non-negative `f64` offset as a count of 10⁻⁸, rounded half away from zero: an amount of
/// 8 places, made deterministically and far more cheaply than converting the double's full
/// binary expansion to a `Decimal`. `None` when not finite or beyond 2⁶³·10⁻⁸.
fn offset_units(offset: f64) -> Option<i64> {
    let units = (offset * 1e8).round();
    (units.is_finite() && units.abs() < 9.2e18).then_some(units as i64)
}

/// The state of one position.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct Tracked {
    side: PositionSide,
    avg_entry: Price,
    entry_ts: Timestamp,
    bars: u32,
    /// The most favourable price since entry: the average entry, then bar highs (a long) or
    /// lows (a short).
    best: Price,
    trailing_on: bool,
    break_even_on: bool,
    trailing: Option<Price>,
    chandelier: AtrLevel,
    volatility: AtrLevel,
    /// The best price the trailing level was last computed from.
    trailing_from: Option<Price>,
    /// Levels that depend only on the average entry, computed when it changes.
    at_entry: EntryLevels,
}

impl Tracked {
    /// Folds a favourable price into the best price and the activations; says whether an
    /// activation armed.
    fn fold_best(&mut self, favourable: Price) -> bool {
        let side = self.side;
        let armed_before = (self.trailing_on, self.break_even_on);
        if ahead(side, favourable, self.best) {
            self.best = favourable;
        }
        // A threshold `pct` percent in the position's favour is reached at or beyond it.
        let reached = |threshold: Option<Price>| {
            threshold.is_some_and(|threshold| !ahead(side, threshold, favourable))
        };
        // Once armed, a threshold stays armed: no need to compare again.
        if !self.trailing_on {
            self.trailing_on = reached(self.at_entry.trailing_activation);
        }
        if !self.break_even_on {
            self.break_even_on = reached(self.at_entry.break_even_after);
        }
        armed_before != (self.trailing_on, self.break_even_on)
    }
}

/// The levels fixed by the average entry: checked on every bar, computed once per entry.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, Default)]
struct EntryLevels {
    stop_loss: Option<Price>,
    target: Option<Price>,
    break_even: Option<Price>,
    /// Where trailing starts and where the break-even stop arms.
    trailing_activation: Option<Price>,
    break_even_after: Option<Price>,
}

/// A closed bar not yet folded into the levels, and whether the position was held at its close.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy)]
struct Pending {
    high: Price,
    low: Price,
    /// The bar as the indicators read it.
    candle: Candle,
    held: bool,
}

/// The exit rules of one pair (see the module documentation).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct ExitRules {
    stop_loss_pct: Option<Decimal>,
    take_profit_pct: Option<Decimal>,
    trailing_pct: Option<Decimal>,
    trailing_activation_pct: Option<Decimal>,
    break_even_after_pct: Option<Decimal>,
    /// Twice the taker fee, as a fraction.
    round_trip_fee: Decimal,
    /// The taker fee, as a fraction (an ROI target pays it on both legs).
    #[serde(default)]
    taker_fee: Rate,
    /// What `take_profit_pct` means.
    #[serde(default)]
    take_profit: TakeProfitAt,
    chandelier: Option<AtrRule>,
    volatility: Option<AtrRule>,
    max_bars: Option<u32>,
    /// (nanoseconds, as configured).
    max_duration: Option<(i64, String)>,
    signal_flip: bool,
    position: Option<Tracked>,
    pending: Option<Pending>,
}

/// Whether `a` lies further in the position's favour than `b`: above it for a long, below it
/// for a short. Of two stops, it is the tighter; of two prices, the better.
fn ahead(side: PositionSide, a: Price, b: Price) -> bool {
    match side {
        PositionSide::Long => a > b,
        PositionSide::Short => a < b,
    }
}

/// A level `from ∓ k·ATR`, ratcheted. Every bar brings a new ATR, so the candidate is
/// compared in integer units of 10⁻⁸ (prices and offsets both have 8 places at most) and made
/// a `Decimal` only when it moves the level; a price beyond `i64` units takes the decimal path.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, Default)]
struct AtrLevel {
    level: Option<Price>,
    /// `level` in units of 10⁻⁸, when it fits.
    level_units: Option<i64>,
    /// The last `from` and its units, kept while it does not change (the best price moves on
    /// new highs only, the average entry on add-ons only).
    from: Option<(Price, Option<i64>)>,
}

impl AtrLevel {
    /// Ratchets to `from ∓ units·10⁻⁸` when that is tighter; says whether the level moved.
    fn ratchet(&mut self, side: PositionSide, from: Price, units: i64) -> bool {
        let from_units = match self.from {
            Some((cached, from_units)) if cached == from => from_units,
            _ => {
                let from_units = price_units(from);
                self.from = Some((from, from_units));
                from_units
            }
        };
        let candidate = from_units.and_then(|from| match side {
            PositionSide::Long => from.checked_sub(units),
            PositionSide::Short => from.checked_add(units),
        });
        let (Some(candidate), Some(kept)) = (candidate, self.level_units) else {
            return self.ratchet_decimal(side, from, units);
        };
        let tighter = match side {
            PositionSide::Long => candidate > kept,
            PositionSide::Short => candidate < kept,
        };
        if !tighter || candidate <= 0 {
            return false;
        }
        self.level = Some(units_price(candidate));
        self.level_units = Some(candidate);
        true
    }

    /// The same, made in `Decimal`: the first level, and prices beyond `i64` units.
    fn ratchet_decimal(&mut self, side: PositionSide, from: Price, units: i64) -> bool {
        let moved = ratchet(side, &mut self.level, level_at(side, from, units));
        if moved {
            self.level_units = self.level.and_then(price_units);
        }
        moved
    }
}

/// `units`·10⁻⁸ as a normalized price (no trailing zeros), stripped in `i64`.
fn units_price(mut units: i64) -> Price {
    let mut scale = PRICE_DP;
    while scale > 0 && units % 10 == 0 {
        units /= 10;
        scale -= 1;
    }
    Price(Decimal::new(units, scale))
}

/// A price in units of 10⁻⁸, when it has 8 places at most and fits an `i64`.
fn price_units(price: Price) -> Option<i64> {
    let scale = price.0.scale();
    if scale > PRICE_DP {
        return None;
    }
    let factor = 10i128.pow(PRICE_DP - scale);
    i64::try_from(price.0.mantissa().checked_mul(factor)?).ok()
}

/// Keeps the tighter of a ratcheted level and a new candidate; says whether the level moved.
fn ratchet(side: PositionSide, kept: &mut Option<Price>, candidate: Option<Price>) -> bool {
    match (*kept, candidate) {
        (Some(level), Some(new)) if ahead(side, new, level) => {
            *kept = Some(new);
            true
        }
        (None, Some(new)) => {
            *kept = Some(new);
            true
        }
        _ => false,
    }
}

/// +1 for a long, −1 for a short: the sign of a favourable move.
fn favour(side: PositionSide) -> Decimal {
    match side {
        PositionSide::Long => Decimal::ONE,
        PositionSide::Short => Decimal::NEGATIVE_ONE,
    }
}

impl ExitRules {
    /// The rules of `config`, with the taker fee (a fraction, 0.0005 for 0.05%) the
    /// break-even stop and an ROI target cover, and what the take-profit percentage means.
    /// `config` is expected to be validated.
    pub fn new(config: &ExitConfig, taker_fee: Rate, take_profit: TakeProfitAt) -> Self {
        let nanos = |interval: charon_events::payload::market::Interval| {
            i64::from(interval.0) * 1_000_000_000
        };
        Self {
            stop_loss_pct: config.stop_loss_pct,
            take_profit_pct: config.take_profit_pct,
            trailing_pct: config.trailing_stop_pct,
            trailing_activation_pct: config.trailing_activation_pct,
            break_even_after_pct: config.break_even_after_pct,
            round_trip_fee: taker_fee.0 * Decimal::TWO,
            taker_fee,
            take_profit,
            chandelier: AtrRule::new(config.chandelier_atr_mult, config.chandelier_period()),
            volatility: AtrRule::new(config.volatility_atr_mult, config.volatility_period()),
            max_bars: config.max_bars,
            max_duration: config.max_duration().map(|interval| {
                let text = config.max_duration.clone().unwrap_or_default();
                (nanos(interval), text)
            }),
            signal_flip: config.signal_flip,
            position: None,
            pending: None,
        }
    }

    pub fn stop_loss_pct(&self) -> Option<Decimal> {
        self.stop_loss_pct
    }

    pub fn take_profit_pct(&self) -> Option<Decimal> {
        self.take_profit_pct
    }

    /// Whether the opposite entry signal closes the position.
    pub fn signal_flip(&self) -> bool {
        self.signal_flip
    }

    /// A position opened at `avg_entry`, its entry filled at `at`.
    pub fn opened(&mut self, side: PositionSide, avg_entry: Price, at: Timestamp) {
        if let Some(pending) = &mut self.pending {
            pending.held = false;
        }
        self.position = Some(Tracked {
            side,
            avg_entry,
            entry_ts: at,
            bars: 0,
            best: avg_entry,
            trailing_on: self.trailing_activation_pct.is_none(),
            break_even_on: false,
            trailing: None,
            chandelier: AtrLevel::default(),
            volatility: AtrLevel::default(),
            trailing_from: None,
            at_entry: EntryLevels::default(),
        });
        self.entry_levels();
        self.ratchet_levels();
    }

    /// Recomputes the levels that depend only on the average entry.
    fn entry_levels(&mut self) {
        let Some(position) = &mut self.position else {
            return;
        };
        let (side, entry) = (position.side, position.avg_entry);
        let toward = |pct: Option<Decimal>, sign: Decimal| {
            pct.and_then(|pct| moved_by_pct(entry, sign * pct))
        };
        let break_even = entry
            .0
            .checked_mul(Decimal::ONE + favour(side) * self.round_trip_fee)
            .map(|level| Price(level.round_dp(PRICE_DP).normalize()));
        let target = match self.take_profit {
            TakeProfitAt::Price => toward(self.take_profit_pct, favour(side)),
            TakeProfitAt::Roi => self
                .take_profit_pct
                .and_then(|pct| roi_target(side, entry, pct, self.taker_fee)),
        };
        position.at_entry = EntryLevels {
            stop_loss: toward(self.stop_loss_pct, -favour(side)),
            target,
            break_even,
            trailing_activation: toward(self.trailing_activation_pct, favour(side)),
            break_even_after: toward(self.break_even_after_pct, favour(side)),
        };
    }

    /// An add-on moved the average entry.
    pub fn entry_changed(&mut self, avg_entry: Price) {
        let Some(position) = &mut self.position else {
            return;
        };
        position.avg_entry = avg_entry;
        if ahead(position.side, avg_entry, position.best) {
            position.best = avg_entry;
        }
        position.volatility = AtrLevel::default();
        self.entry_levels();
        self.ratchet_levels();
    }

    /// The position is flat: everything about it is forgotten.
    pub fn closed(&mut self) {
        self.position = None;
        if let Some(pending) = &mut self.pending {
            pending.held = false;
        }
    }

    /// A bar of the timeframe closed (`candle` is the bar as the indicators read it, converted
    /// once by the Pair): it counts as held, and is folded into the levels at the next market
    /// input ([`ExitRules::on_input`]).
    pub fn bar_closed(&mut self, bar: &Bar, candle: &Candle) {
        self.on_input();
        if let Some(position) = &mut self.position {
            position.bars = position.bars.saturating_add(1);
        }
        self.pending = Some(Pending {
            high: bar.high,
            low: bar.low,
            candle: *candle,
            held: self.position.is_some(),
        });
    }

    /// A market input arrived: the bar closed before it is folded in. Says whether the levels
    /// may have moved.
    pub fn on_input(&mut self) -> bool {
        let Some(Pending {
            high,
            low,
            candle,
            held,
        }) = self.pending.take()
        else {
            return false;
        };
        for rule in [&mut self.chandelier, &mut self.volatility]
            .into_iter()
            .flatten()
        {
            rule.atr.update(candle);
        }
        let Some(position) = &mut self.position else {
            return false;
        };
        let armed = held && {
            let favourable = match position.side {
                PositionSide::Long => high,
                PositionSide::Short => low,
            };
            position.fold_best(favourable)
        };
        // The ATR moved even when the bar was not held.
        self.ratchet_levels() || armed
    }

    /// Trailing high first ([`TrailingUpdate::HighFirst`](crate::exchange::TrailingUpdate)):
    /// a market input's favourable extreme (its high for a long, its low for a short) moves
    /// the best price, the activations and the levels that follow them now, before the
    /// input's adverse extreme is checked. Says whether the levels may have moved.
    pub fn favourable_first(&mut self, favourable: Price) -> bool {
        let Some(position) = &mut self.position else {
            return false;
        };
        let armed = position.fold_best(favourable);
        self.ratchet_levels() || armed
    }

    /// Freqtrade's trailing stop on the candle its trade entered on, which assumes the worst
    /// path: with an activation, the price just reaches it and falls back by the trailing
    /// distance, `open·(1 + (activation − pct)/100)`; without, it ticks above the open and
    /// falls, `open·(1 − pct/100)` (a short mirrors both). `None` without a trailing stop.
    pub fn entry_bar_trailing(&self, open: Price) -> Option<Price> {
        let side = self.position.as_ref()?.side;
        let pct = self.trailing_pct?;
        let offset = self
            .trailing_activation_pct
            .map_or(-pct, |activation| activation - pct);
        moved_by_pct(open, favour(side) * offset)
    }

    /// Moves the ratcheted levels to their candidates where those are tighter; says whether
    /// any moved.
    fn ratchet_levels(&mut self) -> bool {
        let Some(position) = &mut self.position else {
            return false;
        };
        let side = position.side;
        let mut moved = false;
        // The trailing level follows the best price only: nothing to do until that moves.
        if position.trailing_on && position.trailing_from != Some(position.best) {
            let candidate = self
                .trailing_pct
                .and_then(|pct| moved_by_pct(position.best, -favour(side) * pct));
            moved |= ratchet(side, &mut position.trailing, candidate);
            position.trailing_from = Some(position.best);
        }
        if let Some(units) = self.chandelier.as_ref().and_then(AtrRule::offset_units) {
            moved |= position.chandelier.ratchet(side, position.best, units);
        }
        if let Some(units) = self.volatility.as_ref().and_then(AtrRule::offset_units) {
            moved |= position.volatility.ratchet(side, position.avg_entry, units);
        }
        moved
    }

    /// The effective stop: the tightest of the stop-type levels, with its rule.
    pub fn stop(&self) -> Option<Level> {
        let position = self.position.as_ref()?;
        let side = position.side;
        let stop_loss = position.at_entry.stop_loss;
        let break_even = position
            .at_entry
            .break_even
            .filter(|_| position.break_even_on);
        [
            (stop_loss, RiskRule::StopLoss),
            (position.trailing, RiskRule::TrailingStop),
            (break_even, RiskRule::BreakEven),
            (position.chandelier.level, RiskRule::Chandelier),
            (position.volatility.level, RiskRule::VolatilityExit),
        ]
        .into_iter()
        .filter_map(|(price, rule)| {
            Some(Level {
                price: price?,
                rule,
            })
        })
        .fold(None, |best: Option<Level>, level| match best {
            Some(best) if !ahead(side, level.price, best.price) => Some(best),
            _ => Some(level),
        })
    }

    /// The take-profit target.
    pub fn target(&self) -> Option<Price> {
        self.position.as_ref()?.at_entry.target
    }

    /// Whether the time stop is due at a bar closing at `now`, and which limit was reached.
    pub fn time_stop(&self, now: Timestamp) -> Option<String> {
        let position = self.position.as_ref()?;
        if let Some(max) = self.max_bars.filter(|max| position.bars >= *max) {
            return Some(format!("max_bars {max}"));
        }
        let (max, text) = self.max_duration.as_ref()?;
        let held = now.nanos().saturating_sub(position.entry_ts.nanos());
        (held >= *max).then(|| format!("max_duration {text}"))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The integer ratchet keeps exactly the level the decimal one would: the same price,
        /// normalized, for prices of any scale (more than 8 places takes the decimal path) and
        /// offsets up to beyond the price (no positive level).
        #[test]
        fn integer_ratchet_equals_decimal(
            long in any::<bool>(),
            steps in prop::collection::vec(
                (1i64..2_000_000_000_000, 0u32..11, 0i64..300_000_000_000),
                1..40,
            ),
        ) {
            let side = if long { PositionSide::Long } else { PositionSide::Short };
            let mut fast = AtrLevel::default();
            let mut reference: Option<Price> = None;
            for (mantissa, scale, units) in steps {
                let from = Price(Decimal::new(mantissa, scale));
                let moved = fast.ratchet(side, from, units);
                let reference_moved = ratchet(side, &mut reference, level_at(side, from, units));
                prop_assert_eq!(moved, reference_moved);
                prop_assert_eq!(fast.level, reference);
                if let Some(level) = fast.level {
                    prop_assert_eq!(level.0.scale(), level.0.normalize().scale());
                }
            }
        }

        /// `units_price` is `Decimal::new(units, 8)` normalized.
        #[test]
        fn units_price_is_normalized(units in 1i64..i64::MAX) {
            let price = units_price(units);
            prop_assert_eq!(price.0, Decimal::new(units, PRICE_DP).normalize());
            prop_assert_eq!(price.0.scale(), price.0.normalize().scale());
            prop_assert_eq!(price_units(price), Some(units));
        }
    }

    #[test]
    fn price_units_refuses_more_than_eight_places_and_overflow() {
        assert_eq!(price_units(Price(Decimal::new(123_456_789, 9))), None);
        assert_eq!(
            price_units(Price(Decimal::new(12_345, 2))),
            Some(12_345_000_000)
        );
        assert_eq!(price_units(Price(Decimal::from(100_000_000_000i64))), None);
    }
}
