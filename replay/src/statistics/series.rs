//! A run's curves cut to a window: the value a series starts the window with and the points
//! inside it, and cumulative totals over a window. An open end of a window cuts nothing.

use charon_events::Timestamp;
use rust_decimal::Decimal;

use super::Window;
use crate::report::history::{CurvePoint, Totals, TotalsPoint};

/// An equity series over a window: `offset + value` of each point with `from ≤ ts ≤ to`,
/// after the value the window starts with.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// The value at the window's start: the last point strictly before `from` (plus the
    /// offset), or the initial value when there is none.
    pub start: Decimal,
    points: &'a [CurvePoint],
    offset: Decimal,
}

impl<'a> Series<'a> {
    /// `points` (in time order) seen from `window`, each shifted by `offset`; `initial` is the
    /// value before the first point (a bot's initial capital).
    pub fn new(
        points: &'a [CurvePoint],
        offset: Decimal,
        initial: Decimal,
        window: Window,
    ) -> Self {
        let (first, end) = window.slice(points, |p| p.ts);
        let start = match first {
            0 => initial,
            n => points[n - 1].value.0 + offset,
        };
        Self {
            start,
            points: &points[first..end],
            offset,
        }
    }

    /// The points inside the window, in time order: (time, value).
    pub fn points(&self) -> impl Iterator<Item = (Timestamp, Decimal)> + 'a {
        let offset = self.offset;
        self.points.iter().map(move |p| (p.ts, p.value.0 + offset))
    }

    /// The points as recorded, without the offset: for scans that only compare values, so a
    /// pair's curve is not shifted point by point.
    pub fn raw_points(&self) -> impl Iterator<Item = (Timestamp, Decimal)> + 'a {
        self.points.iter().map(|p| (p.ts, p.value.0))
    }

    /// What [`Series::raw_points`] leave out.
    pub fn offset(&self) -> Decimal {
        self.offset
    }

    /// The value at the window's end: the last point inside it, else the start value.
    pub fn end(&self) -> Decimal {
        self.points
            .last()
            .map_or(self.start, |p| p.value.0 + self.offset)
    }
}

/// What the cumulative `totals` (in time order) grew by over `window`: the last point at or
/// before its end minus the last point strictly before its start (zero where there is none).
pub fn totals_over(totals: &[TotalsPoint], window: Window) -> Totals {
    let at = |count: usize| {
        count
            .checked_sub(1)
            .map_or_else(Totals::default, |i| totals[i].totals)
    };
    let (first, end) = window.slice(totals, |p| p.ts);
    at(end).since(&at(first))
}
