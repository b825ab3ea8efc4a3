//! A backtest: a configuration over a span of a data log. Its run log holds the manifest (mode,
//! binary version, the configuration and its templates in full with their hash, the data log's
//! id, path and the seq range used), then every derived event; the inputs stay in the data log
//! and are cited by seq. The report is built on the way.

use std::path::Path;

use charon_events::payload::manifest::DataRange;
use charon_events::{Envelope, Event, EventLog, Seq, Timestamp};

use crate::run::reported::{run_reported, Outcome};
use crate::run::run_log::backtest_manifest;
use crate::run::span::check_span;
use crate::run::{Inputs, RunError, RunSpec};
use crate::statistics::Settings;

/// Runs `spec` over seqs `first..=last` of `data`, writing the run log at `out` (which must
/// not exist), and reports with statistics under `settings`; `progress` hears of the inputs
/// read.
pub fn backtest(
    spec: &RunSpec,
    data: &EventLog,
    first: Seq,
    last: Seq,
    out: &Path,
    settings: &Settings,
    progress: &mut dyn FnMut(u64),
) -> Result<Outcome, RunError> {
    check_span(data, first, last)?;
    let range = DataRange {
        log_id: data.meta().log_id,
        first_seq: first,
        last_seq: last,
    };
    // The manifest takes the time of the first input: a backtest's log opens where it starts.
    let first_ts = data
        .get(first)?
        .map_or(Timestamp::from_nanos(0), |event| event.ts);
    let manifest = backtest_manifest(spec, range, data.path());
    let opening = Envelope::input(first_ts, Event::RunManifest(manifest));
    let inputs = Inputs::DataSpan { data, first, last };
    run_reported(spec, inputs, opening, out, settings, progress)
}
