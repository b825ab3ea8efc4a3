//! Rate of change [`Roc`], in percent.
//!
//! `ROC_t = 100·(x_t − x_{t−n}) / x_{t−n}`.
//!
//! Warm-up: `None` for the first `n` inputs (the `(n+1)`-th is the first with an input `n`
//! back). Where `x_{t−n} = 0` the rate is undefined and the output is `None` (prices are
//! positive, so this only happens on inputs that are not prices).

use std::collections::VecDeque;

use super::{positive_period, Indicator, IndicatorError};

/// Percentage change over `period` inputs.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Roc {
    period: usize,
    /// The last `period` inputs, oldest first.
    previous: VecDeque<f64>,
    value: Option<f64>,
}

impl Roc {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "ROC")?;
        Ok(Self {
            period,
            previous: VecDeque::new(),
            value: None,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }
}

impl Indicator for Roc {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        if self.previous.len() == self.period {
            let base = self.previous.pop_front();
            self.value = base
                .filter(|&base| base != 0.0)
                .map(|base| 100.0 * (input - base) / base);
        }
        self.previous.push_back(input);
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.previous.clear();
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::test_support::*;

    #[test]
    fn roc_known_values() {
        // ROC(2) over 100, 110, 120, 99:
        //   120 vs 100: 100·20/100 = 20
        //    99 vs 110: 100·(−11)/110 = −10
        let mut roc = Roc::new(2).unwrap();
        let out = feed(&mut roc, &[100.0, 110.0, 120.0, 99.0]);
        assert_eq!(out, [None, None, Some(20.0), Some(-10.0)]);
    }

    #[test]
    fn a_zero_base_gives_none() {
        let mut roc = Roc::new(1).unwrap();
        let out = feed(&mut roc, &[0.0, 5.0, 10.0]);
        assert_eq!(out, [None, None, Some(100.0)]);
    }

    #[test]
    fn roc_warm_up_is_period() {
        for period in [1, 2, 5, 20] {
            assert_warm_up(Roc::new(period).unwrap(), &long_series(30, 23), period);
        }
    }

    #[test]
    fn roc_reset_returns_to_the_initial_state() {
        assert_reset(|| Roc::new(4).unwrap(), &long_series(20, 24));
    }

    #[test]
    fn zero_period_is_rejected() {
        assert!(Roc::new(0).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn roc_matches_the_input_n_back(xs in prices(), period in 1usize..50) {
            let mut roc = Roc::new(period).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let out = roc.update(x);
                if t < period {
                    prop_assert_eq!(out, None);
                } else {
                    let base = xs[t - period];
                    // The same two inputs and the same arithmetic: exactly equal.
                    prop_assert_eq!(out, Some(100.0 * (x - base) / base));
                }
            }
        }
    }
}
