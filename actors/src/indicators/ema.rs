//! Exponential moving average [`Ema`], and the SMA-seeded exponential smoothing it shares with
//! Wilder's averages ([`Rsi`](super::Rsi), [`Atr`](super::Atr)) and [`Macd`](super::Macd).
//!
//! `EMA_t = EMA_{t−1} + α·(x_t − EMA_{t−1})` with `α = 2 / (n + 1)`, seeded with the simple
//! average of the first `n` inputs, `EMA_n = (x_1 + … + x_n) / n` (TA-Lib's convention; seeding
//! with `x_1` instead gives different values for the first few dozen periods).
//!
//! Warm-up: `None` for the first `n − 1` inputs; the `n`-th returns the seed.
//!
//! [`EmaSeed::First`] seeds [`Ema`] with its first input instead, as pandas'
//! `ewm(span=n, adjust=False)` does (and so the many strategies written over it): a value from
//! the first input on, and no warm-up. Wilder's averages and the MACD keep TA-Lib's seed.

use super::window::CompensatedSum;
use super::{positive_period, Indicator, IndicatorError};

/// How an exponential moving average starts.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EmaSeed {
    /// The simple average of the first `n` inputs (TA-Lib): `None` until then.
    #[default]
    Sma,
    /// The first input (pandas' `ewm(adjust=False)`): a value from the first input on.
    First,
}

/// Exponential smoothing `v ← v + α·(x − v)`, seeded with the simple average of its first
/// `period` inputs (or its first input, [`EmaSeed::First`]). [`Ema`] uses `α = 2/(n+1)`;
/// Wilder's smoothing uses `α = 1/n`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct SeededSmoothing {
    period: usize,
    alpha: f64,
    /// Absent from snapshots taken before it existed: those seeded with the average.
    #[serde(default)]
    seed: EmaSeed,
    /// Inputs summed into the seed so far (stops at `period`).
    seeded: usize,
    seed_sum: CompensatedSum,
    value: Option<f64>,
}

impl SeededSmoothing {
    /// `period` must be at least 1 (checked by the indicators' constructors).
    pub(crate) fn new(period: usize, alpha: f64) -> Self {
        Self::seeded_by(period, alpha, EmaSeed::Sma)
    }

    fn seeded_by(period: usize, alpha: f64, seed: EmaSeed) -> Self {
        Self {
            period,
            alpha,
            seed,
            seeded: 0,
            seed_sum: CompensatedSum::default(),
            value: None,
        }
    }

    /// `α = 2 / (n + 1)`.
    pub(crate) fn ema(period: usize) -> Self {
        Self::new(period, 2.0 / (period as f64 + 1.0))
    }

    /// Wilder's smoothing, `α = 1 / n`.
    pub(crate) fn wilder(period: usize) -> Self {
        Self::new(period, 1.0 / period as f64)
    }

    pub(crate) fn period(&self) -> usize {
        self.period
    }

    pub(crate) fn update(&mut self, x: f64) -> Option<f64> {
        match self.value {
            Some(v) => self.value = Some(v + self.alpha * (x - v)),
            None if self.seed == EmaSeed::First => self.value = Some(x),
            None => {
                self.seed_sum.add(x);
                self.seeded += 1;
                if self.seeded == self.period {
                    self.value = Some(self.seed_sum.value() / self.period as f64);
                }
            }
        }
        self.value
    }

    pub(crate) fn value(&self) -> Option<f64> {
        self.value
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::seeded_by(self.period, self.alpha, self.seed);
    }
}

/// Exponential moving average, `α = 2/(n+1)`, seeded with the SMA of the first `n` prices
/// (or the first price, [`Ema::with_seed`]).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Ema {
    smoothing: SeededSmoothing,
}

impl Ema {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Self::with_seed(period, EmaSeed::Sma)
    }

    pub fn with_seed(period: usize, seed: EmaSeed) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "EMA")?;
        Ok(Self {
            smoothing: SeededSmoothing::seeded_by(period, 2.0 / (period as f64 + 1.0), seed),
        })
    }

    pub fn period(&self) -> usize {
        self.smoothing.period()
    }
}

impl Indicator for Ema {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, input: f64) -> Option<f64> {
        self.smoothing.update(input)
    }

    fn value(&self) -> Option<f64> {
        self.smoothing.value()
    }

    fn reset(&mut self) {
        self.smoothing.reset();
    }
}

