//! The actors of a charon run will live here: the Journal, the Bot, the Pair, the RiskSupervisor
//! and the simulated Exchange, with the ports they talk through. Today the crate holds the
//! indicator library ([`indicators`]) that the Pair's strategies evaluate.

pub mod config;
pub mod indicators;
pub mod strategy;
