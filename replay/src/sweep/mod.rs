//! `charon backtest --sweep`: one configuration run at every point of a grid over one span of a
//! data log, read once into memory, on every core.
//!
//! Each point is an ordinary configuration: its bundle (configuration and templates, with the
//! point's values set, [`grid`]) is written under `OUT/points/NNNN/` before anything runs,
//! checked by the same loader as any file ([`points`]), and `charon backtest --config
//! OUT/points/NNNN/.../run.toml` over the same data and period reproduces the point exactly: a
//! sweep point is the one run a backtest is, with the report as its only sink ([`runner`]).
//! The points' statistics are ranked in a results table ([`results`], [`metric`]) written as
//! CSV and JSON ([`run`]).

mod error;
pub mod grid;
pub mod metric;
pub mod points;
pub mod results;
pub mod run;
pub mod runner;

pub use error::SweepError;
pub use run::{plan, SweepOutcome, SweepPlan, SweepRequest, RESULTS_CSV, RESULTS_JSON};
