//! Runs a sweep's points in parallel: each point is the one run of its configuration over the
//! inputs in memory, into its report alone (no run log), on one thread. What a point computes
//! depends on nothing but its configuration and the inputs, so the results do not depend on
//! how many threads ran them. A point's run is summarized on its thread as soon as it ends, so
//! a large sweep never holds more than one history per thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use charon_events::Envelope;

use super::points::PreparedPoint;
use crate::report::{ReportBuilder, RunHistory};
use crate::run::{Inputs, Numbering, ReportingSink, Run, RunSpec, VenueSide};

/// Runs one configuration over `inputs` (a backtest without a run log) and returns what its
/// report gathered, for statistics.
pub fn run_point(spec: &RunSpec, inputs: &[Envelope]) -> Result<RunHistory, String> {
    let mut run = Run::new(spec, VenueSide::Simulated, || {
        Ok(ReportingSink {
            // A backtest's run log holds its manifest at seq 1: number as it would.
            inner: Numbering { next: 2 },
            report: ReportBuilder::new(&spec.capitals()),
        })
    })
    .map_err(|e| e.to_string())?;
    run.feed(Inputs::Memory(inputs), &mut |_| {})
        .map_err(|e| e.to_string())?;
    Ok(run.into_sink().report.history())
}

/// Runs every point on `threads` threads (at least one), each point's history handed to
/// `summarize` on its thread; the summaries come back in point order. `done` is called as each
/// point ends.
pub fn run_all<T: Send>(
    points: &[PreparedPoint],
    inputs: &[Envelope],
    threads: usize,
    done: &(dyn Fn() + Sync),
    summarize: impl Fn(RunHistory) -> T + Sync,
) -> Vec<Result<T, String>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<T, String>>>> =
        Mutex::new((0..points.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, points.len().max(1)) {
            scope.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some(point) = points.get(at) else { return };
                let result = run_point(&point.spec, inputs).map(&summarize);
                results.lock().unwrap_or_else(|p| p.into_inner())[at] = Some(result);
                done();
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not run".into())))
        .collect()
}
