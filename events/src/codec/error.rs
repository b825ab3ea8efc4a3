//! What can be wrong with a record or a block; the log adds its path and the seq.

use super::version::FORMAT_VERSION;
use super::wire::HEADER_LEN;
use crate::ids::Seq;

/// A record or block that cannot be read. The log adds its path and the seq.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("record is {len} bytes, shorter than its {HEADER_LEN}-byte header")]
    Truncated { len: usize },
    #[error("format version {found} is newer than this build reads (up to {FORMAT_VERSION})")]
    NewerVersion { found: u8 },
    #[error("format version {found} is not a charon format")]
    UnknownVersion { found: u8 },
    #[error("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Crc { stored: u32, computed: u32 },
    #[error("cannot decode event body: {0}")]
    Decode(String),
    #[error("{0} trailing bytes after the event body")]
    TrailingBytes(usize),
    #[error("cannot encode event: {0}")]
    Encode(String),
    #[error("block holds {count} events; seq {seq} is not among them")]
    SeqNotInBlock { seq: Seq, count: u32 },
}
