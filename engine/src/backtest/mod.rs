//! `charon backtest`: run a configuration over recorded market data and report.
//!
//! The run log at `--out` holds the run's manifest (mode, binary version, the configuration
//! and its templates in full with their hash, the data log's id and the seq range used), then
//! every derived event; inputs stay in the data log and are cited by seq. The report (return,
//! drawdown, trades, win rate, fees) is printed at the end and, with `--report-json`, written
//! as JSON.

pub mod bundle;
pub mod runner;

use std::path::PathBuf;

use charon_adapters::import::time;
use charon_events::{EventLog, Timestamp};
use clap::Args;

use crate::failure::Failure;
use bundle::RunSpec;
use runner::Outcome;

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// The bot configuration (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// The data log with the market data (`charon import`).
    #[arg(long)]
    pub data: PathBuf,
    /// The run log to write (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// Start of the period: a date-time (`2022-01-15T00:00:00Z`, `2022-01-15 00:00`) or epoch.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<Timestamp>,
    /// End of the period (inclusive), same forms as `--from`.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<Timestamp>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub report_json: Option<PathBuf>,
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    time::parse(text)
}

pub fn run(args: BacktestArgs) -> Result<(), Failure> {
    let spec = RunSpec::from_file(&args.config)?;
    let data = EventLog::open(&args.data)?;
    let (first, last) = runner::seq_range(&data, args.from, args.to)?;
    let outcome = runner::run(&spec, &data, first, last, &args.out, true)?;
    print_outcome(&outcome, &args.out);
    if let Some(path) = &args.report_json {
        write_json(&outcome, path)?;
    }
    Ok(())
}

pub fn print_outcome(outcome: &Outcome, out: &std::path::Path) {
    print!("{}", outcome.report.render_text());
    println!(
        "run log {}: {} inputs (data log {} seqs {}..={}), {} derived events",
        out.display(),
        outcome.inputs,
        outcome.range.log_id.0,
        outcome.range.first_seq,
        outcome.range.last_seq,
        outcome.derived
    );
}

pub fn write_json(outcome: &Outcome, path: &std::path::Path) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(&outcome.report)
        .map_err(|e| Failure::Failed(format!("report: {e}")))?;
    std::fs::write(path, json + "\n")
        .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))
}
