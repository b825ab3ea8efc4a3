//! Exposure time: the share of a period during which at least one of a set of positions was
//! open, from the trades' open and close times (a trade still open counts to the period's
//! end). Overlapping trades count once.

use charon_events::Timestamp;
use rust_decimal::Decimal;

use super::{Period, PCT_DP};

/// The percentage of `period` covered by the union of `intervals` (open, close; `None` for a
/// trade still open), rounded to 4 places; `None` for a period of no length.
pub fn exposure_pct(
    intervals: impl IntoIterator<Item = (Timestamp, Option<Timestamp>)>,
    period: Period,
) -> Option<Decimal> {
    let span = period.span_ns();
    if span <= 0 {
        return None;
    }
    let mut clipped: Vec<(i64, i64)> = intervals
        .into_iter()
        .map(|(open, close)| {
            let close = close.unwrap_or(period.end);
            (
                open.max(period.start).nanos(),
                close.min(period.end).nanos(),
            )
        })
        .filter(|(open, close)| open < close)
        .collect();
    clipped.sort_unstable();
    let mut covered: i128 = 0;
    let mut current: Option<(i64, i64)> = None;
    for (open, close) in clipped {
        current = match current {
            Some((start, end)) if open <= end => Some((start, end.max(close))),
            Some((start, end)) => {
                covered += i128::from(end - start);
                Some((open, close))
            }
            None => Some((open, close)),
        };
    }
    if let Some((start, end)) = current {
        covered += i128::from(end - start);
    }
    let share = Decimal::from_i128_with_scale(covered, 0) / Decimal::from(span);
    Some((share * Decimal::ONE_HUNDRED).round_dp(PCT_DP))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statistics::testing::{period, t};

    #[test]
    fn overlaps_count_once_and_trades_are_clipped_to_the_period() {
        // Period 100..200 (100 long).
        let intervals = [
            (t(50), Some(t(110))),  // clipped: 100..110 → 10
            (t(120), Some(t(140))), // 120..140 and 130..150 overlap: 120..150 → 30
            (t(130), Some(t(150))),
            (t(135), Some(t(145))), // inside the one before
            (t(160), None),         // still open: 160..200 → 40
            (t(300), Some(t(400))), // after the period
        ];
        // (10 + 30 + 40) / 100 = 80%.
        assert_eq!(
            exposure_pct(intervals, period(100, 200)),
            Some(Decimal::from(80))
        );
    }

    #[test]
    fn no_trades_no_exposure_and_no_length_no_figure() {
        assert_eq!(exposure_pct([], period(0, 3)), Some(Decimal::ZERO));
        assert_eq!(exposure_pct([(t(0), None)], period(5, 5)), None);
        // A third of the period: 33.3333%.
        assert_eq!(
            exposure_pct([(t(0), Some(t(1)))], period(0, 3)),
            Some(Decimal::from_str_exact("33.3333").unwrap())
        );
    }
}
