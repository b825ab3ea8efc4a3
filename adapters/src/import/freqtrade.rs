//! freqtrade's candle files: one JSON array of `[open time ms, open, high, low, close, volume]`.
//! The file is one value, so a row's line is its index in the array (1-based).

use std::io::BufRead;

use serde_json::Value;

use super::{decimal, emit_bars, time, BarRow, ImportError, Options, Rows};

fn number_text(value: &Value, name: &str) -> Result<String, String> {
    match value {
        // serde_json prints the shortest text that reads back as the same f64: the file's text.
        Value::Number(number) => Ok(number.to_string()),
        Value::String(text) => Ok(text.clone()),
        other => Err(format!("{name}: {other} is not a number")),
    }
}

pub(super) fn candles(
    reader: Box<dyn BufRead>,
    rows: &mut Rows<'_>,
    options: &Options,
) -> Result<(), ImportError> {
    let value: Value =
        serde_json::from_reader(reader).map_err(|e| rows.bad_file(format!("not JSON: {e}")))?;
    let Value::Array(candles) = value else {
        return Err(rows.bad_file("expected a JSON array of candles".into()));
    };
    let mut bars = Vec::with_capacity(candles.len());
    for (index, candle) in candles.iter().enumerate() {
        let line = index + 1;
        let parsed = (|| {
            let fields = candle
                .as_array()
                .filter(|f| f.len() >= 6)
                .ok_or("expected [time, open, high, low, close, volume]")?;
            let open_ms = fields[0]
                .as_i64()
                .ok_or_else(|| format!("time: {} is not an integer", fields[0]))?;
            Ok::<_, String>(BarRow {
                line,
                open_time: time::from_epoch(open_ms),
                open: decimal("open", &number_text(&fields[1], "open")?)?,
                high: decimal("high", &number_text(&fields[2], "high")?)?,
                low: decimal("low", &number_text(&fields[3], "low")?)?,
                close: decimal("close", &number_text(&fields[4], "close")?)?,
                volume: decimal("volume", &number_text(&fields[5], "volume")?)?,
                trades: None,
            })
        })();
        match parsed {
            Ok(bar) => bars.push(bar),
            Err(reason) => rows.bad(line, format!("candle {line}: {reason}"))?,
        }
    }
    emit_bars(rows, bars, options, None)
}
