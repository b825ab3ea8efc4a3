//! Linearly weighted moving average [`Wma`].
//!
//! `WMA_t = (n·x_t + (n−1)·x_{t−1} + … + 1·x_{t−n+1}) / (n(n+1)/2)`: the newest input weighs
//! `n`, the oldest in the window `1`.
//!
//! O(1) per update from two running sums over the window, `S = Σ x` and the weighted numerator
//! `N = Σ w·x`. When `x_new` enters a full window every weight drops by one and the oldest value
//! (weight 1) leaves, so `N ← N + n·x_new − S` (with `S` before the update), then
//! `S ← S + x_new − x_old`. While the window fills, the `k`-th input enters with weight `k`, which
//! gives the weights `n..1` once it is full. Both sums are compensated.
//!
//! Warm-up: `None` for the first `n − 1` inputs.

use super::window::{CompensatedSum, RollingWindow};
use super::{positive_period, Indicator, IndicatorError};

/// Linearly weighted moving average of the last `period` prices (weights `n..1`).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Wma {
    window: RollingWindow,
    numerator: CompensatedSum,
    /// `n(n+1)/2`, the sum of the weights.
    weight_sum: f64,
}

impl Wma {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "WMA")?;
        let n = period as f64;
        Ok(Self {
            window: RollingWindow::new(period),
            numerator: CompensatedSum::default(),
            weight_sum: n * (n + 1.0) / 2.0,
        })
    }

    pub fn period(&self) -> usize {
        self.window.period()
    }
}

impl Indicator for Wma {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        if self.window.is_full() {
            self.numerator.add(self.window.period() as f64 * input);
            self.numerator.add(-self.window.sum());
        } else {
            self.numerator.add((self.window.len() + 1) as f64 * input);
        }
        self.window.push(input);
        self.value()
    }

    fn value(&self) -> Option<f64> {
        self.window
            .is_full()
            .then(|| self.numerator.value() / self.weight_sum)
    }

    fn reset(&mut self) {
        self.window.clear();
        self.numerator = CompensatedSum::default();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::test_support::*;

    /// Weights `1..=n` from the oldest to the newest of `window`.
    fn naive_wma(window: &[f64]) -> f64 {
        let n = window.len() as f64;
        let weighted: f64 = window
            .iter()
            .enumerate()
            .map(|(i, x)| (i + 1) as f64 * x)
            .sum();
        weighted / (n * (n + 1.0) / 2.0)
    }

    #[test]
    fn wma_known_values() {
        // WMA(3) over 1, 2, 3, 4, 10 (weights 3, 2, 1 from the newest; divisor 6):
        //   (3·3 + 2·2 + 1·1)/6 = 14/6
        //   (3·4 + 2·3 + 1·2)/6 = 20/6
        //   (3·10 + 2·4 + 1·3)/6 = 41/6
        let mut wma = Wma::new(3).unwrap();
        let out = feed(&mut wma, &[1.0, 2.0, 3.0, 4.0, 10.0]);
        let expected = [
            None,
            None,
            Some(14.0 / 6.0),
            Some(20.0 / 6.0),
            Some(41.0 / 6.0),
        ];
        for (out, expected) in out.into_iter().zip(expected) {
            match (out, expected) {
                (Some(out), Some(expected)) => assert_close(out, expected, 1e-15, 0.0, "WMA"),
                (out, expected) => assert_eq!(out, expected),
            }
        }
    }

    #[test]
    fn wma_warm_up_is_period_minus_one() {
        for period in [1, 2, 5, 20] {
            assert_warm_up(Wma::new(period).unwrap(), &long_series(30, 7), period - 1);
        }
    }

    #[test]
    fn wma_reset_returns_to_the_initial_state() {
        assert_reset(|| Wma::new(4).unwrap(), &long_series(20, 8));
    }

    #[test]
    fn zero_period_is_rejected() {
        assert!(Wma::new(0).is_err());
    }

    #[test]
    fn wma_stays_on_the_window_over_a_long_run() {
        let xs = long_series(100_000, 9);
        let mut wma = Wma::new(20).unwrap();
        let last = feed(&mut wma, &xs).pop().flatten().unwrap();
        assert_close(last, naive_wma(&xs[xs.len() - 20..]), 1e-12, 0.0, "WMA");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn wma_matches_the_weighted_window(xs in prices(), period in 1usize..50) {
            let mut wma = Wma::new(period).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let out = wma.update(x);
                if t + 1 < period {
                    prop_assert_eq!(out, None);
                } else {
                    let expected = naive_wma(&xs[t + 1 - period..=t]);
                    assert_close(out.unwrap(), expected, 1e-9, 0.0, "WMA");
                }
            }
        }
    }
}
