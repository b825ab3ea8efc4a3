//! Bot and pair configuration: what a bot trades and how (sizing, exits, drawdown, add-ons,
//! leverage), and the strategy templates its pairs follow. Plain types deserialized with
//! serde, unknown fields refused; `validate` checks what serde cannot, naming the field by its
//! path (`bot[0].pair[1].exits.stop_loss_pct`) so the loader can point at its line.
//! docs/CONFIG.md documents every key.

mod bot;
mod exits;
mod gates;
mod invalid;
mod risk;
mod simulation;
mod template;
mod validate;

pub use bot::{AddOnConfig, BotConfig, Config, MarketKind, PairConfig, PerTrade, SizingConfig};
pub use exits::ExitConfig;
pub use gates::GatesConfig;
pub use invalid::Invalid;
pub use risk::RiskConfig;
pub use simulation::{FillAt, Profile, ProfileConflict, ProfileSettings, SimulationConfig};
pub use template::{RuleSet, StrategyTemplate};
pub use validate::validate;
