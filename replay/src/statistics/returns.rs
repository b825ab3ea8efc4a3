//! Returns and the ratios built on them: daily returns of mark-to-market equity sampled at
//! each UTC day's end, annualized volatility, Sharpe, Sortino and CAGR (docs/STATISTICS.md).
//!
//! Money is exact up to the daily returns, which are `Decimal` quotients converted to `f64`
//! once; the ratios are `f64`, summed in time order, so a run gives the same bits every time.
//! A ratio that cannot be computed (too few days, zero deviation, a non-positive base) is
//! `None`, never NaN or infinite.

use charon_events::Timestamp;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::series::Series;
use super::Period;

/// Periods per year: crypto trades every day of the year.
pub const PERIODS_PER_YEAR: u32 = 365;

pub const DAY_NS: i64 = 86_400_000_000_000;

/// The series' value at the period's start and then at each UTC day's end inside the period
/// (midnight, inclusive: the last value at or before it), the period's end closing the last,
/// possibly partial, day. A period of no length has the start value alone.
pub fn daily_values(series: &Series<'_>, period: Period) -> Vec<Decimal> {
    let mut values = vec![series.start];
    if period.end <= period.start {
        return values;
    }
    let mut points = series.raw_points().peekable();
    let mut current = None;
    let mut day_end = (period.start.nanos().div_euclid(DAY_NS) + 1).saturating_mul(DAY_NS);
    loop {
        let boundary = Timestamp::from_nanos(day_end.min(period.end.nanos()));
        while let Some((_, value)) = points.next_if(|(ts, _)| *ts <= boundary) {
            current = Some(value);
        }
        values.push(current.map_or(series.start, |raw| raw + series.offset()));
        if boundary >= period.end {
            return values;
        }
        day_end = day_end.saturating_add(DAY_NS);
    }
}

/// `v[k] / v[k−1] − 1` for consecutive values; `None` if a base is not positive (returns of
/// an account at or below zero mean nothing).
pub fn simple_returns(values: &[Decimal]) -> Option<Vec<f64>> {
    values
        .windows(2)
        .map(|pair| {
            if pair[0] <= Decimal::ZERO {
                return None;
            }
            (pair[1] - pair[0]).checked_div(pair[0])?.to_f64()
        })
        .collect()
}

/// The per-period rate equivalent to an annual one, compounded: `(1 + annual)^(1/365) − 1`.
pub fn periodic_rate(annual: f64) -> f64 {
    (1.0 + annual).powf(1.0 / f64::from(PERIODS_PER_YEAR)) - 1.0
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The sample standard deviation (`n − 1` in the denominator); `None` below two values.
fn sample_std(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs);
    let squares: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    Some((squares / (xs.len() - 1) as f64).sqrt())
}

fn annualizer() -> f64 {
    f64::from(PERIODS_PER_YEAR).sqrt()
}

/// `Some(x)` if `x` is a finite number.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Annualized volatility: `std(r, ddof=1) × √365`, as a fraction; `None` below two returns.
pub fn volatility(returns: &[f64]) -> Option<f64> {
    sample_std(returns).and_then(|std| finite(std * annualizer()))
}

/// Sharpe: `mean(r − rf) / std(r − rf, ddof=1) × √365`, `rf` per period; `None` below two
/// returns or when they do not vary.
pub fn sharpe(returns: &[f64], rf: f64) -> Option<f64> {
    let excess: Vec<f64> = returns.iter().map(|r| r - rf).collect();
    let std = sample_std(&excess)?;
    if std == 0.0 {
        return None;
    }
    finite(mean(&excess) / std * annualizer())
}

/// Sortino: `mean(r − rf) / sqrt(Σ min(r − rf, 0)² / N) × √365` over all N returns, the
/// minimum acceptable return being the risk-free rate; `None` below two returns or when no
/// return falls below it.
pub fn sortino(returns: &[f64], rf: f64) -> Option<f64> {
    if returns.len() < 2 {
        return None;
    }
    let excess: Vec<f64> = returns.iter().map(|r| r - rf).collect();
    let downside: f64 = excess.iter().map(|e| e.min(0.0) * e.min(0.0)).sum();
    let deviation = (downside / excess.len() as f64).sqrt();
    if deviation == 0.0 {
        return None;
    }
    finite(mean(&excess) / deviation * annualizer())
}

