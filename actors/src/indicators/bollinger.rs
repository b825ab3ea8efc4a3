//! Bollinger bands [`Bollinger`].
//!
//! `middle = SMA_n`, `sd = sqrt(Σ (x − middle)² / n)`, the **population** standard deviation
//! (divided by `n`, not `n − 1`: Bollinger's definition and TA-Lib's), `upper = middle + k·sd`,
//! `lower = middle − k·sd`.
//!
//! O(1) per update from two running sums over the window, `variance = Σy²/n − (Σy/n)²`, taken
//! over `y = x − K` with `K` the first input since creation or reset: the variance does not
//! depend on the shift, and prices near `K` keep the squares small, so narrow bands on a high
//! price do not vanish in the cancellation of two large sums (the rounding error of `sd` is at
//! the scale of `|x − K|`, not of `x`; a price that drifts far from `K` loses part of that
//! advantage until the next reset). The sums are compensated; a variance that rounds below zero
//! is clamped to zero, and a window of `n` identical inputs gives `sd = 0` and `middle` equal to
//! that input exactly.
//!
//! Warm-up: `None` for the first `n − 1` inputs.

use super::window::{CompensatedSum, RollingWindow};
use super::{positive_period, Indicator, IndicatorError};

/// Bollinger bands over `period` prices, `k` population standard deviations wide.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Bollinger {
    k: f64,
    /// `K`, the first input since creation or reset.
    shift: Option<f64>,
    /// The window of `x − K`, with its sum.
    shifted: RollingWindow,
    /// `Σ (x − K)²` over the window.
    squares: CompensatedSum,
    last: Option<f64>,
    /// How many inputs in a row (up to the latest) have been equal.
    equal_run: usize,
}

/// The bands for one window.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct BollingerBands {
    pub upper: f64,
    /// The SMA of the window.
    pub middle: f64,
    pub lower: f64,
    /// The window's population standard deviation.
    pub std_dev: f64,
}

impl Bollinger {
    /// `period` prices, bands `k` standard deviations from the middle (`k` finite, `>= 0`; 2 is
    /// the usual width).
    pub fn new(period: usize, k: f64) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "Bollinger")?;
        if !(k.is_finite() && k >= 0.0) {
            return Err(IndicatorError::InvalidBandWidth { k });
        }
        Ok(Self {
            k,
            shift: None,
            shifted: RollingWindow::new(period),
            squares: CompensatedSum::default(),
            last: None,
            equal_run: 0,
        })
    }

    pub fn period(&self) -> usize {
        self.shifted.period()
    }

    pub fn k(&self) -> f64 {
        self.k
    }
}

impl Indicator for Bollinger {
    type Input = f64;
    type Output = BollingerBands;

    fn update(&mut self, input: f64) -> Option<BollingerBands> {
        let shift = *self.shift.get_or_insert(input);
        let y = input - shift;
        if let Some(old) = self.shifted.push(y) {
            self.squares.add(-old * old);
        }
        self.squares.add(y * y);
        self.equal_run = if self.last == Some(input) {
            self.equal_run.saturating_add(1)
        } else {
            1
        };
        self.last = Some(input);
        self.value()
    }

    fn value(&self) -> Option<BollingerBands> {
        let (Some(shift), Some(last)) = (self.shift, self.last) else {
            return None;
        };
        if !self.shifted.is_full() {
            return None;
        }
        let period = self.shifted.period();
        let (middle, std_dev) = if self.equal_run >= period {
            (last, 0.0)
        } else {
            let n = period as f64;
            let mean = self.shifted.sum() / n;
            let variance = (self.squares.value() / n - mean * mean).max(0.0);
            (shift + mean, variance.sqrt())
        };
        Some(BollingerBands {
            upper: middle + self.k * std_dev,
            middle,
            lower: middle - self.k * std_dev,
            std_dev,
        })
    }

    fn reset(&mut self) {
        self.shift = None;
        self.shifted.clear();
        self.squares = CompensatedSum::default();
        self.last = None;
        self.equal_run = 0;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::test_support::*;

    /// Two-pass mean and population standard deviation of `window`.
    fn naive_mean_sd(window: &[f64]) -> (f64, f64) {
        let n = window.len() as f64;
        let mean = window.iter().sum::<f64>() / n;
        let variance = window.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, variance.sqrt())
    }

