//! `charon bench backtest`'s sweep figures: points per second of a `--sweep` grid over the
//! 45k 1-minute bars, on one thread and on two, passes interleaved so both see the same
//! machine; their ratio is the parallel speed-up.
//!
//! A point is what `charon backtest --sweep` does per point: the actors of its configuration
//! over the inputs in memory, the report gathered, the statistics computed and read into the
//! table's row. Preparing the points (writing and loading their configurations) and reading
//! the inputs happen once, before the clock starts.

use std::path::Path;
use std::time::Instant;

use charon_events::Envelope;
use charon_replay::statistics::{Settings, Window};

use charon_replay::sweep::grid::{parse_axis, points};
use charon_replay::sweep::points::prepare;
use charon_replay::sweep::results::readings;
use charon_replay::sweep::runner::run_all;

use super::figure::{failed, median, report};
use super::fixtures::bars_bundle;
use crate::error::CommandError;

const BENCH: &str = "backtest";

/// The grid: 4 stop-losses × 3 fast EMA periods, on the risk-limits configuration.
const AXES: [&str; 2] = [
    "bot.pair.exits.stop_loss_pct=0.5..2:0.5",
    "params.fast=8,10,12",
];

/// Runs the grid `passes` times on 1 and on 2 threads and prints the figures.
pub(super) fn run(bars: &[Envelope], work: &Path, passes: usize) -> Result<(), CommandError> {
    let axes = AXES
        .iter()
        .map(|text| parse_axis(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(BENCH, e))?;
    let grid = points(&axes).map_err(|e| failed(BENCH, e))?;
    let prepared = prepare(&bars_bundle(), grid, &work.join("sweep"))?;
    let count = prepared.len() as f64;
    tracing::info!("bench backtest: a sweep of {count} points over the bars");
    let settings = Settings::default();
    let windows = [Window::ALL];
    let pass = |threads: usize| -> Result<f64, CommandError> {
        let start = Instant::now();
        let rows = run_all(&prepared, bars, threads, &|| {}, |history| {
            readings(&history, &windows, &settings)
        });
        let seconds = start.elapsed().as_secs_f64();
        for row in rows {
            std::hint::black_box(row.map_err(|e| failed(BENCH, e))?);
        }
        Ok(seconds)
    };
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..passes.max(1) {
        one.push(pass(1)?);
        two.push(pass(2)?);
    }
    let (one, two) = (median(one), median(two));
    report("backtest_sweep_points_1_thread", count / one, "points/s");
    report("backtest_sweep_points_2_threads", count / two, "points/s");
    report("backtest_sweep_speedup_2_threads", one / two, "x");
    report(
        "backtest_sweep_bars_2_threads",
        count * bars.len() as f64 / two,
        "bars/s",
    );
    Ok(())
}