/// CAGR from calendar time: `(end / start)^(365 days / span) − 1`, as a fraction; `None`
/// for a period of no length, a non-positive start or a negative end.
pub fn cagr(start: Decimal, end: Decimal, period: Period) -> Option<f64> {
    let span = period.span_ns();
    if span <= 0 || start <= Decimal::ZERO || end < Decimal::ZERO {
        return None;
    }
    let growth = end.checked_div(start)?.to_f64()?;
    let years = span as f64 / (DAY_NS as f64 * f64::from(PERIODS_PER_YEAR));
    finite(growth.powf(1.0 / years) - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::history::CurvePoint;
    use crate::statistics::testing::{curve, d, period, window};

    const HOUR: i64 = 3_600_000_000_000;

    fn point(ns: i64, value: &str) -> CurvePoint {
        curve(&[(ns, value)])[0]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn days_are_sampled_at_utc_midnight_and_the_period_end_closes_the_last() {
        // From 12:00 on day 0 to 06:00 on day 3: three midnights inside, then the end.
        let start = 12 * HOUR;
        let end = 3 * DAY_NS + 6 * HOUR;
        let points = [
            point(13 * HOUR, "1010"),
            point(DAY_NS, "1020"), // exactly midnight: the last value of day 0
            point(DAY_NS + 1, "990"),
            point(DAY_NS + 5 * HOUR, "1000"),
            // Nothing on day 2: its end repeats day 1's value.
            point(3 * DAY_NS + HOUR, "1100"),
            point(3 * DAY_NS + 7 * HOUR, "5000"), // after the end: not seen
        ];
        let p = period(start, end);
        let series = Series::new(&points, Decimal::ZERO, d("1000"), window(p));
        let values = daily_values(&series, p);
        let expected: Vec<Decimal> = ["1000", "1020", "1000", "1000", "1100"]
            .into_iter()
            .map(d)
            .collect();
        assert_eq!(values, expected);
        let returns = simple_returns(&values).unwrap();
        assert_eq!(returns.len(), 4);
        assert!(close(returns[0], 0.02));
        assert!(close(returns[1], -20.0 / 1020.0));
        assert_eq!(returns[2], 0.0);
        assert!(close(returns[3], 0.1));
    }

    #[test]
    fn a_period_ending_at_midnight_has_no_empty_last_day() {
        let p = period(0, 2 * DAY_NS);
        let series = Series::new(&[], Decimal::ZERO, d("1"), window(p));
        assert_eq!(daily_values(&series, p).len(), 3, "start and two day ends");
        let instant = period(5, 5);
        assert_eq!(daily_values(&series, instant), [d("1")]);
    }

    #[test]
    fn ratios_on_a_series_computed_by_hand() {
        // Daily returns 1%, −2%, 3%, 0%.
        let r = [0.01, -0.02, 0.03, 0.0];
        // mean = 0.02 / 4 = 0.005.
        // deviations: 0.005, −0.025, 0.025, −0.005; squares 0.000025, 0.000625, 0.000625,
        // 0.000025, sum 0.0013; / (4 − 1) = 0.000433333…; std = 0.0208166600…
        let std = (0.0013f64 / 3.0).sqrt();
        assert!(close(std, 0.020_816_659_994_661_3));
        // volatility = std × √365 = 0.0208166600 × 19.1049731745 = 0.3976…
        assert!(close(
            volatility(&r).unwrap(),
            0.020_816_659_994_661_3 * 365f64.sqrt()
        ));
        // Sharpe (rf 0) = 0.005 / 0.0208166600 × 19.1049731745 = 4.5888…
        let sharpe0 = sharpe(&r, 0.0).unwrap();
        assert!(close(sharpe0, 0.005 / std * 365f64.sqrt()));
        assert!((sharpe0 - 4.5888).abs() < 1e-4, "{sharpe0}");
        // Sortino (rf 0): downside squares 0, 0.0004, 0, 0 → sum 0.0004 / 4 = 0.0001;
        // deviation 0.01; 0.005 / 0.01 × 19.1049731745 = 9.5524865873.
        let sortino0 = sortino(&r, 0.0).unwrap();
        assert!(close(sortino0, 0.5 * 365f64.sqrt()), "{sortino0}");
        // With a 0.1% daily risk-free rate: excess 0.009, −0.021, 0.029, −0.001, mean 0.004;
        // the deviation is unchanged (0.0208166600), so Sharpe = 0.004 / std × √365.
        assert!(close(
            sharpe(&r, 0.001).unwrap(),
            0.004 / std * 365f64.sqrt()
        ));
        // Downside: 0.021² + 0.001² = 0.000441 + 0.000001 = 0.000442, / 4 = 0.0001105.
        let expected = 0.004 / 0.0001105f64.sqrt() * 365f64.sqrt();
        assert!(close(sortino(&r, 0.001).unwrap(), expected));
    }

    #[test]
    fn ratios_are_none_where_they_mean_nothing() {
        assert_eq!(sharpe(&[0.01], 0.0), None, "one day");
        assert_eq!(volatility(&[0.01]), None);
        assert_eq!(sortino(&[-0.01], 0.0), None);
        assert_eq!(sharpe(&[0.01, 0.01, 0.01], 0.0), None, "no deviation");
        assert_eq!(volatility(&[0.01, 0.01]), Some(0.0));
        assert_eq!(
            sortino(&[0.01, 0.02], 0.0),
            None,
            "no day below the minimum"
        );
        assert_eq!(simple_returns(&[d("0"), d("1")]), None, "a base of zero");
        assert_eq!(simple_returns(&[d("5")]), Some(vec![]));
    }

    #[test]
    fn cagr_from_calendar_time() {
        let year = i64::from(PERIODS_PER_YEAR) * DAY_NS;
        // Doubling over two years: 2^(1/2) − 1 = 0.41421356…
        let two_years = period(0, 2 * year);
        let g = cagr(d("100"), d("200"), two_years).unwrap();
        assert!(close(g, 2f64.sqrt() - 1.0), "{g}");
        // +10% over half a year: 1.1^2 − 1 = 0.21.
        assert!(close(
            cagr(d("100"), d("110"), period(0, year / 2)).unwrap(),
            0.21
        ));
        // A total loss is −100%; no length or no positive start, no CAGR.
        assert_eq!(cagr(d("100"), d("0"), two_years), Some(-1.0));
        assert_eq!(cagr(d("100"), d("110"), period(7, 7)), None);
        assert_eq!(cagr(d("0"), d("110"), two_years), None);
        assert_eq!(cagr(d("100"), d("-1"), two_years), None);
        // So short a period that the compounding overflows: none rather than infinity.
        assert_eq!(cagr(d("1"), d("1000"), period(0, 1)), None);
    }

    #[test]
    fn the_risk_free_rate_is_de_annualized_compoundly() {
        // (1.05)^(1/365) − 1 = 0.000133681…; 365 of them compound back to 5%.
        let daily = periodic_rate(0.05);
        assert!((daily - 0.000_133_681).abs() < 1e-9, "{daily}");
        assert!(close((1.0 + daily).powi(365) - 1.0, 0.05));
        assert_eq!(periodic_rate(0.0), 0.0);
    }
}
