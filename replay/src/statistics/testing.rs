//! What the statistics' tests share: decimals, times, periods and curves from literals.

use charon_events::{Money, Timestamp};
use rust_decimal::Decimal;

use super::{Period, Window};
use crate::report::history::CurvePoint;

pub fn d(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

pub fn t(ns: i64) -> Timestamp {
    Timestamp::from_nanos(ns)
}

pub fn period(start: i64, end: i64) -> Period {
    Period {
        start: t(start),
        end: t(end),
    }
}

/// The window of exactly `period`'s times.
pub fn window(period: Period) -> Window {
    Window::new(Some(period.start), Some(period.end)).unwrap()
}

/// Points from (nanoseconds, value).
pub fn curve(values: &[(i64, &str)]) -> Vec<CurvePoint> {
    values
        .iter()
        .map(|&(ns, value)| CurvePoint {
            ts: t(ns),
            value: Money(d(value)),
        })
        .collect()
}
