//! The grammar of `charon replay verify|run|diff`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::backtest::ReportArgs;

#[derive(Debug, Subcommand)]
pub enum ReplayCommand {
    /// Re-derive every derived event of a run from its inputs and compare byte for byte.
    Verify(VerifyArgs),
    /// What-if: run another configuration over exactly the inputs of a recorded run.
    Run(WhatIfArgs),
    /// Summarize how two runs over the same inputs differ (exit 0 identical, 1 different).
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The run log.
    pub run: PathBuf,
    /// The data log a backtest's inputs are cited from.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WhatIfArgs {
    /// The recorded run whose inputs to reuse.
    pub run: PathBuf,
    /// The configuration to run instead (TOML, with its strategy templates beside it).
    #[arg(long)]
    pub config: PathBuf,
    /// The new run log to write (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// The data log a backtest's inputs are cited from.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first run log (the baseline: deltas are B − A).
    pub run_a: PathBuf,
    /// The second run log.
    pub run_b: PathBuf,
}
