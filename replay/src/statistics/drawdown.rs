//! Drawdowns of an equity series at full resolution: every episode from a peak to its
//! recovery (or to the period's end), its depth and duration, and their summary.
//!
//! The series' start value is the first peak, so a run that only loses draws down from its
//! initial capital. An episode starts when a point falls below the running peak, at that
//! peak's time (the last point at the peak), and ends at the first point back at or above the
//! peak (recovered) or at the period's end (not recovered). Its depth is
//! `(peak − trough) / peak × 100`. Depths are exact decimals; a peak that is not positive
//! makes no drawdown (impossible while the capital is positive and equity stays ≥ 0).

use charon_events::{Money, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;

use super::series::Series;
use super::{percent_of, Period, PCT_DP};

/// The deepest episodes kept in [`DrawdownStatistics::deepest`].
pub const DEEPEST_KEPT: usize = 5;

/// One drawdown episode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrawdownEpisode {
    pub peak_at: Timestamp,
    pub peak: Money,
    pub trough_at: Timestamp,
    pub trough: Money,
    /// `(peak − trough) / peak × 100`, rounded to 4 places.
    pub depth_pct: Decimal,
    /// The recovery's time, or the period's end.
    pub end_at: Timestamp,
    pub recovered: bool,
    /// `end_at − peak_at`, in nanoseconds.
    pub duration_ns: i64,
}

/// The drawdowns of a series over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DrawdownStatistics {
    /// The deepest episode's depth (0 without any), rounded to 4 places.
    pub max_pct: Decimal,
    /// The deepest episode's duration (the first of equally deep ones; 0 without any).
    pub max_duration_ns: i64,
    /// The longest episode's duration (0 without any).
    pub longest_duration_ns: i64,
    /// The mean of every episode's depth, rounded to 4 places; `None` without episodes.
    pub average_pct: Option<Decimal>,
    /// The mean of every episode's duration; `None` without episodes.
    pub average_duration_ns: Option<i64>,
    pub episodes: u64,
    /// Up to [`DEEPEST_KEPT`] episodes, deepest first (equal depths in time order).
    pub deepest: Vec<DrawdownEpisode>,
}

/// An episode with its exact depth.
#[derive(Debug, Clone)]
struct Episode {
    shown: DrawdownEpisode,
    depth: Decimal,
}

/// The episode being scanned: values as recorded (without the series' offset).
struct Open {
    peak: Decimal,
    peak_at: Timestamp,
    trough: Decimal,
    trough_at: Timestamp,
}

impl Open {
    /// The episode, ended at `end_at`; its depth divides once, whatever the points it saw. A
    /// depth too large for a decimal (a fall far below zero from a tiny peak) reads as the
    /// largest decimal.
    fn close(self, offset: Decimal, end_at: Timestamp, recovered: bool) -> Episode {
        let peak = self.peak + offset;
        let depth = percent_of(self.peak - self.trough, peak).unwrap_or(Decimal::MAX);
        Episode {
            shown: DrawdownEpisode {
                peak_at: self.peak_at,
                peak: Money(peak),
                trough_at: self.trough_at,
                trough: Money(self.trough + offset),
                depth_pct: depth.round_dp(PCT_DP),
                end_at,
                recovered,
                duration_ns: end_at.nanos().saturating_sub(self.peak_at.nanos()),
            },
            depth,
        }
    }
}

/// Every drawdown episode of `series` over `period`, in time order, with exact depths. The
/// scan only compares the points as recorded (a pair's contribution); the offset (the
/// capital) is added where an episode ends.
fn episodes(series: &Series<'_>, period: Period) -> Vec<Episode> {
    let offset = series.offset();
    let mut done = Vec::new();
    let mut peak = series.start - offset;
    let mut peak_at = period.start;
    let mut open: Option<Open> = None;
    for (ts, value) in series.raw_points() {
        if value >= peak {
            if let Some(episode) = open.take() {
                done.push(episode.close(offset, ts, true));
            }
            peak = value;
            peak_at = ts;
            continue;
        }
        match &mut open {
            Some(episode) if value < episode.trough => {
                episode.trough = value;
                episode.trough_at = ts;
            }
            Some(_) => {}
            // A peak that is not positive makes no drawdown in percent.
            None if peak + offset > Decimal::ZERO => {
                open = Some(Open {
                    peak,
                    peak_at,
                    trough: value,
                    trough_at: ts,
                });
            }
            None => {}
        }
    }
    if let Some(episode) = open {
        done.push(episode.close(offset, period.end, false));
    }
    done
}

