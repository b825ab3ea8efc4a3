//! The actors of a charon run will live here: the Journal, the Bot, the Pair, the RiskSupervisor
//! and the simulated Exchange, with the ports they talk through. Today the crate holds what they
//! are built from: bot and pair configuration ([`config`]), the indicators ([`indicators`]) and
//! condition language ([`strategy`]) of strategies, and the simulated exchange's exact account
//! and fill model ([`exchange`]).

pub mod bars;
pub mod config;
pub mod exchange;
pub mod indicators;
pub mod journal;
pub mod strategy;
