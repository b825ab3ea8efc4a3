//! Where a position's stop or take-profit fills inside one bar, and which of the two wins when
//! the bar reaches both: the intrabar conventions, where widely used backtesting engines
//! differ (docs/BACKTESTING.md compares them). Only open, high, low and close are known, not
//! the path between them, so each choice is an assumption, configured in `[simulation]`:
//!
//! - [`GapFill`]: a bar that opens beyond a level. [`GapFill::Open`] (the default; backtrader,
//!   NautilusTrader, vectorbt): the open is the first price of the bar, so a level it is
//!   already beyond fills there, the stop before the target. [`GapFill::Level`] (Freqtrade):
//!   the open plays no part; a level the bar's range reaches fills at exactly its price, a
//!   stop the whole bar is beyond at the open, a target the whole bar is beyond at the bar's
//!   nearest price (the low for a long).
//! - [`IntrabarOrder`]: the bar's range holds both levels (and, with [`GapFill::Open`], the
//!   open is beyond neither). [`IntrabarOrder::StopFirst`] (the default, conservative),
//!   [`IntrabarOrder::TargetFirst`], [`IntrabarOrder::NearerOpen`] (NautilusTrader's adaptive
//!   ordering: the extreme nearer the open is reached first, the low on a tie), or
//!   [`IntrabarOrder::StopLossFirst`] (Freqtrade: the fixed stop-loss first, then the target,
//!   then a stop that has moved: trailing, break-even, chandelier, volatility).
//! - [`TakeProfitAt`]: what the take-profit percentage means. [`TakeProfitAt::Price`] (the
//!   default): a price move, reached at or beyond the target. [`TakeProfitAt::Roi`]
//!   (Freqtrade's `minimal_roi`): a profit after both legs' fees, reached only strictly beyond
//!   the price that gives it ([`roi_target`]).
//! - [`TrailingUpdate`]: when bar-driven levels move. [`TrailingUpdate::BarClose`] (the
//!   default): at a bar's close, applying from the next market input. [`TrailingUpdate::HighFirst`]
//!   (Freqtrade): a bar's favourable extreme moves the levels first, provided the bar does not
//!   reach the current stop, and its adverse extreme is then checked against the moved stop.
//!   The Pair applies it (`pair/exits.rs`); it needs [`GapFill::Level`], since a stop the high
//!   moved above the open could not otherwise be told from a gap through it.
//!
//! [`Intrabar::exit`] answers for a pair's two levels; the exchange asks it again for the one
//! level of a stop-market or take-profit-market order and gets the same price, because a
//! level's price never depends on the other level: only which one wins does. Prices are
//! before slippage. Bars are taken as valid (`low ≤ open, close ≤ high`), which the importers
//! enforce; every price returned then lies within `[low, high]`.

use charon_events::payload::market::Bar;
use charon_events::payload::order::PositionSide;
use charon_events::{Price, Rate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::precision::PRICE_DP;

/// Which exit rule filled inside a bar.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitKind {
    StopLoss,
    TakeProfit,
}

/// Where a level fills when the bar opens beyond it.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum GapFill {
    /// At the open, the first price of the bar (a stop worse than its level, a target better).
    #[default]
    Open,
    /// At the level whenever the bar's range reaches it; a stop the whole bar is beyond at the
    /// open, a target the whole bar is beyond at the bar's nearest price (Freqtrade).
    Level,
}

/// Which level wins a bar whose range holds both.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum IntrabarOrder {
    /// The stop: assuming the loss is the conservative choice.
    #[default]
    StopFirst,
    /// The target (optimistic).
    TargetFirst,
    /// The extreme nearer the open is reached first; the low on a tie (NautilusTrader's
    /// `bar_adaptive_high_low_ordering`).
    NearerOpen,
    /// The fixed stop-loss, then the target, then a stop that has moved (Freqtrade's
    /// stoploss → ROI → trailing stoploss).
    StopLossFirst,
}

