//! CSV files with a header, found by column name (any case): generic OHLCV bars and funding
//! rates. Time columns may be epoch numbers or date-times.

use std::io::BufRead;

use charon_events::payload::market::FundingRate;
use charon_events::{Envelope, Event};

use super::{decimal, emit_bars, time, BarRow, ImportError, Options, Rows};

const TIME_COLUMNS: &[&str] = &[
    "timestamp",
    "date",
    "time",
    "datetime",
    "open_time",
    "opentime",
    "open time",
    "calc_time",
    "funding_time",
    "fundingtime",
];

/// Column positions by lower-cased header name.
struct Header(Vec<String>);

impl Header {
    fn find(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|name| self.0.iter().position(|column| column == name))
    }

    fn require(&self, rows: &Rows<'_>, names: &[&str], what: &str) -> Result<usize, ImportError> {
        self.find(names).ok_or_else(|| {
            rows.bad_file(format!(
                "no {what} column (looked for {}; the header has {})",
                names.join(", "),
                self.0.join(", ")
            ))
        })
    }
}

type Table = csv::Reader<Box<dyn BufRead>>;

/// Opens a CSV table and reads its header.
fn open_table(reader: Box<dyn BufRead>, rows: &Rows<'_>) -> Result<(Header, Table), ImportError> {
    let mut table = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = table
        .headers()
        .map_err(|e| rows.bad_file(format!("unreadable header: {e}")))?;
    let header = Header(
        header
            .iter()
            .map(|name| name.trim().to_ascii_lowercase())
            .collect(),
    );
    Ok((header, table))
}

/// Runs `read` over every record with its line number (the header is line 1).
fn each_record(
    mut table: Table,
    rows: &mut Rows<'_>,
    mut read: impl FnMut(&mut Rows<'_>, usize, &csv::StringRecord) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    for (index, record) in table.records().enumerate() {
        let line = index + 2;
        match record {
            Ok(record) => read(rows, line, &record)?,
            Err(e) if e.is_io_error() => return Err(rows.io(std::io::Error::other(e.to_string()))),
            Err(e) => rows.bad(line, e.to_string())?,
        }
    }
    Ok(())
}

fn cell<'r>(record: &'r csv::StringRecord, at: usize, name: &str) -> Result<&'r str, String> {
    record
        .get(at)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| format!("{name} is empty"))
}

pub(super) fn ohlcv(
    reader: Box<dyn BufRead>,
    rows: &mut Rows<'_>,
    options: &Options,
) -> Result<(), ImportError> {
    let (header, table) = open_table(reader, rows)?;
    let [t, o, h, l, c, v] = [
        header.require(rows, TIME_COLUMNS, "time")?,
        header.require(rows, &["open", "o"], "open")?,
        header.require(rows, &["high", "h"], "high")?,
        header.require(rows, &["low", "l"], "low")?,
        header.require(rows, &["close", "c"], "close")?,
        header.require(rows, &["volume", "vol", "v"], "volume")?,
    ];
    let mut bars = Vec::new();
    each_record(table, rows, |rows, line, record| {
        let parsed = (|| {
            Ok::<_, String>(BarRow {
                line,
                open_time: time::parse(cell(record, t, "time")?)?,
                open: decimal("open", cell(record, o, "open")?)?,
                high: decimal("high", cell(record, h, "high")?)?,
                low: decimal("low", cell(record, l, "low")?)?,
                close: decimal("close", cell(record, c, "close")?)?,
                volume: decimal("volume", cell(record, v, "volume")?)?,
                trades: None,
            })
        })();
        match parsed {
            Ok(bar) => {
                bars.push(bar);
                Ok(())
            }
            Err(reason) => rows.bad(line, reason),
        }
    })?;
    emit_bars(rows, bars, options, None)
}

/// Funding rates. The rate column is `funding_rate` (or `last_funding_rate`, Binance's
/// archive; `fundingrate`; `rate`), else `open`: freqtrade stores the rate there.
pub(super) fn funding(
    reader: Box<dyn BufRead>,
    rows: &mut Rows<'_>,
    options: &Options,
) -> Result<(), ImportError> {
    let symbol = options.symbol.expect("checked before reading");
    let (header, table) = open_table(reader, rows)?;
    let t = header.require(rows, TIME_COLUMNS, "time")?;
    let r = header.require(
        rows,
        &[
            "funding_rate",
            "last_funding_rate",
            "fundingrate",
            "rate",
            "open",
        ],
        "funding rate",
    )?;
    each_record(table, rows, |rows, line, record| {
        let parsed = (|| {
            let funding_time = time::parse(cell(record, t, "time")?)?;
            let rate = decimal("rate", cell(record, r, "rate")?)?;
            let event = Event::FundingRate(FundingRate { rate, funding_time });
            Ok::<_, String>(Envelope::input(funding_time, event).with_pair(symbol))
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
