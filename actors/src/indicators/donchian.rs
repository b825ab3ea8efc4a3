//! Donchian channel [`Donchian`].
//!
//! `upper = max(high_{t−n+1..=t})`, `lower = min(low_{t−n+1..=t})`, `middle = (upper + lower)/2`:
//! the highest high and lowest low of the last `n` candles, current one included. Each extreme
//! is kept by a monotonic deque, amortized O(1) per candle.
//!
//! Warm-up: `None` for the first `n − 1` candles.

use super::window::{Extreme, RollingExtreme};
use super::{positive_period, Candle, Indicator, IndicatorError};

/// Highest high and lowest low of the last `period` candles.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Donchian {
    period: usize,
    highs: RollingExtreme,
    lows: RollingExtreme,
    value: Option<DonchianChannel>,
}

/// One Donchian channel.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct DonchianChannel {
    /// The highest high of the window.
    pub upper: f64,
    /// `(upper + lower) / 2`.
    pub middle: f64,
    /// The lowest low of the window.
    pub lower: f64,
}

impl Donchian {
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        let period = positive_period(period, "Donchian")?;
        Ok(Self {
            period,
            highs: RollingExtreme::new(period, Extreme::Max),
            lows: RollingExtreme::new(period, Extreme::Min),
            value: None,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }
}

impl Indicator for Donchian {
    type Input = Candle;
    type Output = DonchianChannel;

    fn update(&mut self, input: Candle) -> Option<DonchianChannel> {
        let upper = self.highs.push(input.high);
        let lower = self.lows.push(input.low);
        if self.highs.is_full() {
            self.value = Some(DonchianChannel {
                upper,
                middle: (upper + lower) / 2.0,
                lower,
            });
        }
        self.value
    }

    fn value(&self) -> Option<DonchianChannel> {
        self.value
    }

    fn reset(&mut self) {
        self.highs.clear();
        self.lows.clear();
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::test_support::*;

    fn channel(upper: f64, lower: f64) -> DonchianChannel {
        DonchianChannel {
            upper,
            middle: (upper + lower) / 2.0,
            lower,
        }
    }

    #[test]
    fn donchian_known_values() {
        // Donchian(3), (high, low): (5,3) (7,4) (6,2) (4,3) (5,4) (4.5,3.5)
        //   candles 1-3: max(5,7,6) = 7,     min(3,4,2) = 2,     middle 4.5
        //   candles 2-4: max(7,6,4) = 7,     min(4,2,3) = 2
        //   candles 3-5: max(6,4,5) = 6,     min(2,3,4) = 2      (the 7 left)
        //   candles 4-6: max(4,5,4.5) = 5,   min(3,4,3.5) = 3    (the 2 left)
        let candles = [
            hlc(5.0, 3.0, 4.0),
            hlc(7.0, 4.0, 6.0),
            hlc(6.0, 2.0, 3.0),
            hlc(4.0, 3.0, 4.0),
            hlc(5.0, 4.0, 5.0),
            hlc(4.5, 3.5, 4.0),
        ];
        let mut donchian = Donchian::new(3).unwrap();
        let out = feed(&mut donchian, &candles);
        let expected = [
            None,
            None,
            Some(channel(7.0, 2.0)),
            Some(channel(7.0, 2.0)),
            Some(channel(6.0, 2.0)),
            Some(channel(5.0, 3.0)),
        ];
        assert_eq!(out, expected);
        assert_eq!(out[2].unwrap().middle, 4.5);
    }

    #[test]
    fn donchian_warm_up_is_period_minus_one() {
        let candles: Vec<Candle> = long_series(30, 18)
            .into_iter()
            .map(|x| hlc(x * 1.01, x * 0.99, x))
            .collect();
        for period in [1, 2, 5, 20] {
            assert_warm_up(Donchian::new(period).unwrap(), &candles, period - 1);
        }
    }

    #[test]
    fn donchian_reset_returns_to_the_initial_state() {
        let candles: Vec<Candle> = long_series(20, 19)
            .into_iter()
            .map(|x| hlc(x * 1.01, x * 0.99, x))
            .collect();
        assert_reset(|| Donchian::new(4).unwrap(), &candles);
    }

    #[test]
    fn zero_period_is_rejected() {
        assert!(Donchian::new(0).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn donchian_matches_a_scan_of_the_window(cs in candles(), period in 1usize..50) {
            let mut donchian = Donchian::new(period).unwrap();
            for (t, c) in cs.iter().enumerate() {
                let out = donchian.update(*c);
                if t + 1 < period {
                    prop_assert_eq!(out, None);
                    continue;
                }
                let window = &cs[t + 1 - period..=t];
                let upper = window.iter().map(|c| c.high).fold(f64::MIN, f64::max);
                let lower = window.iter().map(|c| c.low).fold(f64::MAX, f64::min);
                // The same maxima and the same arithmetic: exactly equal.
                prop_assert_eq!(out, Some(channel(upper, lower)));
            }
        }
    }
}
