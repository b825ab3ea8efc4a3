//! Importers: market-data files in the formats people have, turned into input events for a
//! data log. Every format shares the same rules: a bad row is an error naming `file:line`, or,
//! with `skip_bad`, counted and skipped (the first reason is kept for the report). Gzip input is
//! recognized by its magic bytes.

mod binance_csv;
mod binance_ws;
pub mod data_log;
mod freqtrade;
mod table;
pub mod time;

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use charon_events::payload::market::Interval;
use charon_events::{Envelope, Symbol};
use flate2::read::MultiGzDecoder;

/// The file formats `charon import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Binance's public-archive klines: 12 columns, no header (a header row is tolerated).
    BinanceKlines,
    /// Any OHLCV CSV with a header naming a time column and open/high/low/close/volume.
    OhlcvCsv,
    /// Binance's public-archive trades: id, price, qty, quote qty, time, buyer is maker, ...
    BinanceTrades,
    /// Binance's public-archive aggregate trades: id, price, qty, first id, last id, time, ...
    BinanceAggTrades,
    /// freqtrade's candle JSON: `[[ms, open, high, low, close, volume], ...]`.
    FreqtradeJson,
    /// Funding rates: a time column and a rate column (freqtrade's files keep it in `open`).
    FundingCsv,
    /// Raw WebSocket recordings: `<receive ns> <frame JSON>` per line.
    BinanceWs,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::BinanceKlines,
        Format::OhlcvCsv,
        Format::BinanceTrades,
        Format::BinanceAggTrades,
        Format::FreqtradeJson,
        Format::FundingCsv,
        Format::BinanceWs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::BinanceKlines => "binance-klines",
            Format::OhlcvCsv => "ohlcv-csv",
            Format::BinanceTrades => "binance-trades",
            Format::BinanceAggTrades => "binance-aggtrades",
            Format::FreqtradeJson => "freqtrade-json",
            Format::FundingCsv => "funding-csv",
            Format::BinanceWs => "binance-ws",
        }
    }

    /// Whether the file itself names the symbol (otherwise `--symbol` must).
    pub fn names_its_symbol(self) -> bool {
        self == Format::BinanceWs
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format {s:?}; one of: {}", names.join(", "))
            })
    }
}

/// What the command line adds to a file's own content.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The instrument, for formats that do not name it; a filter for those that do.
    pub symbol: Option<Symbol>,
    /// The bar length, for bar formats; inferred from the data when absent.
    pub interval: Option<Interval>,
    /// Count and skip bad rows instead of stopping at the first.
    pub skip_bad: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    BadRow {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
}

/// A file's events (in file order, seqs unassigned) and what was skipped.
#[derive(Debug, Default)]
pub struct Imported {
    pub events: Vec<Envelope>,
    pub skipped: u64,
    /// `file:line: reason` of the first skipped row.
    pub first_skipped: Option<String>,
}

