//! Volume-weighted average price [`Vwap`], cumulative over a session.
//!
//! `VWAP = Σ (typical_i · volume_i) / Σ volume_i` over every candle since the session began, with
//! `typical = (high + low + close) / 3`. Both sums are compensated.
//!
//! The caller decides what a session is (a UTC day, an exchange session, a strategy's own
//! anchor) and calls [`Indicator::reset`] at its start; nothing here reads a clock.
//!
//! Warm-up: `None` until the session has traded volume (`Σ volume > 0`); zero-volume candles
//! before that change nothing. Volumes are expected to be non-negative.

use super::window::CompensatedSum;
use super::{Candle, Indicator};

/// Cumulative VWAP of the session since creation or the last [`Indicator::reset`].
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Vwap {
    weighted: CompensatedSum,
    volume: CompensatedSum,
}

impl Vwap {
    pub fn new() -> Self {
        Self::default()
    }

    /// The session's volume so far.
    pub fn volume(&self) -> f64 {
        self.volume.value()
    }
}

impl Indicator for Vwap {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, input: Candle) -> Option<f64> {
        self.weighted.add(input.typical_price() * input.volume);
        self.volume.add(input.volume);
        self.value()
    }

    fn value(&self) -> Option<f64> {
        let volume = self.volume.value();
        (volume > 0.0).then(|| self.weighted.value() / volume)
    }

    /// Starts a new session.
    fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::indicators::test_support::*;

    fn bar(high: f64, low: f64, close: f64, volume: f64) -> Candle {
        Candle {
            volume,
            ..hlc(high, low, close)
        }
    }

    #[test]
    fn vwap_known_values() {
        //   (h 12, l 8,  c 10, v 100): typical 30/3 = 10; VWAP = 1000/100 = 10
        //   (h 14, l 10, c 12, v 300): typical 36/3 = 12; VWAP = (1000 + 3600)/400 = 11.5
        //   (h 11, l 9,  c 10, v 0):   no volume, no change: 11.5
        let mut vwap = Vwap::new();
        let candles = [
            bar(12.0, 8.0, 10.0, 100.0),
            bar(14.0, 10.0, 12.0, 300.0),
            bar(11.0, 9.0, 10.0, 0.0),
        ];
        assert_eq!(
            feed(&mut vwap, &candles),
            [Some(10.0), Some(11.5), Some(11.5)]
        );
        assert_eq!(vwap.volume(), 400.0);
    }

    #[test]
    fn vwap_warm_up_lasts_until_volume_trades() {
        let candles = [
            bar(12.0, 8.0, 10.0, 0.0),
            bar(12.0, 8.0, 10.0, 0.0),
            bar(14.0, 10.0, 12.0, 5.0),
        ];
        assert_warm_up(Vwap::new(), &candles, 2);
    }

    #[test]
    fn reset_starts_a_new_session() {
        let candles: Vec<Candle> = long_series(20, 22)
            .into_iter()
            .map(|x| bar(x * 1.01, x * 0.99, x, x / 10.0))
            .collect();
        assert_reset(Vwap::new, &candles);
        // After a reset only the new session counts.
        let mut vwap = Vwap::new();
        feed(&mut vwap, &candles);
        vwap.reset();
        assert_eq!(vwap.update(bar(14.0, 10.0, 12.0, 7.0)), Some(12.0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn vwap_matches_the_session_sums(cs in candles()) {
            let mut vwap = Vwap::new();
            for t in 0..cs.len() {
                let out = vwap.update(cs[t]);
                let session = &cs[..=t];
                let volume: f64 = session.iter().map(|c| c.volume).sum();
                if volume > 0.0 {
                    let weighted: f64 = session
                        .iter()
                        .map(|c| (c.high + c.low + c.close) / 3.0 * c.volume)
                        .sum();
                    assert_close(out.unwrap(), weighted / volume, 1e-9, 0.0, "VWAP");
                } else {
                    prop_assert_eq!(out, None);
                }
            }
        }
    }
}
