//! The `[simulation]` table: how the simulated exchange of paper and backtest runs fills
//! orders (timing, slippage, fees). Optional; the defaults are those of
//! [`FillModel::default`](crate::exchange::FillModel).

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::exchange::{FillModel, FillModelError, FillTiming};
use charon_events::Rate;

/// When a market order decided at a bar's close fills (docs/BACKTESTING.md).
#[derive(serde::Serialize, Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillAt {
    /// The next market input after the decision: the next bar's open, trade or quote.
    #[default]
    NextBarOpen,
    /// The deciding bar's close (optimistic; for comparison with tools that assume it).
    SameBarClose,
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationConfig {
    #[serde(default)]
    pub fill: FillAt,
    /// Against the taker, in basis points of the reference price.
    #[serde(default)]
    pub slippage_bps: Decimal,
    /// Fee of a maker fill, percent of its notional.
    #[serde(default = "default_maker_fee_pct")]
    pub maker_fee_pct: Decimal,
    /// Fee of a taker fill (every market, stop and take-profit order), percent of notional.
    #[serde(default = "default_taker_fee_pct")]
    pub taker_fee_pct: Decimal,
}

/// Binance USD-M futures' base tier, as [`FillModel::default`].
fn default_maker_fee_pct() -> Decimal {
    Decimal::new(2, 2)
}

fn default_taker_fee_pct() -> Decimal {
    Decimal::new(5, 2)
}

impl Default for SimulationConfig {
    fn default() -> Self {
        Self {
            fill: FillAt::default(),
            slippage_bps: Decimal::ZERO,
            maker_fee_pct: default_maker_fee_pct(),
            taker_fee_pct: default_taker_fee_pct(),
        }
    }
}

impl SimulationConfig {
    /// The fill model these settings describe.
    pub fn fill_model(&self) -> Result<FillModel, FillModelError> {
        let timing = match self.fill {
            FillAt::NextBarOpen => FillTiming::NextBarOpen,
            FillAt::SameBarClose => FillTiming::SameBarClose,
        };
        let fraction = |pct: Decimal| Rate(pct / Decimal::ONE_HUNDRED);
        FillModel::new(
            timing,
            self.slippage_bps,
            fraction(self.maker_fee_pct),
            fraction(self.taker_fee_pct),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_fill_models_defaults() {
        assert_eq!(
            SimulationConfig::default().fill_model().unwrap(),
            FillModel::default()
        );
    }

    #[test]
    fn percentages_become_fractions() {
        let config: SimulationConfig = toml::from_str(
            "fill = \"same_bar_close\"\nslippage_bps = 2\nmaker_fee_pct = 0\ntaker_fee_pct = 0.1",
        )
        .unwrap();
        let model = config.fill_model().unwrap();
        assert_eq!(model.timing(), FillTiming::SameBarClose);
        assert_eq!(model.taker_fee(), Rate::new(1, 3));
        assert_eq!(model.maker_fee(), Rate::ZERO);
        assert_eq!(model.slippage_bps(), Decimal::TWO);
    }
}
