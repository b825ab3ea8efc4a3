//! Helpers shared by the indicators' tests: feeding series, tolerance checks, the warm-up and
//! reset checks every indicator runs, and proptest strategies for prices and candles.

use std::fmt::Debug;

use proptest::prelude::*;

use super::{Candle, Indicator};

/// Proptest cases per property: enough to hit short and long series and periods, few enough
/// that the crate's tests stay within seconds in a debug build.
pub(crate) const CASES: u32 = 64;

/// Feeds `inputs` in order and collects every output.
pub(crate) fn feed<I>(indicator: &mut I, inputs: &[I::Input]) -> Vec<Option<I::Output>>
where
    I: Indicator,
    I::Input: Clone,
{
    inputs.iter().map(|x| indicator.update(x.clone())).collect()
}

/// `|actual − expected| <= tol · max(|expected|, scale)`: relative, except that an expected value
/// near zero is compared at `scale` (the magnitude the computation's rounding errors live at).
pub(crate) fn assert_close(actual: f64, expected: f64, tol: f64, scale: f64, what: &str) {
    let bound = tol * expected.abs().max(scale);
    let diff = (actual - expected).abs();
    assert!(
        diff <= bound,
        "{what}: got {actual}, expected {expected} (|diff| {diff:e} > {bound:e})"
    );
}

/// The first `nones` updates return `None` (and `value()` agrees); the next returns `Some`.
pub(crate) fn assert_warm_up<I>(mut indicator: I, inputs: &[I::Input], nones: usize)
where
    I: Indicator,
    I::Input: Clone,
    I::Output: Debug,
{
    assert!(inputs.len() > nones, "the series must outlast the warm-up");
    for (i, x) in inputs.iter().take(nones + 1).enumerate() {
        let out = indicator.update(x.clone());
        if i < nones {
            assert!(out.is_none(), "update {} returned {out:?}", i + 1);
            assert!(indicator.value().is_none());
        } else {
            assert!(out.is_some(), "update {} is past the warm-up", i + 1);
            assert!(indicator.value().is_some());
        }
    }
}

/// After `reset`, the indicator equals a fresh one and replays `inputs` exactly as a fresh one.
pub(crate) fn assert_reset<I>(make: impl Fn() -> I, inputs: &[I::Input])
where
    I: Indicator + PartialEq + Debug,
    I::Input: Clone,
    I::Output: PartialEq + Debug,
{
    let mut indicator = make();
    let first = feed(&mut indicator, inputs);
    assert!(
        first.iter().any(Option::is_some),
        "the series must warm the indicator up"
    );
    indicator.reset();
    assert_eq!(indicator, make());
    assert!(indicator.value().is_none());
    assert_eq!(feed(&mut indicator, inputs), first);
}

/// A candle with `open = close`, for the tests that read high, low and close.
pub(crate) fn hlc(high: f64, low: f64, close: f64) -> Candle {
    Candle {
        open: close,
        high,
        low,
        close,
        volume: 1.0,
    }
}

/// A deterministic pseudo-random series in `[1, 1e5)` (xorshift64), for long-run tests.
pub(crate) fn long_series(len: usize, mut state: u64) -> Vec<f64> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            1.0 + (state >> 11) as f64 / (1u64 << 53) as f64 * (1e5 - 1.0)
        })
        .collect()
}

/// Price series: values in `1..1e5`, up to 300 of them.
pub(crate) fn prices() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(1.0f64..1e5, 0..300)
}

/// Valid candles (`low <= open, close <= high`) around closes in `1..1e5`, up to 300 of them;
/// about one in ten has zero volume.
pub(crate) fn candles() -> impl Strategy<Value = Vec<Candle>> {
    let candle = (
        1.0f64..1e5,
        0.0f64..0.05,
        0.0f64..0.05,
        0.0f64..=1.0,
        prop_oneof![1 => Just(0.0), 9 => 0.0f64..1e4],
    )
        .prop_map(|(close, down, up, open_at, volume)| {
            let low = close * (1.0 - down);
            let high = close * (1.0 + up);
            Candle {
                open: (low + open_at * (high - low)).min(high),
                high,
                low,
                close,
                volume,
            }
        });
    prop::collection::vec(candle, 0..300)
}
