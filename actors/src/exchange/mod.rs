//! The simulated exchange: a bot's exact [`Account`] (cash, positions, fees, funding, P&L),
//! the [`FillModel`] that says where and at what cost orders fill, and the
//! [`SimulatedExchange`] actor that runs them over a run's events. Deterministic throughout:
//! no I/O, no clock, no randomness, no `f64`. Each module's documentation states its
//! assumptions.

pub mod account;
pub mod exact;
pub mod fill_model;
pub mod intrabar;
pub mod precision;
pub mod simulator;

#[cfg(test)]
mod account_props;

pub use account::{
    liquidation_price, Account, AccountError, Execution, FillEffect, MarketKind, Position,
    Valuation, AVG_ENTRY_DP, DEFAULT_MAINTENANCE_MARGIN_RATE, FUNDING_DP, MARGIN_DP,
};
pub use exact::Inexact;
pub use fill_model::{FillModel, FillModelError, FillTiming};
pub use intrabar::{
    roi_target, ExitKind, ExitLevels, GapFill, Intrabar, IntrabarOrder, TakeProfitAt,
    TrailingUpdate,
};
pub use precision::{FEE_DP, PRICE_DP};
pub use simulator::SimulatedExchange;
