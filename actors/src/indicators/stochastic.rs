//! Stochastic oscillator [`Stochastic`] (the fast stochastic: %K is not smoothed).
//!
//! `%K = 100·(close_t − LL_k)/(HH_k − LL_k)` with `HH_k` the highest high and `LL_k` the lowest
//! low of the last `k` candles (current one included), in `0..=100`. **A flat range
//! (`HH_k = LL_k`) gives %K = 50**: the close sits in a range of zero width, neither at its top
//! nor its bottom (TA-Lib returns 0 there). `%D = SMA_d(%K)`.
//!
//! The highs and lows are kept by monotonic deques (amortized O(1)); %D by a compensated SMA.
//!
//! Warm-up: `None` for the first `k + d − 2` candles (%K needs `k` candles, %D `d` values of %K).

use super::sma::Sma;
use super::window::{Extreme, RollingExtreme};
use super::{positive_period, Candle, Indicator, IndicatorError};

/// The fast stochastic over `k` candles, %D over `d` values of %K (14 and 3 are usual).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Stochastic {
    k_period: usize,
    highs: RollingExtreme,
    lows: RollingExtreme,
    d: Sma,
    value: Option<StochasticValue>,
}

/// One stochastic output, both lines in `0..=100`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct StochasticValue {
    /// Where the close sits in the last `k` candles' range.
    pub k: f64,
    /// The SMA of the last `d` values of %K.
    pub d: f64,
}

impl Stochastic {
    pub fn new(k: usize, d: usize) -> Result<Self, IndicatorError> {
        let k = positive_period(k, "stochastic %K")?;
        let d = positive_period(d, "stochastic %D")?;
        Ok(Self {
            k_period: k,
            highs: RollingExtreme::new(k, Extreme::Max),
            lows: RollingExtreme::new(k, Extreme::Min),
            d: Sma::new(d)?,
            value: None,
        })
    }

    /// The periods `(k, d)`.
    pub fn periods(&self) -> (usize, usize) {
        (self.k_period, self.d.period())
    }
}

/// `100·(close − lowest)/(highest − lowest)`, 50 for a flat range.
fn percent_k(close: f64, highest: f64, lowest: f64) -> f64 {
    let range = highest - lowest;
    if range > 0.0 {
        // The ratio first: close <= highest keeps it <= 1, so the result never rounds above 100.
        100.0 * ((close - lowest) / range)
    } else {
        50.0
    }
}

impl Indicator for Stochastic {
    type Input = Candle;
    type Output = StochasticValue;

    fn update(&mut self, input: Candle) -> Option<StochasticValue> {
        let highest = self.highs.push(input.high);
        let lowest = self.lows.push(input.low);
        if self.highs.is_full() {
            let k = percent_k(input.close, highest, lowest);
            self.value = self.d.update(k).map(|d| StochasticValue { k, d });
        }
        self.value
    }

    fn value(&self) -> Option<StochasticValue> {
        self.value
    }

    fn reset(&mut self) {
        self.highs.clear();
        self.lows.clear();
        self.d.reset();
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::test_support::*;

    #[test]
    fn stochastic_known_values() {
        // Stochastic(3, 2), (high, low, close): (5,3,4) (7,4,6) (6,2,3) (4,3,4) (5,4,5)
        //   candles 1-3: HH 7, LL 2, close 3: %K = 100·(3−2)/(7−2) = 20   (no %D yet)
        //   candles 2-4: HH 7, LL 2, close 4: %K = 100·2/5 = 40,  %D = (20+40)/2 = 30
        //   candles 3-5: HH 6, LL 2, close 5: %K = 100·3/4 = 75,  %D = (40+75)/2 = 57.5
        let candles = [
            hlc(5.0, 3.0, 4.0),
            hlc(7.0, 4.0, 6.0),
            hlc(6.0, 2.0, 3.0),
            hlc(4.0, 3.0, 4.0),
            hlc(5.0, 4.0, 5.0),
        ];
        let mut stochastic = Stochastic::new(3, 2).unwrap();
        let out = feed(&mut stochastic, &candles);
        let expected = [
            None,
            None,
            None,
            Some(StochasticValue { k: 40.0, d: 30.0 }),
            Some(StochasticValue { k: 75.0, d: 57.5 }),
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn a_flat_range_gives_50() {
        let mut stochastic = Stochastic::new(3, 1).unwrap();
        let out = feed(&mut stochastic, &[hlc(10.0, 10.0, 10.0); 4]);
        assert_eq!(out[2..], [Some(StochasticValue { k: 50.0, d: 50.0 }); 2]);
    }

    #[test]
    fn stochastic_warm_up_is_k_plus_d_minus_two() {
        let candles: Vec<Candle> = long_series(40, 20)
            .into_iter()
            .map(|x| hlc(x * 1.01, x * 0.99, x))
            .collect();
        for (k, d) in [(1, 1), (3, 1), (1, 3), (14, 3), (5, 10)] {
            assert_warm_up(Stochastic::new(k, d).unwrap(), &candles, k + d - 2);
        }
    }

    #[test]
    fn stochastic_reset_returns_to_the_initial_state() {
        let candles: Vec<Candle> = long_series(20, 21)
            .into_iter()
            .map(|x| hlc(x * 1.01, x * 0.99, x))
            .collect();
        assert_reset(|| Stochastic::new(4, 3).unwrap(), &candles);
    }

    #[test]
    fn zero_periods_are_rejected() {
        assert!(Stochastic::new(0, 3).is_err());
        assert!(Stochastic::new(14, 0).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn stochastic_matches_a_scan_of_the_windows(
            cs in candles(),
            k in 1usize..50,
            d in 1usize..20,
        ) {
            let mut stochastic = Stochastic::new(k, d).unwrap();
            let mut ks = Vec::new();
            for (t, c) in cs.iter().enumerate() {
                let out = stochastic.update(*c);
                if t + 1 >= k {
                    let window = &cs[t + 1 - k..=t];
                    let highest = window.iter().map(|c| c.high).fold(f64::MIN, f64::max);
                    let lowest = window.iter().map(|c| c.low).fold(f64::MAX, f64::min);
                    ks.push(if highest > lowest {
                        100.0 * ((c.close - lowest) / (highest - lowest))
                    } else {
                        50.0
                    });
                }
                if ks.len() < d {
                    prop_assert_eq!(out, None);
                    continue;
                }
                let out = out.unwrap();
                let last_ks = &ks[ks.len() - d..];
                let expected_d = last_ks.iter().sum::<f64>() / d as f64;
                // Same extremes, same formula: %K is exact.
                prop_assert_eq!(out.k, ks[ks.len() - 1]);
                prop_assert!((0.0..=100.0).contains(&out.k));
                assert_close(out.d, expected_d, 1e-9, 1.0, "%D");
            }
        }
    }
}
