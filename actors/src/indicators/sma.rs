//! Simple moving averages: [`Sma`] over prices and [`VolumeSma`] over candle volumes.
//!
//! `SMA_t = (x_t + x_{t−1} + … + x_{t−n+1}) / n`.
//!
//! Warm-up: `None` for the first `n − 1` inputs; the `n`-th gives the first average. The window's
//! sum is updated in O(1) (add the new value, subtract the one leaving) and compensated, so a long
//! run does not drift.

use super::window::RollingWindow;
use super::{positive_period, Candle, Indicator, IndicatorError};

/// Simple moving average of the last `period` prices.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Sma {
    window: RollingWindow,
}

impl Sma {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "SMA")?;
        Ok(Self {
            window: RollingWindow::new(period),
        })
    }

    pub fn period(&self) -> usize {
        self.window.period()
    }
}

impl Indicator for Sma {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        self.window.push(input);
        self.value()
    }

    fn value(&self) -> Option<f64> {
        self.window
            .is_full()
            .then(|| self.window.sum() / self.window.period() as f64)
    }

    fn reset(&mut self) {
        self.window.clear();
    }
}

/// Simple moving average of the last `period` candles' volumes.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct VolumeSma {
    volumes: Sma,
}

impl VolumeSma {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "volume SMA")?;
        Ok(Self {
            volumes: Sma::new(period)?,
        })
    }

    pub fn period(&self) -> usize {
        self.volumes.period()
    }
}

impl Indicator for VolumeSma {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, input: Candle) -> Option<f64> {
        self.volumes.update(input.volume)
    }

    fn value(&self) -> Option<f64> {
        self.volumes.value()
    }

    fn reset(&mut self) {
        self.volumes.reset();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::test_support::*;

    fn naive_sma(window: &[f64]) -> f64 {
        window.iter().sum::<f64>() / window.len() as f64
    }

    fn with_volume(volume: f64) -> Candle {
        Candle {
            volume,
            ..hlc(10.0, 9.0, 9.5)
        }
    }

    #[test]
    fn sma_known_values() {
        // SMA(3) of 1, 2, 3, 4, 10: (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+10)/3 = 17/3.
        let mut sma = Sma::new(3).unwrap();
        let out = feed(&mut sma, &[1.0, 2.0, 3.0, 4.0, 10.0]);
        assert_eq!(out, [None, None, Some(2.0), Some(3.0), Some(17.0 / 3.0)]);
        assert_eq!(sma.value(), Some(17.0 / 3.0));
    }

    #[test]
    fn sma_of_period_one_is_the_input() {
        let mut sma = Sma::new(1).unwrap();
        assert_eq!(feed(&mut sma, &[5.0, 7.0]), [Some(5.0), Some(7.0)]);
    }

    #[test]
    fn sma_warm_up_is_period_minus_one() {
        for period in [1, 2, 5, 20] {
            assert_warm_up(Sma::new(period).unwrap(), &long_series(30, 1), period - 1);
        }
    }

    #[test]
    fn sma_reset_returns_to_the_initial_state() {
        assert_reset(|| Sma::new(4).unwrap(), &long_series(20, 2));
    }

    #[test]
    fn zero_period_is_rejected() {
        assert_eq!(
            Sma::new(0),
            Err(IndicatorError::ZeroPeriod { indicator: "SMA" })
        );
        assert!(VolumeSma::new(0).is_err());
    }

    #[test]
    fn sma_does_not_drift_over_a_long_run() {
        // 200k updates mixing 1e5-scale values, then a window of small integers: a plain running
        // sum would keep the rounding errors of the large values; the compensated one gives the
        // exact mean back.
        let mut sma = Sma::new(8).unwrap();
        feed(&mut sma, &long_series(200_000, 3));
        let tail = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        feed(&mut sma, &tail);
        assert_eq!(sma.value(), Some(4.5));
    }

    #[test]
    fn volume_sma_known_values() {
        // Volumes 100, 300, 200 with period 2: (100+300)/2 = 200, (300+200)/2 = 250.
        let mut sma = VolumeSma::new(2).unwrap();
        let candles = [with_volume(100.0), with_volume(300.0), with_volume(200.0)];
        assert_eq!(feed(&mut sma, &candles), [None, Some(200.0), Some(250.0)]);
    }

    #[test]
    fn volume_sma_warm_up_and_reset() {
        let candles: Vec<Candle> = long_series(12, 4).into_iter().map(with_volume).collect();
        assert_warm_up(VolumeSma::new(5).unwrap(), &candles, 4);
        assert_reset(|| VolumeSma::new(5).unwrap(), &candles);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn sma_matches_the_mean_of_the_window(xs in prices(), period in 1usize..50) {
            let mut sma = Sma::new(period).unwrap();
            for (t, &x) in xs.iter().enumerate() {
                let out = sma.update(x);
                if t + 1 < period {
                    prop_assert_eq!(out, None);
                } else {
                    let expected = naive_sma(&xs[t + 1 - period..=t]);
                    assert_close(out.unwrap(), expected, 1e-9, 0.0, "SMA");
                }
            }
        }

        #[test]
        fn volume_sma_matches_the_mean_of_the_window(cs in candles(), period in 1usize..50) {
            let mut sma = VolumeSma::new(period).unwrap();
            for (t, c) in cs.iter().enumerate() {
                let out = sma.update(*c);
                if t + 1 < period {
                    prop_assert_eq!(out, None);
                } else {
                    let window = &cs[t + 1 - period..=t];
                    let volumes: Vec<f64> = window.iter().map(|c| c.volume).collect();
                    // Volumes can all be zero: compare at the scale of a unit volume there.
                    assert_close(out.unwrap(), naive_sma(&volumes), 1e-9, 1.0, "volume SMA");
                }
            }
        }
    }
}
