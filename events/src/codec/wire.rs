//! The fixed parts of the wire format: bincode 2's standard configuration (varint integers,
//! little-endian) with a bound on what one body may claim, and the length of the header in
//! front of every record and block.

use bincode::config::{Configuration, Limit, LittleEndian, Varint};

/// `[format version: u8][crc32: u32 LE]` in front of every record and block.
pub(crate) const HEADER_LEN: usize = 5;

/// No single event body may claim more than this many bytes while decoding; a bound on what a
/// damaged length prefix could make the decoder allocate.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

type WireConfig = Configuration<LittleEndian, Varint, Limit<MAX_BODY_BYTES>>;

#[inline]
pub(crate) fn wire_config() -> WireConfig {
    bincode::config::standard().with_limit::<MAX_BODY_BYTES>()
}
