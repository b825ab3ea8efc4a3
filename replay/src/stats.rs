//! A log's summary: identity, seq and time span, counts by kind, size on disk.

use std::collections::BTreeMap;

use charon_events::{EventKind, EventLog, LogError, LogMeta, Seq, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct LogStats {
    pub path: String,
    pub meta: LogMeta,
    pub events: u64,
    pub first_seq: Option<Seq>,
    pub last_seq: Option<Seq>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// Counts by kind name, sorted by name.
    pub by_kind: BTreeMap<String, u64>,
    pub bytes_on_disk: u64,
}

/// Reads the whole log (every record's CRC is checked on the way).
pub fn collect(log: &EventLog) -> Result<LogStats, LogError> {
    let mut counts: BTreeMap<EventKind, u64> = BTreeMap::new();
    let (mut events, mut first, mut last) = (0u64, None, None);
    for env in log.iter() {
        let env = env?;
        events += 1;
        *counts.entry(env.payload.kind()).or_default() += 1;
        if first.is_none() {
            first = Some((env.seq, env.ts));
        }
        last = Some((env.seq, env.ts));
    }
    Ok(LogStats {
        path: log.path().display().to_string(),
        meta: log.meta().clone(),
        events,
        first_seq: first.map(|f| f.0),
        last_seq: last.map(|l| l.0),
        first_ts: first.map(|f| f.1),
        last_ts: last.map(|l| l.1),
        by_kind: counts
            .into_iter()
            .map(|(kind, n)| (kind.name().to_string(), n))
            .collect(),
        bytes_on_disk: log.bytes_on_disk()?,
    })
}

impl LogStats {
    /// The aligned, human-readable summary.
    pub fn render_text(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let mut out = format!(
            "log        {}\nid         {}\nkind       {}\nformat     v{}\ncreated    {}\nevents     {}\nseqs       {} .. {}\ntime       {} .. {}\non disk    {} bytes\n",
            self.path,
            self.meta.log_id,
            self.meta.kind,
            self.meta.format_version,
            self.meta.created_at,
            self.events,
            opt(self.first_seq.map(|s| s.to_string())),
            opt(self.last_seq.map(|s| s.to_string())),
            opt(self.first_ts.map(|t| t.to_string())),
            opt(self.last_ts.map(|t| t.to_string())),
            self.bytes_on_disk,
        );
        if !self.by_kind.is_empty() {
            out.push_str("by kind\n");
            let width = self.by_kind.keys().map(String::len).max().unwrap_or(0);
            for (kind, count) in &self.by_kind {
                out.push_str(&format!("  {kind:<width$}  {count:>12}\n"));
            }
        }
        out
    }
}
