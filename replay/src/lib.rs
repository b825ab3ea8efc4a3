//! Drivers over recorded logs: inspection and export (filtered by seq, kind, bot, pair and
//! time), statistics and the run report (a backtest or paper run's returns, drawdown and
//! trades, computed from its events) now; backtest, verify and what-if replay as the actors
//! arrive.

pub mod export;
pub mod html;
pub mod inspect;
pub mod report;
pub mod statistics;
pub mod stats;
