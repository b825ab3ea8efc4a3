//! Binance's public data archive (data.binance.vision): klines, trades and aggregate trades.
//! The files have no header (a header row, as some tools add, is recognized and skipped).
//! Timestamps are milliseconds, or microseconds in spot files from 2025 on.

use std::io::BufRead;

use charon_events::payload::market::{Aggressor, Interval, Trade};
use charon_events::{Envelope, Event};

use super::{decimal, emit_bars, time, BarRow, ImportError, Options, Rows};

fn records(reader: Box<dyn BufRead>) -> csv::Reader<Box<dyn BufRead>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader)
}

fn field<'r>(record: &'r csv::StringRecord, index: usize, name: &str) -> Result<&'r str, String> {
    record
        .get(index)
        .ok_or_else(|| format!("missing column {} ({name})", index + 1))
}

fn integer(record: &csv::StringRecord, index: usize, name: &str) -> Result<i64, String> {
    let text = field(record, index, name)?.trim();
    text.parse()
        .map_err(|_| format!("{name}: {text:?} is not an integer"))
}

fn boolean(record: &csv::StringRecord, index: usize, name: &str) -> Result<bool, String> {
    match field(record, index, name)?.trim() {
        "True" | "true" | "TRUE" => Ok(true),
        "False" | "false" | "FALSE" => Ok(false),
        other => Err(format!("{name}: {other:?} is not true or false")),
    }
}

/// Whether a first row is a header: its first field is not a number.
fn is_header(record: &csv::StringRecord) -> bool {
    record
        .get(0)
        .is_some_and(|first| first.trim().parse::<f64>().is_err())
}

/// Runs `read` over every data row, with its 1-based line number.
fn each_row(
    reader: Box<dyn BufRead>,
    rows: &mut Rows<'_>,
    mut read: impl FnMut(&mut Rows<'_>, usize, &csv::StringRecord) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    for (index, record) in records(reader).records().enumerate() {
        let line = index + 1;
        let record = match record {
            Ok(record) => record,
            Err(e) if e.is_io_error() => {
                return Err(rows.io(std::io::Error::other(e.to_string())));
            }
            Err(e) => {
                rows.bad(line, e.to_string())?;
                continue;
            }
        };
        if line == 1 && is_header(&record) {
            continue;
        }
        read(rows, line, &record)?;
    }
    Ok(())
}

pub(super) fn klines(
    reader: Box<dyn BufRead>,
    rows: &mut Rows<'_>,
    options: &Options,
) -> Result<(), ImportError> {
    let mut bars = Vec::new();
    let mut interval_seen: Option<i64> = None;
    each_row(reader, rows, |rows, line, record| {
        let parsed = (|| {
            let open_time = time::from_epoch(integer(record, 0, "open time")?);
            let close_time = time::from_epoch(integer(record, 6, "close time")?);
            let trades = integer(record, 8, "number of trades")?;
            let bar = BarRow {
                line,
                open_time,
                open: decimal("open", field(record, 1, "open")?)?,
                high: decimal("high", field(record, 2, "high")?)?,
                low: decimal("low", field(record, 3, "low")?)?,
                close: decimal("close", field(record, 4, "close")?)?,
                volume: decimal("volume", field(record, 5, "volume")?)?,
                trades: u64::try_from(trades).ok(),
            };
            // Binance's close time is the last instant of the bar: open + interval - 1 unit.
            Ok::<_, String>((bar, close_time.nanos() - open_time.nanos()))
        })();
        match parsed {
            Ok((bar, span)) => {
                interval_seen.get_or_insert(span);
                bars.push(bar);
                Ok(())
            }
            Err(reason) => rows.bad(line, reason),
        }
    })?;
    // Round the span up to whole seconds: 59.999 s is a 1m bar.
    let inferred = interval_seen
        .map(|span| (span + 999_999_999) / 1_000_000_000)
        .and_then(|seconds| u32::try_from(seconds).ok())
        .filter(|&seconds| seconds > 0)
        .map(Interval);
    emit_bars(rows, bars, options, inferred)
}

/// Trades (`aggregate == false`: id, price, qty, quote qty, time, buyer is maker, best match) or
/// aggregate trades (agg id, price, qty, first id, last id, time, buyer is maker, best match).
pub(super) fn trades(
    reader: Box<dyn BufRead>,
    rows: &mut Rows<'_>,
    options: &Options,
    aggregate: bool,
) -> Result<(), ImportError> {
    let symbol = options.symbol.expect("checked before reading");
    let (time_at, maker_at) = if aggregate { (5, 6) } else { (4, 5) };
    each_row(reader, rows, |rows, line, record| {
        let parsed = (|| {
            let trade_id = integer(record, 0, "trade id")?;
            let trade = Trade {
                trade_id: u64::try_from(trade_id)
                    .map_err(|_| format!("trade id {trade_id} is negative"))?,
                price: decimal("price", field(record, 1, "price")?)?,
                qty: decimal("qty", field(record, 2, "qty")?)?,
                aggressor: if boolean(record, maker_at, "buyer is maker")? {
                    Aggressor::Seller
                } else {
                    Aggressor::Buyer
                },
            };
            if trade.price.value() <= rust_decimal::Decimal::ZERO
                || trade.qty.value() <= rust_decimal::Decimal::ZERO
            {
                return Err(format!(
                    "price {} and qty {} must be positive",
                    trade.price, trade.qty
                ));
            }
            let ts = time::from_epoch(integer(record, time_at, "time")?);
            Ok::<_, String>(Envelope::input(ts, Event::Trade(trade)).with_pair(symbol))
        })();
        match parsed {
            Ok(event) => {
                rows.push(event);
                Ok(())
            }
            Err(reason) => rows.bad(line, reason),
        }
    })
}
