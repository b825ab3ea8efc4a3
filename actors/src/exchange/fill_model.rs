//! Where and at what cost the simulated exchange fills orders, from bars: the written
//! assumptions of every backtest and paper run.
//!
//! # Assumptions
//!
//! - **Timing.** A strategy decides at a bar's close, so a market order it sends fills at the
//!   **next bar's open** by default ([`FillTiming::NextBarOpen`]): the first price that exists
//!   after the decision, with no look-ahead. [`FillTiming::SameBarClose`] fills at the deciding
//!   bar's close instead; it is optimistic (a real order reaches the exchange after the close it
//!   was computed from) and is there to compare with tools that assume it.
//! - **Slippage** is a fixed number of basis points against the taker: a buy fills
//!   `slippage_bps/10,000` above the reference price, a sell as far below. It does not depend on
//!   order size, volume or book depth; liquidity is unlimited, orders fill completely and at
//!   once (no latency, no partial fills). The default is 0 bps. Prices are not rounded to the
//!   instrument's tick size (instrument rules come later); a slipped price is rounded to 8
//!   places against the taker ([`PRICE_DP`]).
//! - **Fees** are `price·qty·rate` in the quote currency, by liquidity, rounded up to 8
//!   decimal places ([`FEE_DP`]). The defaults, maker
//!   0.02% and taker 0.05%, are Binance USD-M futures' base tier (VIP 0, no BNB discount); they
//!   are configuration defaults, not facts about any account (Binance spot's base tier is 0.1%
//!   for both). Rates must not be negative: maker rebates are out of scope.
//! - **Stops and take-profits inside a bar** ([`bar_exit`]): only open, high, low and close are
//!   known, not the path between them. A level is touched when the bar reaches it or goes
//!   beyond (`low ≤ stop` for a long). If the bar **opens** beyond the stop (a gap through it),
//!   the exit fills at the open, which is worse than the stop; otherwise if it opens beyond the
//!   target, at the open, which is better than the target (the open is a traded price). Otherwise,
//!   when the bar's range holds **both** the stop and the target, the **stop wins**: the path
//!   could have touched either first, and assuming the loss is the conservative choice. Else the
//!   level touched fills at exactly its own price. [`bar_exit`] returns that price before
//!   slippage; stop-market and take-profit-market orders execute as takers, so the caller
//!   applies [`FillModel::market_price`] and the taker fee. Bars are taken as valid
//!   (`low ≤ open, close ≤ high`), which the importers enforce.
//!
//! Everything here is exact decimal arithmetic (see [`exact`]); the only roundings are the
//! booking precisions above ([`PRICE_DP`], [`FEE_DP`]), each in the direction that costs the
//! trader.

use charon_events::payload::market::Bar;
use charon_events::payload::order::{Liquidity, PositionSide, Side};
use charon_events::{Money, Price, Quantity, Rate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::exact::{self, Inexact};

/// Decimal places a computed price (slippage, stop and target levels) is rounded to. Venues
/// trade on a tick grid; without the instrument's tick size, 8 places keeps every fill value
/// (price·qty, both ≤ 8 places) within 16 places, far inside `Decimal`'s 28 digits.
pub const PRICE_DP: u32 = 8;

/// Decimal places fees are booked at: Binance reports commissions to 8 places. Without it,
/// cash would gather the digits of every price·qty·rate until a sum no longer fitted a
/// `Decimal` exactly.
pub const FEE_DP: u32 = 8;

/// One basis point, 0.0001.
const BASIS_POINT: Decimal = Decimal::from_parts(1, 0, 0, false, 4);
/// 10,000 bps would price a sell at zero.
const MAX_SLIPPAGE_BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// When a market order decided at a bar's close fills.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash,
)]
pub enum FillTiming {
    /// At the open of the bar after the deciding one (no look-ahead).
    #[default]
    NextBarOpen,
    /// At the close of the deciding bar (optimistic).
    SameBarClose,
}

impl FillTiming {
    /// The reference price of a market order decided at the close of `decision_bar`: the open of
    /// `next_bar` (`None` until it has arrived) or the deciding bar's close.
    pub fn reference(self, decision_bar: &Bar, next_bar: Option<&Bar>) -> Option<Price> {
        match self {
            FillTiming::NextBarOpen => next_bar.map(|bar| bar.open),
            FillTiming::SameBarClose => Some(decision_bar.close),
        }
    }
}

/// Which exit rule filled inside a bar.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitKind {
    StopLoss,
    TakeProfit,
}

