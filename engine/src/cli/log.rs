//! The grammar of `charon log stats|inspect|export`.

use std::path::PathBuf;

use charon_events::{BotId, EventKind, Seq, Symbol, Timestamp};
use charon_replay::export::ExportFormat;
use clap::{Args, Subcommand};

use super::parse::{parse_export_format, parse_kind, parse_time};

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
