//! Diagnostics on standard error, as `tracing` events: what a command warns of or reports on
//! the way (a log it waits for, a malformed feed frame, a sweep's size), and its failure. What
//! a command prints as its result stays on standard output ([`crate::output`]).
//!
//! - `--log-format text` (the default): one line an event, for people: `charon: MESSAGE`,
//!   `charon: warning: MESSAGE` for warnings. Only the message: the fields and spans are for
//!   machines.
//! - `--log-format json`: one JSON object an event, with its time, level, target, fields
//!   (`message` among them) and the spans it happened in, with theirs (`command`, `log`, `run`,
//!   `bot`, `pair`, `seq` where they apply), for a daemon's log collector.
//! - Levels come from `RUST_LOG`, as `tracing_subscriber`'s targets filter reads it (`warn`,
//!   `debug`, `charon_replay=debug,info`); `info` when it is unset. Nothing that is logged
//!   carries a secret: events hold paths, counts, seqs and messages, never credentials.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::LogFormat;

/// Installs the subscriber for the process: events to standard error in `format`, filtered by
/// `RUST_LOG`.
pub fn init(format: LogFormat) {
    let (filter, refused) = filter_from(std::env::var("RUST_LOG").ok().as_deref());
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => registry.with(layer.event_format(OneLine)).init(),
        LogFormat::Json => registry
            .with(layer.json().with_current_span(true).with_span_list(true))
            .init(),
    }
    if let Some(error) = refused {
        tracing::warn!(%error, "RUST_LOG: {error}; logging at info");
    }
}

/// The filter `RUST_LOG` asks for, or `info` (and why the text was refused).
fn filter_from(rust_log: Option<&str>) -> (Targets, Option<String>) {
    let default = Targets::new().with_default(Level::INFO);
    match rust_log.map(str::trim).filter(|text| !text.is_empty()) {
        None => (default, None),
        Some(text) => match text.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(error) => (default, Some(error.to_string())),
        },
    }
}

/// `charon: [warning: ]MESSAGE`, one line an event.
struct OneLine;

impl<S, N> FormatEvent<S, N> for OneLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut message = Message(String::new());
        event.record(&mut message);
        let level = match *event.metadata().level() {
            Level::WARN => "warning: ",
            Level::DEBUG => "debug: ",
            Level::TRACE => "trace: ",
            Level::INFO | Level::ERROR => "",
        };
        writeln!(writer, "charon: {level}{}", message.0)
    }
}

/// An event's `message` field.
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            use fmt::Write;
            let _ = write!(self.0, "{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn rust_log_sets_the_levels_and_a_bad_one_falls_back_to_info() {
        let (unset, refused) = filter_from(None);
        assert_eq!(unset.default_level(), Some(LevelFilter::INFO));
        assert!(refused.is_none());
        let (warn, _) = filter_from(Some("warn"));
        assert!(!warn.would_enable("charon_replay::sweep", &Level::INFO));
        assert!(warn.would_enable("charon_replay::sweep", &Level::WARN));
        let (targeted, _) = filter_from(Some("charon_replay=debug,warn"));
        assert!(targeted.would_enable("charon_replay::verify", &Level::DEBUG));
        assert!(!targeted.would_enable("charon_engine", &Level::INFO));
        let (bad, refused) = filter_from(Some("charon=loud"));
        assert_eq!(bad.default_level(), Some(LevelFilter::INFO));
        assert!(refused.is_some());
    }
}
