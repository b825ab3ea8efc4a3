//! `replay diff RUN_A RUN_B`: how two runs over the same inputs differ, typically a
//! recorded run and a what-if (`replay run`).
//!
//! Both logs are read once, side by side, from the event after their manifests:
//!
//! - **First divergence**: the first seq whose records differ (each event's record encoding,
//!   compared byte for byte, as `verify` does), or where one log ends before the other. Both
//!   events are shown as JSON with the fields that differ.
//! - **Trades**: a trade is a position of one bot and pair going from flat to open and back
//!   to flat (a flip closes one trade and opens another), from `position_updated` events, as
//!   the report counts them (the same `TradeLedger`, `report/trades.rs`); its net P&L is the
//!   report's (realized − fees + funding at its close, minus the same at the update before it
//!   opened, or at the flip that opened it). A trade is identified by (bot, pair, side, open
//!   time); those present in only one run are listed, and those in both that closed
//!   differently. A trade still open at the end is not a trade yet, as in the report.
//! - **Per bot**: final equity, return, max drawdown, trades and win rate from the report
//!   builder over each log, with each manifest's own bot list, and B − A.
//! - **Risk events**: counts by (kind, rule) of `order_vetoed`, `force_close`,
//!   `signal_blocked`, `kill_switch_engaged` and `entries_paused`; only rows whose counts
//!   differ are shown.
//!
//! Two runs are identical when every record after their manifests is (whatever their
//! configurations). Manifests citing different inputs are diffed anyway; the comparison says
//! so ([`Comparison::inputs_differ`]).

mod comparison;
mod render;

pub use comparison::{
    compare, diff, same_file, Comparison, Diff, FirstDivergence, Side, Trade, TradeDiff,
};
pub use render::{inputs_of, render};
