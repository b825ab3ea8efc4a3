//! The codec's format versions: the one this build writes, and the oldest it still reads.

use super::error::CodecError;

/// The codec's format version, written into every record and block and into the log's meta.
/// Bump it when a payload gains a field; decoders keep reading every older version.
///
/// - 1: the first format.
/// - 2: `RunManifest` gained `data_path`, where the data log a backtest cites was.
pub const FORMAT_VERSION: u8 = 2;

/// The oldest format version this build still reads.
pub const OLDEST_READABLE_VERSION: u8 = 1;

/// That a record or block written in `version` can be read by this build.
pub(crate) fn check_version(version: u8) -> Result<(), CodecError> {
    if version > FORMAT_VERSION {
        Err(CodecError::NewerVersion { found: version })
    } else if version < OLDEST_READABLE_VERSION {
        Err(CodecError::UnknownVersion { found: version })
    } else {
        Ok(())
    }
}
