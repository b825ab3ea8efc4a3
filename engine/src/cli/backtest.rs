//! The grammar of `charon backtest` (a run, or a sweep with `--sweep`), and the report options
//! it shares with `charon demo` and `charon replay run`.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use charon_events::{BotId, Timestamp};
use charon_replay::split::Split;
use charon_replay::statistics::Settings;
use charon_replay::sweep::grid::{self, Axis};
use charon_replay::sweep::metric::Metric;
use clap::Args;

use super::parse::{parse_risk_free_rate, parse_time};

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The bot configuration (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// The data log with the market data (`charon import`).
    #[arg(long)]
    pub data: PathBuf,
    /// The run log to write (must not exist); with `--sweep`, the sweep's directory (must not
    /// exist): `points/NNNN/` (each point's configuration), `results.csv`, `results.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// Start of the period: a date-time (`2022-01-15T00:00:00Z`, `2022-01-15 00:00`) or epoch.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<Timestamp>,
    /// End of the period (inclusive), same forms as `--from`.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<Timestamp>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Also report the statistics in and out of sample: the span is cut in time at
    /// IN/(IN+OUT) (`70:30`); one continuous run, two windows (docs/SWEEPS.md).
    #[arg(long, value_name = "IN:OUT")]
    pub split: Option<Split>,
    /// Sweep a key over values: `KEY=FROM..TO:STEP` (exact decimals) or `KEY=V1,V2,...`;
    /// repeat for a grid (every combination). KEY is a configuration path
    /// (`bot.pair.exits.stop_loss_pct`, `bot[NAME].pair[SYMBOL].leverage`,
    /// `simulation.slippage_bps`) or `params.NAME` (a template parameter).
    #[arg(
        long,
        value_name = "KEY=VALUES",
        value_parser = grid::parse_axis,
        conflicts_with_all = ["report_json", "html"]
    )]
    pub sweep: Vec<Axis>,
    /// The statistic a sweep is ranked by: total_return, cagr, sharpe, sortino, calmar,
    /// max_drawdown, volatility, trades, win_rate, profit_factor, expectancy, exposure, pnl
    /// (highest first; max_drawdown, volatility and exposure lowest first).
    #[arg(
        long,
        value_name = "STAT",
        default_value = "sharpe",
        requires = "sweep"
    )]
    pub sort: Metric,
    /// The bot whose statistic ranks a sweep (default: the configuration's first).
    #[arg(long, value_name = "BOT", requires = "sweep")]
    pub sort_bot: Option<BotId>,
    /// How many of a sweep's best points to print (the files hold all).
    #[arg(long, value_name = "N", default_value_t = 20, requires = "sweep")]
    pub top: usize,
    /// Threads a sweep runs points on (default: every core).
    #[arg(long, value_name = "N", requires = "sweep")]
    pub threads: Option<NonZeroUsize>,
}

/// How a run's report is computed and where it goes (`backtest`, `demo`, `replay run`).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Also write the report as JSON to this file: every figure and statistic, every trade,
    /// the equity and contribution curves (docs/STATISTICS.md).
    #[arg(long)]
    pub report_json: Option<PathBuf>,
    /// Also write the report as one self-contained HTML page (charts, statistics, every trade,
    /// the risk events; no network needed to view it).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The annual risk-free rate in percent that Sharpe and Sortino subtract (`4.5` for 4.5%
    /// a year).
    #[arg(
        long,
        value_name = "PCT",
        default_value = "0",
        allow_negative_numbers = true,
        value_parser = parse_risk_free_rate
    )]
    pub risk_free_rate: Settings,
}
