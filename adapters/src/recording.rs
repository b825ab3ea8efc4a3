//! Raw WebSocket recordings: one frame a line, `<local receive ns> <frame JSON>`, plain or
//! gzip. Events are stamped with the receive time, the same clock the live adapter stamps
//! with, so a replay orders events exactly as the engine saw them. (The reading itself is the
//! `binance-ws` importer's.)

use std::path::Path;

use charon_events::Envelope;

use crate::import::{import_file, Format, ImportError, Options};

/// Reads every market event of a recording as input envelopes (seq unassigned); the first bad
/// line is an error.
pub fn read_recording(path: &Path) -> Result<Vec<Envelope>, ImportError> {
    import_file(Format::BinanceWs, path, &Options::default()).map(|imported| imported.events)
}
