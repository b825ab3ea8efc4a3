//! The grammar of `charon bench log|backtest|replay`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Codec and event-log figures on the recorded Binance data.
    Log(BenchLogArgs),
    /// Backtest throughput on ticks and on 1-minute bars: engine loop and whole process.
    Backtest(BenchBacktestArgs),
    /// `replay verify` throughput on the backtest benchmark's runs.
    Replay(BenchReplayArgs),
}

#[derive(Debug, Args)]
pub struct BenchLogArgs {
    /// Directory with the raw Binance recordings (`*.gz`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/hftbacktest"))]
    pub data: PathBuf,
    /// Events written and scanned in the data-log figures.
    #[arg(long, default_value_t = 2_000_000)]
    pub events: usize,
    /// Where the benchmark's logs go (a temporary directory under it; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchBacktestArgs {
    /// The repo's data directory (`hftbacktest/*.gz`, `nautilus_trader/btc-perp-…_1m.csv.gz`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../data"))]
    pub data: PathBuf,
    /// Tick events in the tick figures (the recordings repeated).
    #[arg(long, default_value_t = 2_000_000)]
    pub events: usize,
    /// Engine-loop passes over the ticks (the figure is the median pass).
    #[arg(long, default_value_t = 5)]
    pub tick_passes: usize,
    /// Engine-loop passes over the 45k bars (the figure is the median pass).
    #[arg(long, default_value_t = 31)]
    pub bar_passes: usize,
    /// Whole-process runs (`charon backtest`'s path, data log to run log) of the ticks and of
    /// the bars (the figures are the median runs).
    #[arg(long, default_value_t = 5)]
    pub process_passes: usize,
    /// Passes of the sweep on one thread and on two (the figures are the median passes).
    #[arg(long, default_value_t = 5)]
    pub sweep_passes: usize,
    /// Where the benchmark's logs go (a temporary directory under it; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchReplayArgs {
    /// The repo's data directory.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../data"))]
    pub data: PathBuf,
    /// Tick events in the tick run (the recordings repeated).
    #[arg(long, default_value_t = 2_000_000)]
    pub events: usize,
    /// Recorded inputs in the paper run log the restart figure opens.
    #[arg(long, default_value_t = 10_000_000)]
    pub paper_events: usize,
    /// Events between the paper run's snapshots (as `charon run --snapshot-every`).
    #[arg(long, default_value_t = 50_000)]
    pub snapshot_every: u64,
    /// Verifications of each run; the figures are the median.
    #[arg(long, default_value_t = 5)]
    pub verify_passes: usize,
    /// Where the benchmark's logs go (a temporary directory under it; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}
