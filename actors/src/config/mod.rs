//! Bot and pair configuration: what a bot trades and how (sizing, exits, drawdown, add-ons,
//! leverage), and the strategy templates its pairs follow. Plain types deserialized with
//! serde, unknown fields refused; `validate` checks what serde cannot, naming the field by its
//! path (`bot[0].pair[1].exits.stop_loss_pct`), and [`load`] turns a configuration's text into
//! these types, pointing every problem at its file, line and field. docs/CONFIG.md documents
//! every key.

mod bot;
mod exits;
mod gates;
mod invalid;
mod load;
mod risk;
mod simulation;
mod template;
mod validate;

pub use bot::{
    AddOnConfig, BotConfig, Config, MarketKind, PairConfig, PerTrade, SizingConfig,
    TRADES_TIMEFRAME,
};
pub use exits::ExitConfig;
pub use gates::GatesConfig;
pub use invalid::Invalid;
pub use load::{
    load, template_file, ConfigError, ConfigErrors, Loaded, Source, Strategy, Unreadable,
};
pub use risk::RiskConfig;
pub use simulation::{FillAt, Profile, ProfileConflict, ProfileSettings, SimulationConfig};
pub use template::{IndicatorSettings, RuleSet, StrategyTemplate};
pub use validate::validate;
