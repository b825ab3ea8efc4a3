//! The span of a data log a run covers: found by time (data logs are in time order), checked
//! to hold market data, and its first and last event times.

use charon_events::{EventLog, LogKind, Seq, Timestamp};

use super::error::RunError;

/// That `data` is a data log and seqs `first..=last` (from [`seq_range`]) hold inputs.
pub fn check_span(data: &EventLog, first: Seq, last: Seq) -> Result<(), RunError> {
    if data.kind() != LogKind::Data {
        return Err(RunError::NotADataLog {
            path: data.path().to_path_buf(),
            kind: data.kind(),
        });
    }
    if first == 0 || first > last {
        return Err(RunError::NoDataInPeriod(data.path().to_path_buf()));
    }
    Ok(())
}

/// The event times of seqs `first` and `last` of `data`: the span a run over them covers.
pub fn time_span(
    data: &EventLog,
    first: Seq,
    last: Seq,
) -> Result<(Timestamp, Timestamp), RunError> {
    Ok((time_at(data, first)?, time_at(data, last)?))
}

/// The event time of `seq` in `data`, which must hold it.
fn time_at(data: &EventLog, seq: Seq) -> Result<Timestamp, RunError> {
    data.get(seq)?
        .map(|event| event.ts)
        .ok_or_else(|| RunError::SeqMissing {
            path: data.path().to_path_buf(),
            seq,
        })
}

/// The seqs of `data` whose events lie in `[from, to]` (either end open when `None`), found by
/// bisection: a data log is in time order. `(0, 0)` when none do.
pub fn seq_range(
    data: &EventLog,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<(Seq, Seq), RunError> {
    let last = data.last_seq();
    if last == 0 {
        return Ok((0, 0));
    }
    // The first seq whose time satisfies `past` (monotone over the log), or last + 1.
    let first_where = |past: &dyn Fn(Timestamp) -> bool| -> Result<Seq, RunError> {
        let (mut low, mut high) = (1, last + 1);
        while low < high {
            let middle = low + (high - low) / 2;
            if past(time_at(data, middle)?) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        Ok(low)
    };
    let first = match from {
        Some(from) => first_where(&|ts| ts >= from)?,
        None => 1,
    };
    let end = match to {
        Some(to) => first_where(&|ts| ts > to)? - 1,
        None => last,
    };
    if first > end {
        return Ok((0, 0));
    }
    Ok((first, end))
}
