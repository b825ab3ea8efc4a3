//! A sweep's points made ready to run: each point's bundle (the configuration and its
//! templates, with the point's values set) written under `OUT/points/NNNN/` and loaded by the
//! same loader as any file, before anything runs, so that an invalid point stops the sweep and
//! every point reproduces with `charon backtest --config` on its file.

use std::path::{Path, PathBuf};

use super::error::SweepError;
use super::grid::{apply, Point};
use crate::run::{Bundle, RunSpec};

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
) -> Result<Vec<PreparedPoint>, SweepError> {
    let count = points.len();
    let mut prepared = Vec::with_capacity(count);
    for point in points {
        let refused = |why: String| SweepError::BadPoint {
            index: point.index,
            label: point.label(),
            why,
        };
        let bundle = apply(base, &point).map_err(refused)?;
        let dir = out.join("points").join(point_dir_name(point.index, count));
        let config = bundle.write_to(&dir, POINT_CONFIG).map_err(|e| match e {
            crate::run::BundleError::Write { .. } => SweepError::Bundle(e),
            other => refused(other.to_string()),
        })?;
        let spec = RunSpec::from_bundle(&bundle, &dir, POINT_CONFIG)
            .map_err(|errors| refused(errors.to_string()))?;
        prepared.push(PreparedPoint {
            point,
            spec,
            config,
        });
    }
    Ok(prepared)
}
