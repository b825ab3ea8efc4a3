//! `charon import`: read market-data files, merge their events in time order, and add them to
//! a data log: created if missing, appended to when the new events all come after what it
//! holds, rebuilt as a merge (under a new log id, since the dataset changed) when they
//! interleave with it. A series (symbol, kind, bar interval) that overlaps one already in the
//! log is refused: that file was most likely imported before.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use charon_adapters::import::{import_file, Options};
use charon_events::payload::market::Interval;
use charon_events::{Envelope, Event, EventKind, EventLog, LogKind, Symbol, Timestamp};

use crate::cli::ImportArgs;
use crate::failure::Failure;
use crate::open_log::open_existing;

/// Events appended per batch.
const CHUNK: usize = 10_000;

/// One stream of a data log: a symbol's trades, book tickers, bars of one interval, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Series {
    symbol: Option<Symbol>,
    kind: EventKind,
    interval: Option<Interval>,
}

impl Series {
    fn of(event: &Envelope) -> Self {
        let interval = match &event.payload {
            Event::Bar(bar) => Some(bar.interval),
            _ => None,
        };
        Series {
            symbol: event.pair,
            kind: event.payload.kind(),
            interval,
        }
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = self.symbol.map_or("-".to_string(), |s| s.to_string());
        match self.interval {
            Some(Interval(seconds)) => write!(f, "{symbol} {} {seconds}s", self.kind),
            None => write!(f, "{symbol} {}", self.kind),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Span {
    count: u64,
    first: Timestamp,
    last: Timestamp,
}

/// Counts `event` into its series' span.
fn record(spans: &mut BTreeMap<Series, Span>, event: &Envelope) {
    spans
        .entry(Series::of(event))
        .and_modify(|span| {
            span.count += 1;
            span.first = span.first.min(event.ts);
            span.last = span.last.max(event.ts);
        })
        .or_insert(Span {
            count: 1,
            first: event.ts,
            last: event.ts,
        });
}

pub fn run(args: ImportArgs) -> Result<(), Failure> {
    let options = Options {
        symbol: args.symbol,
        interval: args.interval,
        skip_bad: args.skip_bad,
    };
    let mut events = Vec::new();
    let (mut skipped, mut first_skipped) = (0u64, None);
    for file in &args.files {
        let imported = import_file(args.format, file, &options)
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        events.extend(imported.events);
        skipped += imported.skipped;
        first_skipped = first_skipped.or(imported.first_skipped);
    }
    if events.is_empty() {
        return Err(Failure::BadInput(format!(
            "no market events in {} (format {})",
            describe_files(&args.files),
            args.format
        )));
    }
    // Stable: events at the same time keep their file order.
    events.sort_by_key(|event| event.ts);
    let mut new_spans = BTreeMap::new();
    for event in &events {
        record(&mut new_spans, event);
    }

    let outcome = store(&args.data, &mut events, &new_spans)?;
    report(&args, &new_spans, &outcome, skipped, first_skipped);
    Ok(())
}

struct Outcome {
    log_id: String,
    total: u64,
    /// The old log id when the log had to be rebuilt.
    replaced: Option<String>,
}

fn store(
    path: &Path,
    events: &mut [Envelope],
    new_spans: &BTreeMap<Series, Span>,
) -> Result<Outcome, Failure> {
    let is_new = !path.exists()
        || std::fs::read_dir(path)
            .map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))?
            .next()
            .is_none();
    if is_new {
        let log = EventLog::create(path, LogKind::Data)?;
        append_all(&log, events)?;
        return Ok(Outcome {
            log_id: log.meta().log_id.to_string(),
            total: log.last_seq(),
            replaced: None,
        });
    }
    let log = open_existing(path)?;
    if log.kind() != LogKind::Data {
        return Err(Failure::BadInput(format!(
            "{}: a {} log; market data goes into a data log",
            path.display(),
            log.kind()
        )));
    }
    let mut existing = BTreeMap::<Series, Span>::new();
    let mut last_ts = Timestamp::from_nanos(i64::MIN);
    for event in log.iter() {
        let event = event?;
        last_ts = last_ts.max(event.ts);
        record(&mut existing, &event);
    }
    for (series, new) in new_spans {
        if let Some(old) = existing
            .get(series)
            .filter(|old| new.first <= old.last && old.first <= new.last)
        {
            return Err(Failure::BadInput(format!(
                "{}: {series} from {} to {} overlaps the {} events it already holds ({} to {}); was this file imported before?",
                path.display(),
                new.first,
                new.last,
                old.count,
                old.first,
                old.last
            )));
        }
    }
    let first_new = events
        .first()
        .map(|event| event.ts)
        .expect("checked non-empty");
    if first_new >= last_ts {
        append_all(&log, events)?;
        return Ok(Outcome {
            log_id: log.meta().log_id.to_string(),
            total: log.last_seq(),
            replaced: None,
        });
    }
    let old_id = log.meta().log_id.to_string();
    let rebuilt = rebuild_merged(path, log, events)?;
    Ok(Outcome {
        log_id: rebuilt.0,
        total: rebuilt.1,
        replaced: Some(old_id),
    })
}

fn append_all(log: &EventLog, events: &mut [Envelope]) -> Result<(), Failure> {
    for chunk in events.chunks_mut(CHUNK) {
        log.append_batch(chunk)?;
    }
    log.sync_through(log.last_seq())?;
    Ok(())
}

/// Writes old and new events, merged by time (old first at equal times), into a fresh data log
/// beside the old one, then swaps the directories. Until the swap the old log is untouched; a
/// crash during it leaves `<log>.replaced` and `<log>.importing` for the user to inspect.
fn rebuild_merged(
    path: &Path,
    old: EventLog,
    new: &mut [Envelope],
) -> Result<(String, u64), Failure> {
    let sibling = |suffix: &str| {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        path.with_file_name(name)
    };
    let (staging, replaced) = (sibling(".importing"), sibling(".replaced"));
    for leftover in [&staging, &replaced] {
        if leftover.exists() {
            return Err(Failure::BadInput(format!(
                "{} exists, left by an interrupted import; inspect and remove it first",
                leftover.display()
            )));
        }
    }
    let merged = EventLog::create(&staging, LogKind::Data)?;
    let mut new = new.iter_mut().peekable();
    let mut batch = Vec::with_capacity(CHUNK);
    for event in old.iter() {
        let event = event?;
        while let Some(next) = new.next_if(|next| next.ts < event.ts) {
            batch.push(next.clone());
        }
        batch.push(event);
        if batch.len() >= CHUNK {
            merged.append_batch(&mut batch)?;
            batch.clear();
        }
    }
    batch.extend(new.map(|event| event.clone()));
    merged.append_batch(&mut batch)?;
    merged.sync_through(merged.last_seq())?;
    let result = (merged.meta().log_id.to_string(), merged.last_seq());
    drop((old, merged));
    let io = |e: std::io::Error| {
        Failure::Failed(format!(
            "swapping in the merged data log at {}: {e}",
            path.display()
        ))
    };
    std::fs::rename(path, &replaced).map_err(io)?;
    std::fs::rename(&staging, path).map_err(io)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(io)?;
    }
    std::fs::remove_dir_all(&replaced).map_err(io)?;
    Ok(result)
}

fn describe_files(files: &[PathBuf]) -> String {
    match files {
        [one] => one.display().to_string(),
        many => format!("{} files", many.len()),
    }
}

fn report(
    args: &ImportArgs,
    spans: &BTreeMap<Series, Span>,
    outcome: &Outcome,
    skipped: u64,
    first: Option<String>,
) {
    let imported: u64 = spans.values().map(|span| span.count).sum();
    outln!(
        "imported {imported} events from {} into {} (data log {}, {} events in all)",
        describe_files(&args.files),
        args.data.display(),
        outcome.log_id,
        outcome.total
    );
    let width = spans
        .keys()
        .map(|series| series.to_string().len())
        .max()
        .unwrap_or(0);
    for (series, span) in spans {
        outln!(
            "  {:<width$}  {:>10}  {} .. {}",
            series.to_string(),
            span.count,
            span.first,
            span.last
        );
    }
    if let Some(old) = &outcome.replaced {
        outln!("the new events interleave with the old: the data log was rebuilt as a merge (it was {old})");
    }
    if skipped > 0 {
        outln!(
            "skipped {skipped} bad rows; the first: {}",
            first.unwrap_or_default()
        );
    }
}
