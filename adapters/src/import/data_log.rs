//! Adding imported events to a data log: created if missing, appended to when the new events
//! all come after what it holds, rebuilt as a merge (under a new log id, since the dataset
//! changed) when they interleave with it. A series (symbol, kind, bar interval) that overlaps
//! one already in the log is refused: that file was most likely imported before.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use charon_events::payload::market::Interval;
use charon_events::{Envelope, Event, EventKind, EventLog, LogError, LogKind, Symbol, Timestamp};

/// Why events could not be added to a data log.
#[derive(Debug, thiserror::Error)]
pub enum DataLogError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("{}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: a {kind} log; market data goes into a data log", path.display())]
    NotADataLog { path: PathBuf, kind: LogKind },
    #[error(
        "{}: {series} from {} to {} overlaps the {} events it already holds ({} to {}); was this \
         file imported before?",
        path.display(), new.first, new.last, old.count, old.first, old.last
    )]
    Overlap {
        path: PathBuf,
        series: String,
        new: Span,
        old: Span,
    },
    #[error("{} exists, left by an interrupted import; inspect and remove it first", .0.display())]
    Leftover(PathBuf),
    #[error("{}: no events to add", .0.display())]
    Empty(PathBuf),
    #[error("swapping in the merged data log at {}: {source}", path.display())]
    Swap {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DataLogError {
    /// Whether the input is at fault (exit 2) rather than the machine (exit 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            DataLogError::Log(error) => error.is_bad_input(),
            DataLogError::Swap { .. } => false,
            DataLogError::Unreadable { .. }
            | DataLogError::NotADataLog { .. }
            | DataLogError::Overlap { .. }
            | DataLogError::Leftover(_)
            | DataLogError::Empty(_) => true,
        }
    }
}

/// Adds `events` (any order; sorted here, equal times keeping their order) to the data log at
/// `path`, opening an existing log with `open`; also returns each series' span of the new
/// events.
pub fn add_to_data_log(
    path: &Path,
    mut events: Vec<Envelope>,
    open: impl FnOnce(&Path) -> Result<EventLog, LogError>,
) -> Result<(Added, BTreeMap<Series, Span>), DataLogError> {
    if events.is_empty() {
        return Err(DataLogError::Empty(path.to_path_buf()));
    }
    // Stable: events at the same time keep their file order.
    events.sort_by_key(|event| event.ts);
    let mut new_spans = BTreeMap::new();
    for event in &events {
        record(&mut new_spans, event);
    }
    let added = store(path, &mut events, &new_spans, open)?;
    Ok((added, new_spans))
}

/// Events appended per batch.
const CHUNK: usize = 10_000;

/// One stream of a data log: a symbol's trades, book tickers, bars of one interval, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Series {
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

/// How many events of a series, from when to when.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub count: u64,
    pub first: Timestamp,
    pub last: Timestamp,
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

/// What adding events to a data log did.
#[derive(Debug)]
pub struct Added {
    pub log_id: String,
    /// Events the log holds now.
    pub total: u64,
    /// The old log id when the log had to be rebuilt.
    pub replaced: Option<String>,
}

/// Adds `events` (in time order; `new_spans` their series) to the data log at `path`: a new
/// log, an append, or a rebuild as a merge, opening an existing log with `open`.
fn store(
    path: &Path,
    events: &mut [Envelope],
    new_spans: &BTreeMap<Series, Span>,
    open: impl FnOnce(&Path) -> Result<EventLog, LogError>,
) -> Result<Added, DataLogError> {
    let is_new = !path.exists()
        || std::fs::read_dir(path)
            .map_err(|source| DataLogError::Unreadable {
                path: path.to_path_buf(),
                source,
            })?
            .next()
            .is_none();
    if is_new {
        let log = EventLog::create(path, LogKind::Data)?;
        append_all(&log, events)?;
        return Ok(Added {
            log_id: log.meta().log_id.to_string(),
            total: log.last_seq(),
            replaced: None,
        });
    }
    let log = open(path)?;
    if log.kind() != LogKind::Data {
        return Err(DataLogError::NotADataLog {
            path: path.to_path_buf(),
            kind: log.kind(),
        });
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
            return Err(DataLogError::Overlap {
                path: path.to_path_buf(),
                series: series.to_string(),
                new: *new,
                old: *old,
            });
        }
    }
    let first_new = events
        .first()
        .map(|event| event.ts)
        .expect("add_to_data_log refuses an empty import");
    if first_new >= last_ts {
        append_all(&log, events)?;
        return Ok(Added {
            log_id: log.meta().log_id.to_string(),
            total: log.last_seq(),
            replaced: None,
        });
    }
    let old_id = log.meta().log_id.to_string();
    let rebuilt = rebuild_merged(path, log, events)?;
    Ok(Added {
        log_id: rebuilt.0,
        total: rebuilt.1,
        replaced: Some(old_id),
    })
}

fn append_all(log: &EventLog, events: &mut [Envelope]) -> Result<(), DataLogError> {
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
) -> Result<(String, u64), DataLogError> {
    let sibling = |suffix: &str| {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        path.with_file_name(name)
    };
    let (staging, replaced) = (sibling(".importing"), sibling(".replaced"));
    for leftover in [&staging, &replaced] {
        if leftover.exists() {
            return Err(DataLogError::Leftover(leftover.to_path_buf()));
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
    let io = |source: std::io::Error| DataLogError::Swap {
        path: path.to_path_buf(),
        source,
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
