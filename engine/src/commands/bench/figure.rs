//! How a benchmark states its figures: one line each, `BENCH <name> <value> <unit>`, so that
//! scripts and BENCHMARKS.md can quote them; and the median it takes of repeated passes.

use crate::error::CommandError;

/// Prints one figure in the contract's format.
pub(super) fn report(name: &str, value: f64, unit: &str) {
    let value = if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    };
    outln!("BENCH {name} {value} {unit}");
}

pub(super) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The median of `samples` seconds, in milliseconds.
pub(super) fn median_ms(samples: Vec<f64>) -> f64 {
    median(samples) * 1e3
}

/// A measurement that could not be made, by benchmark `bench` (`backtest`, `replay`, `log`).
pub(super) fn failed(bench: &'static str, why: impl std::fmt::Display) -> CommandError {
    CommandError::Bench {
        bench,
        why: why.to_string(),
    }
}
