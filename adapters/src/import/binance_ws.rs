//! Raw Binance WebSocket recordings: `<local receive ns> <frame JSON>` per line, parsed by the
//! same code the live adapter uses. Events are stamped with the receive time (see
//! `crate::recording`). `--symbol` keeps only that symbol's events.

use std::io::BufRead;

use charon_events::{Envelope, Timestamp};

use super::{ImportError, Options, Rows};
use crate::binance::stream::parse_frame;

pub(super) fn frames(
    reader: Box<dyn BufRead>,
    rows: &mut Rows<'_>,
    options: &Options,
) -> Result<(), ImportError> {
    for (index, line) in reader.lines().enumerate() {
        let line_no = index + 1;
        let line = line.map_err(|e| rows.io(e))?;
        if line.trim().is_empty() {
            continue;
        }
        let Some((ns, frame)) = line.split_once(' ') else {
            rows.bad(line_no, "expected `<receive ns> <frame JSON>`".into())?;
            continue;
        };
        let Ok(ns) = ns.parse::<i64>() else {
            rows.bad(line_no, format!("bad receive time {ns:?}"))?;
            continue;
        };
        match parse_frame(frame) {
            Ok(Some(parsed)) if options.symbol.is_none_or(|s| s == parsed.symbol) => {
                rows.push(
                    Envelope::input(Timestamp::from_nanos(ns), parsed.event)
                        .with_pair(parsed.symbol),
                );
            }
            Ok(_) => {}
            Err(e) => rows.bad(line_no, e.to_string())?,
        }
    }
    Ok(())
}
