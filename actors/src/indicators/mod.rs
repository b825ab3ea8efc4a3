//! The indicator library the Pair's strategies evaluate: incremental technical indicators over
//! prices (`f64`) and candles ([`Candle`]).
//!
//! Every indicator implements [`Indicator`]: `update` takes the next input in O(1) (amortized
//! O(1) for the windowed highs and lows of [`Donchian`] and [`Stochastic`]) and returns `None`
//! until the indicator has seen enough inputs to be defined. Each module's doc states the formula,
//! the convention where definitions differ, and the warm-up (how many updates return `None`).
//!
//! Indicators compute in `f64` on purpose: they are signals, not accounting. Money stays
//! `Decimal` in the events; a strategy converts prices to `f64` at this boundary (every `Decimal`
//! converts to a finite `f64`). Inputs are expected to be finite: a NaN or an infinity
//! propagates into the output and, for indicators that keep running sums, stays there until
//! [`Indicator::reset`].
//!
//! Windowed sums are compensated (Neumaier), so an indicator fed for days does not drift away
//! from the value recomputed over its window.

mod atr;
mod bollinger;
mod donchian;
mod ema;
mod macd;
mod roc;
mod rsi;
mod sma;
mod stochastic;
mod vwap;
mod window;
mod wma;

#[cfg(test)]
mod test_support;

pub use atr::Atr;
pub use bollinger::{Bollinger, BollingerBands};
pub use donchian::{Donchian, DonchianChannel};
pub use ema::{Ema, EmaSeed};
pub use macd::{Macd, MacdValue};
pub use roc::Roc;
pub use rsi::Rsi;
pub use sma::{Sma, VolumeSma};
pub use stochastic::{Stochastic, StochasticValue};
pub use vwap::Vwap;
pub use wma::Wma;

/// An incremental indicator: one input at a time, one output when defined.
pub trait Indicator {
    /// What the indicator consumes: a price (`f64`) or a [`Candle`].
    type Input;
    /// What the indicator produces once warmed up.
    type Output;

    /// Takes the next input and returns the new output, or `None` while warming up (or where the
    /// module's doc says the output is undefined).
    fn update(&mut self, input: Self::Input) -> Option<Self::Output>;

    /// The output of the last `update` (`None` before the first or while warming up).
    fn value(&self) -> Option<Self::Output>;

    /// Forgets every input: the indicator is as freshly built, parameters kept.
    fn reset(&mut self);
}

/// One OHLCV bar as the candle-based indicators read it.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct Candle {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Candle {
    /// `(high + low + close) / 3`, the price [`Vwap`] weights by volume.
    pub fn typical_price(&self) -> f64 {
        (self.high + self.low + self.close) / 3.0
    }
}

/// A parameter an indicator cannot be built with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndicatorError {
    #[error("{indicator}: the period must be at least 1")]
    ZeroPeriod { indicator: &'static str },
    #[error("MACD: the fast period ({fast}) must be shorter than the slow period ({slow})")]
    FastNotShorterThanSlow { fast: usize, slow: usize },
    #[error("Bollinger: the band width k must be finite and non-negative, got {k}")]
    InvalidBandWidth { k: f64 },
}

/// `period` if it is at least 1.
fn positive_period(period: usize, indicator: &'static str) -> Result<usize, IndicatorError> {
    if period == 0 {
        Err(IndicatorError::ZeroPeriod { indicator })
    } else {
        Ok(period)
    }
}
