//! Raw WebSocket recordings: one frame a line, `<local receive ns> <frame JSON>`, plain or
//! gzip. Events are stamped with the receive time, the same clock the live adapter stamps
//! with, so a replay orders events exactly as the engine saw them.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use charon_events::{Envelope, Timestamp};
use flate2::read::MultiGzDecoder;

use crate::binance::stream::parse_frame;

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    BadLine {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Opens a recording, decompressing it when it starts with the gzip magic.
fn open(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::new(File::open(path)?);
    let is_gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip {
        Box::new(BufReader::new(MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Reads every market event of a recording as input envelopes (seq unassigned).
pub fn read_recording(path: &Path) -> Result<Vec<Envelope>, RecordingError> {
    let io = |source| RecordingError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut events = Vec::new();
    for (index, line) in open(path).map_err(io)?.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| RecordingError::BadLine {
            path: path.to_path_buf(),
            line: index + 1,
            reason,
        };
        let (ns, frame) = line
            .split_once(' ')
            .ok_or_else(|| bad("expected `<ns> <json>`".into()))?;
        let ns: i64 = ns
            .parse()
            .map_err(|_| bad(format!("bad receive time {ns:?}")))?;
        match parse_frame(frame) {
            Ok(Some(parsed)) => {
                events.push(
                    Envelope::input(Timestamp::from_nanos(ns), parsed.event)
                        .with_pair(parsed.symbol),
                );
            }
            Ok(None) => {}
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    Ok(events)
}