/// The drawdowns of `series` over `period`.
pub fn drawdowns(series: &Series<'_>, period: Period) -> DrawdownStatistics {
    let all = episodes(series, period);
    if all.is_empty() {
        return DrawdownStatistics::default();
    }
    let count = all.len();
    let mut by_depth: Vec<&Episode> = all.iter().collect();
    // Stable: equally deep episodes stay in time order.
    by_depth.sort_by_key(|e| std::cmp::Reverse(e.depth));
    let deepest = by_depth[0];
    // Saturating: depths are bounded by 100 unless equity goes below zero.
    let depths = all.iter().fold(Decimal::ZERO, |sum, e| {
        sum.checked_add(e.depth).unwrap_or(Decimal::MAX)
    });
    let durations: i128 = all.iter().map(|e| i128::from(e.shown.duration_ns)).sum();
    DrawdownStatistics {
        max_pct: deepest.depth.round_dp(PCT_DP),
        max_duration_ns: deepest.shown.duration_ns,
        longest_duration_ns: all.iter().map(|e| e.shown.duration_ns).max().unwrap_or(0),
        average_pct: Some((depths / Decimal::from(count)).round_dp(PCT_DP)),
        average_duration_ns: i64::try_from(durations / count as i128).ok(),
        episodes: count as u64,
        deepest: by_depth
            .into_iter()
            .take(DEEPEST_KEPT)
            .map(|e| e.shown.clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statistics::testing::{curve, d, period, window};

    #[test]
    fn episodes_of_a_known_curve() {
        // Capital 100 at t=0.
        //   t=1 110 (peak)  t=2 99 (−10%)  t=3 88 (−20%)  t=4 100  t=5 110 (recovered: 1→5)
        //   t=6 120 (peak)  t=7 114 (−5%)  t=8 120 (recovered: 6→8)
        //   t=9 90 (from the 120 peak at 8: −25%), never recovered; the period ends at 11.
        let points = curve(&[
            (1, "110"),
            (2, "99"),
            (3, "88"),
            (4, "100"),
            (5, "110"),
            (6, "120"),
            (7, "114"),
            (8, "120"),
            (9, "90"),
            (10, "100"),
        ]);
        let p = period(0, 11);
        let series = Series::new(&points, Decimal::ZERO, d("100"), window(p));
        let stats = drawdowns(&series, p);
        assert_eq!(stats.episodes, 3);
        // Deepest: 25%, from the peak at 8 to the end at 11.
        assert_eq!(stats.max_pct, d("25"));
        assert_eq!(stats.max_duration_ns, 3);
        // Longest: 1→5.
        assert_eq!(stats.longest_duration_ns, 4);
        // Average depth: (20 + 5 + 25) / 3 = 16.6667; average duration (4 + 2 + 3) / 3 = 3.
        assert_eq!(stats.average_pct, Some(d("16.6667")));
        assert_eq!(stats.average_duration_ns, Some(3));
        let order: Vec<(Decimal, i64, i64, bool)> = stats
            .deepest
            .iter()
            .map(|e| {
                (
                    e.depth_pct,
                    e.peak_at.nanos(),
                    e.trough_at.nanos(),
                    e.recovered,
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                (d("25"), 8, 9, false),
                (d("20"), 1, 3, true),
                (d("5"), 6, 7, true)
            ]
        );
        assert_eq!(stats.deepest[1].end_at, Timestamp::from_nanos(5));
        assert_eq!(stats.deepest[1].trough, Money(d("88")));
    }

    #[test]
    fn a_depth_too_large_for_a_decimal_reads_as_the_largest() {
        // From a peak of 10⁻²⁰ to −10²⁰, twice: 10⁴² percent each.
        let points = curve(&[
            (1, "-100000000000000000000"),
            (2, "0.00000000000000000001"),
            (3, "-100000000000000000000"),
        ]);
        let p = period(0, 4);
        let peak = d("0.00000000000000000001");
        let stats = drawdowns(&Series::new(&points, Decimal::ZERO, peak, window(p)), p);
        assert_eq!(stats.max_pct, Decimal::MAX);
        assert_eq!(stats.episodes, 2);
        assert!(stats.average_pct.is_some());
    }

    #[test]
    fn the_start_value_is_the_first_peak() {
        // Never above the capital of 3000: one episode from t=0 to the end.
        let points = curve(&[(1, "2000"), (2, "2999")]);
        let p = period(0, 5);
        let stats = drawdowns(
            &Series::new(&points, Decimal::ZERO, d("3000"), window(p)),
            p,
        );
        assert_eq!(stats.episodes, 1);
        // 1000 / 3000 = 33.3333…%.
        assert_eq!(stats.max_pct, d("33.3333"));
        assert_eq!(stats.max_duration_ns, 5);
        assert!(!stats.deepest[0].recovered);
    }

    #[test]
    fn equal_to_the_peak_recovers_and_a_flat_curve_has_none() {
        let points = curve(&[(1, "90"), (2, "100"), (3, "100")]);
        let p = period(0, 3);
        let stats = drawdowns(&Series::new(&points, Decimal::ZERO, d("100"), window(p)), p);
        assert_eq!(stats.episodes, 1);
        assert!(stats.deepest[0].recovered);
        assert_eq!(stats.deepest[0].duration_ns, 2);
        let flat = curve(&[(1, "100"), (2, "101")]);
        let none = drawdowns(&Series::new(&flat, Decimal::ZERO, d("100"), window(p)), p);
        assert_eq!(none, DrawdownStatistics::default());
        assert_eq!(none.average_pct, None);
    }

    #[test]
    fn a_window_starts_from_the_value_before_it() {
        // 100 → 200 → 150 → 180; a window from t=3 starts at 150 (the last point before it):
        // 180 is a new peak, no drawdown inside the window.
        let points = curve(&[(1, "200"), (2, "150"), (3, "180")]);
        let inside = period(3, 4);
        let series = Series::new(&points, Decimal::ZERO, d("100"), window(inside));
        assert_eq!(series.start, d("150"));
        assert_eq!(drawdowns(&series, inside).episodes, 0);
        // The whole run: 200 → 150 is 25%.
        let all = period(0, 4);
        let series = Series::new(&points, Decimal::ZERO, d("100"), window(all));
        assert_eq!(drawdowns(&series, all).max_pct, d("25"));
    }
}