/// Reads one file of `format`.
pub fn import_file(
    format: Format,
    path: &Path,
    options: &Options,
) -> Result<Imported, ImportError> {
    if !format.names_its_symbol() && options.symbol.is_none() {
        return Err(ImportError::BadFile {
            path: path.to_path_buf(),
            reason: format!("{format} files do not name their symbol: pass --symbol"),
        });
    }
    let mut rows = Rows::new(path, options.skip_bad);
    let reader = open(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match format {
        Format::BinanceKlines => binance_csv::klines(reader, &mut rows, options),
        Format::BinanceTrades => binance_csv::trades(reader, &mut rows, options, false),
        Format::BinanceAggTrades => binance_csv::trades(reader, &mut rows, options, true),
        Format::OhlcvCsv => table::ohlcv(reader, &mut rows, options),
        Format::FundingCsv => table::funding(reader, &mut rows, options),
        Format::FreqtradeJson => freqtrade::candles(reader, &mut rows, options),
        Format::BinanceWs => binance_ws::frames(reader, &mut rows, options),
    }?;
    Ok(rows.finish())
}

/// Opens a file, decompressing it when it starts with the gzip magic.
pub(crate) fn open(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::new(File::open(path)?);
    let is_gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip {
        Box::new(BufReader::new(MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Collects a file's events and applies the bad-row policy.
pub(crate) struct Rows<'a> {
    path: &'a Path,
    skip_bad: bool,
    imported: Imported,
}

impl<'a> Rows<'a> {
    fn new(path: &'a Path, skip_bad: bool) -> Self {
        Self {
            path,
            skip_bad,
            imported: Imported::default(),
        }
    }

    pub(crate) fn push(&mut self, event: Envelope) {
        self.imported.events.push(event);
    }

    /// A row that could not be read: an error, or a skip under `skip_bad`.
    pub(crate) fn bad(&mut self, line: usize, reason: String) -> Result<(), ImportError> {
        if !self.skip_bad {
            return Err(ImportError::BadRow {
                path: self.path.to_path_buf(),
                line,
                reason,
            });
        }
        self.imported.skipped += 1;
        if self.imported.first_skipped.is_none() {
            self.imported.first_skipped = Some(format!("{}:{line}: {reason}", self.path.display()));
        }
        Ok(())
    }

    /// A problem with the whole file (a missing column, say): never skippable.
    pub(crate) fn bad_file(&self, reason: String) -> ImportError {
        ImportError::BadFile {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    pub(crate) fn io(&self, source: std::io::Error) -> ImportError {
        ImportError::Io {
            path: self.path.to_path_buf(),
            source,
        }
    }

    fn finish(self) -> Imported {
        self.imported
    }
}

/// A decimal field, exactly as written (exponent notation accepted: `1e-05`).
pub(crate) fn decimal<T: From<rust_decimal::Decimal>>(
    field: &str,
    text: &str,
) -> Result<T, String> {
    let text = text.trim();
    rust_decimal::Decimal::from_str_exact(text)
        .or_else(|_| rust_decimal::Decimal::from_scientific(text))
        .map(T::from)
        .map_err(|_| format!("{field}: {text:?} is not a number"))
}

/// The bar length that occurs most often between consecutive open times: robust to gaps.
pub(crate) fn infer_interval(open_times: &[i64]) -> Option<Interval> {
    let mut counts = std::collections::BTreeMap::<i64, usize>::new();
    for pair in open_times.windows(2) {
        let step = pair[1] - pair[0];
        if step > 0 {
            *counts.entry(step).or_default() += 1;
        }
    }
    let (&step, _) = counts
        .iter()
        .max_by_key(|&(step, count)| (*count, std::cmp::Reverse(*step)))?;
    let seconds = step / 1_000_000_000;
    (seconds > 0 && step % 1_000_000_000 == 0)
        .then(|| u32::try_from(seconds).ok().map(Interval))
        .flatten()
}

/// One bar as a file gives it, before the interval is known.
pub(crate) struct BarRow {
    pub line: usize,
    pub open_time: charon_events::Timestamp,
    pub open: charon_events::Price,
    pub high: charon_events::Price,
    pub low: charon_events::Price,
    pub close: charon_events::Price,
    pub volume: charon_events::Quantity,
    pub trades: Option<u64>,
}

/// Turns bar rows into bar events stamped at their close (open time + interval). The interval
/// is the option's, else `inferred`, else the most common spacing of the rows. A bar whose
/// high/low do not contain its open and close, or with negative volume, is a bad row.
pub(crate) fn emit_bars(
    rows: &mut Rows<'_>,
    bars: Vec<BarRow>,
    options: &Options,
    inferred: Option<Interval>,
) -> Result<(), ImportError> {
    use charon_events::payload::market::Bar;
    use charon_events::{Event, Timestamp};

    let symbol = options.symbol.expect("checked before reading");
    let interval = match options.interval.or(inferred) {
        Some(interval) => interval,
        None => {
            let opens: Vec<i64> = bars.iter().map(|bar| bar.open_time.nanos()).collect();
            infer_interval(&opens).ok_or_else(|| {
                rows.bad_file(
                    "cannot infer the bar interval from fewer than two bars: pass --interval"
                        .into(),
                )
            })?
        }
    };
    for bar in bars {
        let body_low = bar.open.min(bar.close);
        let body_high = bar.open.max(bar.close);
        if bar.low > body_low || bar.high < body_high || bar.low > bar.high {
            rows.bad(
                bar.line,
                format!(
                    "high {} / low {} do not contain open {} and close {}",
                    bar.high, bar.low, bar.open, bar.close
                ),
            )?;
            continue;
        }
        if bar.volume.value().is_sign_negative() && !bar.volume.value().is_zero() {
            rows.bad(bar.line, format!("negative volume {}", bar.volume))?;
            continue;
        }
        let close_time =
            Timestamp::from_nanos(bar.open_time.nanos() + i64::from(interval.0) * 1_000_000_000);
        let event = Event::Bar(Bar {
            interval,
            open_time: bar.open_time,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
            trades: bar.trades,
            closed: true,
        });
        rows.push(Envelope::input(close_time, event).with_pair(symbol));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_parse_back() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
        }
        assert!("binance-kline"
            .parse::<Format>()
            .unwrap_err()
            .contains("binance-klines"));
    }

    #[test]
    fn interval_is_the_most_common_spacing() {
        let minute = 60_000_000_000;
        let opens = [0, minute, 2 * minute, 5 * minute, 6 * minute]; // one gap
        assert_eq!(infer_interval(&opens), Some(Interval(60)));
        assert_eq!(infer_interval(&[0]), None);
    }

    #[test]
    fn decimals_keep_their_text_and_accept_exponents() {
        let price: charon_events::Price = decimal("p", "0.00002853").unwrap();
        assert_eq!(price.to_string(), "0.00002853");
        let rate: charon_events::Rate = decimal("r", "1e-05").unwrap();
        assert_eq!(rate.to_string(), "0.00001");
        assert!(decimal::<charon_events::Price>("p", "abc").is_err());
    }
}