/// What `take_profit_pct` means and when its target is reached.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum TakeProfitAt {
    /// A price move from the average entry, reached at or beyond it.
    #[default]
    Price,
    /// A profit after both legs' taker fees (Freqtrade's ROI), reached strictly beyond it.
    Roi,
}

/// When the levels that follow bars (trailing, chandelier, activations) move.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum TrailingUpdate {
    /// At a closed bar of the timeframe, applying from the next market input.
    #[default]
    BarClose,
    /// On every market input, its favourable extreme first, then its adverse extreme against
    /// the moved stop (Freqtrade).
    HighFirst,
}

/// The intrabar conventions of a run (see the module documentation).
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
pub struct Intrabar {
    pub gap_fill: GapFill,
    pub order: IntrabarOrder,
    pub take_profit: TakeProfitAt,
    pub trailing: TrailingUpdate,
}

/// A position's levels as one bar is checked against them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExitLevels {
    pub stop: Option<Price>,
    /// The stop is not the fixed stop-loss but one that has moved (for
    /// [`IntrabarOrder::StopLossFirst`]).
    pub stop_moved: bool,
    pub target: Option<Price>,
}

impl ExitLevels {
    /// A stop alone, as a stop-market order carries it.
    pub fn stop(stop: Price) -> Self {
        Self {
            stop: Some(stop),
            ..Self::default()
        }
    }

    /// A target alone, as a take-profit-market order carries it.
    pub fn target(target: Price) -> Self {
        Self {
            target: Some(target),
            ..Self::default()
        }
    }
}

/// The bar's prices seen from one side of a position.
struct Sided<'a> {
    side: PositionSide,
    bar: &'a Bar,
}

impl Sided<'_> {
    /// `price` is at or beyond `stop` in the losing direction.
    fn stop_at(&self, price: Price, stop: Price) -> bool {
        match self.side {
            PositionSide::Long => price <= stop,
            PositionSide::Short => price >= stop,
        }
    }

    /// `price` is strictly beyond `level` in the winning direction.
    fn past(&self, price: Price, level: Price) -> bool {
        match self.side {
            PositionSide::Long => price > level,
            PositionSide::Short => price < level,
        }
    }

    /// The bar's most adverse price for the position.
    fn adverse(&self) -> Price {
        match self.side {
            PositionSide::Long => self.bar.low,
            PositionSide::Short => self.bar.high,
        }
    }

    /// The bar's most favourable price for the position.
    fn favourable(&self) -> Price {
        match self.side {
            PositionSide::Long => self.bar.high,
            PositionSide::Short => self.bar.low,
        }
    }
}

impl Intrabar {
    /// Whether `price` reaches `target`: at or beyond it, or strictly beyond it for an ROI.
    fn target_at(&self, bar: &Sided<'_>, price: Price, target: Price) -> bool {
        match self.take_profit {
            TakeProfitAt::Price => price == target || bar.past(price, target),
            TakeProfitAt::Roi => bar.past(price, target),
        }
    }

    /// Whether the position's stop or target fills inside `bar`, which, and at what price
    /// (before slippage). See the module documentation.
    pub fn exit(
        &self,
        side: PositionSide,
        bar: &Bar,
        levels: ExitLevels,
    ) -> Option<(Price, ExitKind)> {
        let sided = Sided { side, bar };
        if self.gap_fill == GapFill::Open {
            if levels
                .stop
                .is_some_and(|stop| sided.stop_at(bar.open, stop))
            {
                return Some((bar.open, ExitKind::StopLoss));
            }
            if levels
                .target
                .is_some_and(|target| self.target_at(&sided, bar.open, target))
            {
                return Some((bar.open, ExitKind::TakeProfit));
            }
        }
        let stop = levels
            .stop
            .filter(|&stop| sided.stop_at(sided.adverse(), stop));
        let target = levels
            .target
            .filter(|&target| self.target_at(&sided, sided.favourable(), target));
        let kind = match (stop, target) {
            (None, None) => return None,
            (Some(_), None) => ExitKind::StopLoss,
            (None, Some(_)) => ExitKind::TakeProfit,
            (Some(_), Some(_)) => self.first_reached(&sided, levels.stop_moved),
        };
        Some(match (kind, stop, target) {
            (ExitKind::StopLoss, Some(stop), _) => (self.stop_price(&sided, stop), kind),
            (ExitKind::TakeProfit, _, Some(target)) => (self.target_price(&sided, target), kind),
            _ => unreachable!("the kind is one of the levels reached"),
        })
    }

