//! Value parsers of the grammar: times, intervals, event kinds, formats and the risk-free
//! rate, each refusing bad text with a message clap shows.

use charon_adapters::import::Format;
use charon_events::payload::market::Interval;
use charon_events::{EventKind, Timestamp};
use charon_replay::export::ExportFormat;
use charon_replay::statistics::Settings;
use rust_decimal::Decimal;

/// An RFC 3339 time, `2022-01-15 00:00:00` (UTC) or an epoch.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    charon_adapters::import::time::parse(text)
}

pub fn parse_export_format(text: &str) -> Result<ExportFormat, String> {
    text.parse()
}

pub fn parse_kind(text: &str) -> Result<EventKind, String> {
    text.parse::<EventKind>().map_err(|e| {
        let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
        format!("{e}; known kinds: {}", known.join(", "))
    })
}

pub fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

pub fn parse_interval(text: &str) -> Result<Interval, String> {
    text.parse()
}

pub fn parse_risk_free_rate(text: &str) -> Result<Settings, String> {
    let pct: Decimal = text
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage (e.g. 4.5)"))?;
    Settings::with_risk_free_rate_pct(pct).map_err(|e| e.to_string())
}
