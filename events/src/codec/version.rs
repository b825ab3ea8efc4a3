//! The codec's format versions: the one this build writes, and the oldest it still reads.

/// The codec's format version, written into every record and block and into the log's meta.
/// Bump it when a payload gains a field; decoders keep reading every older version.
///
/// - 1: the first format.
/// - 2: `RunManifest` gained `data_path`, where the data log a backtest cites was.
pub const FORMAT_VERSION: u8 = 2;

/// The oldest format version this build still reads.
pub const OLDEST_READABLE_VERSION: u8 = 1;