    /// Which of two levels the bar reaches first.
    fn first_reached(&self, bar: &Sided<'_>, stop_moved: bool) -> ExitKind {
        match self.order {
            IntrabarOrder::StopFirst => ExitKind::StopLoss,
            IntrabarOrder::TargetFirst => ExitKind::TakeProfit,
            IntrabarOrder::StopLossFirst if stop_moved => ExitKind::TakeProfit,
            IntrabarOrder::StopLossFirst => ExitKind::StopLoss,
            IntrabarOrder::NearerOpen => {
                let b = bar.bar;
                let high_first = (b.high.0 - b.open.0).abs() < (b.open.0 - b.low.0).abs();
                // The stop is below a long (reached at the low) and above a short.
                match (bar.side, high_first) {
                    (PositionSide::Long, true) | (PositionSide::Short, false) => {
                        ExitKind::TakeProfit
                    }
                    (PositionSide::Long, false) | (PositionSide::Short, true) => ExitKind::StopLoss,
                }
            }
        }
    }

    /// The fill of a stop the bar reaches: at its level, or at the open when the open is beyond
    /// it ([`GapFill::Open`]) or the whole bar is ([`GapFill::Level`]).
    fn stop_price(&self, bar: &Sided<'_>, stop: Price) -> Price {
        let beyond = match self.gap_fill {
            GapFill::Open => bar.stop_at(bar.bar.open, stop),
            // Even the favourable extreme is strictly beyond the stop: the whole bar is.
            GapFill::Level => bar.past(stop, bar.favourable()),
        };
        if beyond {
            bar.bar.open
        } else {
            stop
        }
    }

    /// The fill of a target the bar reaches: at its level, or beyond it at the open
    /// ([`GapFill::Open`]) or at the bar's nearest price ([`GapFill::Level`]).
    fn target_price(&self, bar: &Sided<'_>, target: Price) -> Price {
        match self.gap_fill {
            GapFill::Open if self.target_at(bar, bar.bar.open, target) => bar.bar.open,
            GapFill::Level if bar.past(bar.adverse(), target) => bar.adverse(),
            _ => target,
        }
    }
}

/// The price at which a position entered at `entry` makes `pct` percent after paying the
/// taker fee `fee` (a fraction) on both legs: `entry·(1 + fee + pct/100)/(1 − fee)` for a
/// long, `entry·(1 − fee − pct/100)/(1 + fee)` for a short (Freqtrade's ROI exit price, at a
/// leverage of 1), rounded to [`PRICE_DP`] places away from the entry so that the profit there
/// is at least `pct`. `None` when it is not a positive price.
pub fn roi_target(side: PositionSide, entry: Price, pct: Decimal, fee: Rate) -> Option<Price> {
    let ratio = pct.checked_div(Decimal::ONE_HUNDRED)?;
    let (numerator, denominator, rounding) = match side {
        PositionSide::Long => (
            Decimal::ONE.checked_add(fee.0)?.checked_add(ratio)?,
            Decimal::ONE.checked_sub(fee.0)?,
            RoundingStrategy::ToPositiveInfinity,
        ),
        PositionSide::Short => (
            Decimal::ONE.checked_sub(fee.0)?.checked_sub(ratio)?,
            Decimal::ONE.checked_add(fee.0)?,
            RoundingStrategy::ToNegativeInfinity,
        ),
    };
    if denominator <= Decimal::ZERO {
        return None;
    }
    let level = entry
        .0
        .checked_mul(numerator)?
        .checked_div(denominator)?
        .round_dp_with_strategy(PRICE_DP, rounding)
        .normalize();
    (level > Decimal::ZERO).then_some(Price(level))
}

#[cfg(test)]
#[path = "intrabar_tests.rs"]
mod tests;
