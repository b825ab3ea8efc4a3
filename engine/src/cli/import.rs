//! The grammar of `charon import`.

use std::path::PathBuf;

use charon_adapters::import::Format;
use charon_events::payload::market::Interval;
use charon_events::Symbol;
use clap::Args;

use super::parse::{parse_format, parse_interval};

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
