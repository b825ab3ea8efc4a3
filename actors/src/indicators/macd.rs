//! Moving average convergence/divergence [`Macd`].
//!
//! `MACD = EMA_fast(x) − EMA_slow(x)`, `signal = EMA_signal(MACD)`, `histogram = MACD − signal`,
//! each EMA as in [`Ema`](super::Ema) (`α = 2/(n+1)`, seeded with the SMA of its first `n`
//! inputs).
//!
//! Alignment (TA-Lib's): both EMAs produce their first value on the same input, the `slow`-th.
//! The slow EMA is seeded with the SMA of inputs `1..=slow`, the fast EMA with the SMA of inputs
//! `slow−fast+1..=slow` (it ignores the inputs before). The signal EMA is seeded with the SMA of
//! the first `signal` MACD values.
//!
//! Warm-up: `None` for the first `slow + signal − 2` inputs; the output needs all three values.

use super::ema::SeededSmoothing;
use super::{positive_period, Indicator, IndicatorError};

/// MACD line, signal line and histogram over EMAs of `fast < slow` prices and `signal` MACD
/// values (12, 26, 9 are the usual periods).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Macd {
    fast: SeededSmoothing,
    slow: SeededSmoothing,
    signal: SeededSmoothing,
    /// Inputs the fast EMA skips so that it starts with the slow one: `slow − fast`.
    fast_skips: usize,
    seen: usize,
    value: Option<MacdValue>,
}

/// One MACD output.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// `EMA_fast − EMA_slow`.
    pub macd: f64,
    /// The EMA of the MACD line.
    pub signal: f64,
    /// `macd − signal`.
    pub histogram: f64,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, IndicatorError> {
        let fast = positive_period(fast, "MACD fast")?;
        let signal = positive_period(signal, "MACD signal")?;
        if fast >= slow {
            return Err(IndicatorError::FastNotShorterThanSlow { fast, slow });
        }
        Ok(Self {
            fast: SeededSmoothing::ema(fast),
            slow: SeededSmoothing::ema(slow),
            signal: SeededSmoothing::ema(signal),
            fast_skips: slow - fast,
            seen: 0,
            value: None,
        })
    }

    /// The periods `(fast, slow, signal)`.
    pub fn periods(&self) -> (usize, usize, usize) {
        (self.fast.period(), self.slow.period(), self.signal.period())
    }
}

impl Indicator for Macd {
    type Input = f64;
    type Output = MacdValue;

    fn update(&mut self, input: f64) -> Option<MacdValue> {
        if self.seen < self.fast_skips {
            // Only counts up to `slow − fast`, so it cannot overflow.
            self.seen += 1;
        } else {
            self.fast.update(input);
        }
        let slow = self.slow.update(input);
        if let (Some(fast), Some(slow)) = (self.fast.value(), slow) {
            let macd = fast - slow;
            self.value = self.signal.update(macd).map(|signal| MacdValue {
                macd,
                signal,
                histogram: macd - signal,
            });
        }
        self.value
    }

    fn value(&self) -> Option<MacdValue> {
        self.value
    }

    fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.seen = 0;
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::ema::reference;
    use crate::indicators::test_support::*;

    #[test]
    fn macd_known_values() {
        // MACD(2, 3, 2) over 2, 4, 6, 10, 4. α_fast = 2/3, α_slow = 1/2, α_signal = 2/3.
        //   3rd input: slow seed (2+4+6)/3 = 4; fast seed (4+6)/2 = 5 (skips the 1st input);
        //              MACD = 1
        //   10: fast 5 + 2/3·(10−5) = 25/3; slow 4 + 1/2·(10−4) = 7; MACD = 4/3
        //       signal seed (1 + 4/3)/2 = 7/6; histogram 4/3 − 7/6 = 1/6
        //   4:  fast 25/3 + 2/3·(4 − 25/3) = 49/9; slow 7 + 1/2·(4−7) = 11/2; MACD = −1/18
        //       signal 7/6 + 2/3·(−1/18 − 7/6) = 19/54; histogram −1/18 − 19/54 = −22/54
        let mut macd = Macd::new(2, 3, 2).unwrap();
        let out = feed(&mut macd, &[2.0, 4.0, 6.0, 10.0, 4.0]);
        assert_eq!(out[..3], [None, None, None]);
        let expected = [
            (4.0 / 3.0, 7.0 / 6.0, 1.0 / 6.0),
            (-1.0 / 18.0, 19.0 / 54.0, -22.0 / 54.0),
        ];
        for (out, (line, signal, histogram)) in out[3..].iter().zip(expected) {
            let out = out.unwrap();
            // Differences of values near 5: compare at that scale.
            assert_close(out.macd, line, 1e-14, 5.0, "MACD");
            assert_close(out.signal, signal, 1e-14, 5.0, "signal");
            assert_close(out.histogram, histogram, 1e-14, 5.0, "histogram");
        }
    }

    #[test]
    fn macd_warm_up_is_slow_plus_signal_minus_two() {
        for (fast, slow, signal) in [(1, 2, 1), (2, 3, 2), (12, 26, 9), (5, 6, 20)] {
            let macd = Macd::new(fast, slow, signal).unwrap();
            assert_warm_up(macd, &long_series(60, 16), slow + signal - 2);
        }
    }

    #[test]
    fn macd_reset_returns_to_the_initial_state() {
        assert_reset(|| Macd::new(3, 5, 4).unwrap(), &long_series(30, 17));
    }

    #[test]
    fn invalid_periods_are_rejected() {
        assert!(Macd::new(0, 26, 9).is_err());
        assert!(Macd::new(12, 26, 0).is_err());
        for (fast, slow) in [(26, 26), (26, 12)] {
            assert_eq!(
                Macd::new(fast, slow, 9),
                Err(IndicatorError::FastNotShorterThanSlow { fast, slow })
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn macd_matches_the_closed_form(
            xs in prices(),
            fast in 1usize..30,
            extra in 1usize..30,
            signal in 1usize..30,
        ) {
            let slow = fast + extra;
            let mut macd = Macd::new(fast, slow, signal).unwrap();
            let mut lines = Vec::new();
            for t in 0..xs.len() {
                let out = macd.update(xs[t]);
                let expected = if t + 1 >= slow {
                    // The fast EMA starts at input slow − fast (0-based).
                    let fast_ema = reference::ema(&xs[slow - fast..=t], fast);
                    let slow_ema = reference::ema(&xs[..=t], slow);
                    let line = fast_ema.unwrap() - slow_ema.unwrap();
                    lines.push(line);
                    reference::ema(&lines, signal).map(|s| (line, s))
                } else {
                    None
                };
                prop_assert_eq!(out.is_some(), expected.is_some());
                if let (Some(out), Some((line, signal))) = (out, expected) {
                    // MACD is a difference of two price-scale EMAs and can be near zero: its
                    // rounding error is absolute at the prices' scale, so compare there.
                    let scale = xs[..=t].iter().fold(0.0, |m: f64, x| m.max(*x));
                    assert_close(out.macd, line, 1e-9, scale, "MACD");
                    assert_close(out.signal, signal, 1e-9, scale, "signal");
                    assert_close(out.histogram, line - signal, 1e-9, scale, "histogram");
                }
            }
        }
    }
}
