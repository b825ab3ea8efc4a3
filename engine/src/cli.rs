//! The command-line grammar (see DESIGN.md "Command line").

use std::path::PathBuf;

use charon_adapters::import::Format;
use charon_events::payload::market::Interval;
use charon_events::{BotId, EventKind, Seq, Symbol, Timestamp};
use charon_replay::export::ExportFormat;
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
    /// Replay recorded runs: verify them against their inputs, run what-ifs, diff two runs.
    #[command(subcommand)]
    Replay(crate::replay_cmd::ReplayCommand),
    /// A paper-trading run fed by `charon feed`; continues its log after a crash or a stop.
    Run(crate::paper::RunArgs),
    /// Serve a data log as a market feed to paper runs in other processes.
    Feed(crate::feed::FeedArgs),
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
    /// Write events for other tools (JSON lines, CSV, fills or closed trades as CSV),
    /// optionally filtered.
    Export(ExportArgs),
}

/// Which events `log inspect` and `log export` take: every filter given must hold (AND).
#[derive(Debug, Args)]
pub struct EventFilterArgs {
    /// First seq (inclusive).
    #[arg(long)]
    pub from: Option<Seq>,
    /// Last seq (inclusive).
    #[arg(long)]
    pub to: Option<Seq>,
    /// Only these kinds (repeat or comma-separate), e.g. `--kind trade,order_filled`.
    #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
    pub kind: Vec<EventKind>,
    /// Only events routed to these bots (the envelope's `bot`; repeat or comma-separate).
    #[arg(long, value_delimiter = ',')]
    pub bot: Vec<BotId>,
    /// Only events routed to these pairs (the envelope's `pair`, the instrument for market
    /// data; repeat or comma-separate).
    #[arg(long, value_delimiter = ',')]
    pub pair: Vec<Symbol>,
    /// Earliest event time (inclusive): RFC 3339, `2022-01-15 00:00:00` (UTC) or an epoch.
    #[arg(long, value_parser = parse_time)]
    pub from_ts: Option<Timestamp>,
    /// Latest event time (inclusive), same forms as `--from-ts`.
    #[arg(long, value_parser = parse_time)]
    pub to_ts: Option<Timestamp>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    pub log: PathBuf,
    #[command(flatten)]
    pub filter: EventFilterArgs,
    /// JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
    /// Keep printing events as they are appended, by this process's or another's writer
    /// (`charon run` serves its log to followers), until `--to` is passed or interrupted.
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub log: PathBuf,
    /// `jsonl` (what `inspect --json` prints), `csv` (one row per event), `fills-csv` (one row
    /// per fill) or `trades-csv` (one row per closed trade, selected by the update that closed
    /// it), the last two for spreadsheets.
    #[arg(long, value_parser = parse_export_format)]
    pub format: ExportFormat,
    #[command(flatten)]
    pub filter: EventFilterArgs,
    /// Write here instead of to standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    charon_adapters::import::time::parse(text)
}

fn parse_export_format(text: &str) -> Result<ExportFormat, String> {
    text.parse()
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
