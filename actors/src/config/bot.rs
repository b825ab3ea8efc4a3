//! The bot file: `[[bot]]` tables, each with its `[[bot.pair]]` tables.

use charon_events::{BotId, Money, Quantity, Symbol};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::exits::ExitConfig;
use super::gates::GatesConfig;
use super::risk::RiskConfig;
use super::simulation::SimulationConfig;

/// A configuration file: one or more bots. A pair belongs to one bot only.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub bot: Vec<BotConfig>,
    /// How the simulated exchange fills (paper and backtest runs).
    #[serde(default)]
    pub simulation: SimulationConfig,
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    pub name: BotId,
    /// The quote currency every pair is priced and settled in, e.g. `USDT`.
    pub quote: String,
    pub initial_capital: Money,
    /// Close everything and stop the bot once equity is up this many percent.
    #[serde(default)]
    pub take_profit_pct: Option<Decimal>,
    /// Close everything and stop the bot once equity is down this many percent.
    #[serde(default)]
    pub stop_loss_pct: Option<Decimal>,
    /// The RiskSupervisor's limits (layer 3).
    #[serde(default)]
    pub risk: RiskConfig,
    pub pair: Vec<PairConfig>,
}

#[derive(serde::Serialize, Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketKind {
    /// Long only, no leverage.
    #[default]
    Spot,
    /// Linear (USDT-margined) perpetual futures: long and short, leverage, funding.
    Perpetual,
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairConfig {
    pub symbol: Symbol,
    #[serde(default)]
    pub market: MarketKind,
    /// Path of the strategy template, relative to this file.
    pub strategy: String,
    /// Bar length the strategy evaluates at (`1m`, `15m`, `4h`); ticks are aggregated to it.
    /// Left out, the pair evaluates at its data's own bar interval, and builds
    /// [`TRADES_TIMEFRAME`] bars from trades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
    pub sizing: SizingConfig,
    /// Exit rules (layer 1).
    #[serde(default)]
    pub exits: ExitConfig,
    /// Entry gates (layer 2).
    #[serde(default)]
    pub gates: GatesConfig,
    /// Stop trading the pair (close and block entries) once its drawdown reaches this percent.
    #[serde(default)]
    pub max_drawdown_pct: Option<Decimal>,
    #[serde(default)]
    pub add_on: Option<AddOnConfig>,
    /// 1 for spot; up to the venue's limit for perpetuals.
    #[serde(default = "default_leverage")]
    pub leverage: Decimal,
}

/// The bars a pair without a `timeframe` builds from trades.
pub const TRADES_TIMEFRAME: &str = "1m";

impl PairConfig {
    /// The timeframe as written, or what a pair without one starts from.
    pub fn timeframe_text(&self) -> &str {
        self.timeframe.as_deref().unwrap_or(TRADES_TIMEFRAME)
    }
}

fn default_leverage() -> Decimal {
    Decimal::ONE
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizingConfig {
    /// Size of each entry: `{ quantity = 0.01 }`, `{ quote = 500 }` or `{ equity_pct = 5 }`.
    pub per_trade: PerTrade,
    /// The most the pair's position may be worth, in quote currency, add-ons included.
    #[serde(default)]
    pub max_position_quote: Option<Money>,
}

#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PerTrade {
    Quantity(Quantity),
    Quote(Money),
    EquityPct(Decimal),
}

/// Adding to a winning position: after each further move of `trigger_move_pct` in its favour,
/// add `size_pct` of the first entry's size, at most `max_adds` times, within the size cap.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOnConfig {
    pub max_adds: u32,
    pub trigger_move_pct: Decimal,
    pub size_pct: Decimal,
}
