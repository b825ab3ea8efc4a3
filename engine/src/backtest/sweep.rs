//! `charon backtest --sweep`: one configuration run at every point of a grid (`grid.rs`) over
//! one span of a data log, read once into memory, on every core.
//!
//! Each point is an ordinary configuration: its bundle (configuration and templates, with the
//! point's values set) is written under `OUT/points/NNNN/` before anything runs, checked by the
//! same loader as any file, and `charon backtest --config OUT/points/NNNN/.../run.toml` over
//! the same data and period reproduces the point exactly (a sweep runs the very actors and
//! Journal a backtest runs, without writing a run log). Points run in parallel, each on one
//! thread; what a point computes depends on nothing but its configuration and the inputs, so
//! the results do not depend on how many threads ran them. A point's run is summarized on its
//! thread as soon as it ends, so a large sweep never holds more than one history per thread.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use charon_actors::journal::Journal;
use charon_actors::setup::build_actors;
use charon_events::Envelope;
use charon_replay::report::{ReportBuilder, RunHistory};

use super::bundle::{Bundle, RunSpec};
use super::grid::{apply, Point};
use super::runner::{progress_bar, Numbering, ReportingSink};
use crate::failure::Failure;

/// The file name of each point's configuration under its directory.
pub const POINT_CONFIG: &str = "run.toml";

/// A point ready to run: its values, its configuration and where that is recorded.
pub struct PreparedPoint {
    pub point: Point,
    pub spec: RunSpec,
    /// The point's configuration file (`OUT/points/NNNN/run.toml`, or deeper when templates
    /// sit beside the configuration's directory).
    pub config: PathBuf,
}

/// The name of point `index`'s directory: its index with at least four digits, as many as the
/// largest index has, so the directories sort in point order.
pub fn point_dir_name(index: usize, count: usize) -> String {
    let width = count.saturating_sub(1).to_string().len().max(4);
    format!("{index:0width$}")
}

/// Writes every point's bundle under `out/points/` and loads it; the first point whose
/// configuration is invalid stops the sweep before anything runs, naming the point.
pub fn prepare(
    base: &Bundle,
    points: Vec<Point>,
    out: &Path,
) -> Result<Vec<PreparedPoint>, Failure> {
    let count = points.len();
    let mut prepared = Vec::with_capacity(count);
    for point in points {
        let bundle = apply(base, &point).map_err(|e| {
            Failure::BadInput(format!(
                "sweep point {} ({}): {e}",
                point.index,
                point.label()
            ))
        })?;
        let dir = out.join("points").join(point_dir_name(point.index, count));
        let spec = RunSpec::from_bundle(&bundle, &dir, POINT_CONFIG).map_err(|e| match e {
            Failure::BadInput(why) => Failure::BadInput(format!(
                "sweep point {} ({}): {why}",
                point.index,
                point.label()
            )),
            other => other,
        })?;
        let config = bundle.config_dir_in(&dir).join(POINT_CONFIG);
        prepared.push(PreparedPoint {
            point,
            spec,
            config,
        });
    }
    Ok(prepared)
}

/// Runs one configuration over `inputs` (a backtest without a run log) and returns what its
/// report gathered, for statistics.
pub fn run_point(spec: &RunSpec, inputs: &[Envelope]) -> Result<RunHistory, String> {
    let actors = build_actors(&spec.config, &spec.templates).map_err(|e| e.to_string())?;
    let sink = ReportingSink {
        // A backtest's run log holds its manifest at seq 1: number as it would.
        inner: Numbering { next: 2 },
        report: ReportBuilder::new(&spec.capitals()),
    };
    let mut journal = Journal::new(actors, sink).map_err(|e| e.to_string())?;
    for input in inputs {
        journal.process(input.clone()).map_err(|e| e.to_string())?;
    }
    Ok(journal.into_sink().report.history())
}

/// Runs every point on `threads` threads (at least one), each point's history handed to
/// `summarize` on its thread; the summaries come back in point order.
pub fn run_all<T: Send>(
    points: &[PreparedPoint],
    inputs: &[Envelope],
    threads: usize,
    progress: bool,
    summarize: impl Fn(RunHistory) -> T + Sync,
) -> Vec<Result<T, String>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<T, String>>>> =
        Mutex::new((0..points.len()).map(|_| None).collect());
    let bar = progress_bar(points.len() as u64, progress, "points");
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, points.len().max(1)) {
            scope.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some(point) = points.get(at) else { return };
                let result = run_point(&point.spec, inputs).map(&summarize);
                results.lock().unwrap_or_else(|p| p.into_inner())[at] = Some(result);
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not run".into())))
        .collect()
}
