//! Average true range [`Atr`] with Wilder's smoothing.
//!
//! True range: `TR_t = max(high_t − low_t, |high_t − close_{t−1}|, |low_t − close_{t−1}|)`; the
//! first candle has no previous close, so `TR_1 = high_1 − low_1`. The ATR is seeded with the
//! simple average of the first `n` true ranges (`TR_1` included), then
//! `ATR_t = ATR_{t−1} + (TR_t − ATR_{t−1}) / n`.
//!
//! Warm-up: `None` for the first `n − 1` candles. (TA-Lib leaves `TR_1` out and starts one candle
//! later; the values converge.)

use super::ema::SeededSmoothing;
use super::{positive_period, Candle, Indicator, IndicatorError};

/// Wilder's average true range over `period` candles.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Atr {
    previous_close: Option<f64>,
    ranges: SeededSmoothing,
}

impl Atr {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "ATR")?;
        Ok(Self {
            previous_close: None,
            ranges: SeededSmoothing::wilder(period),
        })
    }

    pub fn period(&self) -> usize {
        self.ranges.period()
    }
}

/// The candle's true range against the previous close (`high − low` without one).
fn true_range(candle: &Candle, previous_close: Option<f64>) -> f64 {
    let range = candle.high - candle.low;
    match previous_close {
        Some(close) => range
            .max((candle.high - close).abs())
            .max((candle.low - close).abs()),
        None => range,
    }
}

impl Indicator for Atr {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, input: Candle) -> Option<f64> {
        let range = true_range(&input, self.previous_close.replace(input.close));
        self.ranges.update(range)
    }

    fn value(&self) -> Option<f64> {
        self.ranges.value()
    }

    fn reset(&mut self) {
        self.previous_close = None;
        self.ranges.reset();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::ema::reference;
    use crate::indicators::test_support::*;

    fn naive_true_ranges(candles: &[Candle]) -> Vec<f64> {
        candles
            .iter()
            .enumerate()
            .map(|(t, c)| {
                if t == 0 {
                    return c.high - c.low;
                }
                let prev = candles[t - 1].close;
                [c.high - c.low, (c.high - prev).abs(), (c.low - prev).abs()]
                    .into_iter()
                    .fold(f64::MIN, f64::max)
            })
            .collect()
    }

    #[test]
    fn atr_known_values() {
        // ATR(3):
        //   (h 10, l 8,  c 9)                  TR = 10−8 = 2 (first candle)
        //   (h 11, l 9,  c 10.5), prev c 9:    TR = max(2, |11−9| = 2, |9−9| = 0) = 2
        //   (h 12, l 11, c 11.5), prev c 10.5: TR = max(1, 1.5, 0.5) = 1.5
        //       seed ATR = (2 + 2 + 1.5)/3 = 11/6
        //   (h 11, l 9,  c 9.5),  prev c 11.5: TR = max(2, 0.5, 2.5) = 2.5
        //       ATR = (2·11/6 + 2.5)/3 = 18.5/9 = 37/18
        let candles = [
            hlc(10.0, 8.0, 9.0),
            hlc(11.0, 9.0, 10.5),
            hlc(12.0, 11.0, 11.5),
            hlc(11.0, 9.0, 9.5),
        ];
        let mut atr = Atr::new(3).unwrap();
        let out = feed(&mut atr, &candles);
        assert_eq!(out[..2], [None, None]);
        assert_close(out[2].unwrap(), 11.0 / 6.0, 1e-15, 0.0, "seed");
        assert_close(out[3].unwrap(), 37.0 / 18.0, 1e-15, 0.0, "ATR");
    }

    #[test]
    fn true_range_spans_a_gap_from_the_previous_close() {
        // Previous close 9, then a gap up to (h 15, l 14): TR = max(1, |15−9|, |14−9|) = 6.
        assert_eq!(true_range(&hlc(15.0, 14.0, 14.5), Some(9.0)), 6.0);
        // And a gap down to (h 5, l 4): TR = max(1, |5−9|, |4−9|) = 5.
        assert_eq!(true_range(&hlc(5.0, 4.0, 4.5), Some(9.0)), 5.0);
    }

    #[test]
    fn atr_warm_up_is_period_minus_one() {
        let candles: Vec<Candle> = long_series(30, 12)
            .into_iter()
            .map(|x| hlc(x * 1.01, x * 0.99, x))
            .collect();
        for period in [1, 2, 5, 14] {
            assert_warm_up(Atr::new(period).unwrap(), &candles, period - 1);
        }
    }

    #[test]
    fn atr_reset_returns_to_the_initial_state() {
        let candles: Vec<Candle> = long_series(20, 13)
            .into_iter()
            .map(|x| hlc(x * 1.01, x * 0.99, x))
            .collect();
        assert_reset(|| Atr::new(4).unwrap(), &candles);
    }

    #[test]
    fn zero_period_is_rejected() {
        assert!(Atr::new(0).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn atr_matches_the_closed_form(cs in candles(), period in 1usize..50) {
            let ranges = naive_true_ranges(&cs);
            let mut atr = Atr::new(period).unwrap();
            for t in 0..cs.len() {
                let out = atr.update(cs[t]);
                let expected = reference::wilder(&ranges[..=t], period);
                prop_assert_eq!(out.is_some(), expected.is_some());
                if let (Some(out), Some(expected)) = (out, expected) {
                    // Averages of non-negative ranges: no cancellation. A run of zero-width
                    // candles gives an ATR near 0, compared at the scale of a unit price.
                    assert_close(out, expected, 1e-9, 1.0, "ATR");
                }
            }
        }
    }
}