/// Why a fill model was refused or a price could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FillModelError {
    #[error("slippage must be between 0 and 10000 bps (exclusive), got {0}")]
    SlippageOutOfRange(Decimal),
    #[error("{liquidity:?} fee rate must not be negative (rebates are not modelled), got {rate}")]
    NegativeFee { liquidity: Liquidity, rate: Rate },
    #[error(transparent)]
    Inexact(#[from] Inexact),
}

/// The simulated exchange's fill assumptions: timing, slippage and fee rates.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillModel {
    timing: FillTiming,
    slippage_bps: Decimal,
    maker_fee: Rate,
    taker_fee: Rate,
}

impl Default for FillModel {
    /// Next bar open, no slippage, maker 0.02%, taker 0.05% (Binance USD-M base tier).
    fn default() -> Self {
        Self {
            timing: FillTiming::NextBarOpen,
            slippage_bps: Decimal::ZERO,
            maker_fee: Rate::new(2, 4),
            taker_fee: Rate::new(5, 4),
        }
    }
}

impl FillModel {
    /// A model with `0 ≤ slippage_bps < 10000` and fee rates ≥ 0.
    pub fn new(
        timing: FillTiming,
        slippage_bps: Decimal,
        maker_fee: Rate,
        taker_fee: Rate,
    ) -> Result<Self, FillModelError> {
        if slippage_bps < Decimal::ZERO || slippage_bps >= MAX_SLIPPAGE_BPS {
            return Err(FillModelError::SlippageOutOfRange(slippage_bps));
        }
        for (liquidity, rate) in [(Liquidity::Maker, maker_fee), (Liquidity::Taker, taker_fee)] {
            if rate.0 < Decimal::ZERO {
                return Err(FillModelError::NegativeFee { liquidity, rate });
            }
        }
        Ok(Self {
            timing,
            slippage_bps,
            maker_fee,
            taker_fee,
        })
    }

    pub fn timing(&self) -> FillTiming {
        self.timing
    }

    pub fn slippage_bps(&self) -> Decimal {
        self.slippage_bps
    }

    pub fn maker_fee(&self) -> Rate {
        self.maker_fee
    }

    pub fn taker_fee(&self) -> Rate {
        self.taker_fee
    }

    pub fn fee_rate(&self, liquidity: Liquidity) -> Rate {
        match liquidity {
            Liquidity::Maker => self.maker_fee,
            Liquidity::Taker => self.taker_fee,
        }
    }

    /// The fill price of a market order: `reference` moved against the taker by the slippage,
    /// `reference·(1 + bps/10⁴)` for a buy, `reference·(1 − bps/10⁴)` for a sell, rounded to
    /// [`PRICE_DP`] places against the taker (a buy up, a sell down).
    pub fn market_price(&self, side: Side, reference: Price) -> Result<Price, FillModelError> {
        let slip = exact::mul(self.slippage_bps, BASIS_POINT)?;
        let (factor, rounding) = match side {
            Side::Buy => (
                exact::add(Decimal::ONE, slip)?,
                RoundingStrategy::AwayFromZero,
            ),
            Side::Sell => (exact::sub(Decimal::ONE, slip)?, RoundingStrategy::ToZero),
        };
        let price = exact::mul(reference.0, factor)?;
        Ok(Price(price.round_dp_with_strategy(PRICE_DP, rounding)))
    }

    /// The fee of a fill: `price·qty·rate` for its liquidity, rounded **up** to [`FEE_DP`]
    /// decimal places (an exchange books commissions at a fixed precision; rounding up never
    /// understates a cost).
    pub fn fee(
        &self,
        price: Price,
        qty: Quantity,
        liquidity: Liquidity,
    ) -> Result<Money, FillModelError> {
        let notional = exact::mul(price.0, qty.0)?;
        let fee = exact::mul(notional, self.fee_rate(liquidity).0)?;
        Ok(Money(fee.round_dp_with_strategy(
            FEE_DP,
            RoundingStrategy::AwayFromZero,
        )))
    }
}