/// Closed-form references for the SMA-seeded smoothings, shared by the EMA, RSI, ATR and MACD
/// property tests. They compute each value from the whole series at once instead of recursively.
#[cfg(test)]
pub(crate) mod reference {
    /// The smoothing of `xs` with `alpha`, seeded with the mean of the first `period` values,
    /// after the last value of `xs`: with `m = len − period` steps past the seed,
    /// `v = (1−α)^m · seed + α · Σ_{i<m} (1−α)^i · x_{len−1−i}`. `None` when `xs` is shorter
    /// than `period`.
    pub(crate) fn seeded_smoothing(xs: &[f64], period: usize, alpha: f64) -> Option<f64> {
        if xs.len() < period {
            return None;
        }
        let seed = xs[..period].iter().sum::<f64>() / period as f64;
        let steps = xs.len() - period;
        let decay = 1.0 - alpha;
        let recent: f64 = xs[period..]
            .iter()
            .rev()
            .enumerate()
            .map(|(i, x)| decay.powi(i as i32) * x)
            .sum();
        Some(decay.powi(steps as i32) * seed + alpha * recent)
    }

    pub(crate) fn ema(xs: &[f64], period: usize) -> Option<f64> {
        seeded_smoothing(xs, period, 2.0 / (period as f64 + 1.0))
    }

    pub(crate) fn wilder(xs: &[f64], period: usize) -> Option<f64> {
        seeded_smoothing(xs, period, 1.0 / period as f64)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::test_support::*;

    #[test]
    fn ema_known_values() {
        // EMA(3), α = 2/4 = 0.5, over 2, 4, 6, 8, 4:
        //   seed at the 3rd input = (2+4+6)/3 = 4
        //   8 → 4 + 0.5·(8−4) = 6
        //   4 → 6 + 0.5·(4−6) = 5
        let mut ema = Ema::new(3).unwrap();
        let out = feed(&mut ema, &[2.0, 4.0, 6.0, 8.0, 4.0]);
        assert_eq!(out, [None, None, Some(4.0), Some(6.0), Some(5.0)]);
    }

    #[test]
    fn ema_of_period_one_is_the_input() {
        // α = 2/2 = 1.
        let mut ema = Ema::new(1).unwrap();
        assert_eq!(feed(&mut ema, &[3.0, 9.0]), [Some(3.0), Some(9.0)]);
    }

    #[test]
    fn ema_warm_up_is_period_minus_one() {
        for period in [1, 2, 5, 20] {
            assert_warm_up(Ema::new(period).unwrap(), &long_series(30, 5), period - 1);
        }
    }

    #[test]
    fn ema_reset_returns_to_the_initial_state() {
        assert_reset(|| Ema::new(4).unwrap(), &long_series(20, 6));
    }

    #[test]
    fn zero_period_is_rejected() {
        assert!(Ema::new(0).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn ema_matches_the_closed_form(xs in prices(), period in 1usize..50) {
            let mut ema = Ema::new(period).unwrap();
            for t in 0..xs.len() {
                let out = ema.update(xs[t]);
                let expected = reference::ema(&xs[..=t], period);
                prop_assert_eq!(out.is_some(), expected.is_some());
                if let (Some(out), Some(expected)) = (out, expected) {
                    // Positive weights on positive prices: no cancellation, so relative 1e-9
                    // holds (the two computations differ by a few hundred roundings at most).
                    assert_close(out, expected, 1e-9, 0.0, "EMA");
                }
            }
        }
    }

    #[test]
    fn a_first_value_seed_follows_pandas_ewm_without_adjustment() {
        // pandas: pd.Series([2, 4, 6, 8, 4]).ewm(span=3, adjust=False).mean()
        //   = 2, 3, 4.5, 6.25, 5.125 (α = 0.5, starting from the first value).
        let mut ema = Ema::with_seed(3, EmaSeed::First).unwrap();
        let out = feed(&mut ema, &[2.0, 4.0, 6.0, 8.0, 4.0]);
        assert_eq!(
            out,
            [Some(2.0), Some(3.0), Some(4.5), Some(6.25), Some(5.125)]
        );
        assert_warm_up(
            Ema::with_seed(20, EmaSeed::First).unwrap(),
            &long_series(30, 5),
            0,
        );
        assert_reset(
            || Ema::with_seed(4, EmaSeed::First).unwrap(),
            &long_series(20, 6),
        );
        // The two seeds part at the start and converge: after 200 inputs of EMA(10) they agree
        // to far below a price's precision.
        let xs = long_series(200, 7);
        let (mut sma_seeded, mut first_seeded) = (
            Ema::new(10).unwrap(),
            Ema::with_seed(10, EmaSeed::First).unwrap(),
        );
        let (a, b) = (feed(&mut sma_seeded, &xs), feed(&mut first_seeded, &xs));
        assert_ne!(a[9], b[9]);
        let (a, b) = (a[199].unwrap(), b[199].unwrap());
        assert!((a - b).abs() < 1e-6 * a.abs(), "{a} vs {b}");
    }
}
