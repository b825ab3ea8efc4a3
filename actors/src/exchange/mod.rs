//! The simulated exchange's building blocks: a bot's exact [`Account`] (cash, positions, fees,
//! funding, P&L) and the [`FillModel`] that says where and at what cost orders fill. Plain,
//! deterministic types and functions: no actors, no I/O, no clock, no randomness, no `f64`. The
//! Exchange actor calls them; each module's documentation states its assumptions.

pub mod account;
pub mod exact;
pub mod fill_model;

#[cfg(test)]
mod account_props;

pub use account::{
    liquidation_price, Account, AccountError, Execution, FillEffect, MarketKind, Position,
    AVG_ENTRY_DP, DEFAULT_MAINTENANCE_MARGIN_RATE, MARGIN_DP,
};
pub use exact::Inexact;
pub use fill_model::{bar_exit, ExitKind, FillModel, FillModelError, FillTiming};
