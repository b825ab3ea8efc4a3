//! Drivers over recorded logs: inspection and statistics now; backtest, verify and what-if
//! replay as the actors arrive.

pub mod inspect;
pub mod stats;
