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
//! - **Stops and take-profits inside a bar** follow the run's [`Intrabar`] conventions
//!   (where a level fills when the bar opens beyond it, which level wins a bar that reaches
//!   both, what a take-profit percentage means): see [`super::intrabar`]. The defaults: a gap
//!   through a level fills at the open, the stop wins a bar that reaches both, else the level
//!   touched fills at exactly its own price. Stop-market and take-profit-market orders execute
//!   as takers, so the caller applies [`FillModel::market_price`] and the taker fee.
//!
//! Everything here is exact decimal arithmetic (see [`exact`]); the only roundings are the
//! booking precisions above ([`PRICE_DP`], [`FEE_DP`]), each in the direction that costs the
//! trader.

use charon_events::payload::market::Bar;
use charon_events::payload::order::{Liquidity, Side};
use charon_events::{Money, Price, Quantity, Rate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::exact::{self, Inexact};
use super::intrabar::Intrabar;
use super::precision::{FEE_DP, PRICE_DP};

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

/// The simulated exchange's fill assumptions: timing, slippage, fee rates and the intrabar
/// conventions.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillModel {
    timing: FillTiming,
    slippage_bps: Decimal,
    maker_fee: Rate,
    taker_fee: Rate,
    /// Absent from snapshots taken before it existed: those runs used the defaults.
    #[serde(default)]
    intrabar: Intrabar,
}

impl Default for FillModel {
    /// Next bar open, no slippage, maker 0.02%, taker 0.05% (Binance USD-M base tier).
    fn default() -> Self {
        Self {
            timing: FillTiming::NextBarOpen,
            slippage_bps: Decimal::ZERO,
            maker_fee: Rate::new(2, 4),
            taker_fee: Rate::new(5, 4),
            intrabar: Intrabar::default(),
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
            intrabar: Intrabar::default(),
        })
    }

    /// The same model with the intrabar conventions `intrabar`.
    pub fn with_intrabar(self, intrabar: Intrabar) -> Self {
        Self { intrabar, ..self }
    }

    /// Where stops and targets fill inside a bar.
    pub fn intrabar(&self) -> Intrabar {
        self.intrabar
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{hour_bar as bar, p};

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
