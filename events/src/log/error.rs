//! Everything that can go wrong with a log, each naming the log's path (and the seq where one
//! is involved) so the message alone is enough to act on.

use std::path::PathBuf;

use crate::codec::CodecError;
use crate::ids::Seq;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: no such log")]
    NotFound { path: PathBuf },
    #[error("{path}: not a charon log (no sled database here)")]
    NotALog { path: PathBuf },
    #[error("{path}: sled database without a charon meta record")]
    MissingMeta { path: PathBuf },
    #[error("{path}: unreadable meta record: {reason}")]
    InvalidMeta { path: PathBuf, reason: String },
    #[error("{path}: written by format version {found}; this build reads up to {supported}")]
    NewerFormat {
        path: PathBuf,
        found: u8,
        supported: u8,
    },
    #[error("{path}: already exists and is not empty")]
    AlreadyExists { path: PathBuf },
    #[error("{path}: in use by another process")]
    Locked { path: PathBuf },
    #[error("{path}: corrupt record at seq {seq}: {source}")]
    Corrupt {
        path: PathBuf,
        seq: Seq,
        source: CodecError,
    },
    #[error("{path}: corrupt block holding seqs from {first_seq}: {source}")]
    CorruptBlock {
        path: PathBuf,
        first_seq: Seq,
        source: CodecError,
    },
    #[error("{path}: corrupt snapshot through seq {seq}: {reason}")]
    CorruptSnapshot {
        path: PathBuf,
        seq: Seq,
        reason: String,
    },
    #[error("{path}: seq {found} follows seq {previous}; the log is not contiguous")]
    Gap {
        path: PathBuf,
        previous: Seq,
        found: Seq,
    },
    #[error("{path}: seq {seq} is missing although the log runs past it")]
    Missing { path: PathBuf, seq: Seq },
    #[error("{path}: malformed key {key:02x?}")]
    BadKey { path: PathBuf, key: Vec<u8> },
    #[error("{path}: cannot sync through seq {seq}: the last appended seq is {last}")]
    NotAppended { path: PathBuf, seq: Seq, last: Seq },
    #[error("cannot encode event for {path}: {source}")]
    Encode { path: PathBuf, source: CodecError },
    #[error("{path}: storage error: {source}")]
    Storage { path: PathBuf, source: sled::Error },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl LogError {
    /// Whether the error is the input's fault (a bad path, a corrupt or foreign log) rather
    /// than the machine's or the caller's; the CLI exits 2 for these, 1 for the rest (a log
    /// held by another process is a condition of the moment, not bad input).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            LogError::Storage { .. }
                | LogError::Io { .. }
                | LogError::Encode { .. }
                | LogError::Locked { .. }
                | LogError::NotAppended { .. }
        )
    }

    pub(crate) fn storage(path: &std::path::Path, source: sled::Error) -> Self {
        LogError::Storage {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        LogError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
