//! Relative strength index [`Rsi`] with Wilder's smoothing.
//!
//! Each input after the first gives a change `c_t = x_t − x_{t−1}`, split into a gain
//! `max(c_t, 0)` and a loss `max(−c_t, 0)`. The average gain `G` and average loss `L` are seeded
//! with the simple average of the first `n` gains and losses, then smoothed Wilder's way,
//! `G_t = G_{t−1} + (gain_t − G_{t−1}) / n` (that is `((n−1)·G_{t−1} + gain_t) / n`), same for `L`.
//!
//! `RSI = 100 − 100 / (1 + G/L) = 100·G / (G + L)`, in `0..=100`. The second form is the one
//! computed: only gains (`L = 0`) give 100, only losses give 0, with no division by zero.
//! **A flat window (`G = L = 0`) gives 50**, the neutral value: a market that did not move is
//! neither overbought nor oversold (TA-Lib returns 0 there, which would read as maximally
//! oversold).
//!
//! Warm-up: `None` for the first `n` inputs (`n` changes need `n + 1` prices); the `(n+1)`-th
//! gives the first value.

use super::ema::SeededSmoothing;
use super::{positive_period, Indicator, IndicatorError};

/// Wilder's relative strength index over `period` changes, in `0..=100` (flat → 50).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Rsi {
    previous: Option<f64>,
    gains: SeededSmoothing,
    losses: SeededSmoothing,
}

impl Rsi {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "RSI")?;
        Ok(Self {
            previous: None,
            gains: SeededSmoothing::wilder(period),
            losses: SeededSmoothing::wilder(period),
        })
    }

    pub fn period(&self) -> usize {
        self.gains.period()
    }
}

/// `100·G / (G + L)`, 50 when both are zero.
fn rsi(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if total > 0.0 {
        // The ratio first: gain <= total keeps it <= 1, so the result never rounds above 100.
        100.0 * (gain / total)
    } else {
        50.0
    }
}

impl Indicator for Rsi {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        if let Some(previous) = self.previous.replace(input) {
            let change = input - previous;
            self.gains.update(change.max(0.0));
            self.losses.update((-change).max(0.0));
        }
        self.value()
    }

    fn value(&self) -> Option<f64> {
        Some(rsi(self.gains.value()?, self.losses.value()?))
    }

    fn reset(&mut self) {
        self.previous = None;
        self.gains.reset();
        self.losses.reset();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::ema::reference;
    use crate::indicators::test_support::*;

    /// RSI after the last price of `xs`, from closed-form Wilder averages over all its changes.
    fn reference_rsi(xs: &[f64], period: usize) -> Option<f64> {
        let changes: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
        let gains: Vec<f64> = changes.iter().map(|c| c.max(0.0)).collect();
        let losses: Vec<f64> = changes.iter().map(|c| (-c).max(0.0)).collect();
        let gain = reference::wilder(&gains, period)?;
        let loss = reference::wilder(&losses, period)?;
        Some(if gain + loss > 0.0 {
            100.0 * (gain / (gain + loss))
        } else {
            50.0
        })
    }

    #[test]
    fn rsi_known_values() {
        // RSI(3) over 10, 11, 10.5, 12, 11, 11.5; changes +1, −0.5, +1.5, −1, +0.5.
        //   seed (4th price): G = (1 + 0 + 1.5)/3 = 2.5/3, L = (0 + 0.5 + 0)/3 = 0.5/3
        //                     RSI = 100·2.5/(2.5+0.5) = 250/3
        //   −1:   G = (2·2.5/3 + 0)/3 = 5/9, L = (2·0.5/3 + 1)/3 = 4/9; RSI = 100·5/9 = 500/9
        //   +0.5: G = (2·5/9 + 0.5)/3 = 14.5/27, L = (2·4/9 + 0)/3 = 8/27
        //         RSI = 100·14.5/22.5 = 580/9
        let mut rsi = Rsi::new(3).unwrap();
        let out = feed(&mut rsi, &[10.0, 11.0, 10.5, 12.0, 11.0, 11.5]);
        assert_eq!(out[..3], [None, None, None]);
        let expected = [250.0 / 3.0, 500.0 / 9.0, 580.0 / 9.0];
        for (out, expected) in out[3..].iter().zip(expected) {
            assert_close(out.unwrap(), expected, 1e-12, 0.0, "RSI");
        }
    }

    #[test]
    fn rsi_of_only_gains_is_100_and_only_losses_is_0() {
        let mut rising = Rsi::new(3).unwrap();
        let out = feed(&mut rising, &[1.0, 2.0, 4.0, 7.0, 8.0]);
        assert_eq!(out[3..], [Some(100.0), Some(100.0)]);
        let mut falling = Rsi::new(3).unwrap();
        let out = feed(&mut falling, &[8.0, 7.0, 4.0, 2.0, 1.0]);
        assert_eq!(out[3..], [Some(0.0), Some(0.0)]);
    }

    #[test]
    fn rsi_never_rounds_above_100() {
        // Found by proptest: 100·g/g rounded to 100.00000000000001 for this gain.
        let mut rsi = Rsi::new(1).unwrap();
        let out = feed(&mut rsi, &[14278.279246136208, 70202.62014087677]);
        assert_eq!(out, [None, Some(100.0)]);
    }

    #[test]
    fn rsi_of_a_flat_series_is_50() {
        let mut rsi = Rsi::new(3).unwrap();
        let out = feed(&mut rsi, &[5.0; 6]);
        assert_eq!(out[3..], [Some(50.0); 3]);
    }

    #[test]
    fn rsi_warm_up_is_period() {
        for period in [1, 2, 5, 14] {
            assert_warm_up(Rsi::new(period).unwrap(), &long_series(30, 10), period);
        }
    }

    #[test]
    fn rsi_reset_returns_to_the_initial_state() {
        assert_reset(|| Rsi::new(4).unwrap(), &long_series(20, 11));
    }

    #[test]
    fn zero_period_is_rejected() {
        assert!(Rsi::new(0).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn rsi_matches_the_closed_form(xs in prices(), period in 1usize..50) {
            let mut rsi = Rsi::new(period).unwrap();
            for t in 0..xs.len() {
                let out = rsi.update(xs[t]);
                let expected = reference_rsi(&xs[..=t], period);
                prop_assert_eq!(out.is_some(), expected.is_some());
                if let (Some(out), Some(expected)) = (out, expected) {
                    prop_assert!((0.0..=100.0).contains(&out));
                    // Averages of non-negative values: no cancellation; RSI near 0 is compared
                    // on the 0..100 scale.
                    assert_close(out, expected, 1e-9, 1.0, "RSI");
                }
            }
        }
    }
}
