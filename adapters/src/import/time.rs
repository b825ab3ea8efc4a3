//! Timestamps as data files write them: epoch seconds, milliseconds, microseconds or
//! nanoseconds (told apart by magnitude), or ISO-8601 / `YYYY-MM-DD HH:MM:SS[.f][offset]`.

use charon_events::Timestamp;
use chrono::{DateTime, NaiveDateTime};

/// An epoch number in whatever unit its size says. Binance's spot archive switched from
/// milliseconds to microseconds on 2025-01-01, so one importer must read both.
pub fn from_epoch(value: i64) -> Timestamp {
    const S_BELOW: i64 = 100_000_000_000; // 1e11 s is the year 5138
    const MS_BELOW: i64 = 100_000_000_000_000;
    const US_BELOW: i64 = 100_000_000_000_000_000;
    let magnitude = value.unsigned_abs() as i64;
    Timestamp::from_nanos(if magnitude < S_BELOW {
        value.saturating_mul(1_000_000_000)
    } else if magnitude < MS_BELOW {
        value.saturating_mul(1_000_000)
    } else if magnitude < US_BELOW {
        value.saturating_mul(1_000)
    } else {
        value
    })
}

/// A timestamp field: an epoch number (optionally with a fraction, e.g. `1509836520.5`) or a
/// date-time. Date-times without an offset are UTC.
pub fn parse(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(value) = text.parse::<i64>() {
        return Ok(from_epoch(value));
    }
    if let Ok(value) = text.parse::<f64>() {
        if value.is_finite() && value.abs() < 1e11 {
            return Ok(Timestamp::from_nanos((value * 1e9).round() as i64));
        }
    }
    let nanos = |dt: DateTime<chrono::Utc>| {
        dt.timestamp_nanos_opt()
            .map(Timestamp::from_nanos)
            .ok_or_else(|| format!("{text:?} is outside the representable range"))
    };
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return nanos(dt.to_utc());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return nanos(dt.to_utc());
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return nanos(naive.and_utc());
        }
        if let Ok(date) = chrono::NaiveDate::parse_from_str(text, format) {
            return nanos(
                date.and_hms_opt(0, 0, 0)
                    .expect("midnight exists")
                    .and_utc(),
            );
        }
    }
    Err(format!(
        "{text:?} is not a timestamp (epoch s/ms/us/ns or ISO-8601)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_637_971_200_000; // 2021-11-27T00:00:00Z, an ADABTC kline open time

    #[test]
    fn epoch_units_are_told_apart_by_magnitude() {
        let expected = Timestamp::from_millis(MS);
        assert_eq!(from_epoch(MS / 1000), expected);
        assert_eq!(from_epoch(MS), expected);
        assert_eq!(from_epoch(MS * 1000), expected);
        assert_eq!(from_epoch(MS * 1_000_000), expected);
        // Binance's spot archive from 2025 on, in microseconds (its docs' sample row).
        assert_eq!(
            from_epoch(1_735_689_600_010_866).to_string(),
            "2025-01-01T00:00:00.010866Z"
        );
    }

    #[test]
    fn date_times_with_and_without_offsets() {
        let expected = Timestamp::from_millis(MS);
        for text in [
            "2021-11-27T00:00:00Z",
            "2021-11-27 00:00:00",
            "2021-11-27 00:00:00.000000",
            "2021-11-27 00:00:00+00:00",
            "2021-11-27 01:00:00+01:00",
            "2021-11-27",
        ] {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
        // freqtrade's funding file: milliseconds and an offset.
        assert_eq!(
            parse("2021-11-18 08:00:00.007+00:00").unwrap().to_string(),
            "2021-11-18T08:00:00.007Z"
        );
        assert!(parse("yesterday").is_err());
    }
}
