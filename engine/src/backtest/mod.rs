//! `charon backtest`: run a configuration over recorded market data and report.
//!
//! The run log at `--out` holds the run's manifest (mode, binary version, the configuration
//! and its templates in full with their hash, the data log's id and the seq range used), then
//! every derived event; inputs stay in the data log and are cited by seq. The report (its
//! figures and the statistics of the bot and each pair, docs/STATISTICS.md) is printed at the
//! end and, with `--report-json`, written as JSON with every trade and the curves.
//!
//! `--split IN:OUT` adds the statistics in and out of sample (`split.rs`); `--sweep` runs a
//! grid of configurations instead of one (`grid.rs`, `sweep.rs`, `sweep_cmd.rs`), `--out`
//! then being the sweep's directory (docs/SWEEPS.md).

pub mod bundle;
pub mod grid;
pub mod metric;
pub mod results;
pub mod runner;
pub mod split;
pub mod sweep;
mod sweep_cmd;

use std::num::NonZeroUsize;
use std::path::PathBuf;

use charon_adapters::import::time;
use charon_events::{BotId, Timestamp};
use charon_replay::html;
use charon_replay::html::report::{RunDescription, SampleSplit};
use charon_replay::report::Report;
use charon_replay::statistics::{compute, Settings};
use clap::Args;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::failure::Failure;
use crate::open_log::open_existing;
use bundle::RunSpec;
use grid::Axis;
use metric::Metric;
use runner::Outcome;
use split::{Split, SplitStatistics};

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

fn parse_time(text: &str) -> Result<Timestamp, String> {
    time::parse(text)
}

fn parse_risk_free_rate(text: &str) -> Result<Settings, String> {
    let pct: Decimal = text
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage (e.g. 4.5)"))?;
    Settings::with_risk_free_rate_pct(pct).map_err(|e| e.to_string())
}

pub fn run(args: BacktestArgs) -> Result<(), Failure> {
    let spec = RunSpec::from_file(&args.config)?;
    let data = open_existing(&args.data)?;
    let (first, last) = runner::seq_range(&data, args.from, args.to)?;
    if !args.sweep.is_empty() {
        return sweep_cmd::run(&args, &spec, &data, first, last);
    }
    let Some(split) = args.split else {
        let settings = args.report.risk_free_rate;
        let outcome = runner::run(&spec, &data, first, last, &args.out, true, &settings)?;
        return report(&outcome, &args.out, &args.report);
    };
    runner::check_span(&data, first, last)?;
    let (start, end) = runner::time_span(&data, first, last)?;
    let cut = split.cut(start, end).map_err(Failure::BadInput)?;
    let settings = args.report.risk_free_rate;
    let outcome = runner::run(&spec, &data, first, last, &args.out, true, &settings)?;
    let history = &outcome.report.history;
    let windows = SplitStatistics {
        split,
        cut: cut.at,
        in_sample: compute(history, cut.in_sample, &settings),
        out_of_sample: compute(history, cut.out_of_sample, &settings),
    };
    print_outcome(&outcome, &args.out);
    outln!();
    out!("{}", windows.render_text());
    if let Some(path) = &args.report.report_json {
        let with_split = WithSplit {
            report: &outcome.report,
            split: &windows,
        };
        write_json(&with_split, path)?;
    }
    if let Some(path) = &args.report.html {
        let split = SampleSplit {
            ratio: windows.split.to_string(),
            cut: windows.cut,
            in_sample: windows.in_sample.clone(),
            out_of_sample: windows.out_of_sample.clone(),
        };
        write_html(&outcome, &args.out, path, Some(split))?;
        outln!("HTML report: {}", path.display());
    }
    Ok(())
}

/// The JSON report of a run with `--split`: the report's fields and `split`.
#[derive(Serialize)]
struct WithSplit<'a> {
    #[serde(flatten)]
    report: &'a Report,
    split: &'a SplitStatistics,
}

/// Prints a finished run's report and writes its JSON and HTML where `--report-json` and
/// `--html` ask.
pub fn report(outcome: &Outcome, out: &std::path::Path, args: &ReportArgs) -> Result<(), Failure> {
    print_outcome(outcome, out);
    if let Some(path) = &args.report_json {
        write_json(&outcome.report, path)?;
    }
    if let Some(path) = &args.html {
        write_html(outcome, out, path, None)?;
        outln!("HTML report: {}", path.display());
    }
    Ok(())
}

fn write_html(
    outcome: &Outcome,
    out: &std::path::Path,
    path: &std::path::Path,
    split: Option<SampleSplit>,
) -> Result<(), Failure> {
    let about = RunDescription {
        title: "charon backtest report".into(),
        lines: vec![
            ("run log".into(), out.display().to_string()),
            ("inputs".into(), outcome.inputs_text()),
            ("derived events".into(), outcome.derived.to_string()),
            (
                "configuration".into(),
                format!("sha256 {}", outcome.config_hash),
            ),
        ],
        split,
    };
    std::fs::write(path, html::report::render(&outcome.report, &about))
        .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))
}

fn print_outcome(outcome: &Outcome, out: &std::path::Path) {
    out!("{}", outcome.report.render_text());
    outln!(
        "run log {}: {}, {} derived events",
        out.display(),
        outcome.inputs_text(),
        outcome.derived
    );
}

fn write_json(report: &impl Serialize, path: &std::path::Path) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(report)
        .map_err(|e| Failure::Failed(format!("report: {e}")))?;
    std::fs::write(path, json + "\n")
        .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))
}
