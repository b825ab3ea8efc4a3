//! The command-line grammar (see DESIGN.md "Command line").

use std::path::PathBuf;

use charon_adapters::import::Format;
use charon_events::payload::market::Interval;
use charon_events::{EventKind, Seq, Symbol};
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "charon",
    version,
    about = "Actor-based, event-sourced crypto trading engine"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read event logs.
    #[command(subcommand)]
    Log(LogCommand),
    /// Load market data files into a data log.
    Import(ImportArgs),
    /// Check configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run a bot configuration over recorded market data and report.
    Backtest(crate::backtest::BacktestArgs),
    /// The embedded default: a multi-pair backtest on real data shipped in the repo.
    Demo(crate::demo::DemoArgs),
    /// Replay recorded runs: verify that their inputs re-derive them exactly.
    #[command(subcommand)]
    Replay(crate::replay_cmd::ReplayCommand),
    /// Benchmarks; one line per figure: `BENCH <name> <value> <unit>`.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Summary: identity, counts by kind, first/last seq and time, bytes on disk.
    Stats {
        log: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print events, optionally filtered.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    pub log: PathBuf,
    /// First seq to show.
    #[arg(long)]
    pub from: Option<Seq>,
    /// Last seq to show.
    #[arg(long)]
    pub to: Option<Seq>,
    /// Only these kinds (repeat or comma-separate), e.g. `--kind trade,order_filled`.
    #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
    pub kind: Vec<EventKind>,
    /// JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_kind(text: &str) -> Result<EventKind, String> {
    text.parse::<EventKind>().map_err(|e| {
        let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
        format!("{e}; known kinds: {}", known.join(", "))
    })
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load a bot configuration and its strategy templates; report every problem with its file,
    /// line and field.
    Check { config: PathBuf },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// binance-klines, ohlcv-csv, binance-trades, binance-aggtrades, freqtrade-json,
    /// funding-csv or binance-ws.
    #[arg(value_parser = parse_format)]
    pub format: Format,
    /// The files (plain or gzip).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The data log to create or add to.
    #[arg(long)]
    pub data: PathBuf,
    /// The symbol, for formats whose files do not name it (for binance-ws: keep only it).
    #[arg(long)]
    pub symbol: Option<Symbol>,
    /// Bar length (`1m`, `4h`, `1d`), for bar formats; inferred from the data when absent.
    #[arg(long, value_parser = parse_interval)]
    pub interval: Option<Interval>,
    /// Count and skip bad rows instead of stopping at the first.
    #[arg(long)]
    pub skip_bad: bool,
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

fn parse_interval(text: &str) -> Result<Interval, String> {
    text.parse()
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Codec and event-log figures on the recorded Binance data.
    Log(BenchLogArgs),
    /// Backtest throughput on ticks and on 1-minute bars: engine loop and whole process.
    Backtest(crate::bench::BenchBacktestArgs),
    /// `replay verify` throughput on the backtest benchmark's runs.
    Replay(crate::bench::BenchReplayArgs),
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