    #[test]
    fn bollinger_known_values() {
        // Bollinger(3, 2):
        //   1, 2, 3: middle 2, variance ((−1)² + 0² + 1²)/3 = 2/3, sd = √(2/3)
        //   2, 3, 6: middle 11/3, deviations −5/3, −2/3, 7/3,
        //            variance (25 + 4 + 49)/9/3 = 26/9, sd = √26/3
        let mut bands = Bollinger::new(3, 2.0).unwrap();
        let out = feed(&mut bands, &[1.0, 2.0, 3.0, 6.0]);
        assert_eq!(out[..2], [None, None]);
        let expected = [
            (2.0, (2.0f64 / 3.0).sqrt()),
            (11.0 / 3.0, 26f64.sqrt() / 3.0),
        ];
        for (out, (middle, sd)) in out[2..].iter().zip(expected) {
            let out = out.unwrap();
            assert_close(out.middle, middle, 1e-15, 0.0, "middle");
            assert_close(out.std_dev, sd, 1e-14, 0.0, "sd");
            assert_close(out.upper, middle + 2.0 * sd, 1e-14, 0.0, "upper");
            assert_close(out.lower, middle - 2.0 * sd, 1e-14, 1.0, "lower");
        }
    }

    #[test]
    fn a_flat_window_has_zero_width_at_the_price() {
        // The flat level (7) is not the shift K (1): the run of equal inputs still gives exact
        // bands.
        let mut bands = Bollinger::new(3, 2.0).unwrap();
        let out = feed(&mut bands, &[1.0, 2.0, 3.0, 7.0, 7.0, 7.0]);
        let flat = BollingerBands {
            upper: 7.0,
            middle: 7.0,
            lower: 7.0,
            std_dev: 0.0,
        };
        assert_eq!(out[5], Some(flat));
        assert!(out[4].unwrap().std_dev > 0.0);
    }

    #[test]
    fn bollinger_warm_up_is_period_minus_one() {
        for period in [1, 2, 5, 20] {
            assert_warm_up(
                Bollinger::new(period, 2.0).unwrap(),
                &long_series(30, 14),
                period - 1,
            );
        }
    }

    #[test]
    fn bollinger_reset_returns_to_the_initial_state() {
        assert_reset(|| Bollinger::new(4, 2.0).unwrap(), &long_series(20, 15));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert!(Bollinger::new(0, 2.0).is_err());
        for k in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Bollinger::new(20, k),
                Err(IndicatorError::InvalidBandWidth { .. })
            ));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn bollinger_matches_the_two_pass_window(
            xs in prices(),
            period in 1usize..50,
            k in 0.0f64..4.0,
        ) {
            let mut bands = Bollinger::new(period, k).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let out = bands.update(x);
                if t + 1 < period {
                    prop_assert_eq!(out, None);
                    continue;
                }
                let window = &xs[t + 1 - period..=t];
                let (mean, sd) = naive_mean_sd(window);
                let out = out.unwrap();
                assert_close(out.middle, mean, 1e-9, 0.0, "middle");
                // The sd comes out of a difference of sums of squares, so its rounding error is
                // absolute, at the prices' scale; compare it there (relative to a near-zero sd it
                // would be meaningless).
                let scale = window.iter().fold(0.0, |m: f64, x| m.max(x.abs()));
                assert_close(out.std_dev, sd, 1e-9, scale, "sd");
                assert_close(out.upper, mean + k * sd, 1e-9, scale, "upper");
                assert_close(out.lower, mean - k * sd, 1e-9, scale, "lower");
            }
        }

        #[test]
        fn narrow_bands_on_a_high_price_stay_precise(
            base in 1e3f64..1e5,
            width in 1e-7f64..1e-3,
            noise in prop::collection::vec(-1.0f64..1.0, 1..200),
            period in 2usize..50,
        ) {
            // Prices within ±width of base (e.g. 65000 ± 0.01). The rounding error of the sd lives
            // at the scale of the sums' terms: `base` for Σx² − (Σx)²/n, which loses most digits
            // here, and `base·width` (the prices' distance from the shift K) for the shifted sums.
            // So the sd must match at `base·width`, far below the price scale of the test above.
            let xs: Vec<f64> = noise.iter().map(|u| base * (1.0 + width * u)).collect();
            let mut bands = Bollinger::new(period, 2.0).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let Some(out) = bands.update(x) else { continue };
                let (_, sd) = naive_mean_sd(&xs[t + 1 - period..=t]);
                assert_close(out.std_dev, sd, 1e-9, base * width, "narrow sd");
            }
        }
    }
}
