//! The meta record every charon log carries: identity, kind, format version, creation time.

use std::fmt;
use std::str::FromStr;

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::codec::FORMAT_VERSION;
use crate::ids::{LogId, Timestamp};

/// What a log holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// Recorded market data, high volume.
    Data,
    /// A backtest, replay or paper run: manifest, inputs (by reference or recorded), derived
    /// events.
    Run,
    /// A live session: every input and derived event.
    Live,
}

impl LogKind {
    pub fn name(self) -> &'static str {
        match self {
            LogKind::Data => "data",
            LogKind::Run => "run",
            LogKind::Live => "live",
        }
    }
}

impl fmt::Display for LogKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "data" => Ok(LogKind::Data),
            "run" => Ok(LogKind::Run),
            "live" => Ok(LogKind::Live),
            other => Err(format!("unknown log kind {other:?} (data, run or live)")),
        }
    }
}

/// How a log stores its events in sled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One framed record per key (key = seq): how run and live logs were stored before blocks.
    /// Read and appended to for those logs; never chosen for a new log.
    PerKey,
    /// CRC'd blocks of about 4 KiB of consecutive events (key = the block's first seq): a
    /// scan runs at decode speed instead of sled's per-key speed. Every new log.
    Blocks,
}

impl Layout {
    /// The value stored under [`LAYOUT_KEY`] for a log in this layout.
    pub(crate) fn marker(self) -> &'static [u8] {
        match self {
            Layout::PerKey => b"per-key",
            Layout::Blocks => b"blocks",
        }
    }

    /// The layout a log's meta tree declares; `None` for an unknown marker. A log written
    /// before layouts were recorded has none: data logs were blocks, run and live logs per key.
    pub(crate) fn of(marker: Option<&[u8]>, kind: LogKind) -> Option<Layout> {
        match marker {
            None if kind == LogKind::Data => Some(Layout::Blocks),
            None => Some(Layout::PerKey),
            Some(b"per-key") => Some(Layout::PerKey),
            Some(b"blocks") => Some(Layout::Blocks),
            Some(_) => None,
        }
    }
}

/// The meta tree's key for the layout marker (beside the meta record, so that logs written
/// before it existed keep their meta record unchanged).
pub(crate) const LAYOUT_KEY: &[u8] = b"layout";

/// A log's meta record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct LogMeta {
    pub log_id: LogId,
    pub kind: LogKind,
    /// The codec version the log was created with; records carry their own too.
    pub format_version: u8,
    /// Wall-clock creation time. Informational only: nothing replays from it.
    pub created_at: Timestamp,
}

/// Prefix that marks a sled value as a charon meta record.
const MAGIC: &[u8; 8] = b"CHARON\x00\x01";

impl LogMeta {
    /// A fresh identity for a new log of `kind`, stamped now.
    pub fn new(kind: LogKind) -> Self {
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        Self {
            log_id: LogId::random(),
            kind,
            format_version: FORMAT_VERSION,
            created_at: Timestamp::from_nanos(now),
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        // The version leads so a newer build's meta can be recognized before decoding the rest.
        out.push(self.format_version);
        bincode::encode_into_std_write(self, &mut out, bincode::config::standard())
            .expect("encoding into a Vec cannot fail");
        out
    }

    /// `Ok(Err(version))` when the meta is from a newer format this build cannot decode.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Result<Self, u8>, String> {
        let rest = bytes.strip_prefix(MAGIC).ok_or("missing charon magic")?;
        let (&version, rest) = rest.split_first().ok_or("meta record truncated")?;
        if version > FORMAT_VERSION {
            return Ok(Err(version));
        }
        let (meta, used): (LogMeta, usize) =
            bincode::decode_from_slice(rest, bincode::config::standard())
                .map_err(|e| e.to_string())?;
        if used != rest.len() {
            return Err(format!("{} trailing bytes", rest.len() - used));
        }
        Ok(Ok(meta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips_and_rejects_foreign_bytes() {
        let meta = LogMeta::new(LogKind::Run);
        assert_eq!(LogMeta::decode(&meta.encode()), Ok(Ok(meta.clone())));
        assert!(LogMeta::decode(b"something else").is_err());
        let mut newer = meta.encode();
        newer[MAGIC.len()] = FORMAT_VERSION + 1;
        assert_eq!(LogMeta::decode(&newer), Ok(Err(FORMAT_VERSION + 1)));
    }

    #[test]
    fn layouts_round_trip_and_old_logs_keep_theirs() {
        for layout in [Layout::PerKey, Layout::Blocks] {
            for kind in [LogKind::Data, LogKind::Run, LogKind::Live] {
                assert_eq!(Layout::of(Some(layout.marker()), kind), Some(layout));
            }
        }
        assert_eq!(Layout::of(None, LogKind::Data), Some(Layout::Blocks));
        assert_eq!(Layout::of(None, LogKind::Run), Some(Layout::PerKey));
        assert_eq!(Layout::of(None, LogKind::Live), Some(Layout::PerKey));
        assert_eq!(Layout::of(Some(b"columns"), LogKind::Run), None);
    }
}