/// Whether a position's stop or take-profit fills inside `bar`, and at what price (before
/// slippage): a gap through the stop fills at the open, then a gap through the target at the
/// open, then the stop wins when both lie in the bar's range, else the level touched fills at
/// its own price. A long's stop is below and its target above; a short's the other way round.
pub fn bar_exit(
    side: PositionSide,
    bar: &Bar,
    stop: Option<Price>,
    target: Option<Price>,
) -> Option<(Price, ExitKind)> {
    // A stop is reached at or past its level in the losing direction, a target in the winning one.
    let stop_beyond = |price: Price, stop: Price| match side {
        PositionSide::Long => price <= stop,
        PositionSide::Short => price >= stop,
    };
    let target_beyond = |price: Price, target: Price| match side {
        PositionSide::Long => price >= target,
        PositionSide::Short => price <= target,
    };
    // The bar's most adverse and most favourable prices for the position.
    let (adverse, favourable) = match side {
        PositionSide::Long => (bar.low, bar.high),
        PositionSide::Short => (bar.high, bar.low),
    };
    if let Some(stop) = stop {
        if stop_beyond(bar.open, stop) {
            return Some((bar.open, ExitKind::StopLoss));
        }
    }
    if let Some(target) = target {
        if target_beyond(bar.open, target) {
            return Some((bar.open, ExitKind::TakeProfit));
        }
    }
    if let Some(stop) = stop {
        if stop_beyond(adverse, stop) {
            return Some((stop, ExitKind::StopLoss));
        }
    }
    if let Some(target) = target {
        if target_beyond(favourable, target) {
            return Some((target, ExitKind::TakeProfit));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use charon_events::payload::market::Interval;
    use charon_events::Timestamp;

    fn p(text: &str) -> Price {
        text.parse().unwrap()
    }

    fn bar(open: &str, high: &str, low: &str, close: &str) -> Bar {
        Bar {
            interval: Interval(3600),
            open_time: Timestamp::from_millis(1_700_000_000_000),
            open: p(open),
            high: p(high),
            low: p(low),
            close: p(close),
            volume: Quantity::new(1, 0),
            trades: None,
            closed: true,
        }
    }

    fn exit(side: PositionSide, b: &Bar, stop: &str, target: &str) -> Option<(Price, ExitKind)> {
        bar_exit(side, b, Some(p(stop)), Some(p(target)))
    }

    use ExitKind::{StopLoss, TakeProfit};
    use PositionSide::{Long, Short};

    #[test]
    fn long_gap_through_stop_fills_at_the_open() {
        let b = bar("94", "96", "90", "92");
        assert_eq!(exit(Long, &b, "95", "110"), Some((p("94"), StopLoss)));
    }

    #[test]
    fn long_gap_through_target_fills_at_the_open() {
        let b = bar("112", "115", "94", "113");
        assert_eq!(exit(Long, &b, "95", "110"), Some((p("112"), TakeProfit)));
    }

    #[test]
    fn long_both_touched_the_stop_wins() {
        let b = bar("100", "111", "94", "105");
        assert_eq!(exit(Long, &b, "95", "110"), Some((p("95"), StopLoss)));
    }

    #[test]
    fn long_only_target_fills_at_the_target() {
        let b = bar("100", "111", "97", "108");
        assert_eq!(exit(Long, &b, "95", "110"), Some((p("110"), TakeProfit)));
    }

    #[test]
    fn long_only_stop_fills_at_the_stop() {
        let b = bar("100", "105", "94", "96");
        assert_eq!(exit(Long, &b, "95", "110"), Some((p("95"), StopLoss)));
    }

    #[test]
    fn long_neither_touched_stays_open() {
        let b = bar("100", "109.99", "95.01", "101");
        assert_eq!(exit(Long, &b, "95", "110"), None);
        assert_eq!(bar_exit(Long, &b, None, None), None);
    }

    #[test]
    fn long_touching_a_level_exactly_triggers_it() {
        let b = bar("100", "110", "96", "101");
        assert_eq!(exit(Long, &b, "95", "110"), Some((p("110"), TakeProfit)));
        let b = bar("100", "109", "95", "101");
        assert_eq!(exit(Long, &b, "95", "110"), Some((p("95"), StopLoss)));
    }

    #[test]
    fn short_gap_through_stop_fills_at_the_open() {
        let b = bar("106", "108", "104", "107");
        assert_eq!(exit(Short, &b, "105", "90"), Some((p("106"), StopLoss)));
    }

    #[test]
    fn short_gap_through_target_fills_at_the_open() {
        let b = bar("88", "106", "85", "87");
        assert_eq!(exit(Short, &b, "105", "90"), Some((p("88"), TakeProfit)));
    }

    #[test]
    fn short_both_touched_the_stop_wins() {
        let b = bar("100", "106", "89", "95");
        assert_eq!(exit(Short, &b, "105", "90"), Some((p("105"), StopLoss)));
    }

    #[test]
    fn short_only_target_fills_at_the_target() {
        let b = bar("100", "104", "89", "91");
        assert_eq!(exit(Short, &b, "105", "90"), Some((p("90"), TakeProfit)));
    }

    #[test]
    fn short_only_stop_fills_at_the_stop() {
        let b = bar("100", "106", "95", "104");
        assert_eq!(exit(Short, &b, "105", "90"), Some((p("105"), StopLoss)));
    }

    #[test]
    fn short_neither_touched_stays_open() {
        let b = bar("100", "104.99", "90.01", "99");
        assert_eq!(exit(Short, &b, "105", "90"), None);
    }

    #[test]
    fn a_single_level_works_alone() {
        let b = bar("100", "111", "94", "105");
        assert_eq!(
            bar_exit(Long, &b, None, Some(p("110"))),
            Some((p("110"), TakeProfit))
        );
        assert_eq!(
            bar_exit(Short, &b, Some(p("110")), None),
            Some((p("110"), StopLoss))
        );
    }

    #[test]
    fn slippage_moves_the_price_against_the_taker() {
        let model = FillModel::new(
            FillTiming::NextBarOpen,
            Decimal::new(10, 0),
            Rate::ZERO,
            Rate::ZERO,
        )
        .unwrap();
        assert_eq!(model.market_price(Side::Buy, p("100")).unwrap(), p("100.1"));
        assert_eq!(model.market_price(Side::Sell, p("100")).unwrap(), p("99.9"));
        let half = FillModel::new(
            FillTiming::NextBarOpen,
            Decimal::new(25, 1),
            Rate::ZERO,
            Rate::ZERO,
        )
        .unwrap();
        assert_eq!(
            half.market_price(Side::Buy, p("61234.56")).unwrap(),
            p("61249.86864")
        );
        assert_eq!(
            half.market_price(Side::Sell, p("61234.56")).unwrap(),
            p("61219.25136")
        );
        let none = FillModel::default();
        assert_eq!(none.market_price(Side::Buy, p("100")).unwrap(), p("100"));
        assert_eq!(none.market_price(Side::Sell, p("100")).unwrap(), p("100"));
    }

    #[test]
    fn fees_are_notional_times_the_rate() {
        let model = FillModel::default();
        let qty = Quantity::new(5, 1);
        assert_eq!(
            model.fee(p("20000"), qty, Liquidity::Taker).unwrap(),
            Money::new(5, 0)
        );
        assert_eq!(
            model.fee(p("20000"), qty, Liquidity::Maker).unwrap(),
            Money::new(2, 0)
        );
        assert_eq!(
            model
                .fee(p("61234.56"), Quantity::new(3, 3), Liquidity::Taker)
                .unwrap(),
            "0.0918518400".parse().unwrap()
        );
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let model = FillModel::default();
        assert_eq!(model.timing(), FillTiming::NextBarOpen);
        assert_eq!(model.slippage_bps(), Decimal::ZERO);
        assert_eq!(model.maker_fee(), "0.0002".parse().unwrap());
        assert_eq!(model.taker_fee(), "0.0005".parse().unwrap());
    }

    #[test]
    fn invalid_models_are_refused() {
        let t = FillTiming::NextBarOpen;
        assert!(matches!(
            FillModel::new(t, Decimal::new(-1, 0), Rate::ZERO, Rate::ZERO),
            Err(FillModelError::SlippageOutOfRange(_))
        ));
        assert!(matches!(
            FillModel::new(t, Decimal::new(10_000, 0), Rate::ZERO, Rate::ZERO),
            Err(FillModelError::SlippageOutOfRange(_))
        ));
        assert!(matches!(
            FillModel::new(t, Decimal::ZERO, Rate::new(-1, 4), Rate::ZERO),
            Err(FillModelError::NegativeFee {
                liquidity: Liquidity::Maker,
                ..
            })
        ));
        assert!(matches!(
            FillModel::new(t, Decimal::ZERO, Rate::ZERO, Rate::new(-1, 4)),
            Err(FillModelError::NegativeFee {
                liquidity: Liquidity::Taker,
                ..
            })
        ));
    }

    #[test]
    fn timing_picks_the_reference_price() {
        let deciding = bar("100", "105", "99", "104");
        let next = bar("103", "106", "102", "105");
        assert_eq!(
            FillTiming::NextBarOpen.reference(&deciding, Some(&next)),
            Some(p("103"))
        );
        assert_eq!(FillTiming::NextBarOpen.reference(&deciding, None), None);
        assert_eq!(
            FillTiming::SameBarClose.reference(&deciding, Some(&next)),
            Some(p("104"))
        );
    }
}
