//! A sweep from its request to its results on disk. [`plan`] creates the output directory,
//! prepares and checks every point under `OUT/points/` (an invalid point stops the sweep before
//! anything runs, and the directory is removed) and reads the inputs once from the data log;
//! [`SweepPlan::run`] runs the points in parallel and ranks them; [`SweepOutcome::write`]
//! writes `OUT/results.csv` and `OUT/results.json` (docs/SWEEPS.md).

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use charon_events::{BotId, Envelope, EventLog, Seq, Timestamp};
use serde_json::json;

use super::error::SweepError;
use super::grid::{points, Axis};
use super::metric::Metric;
use super::points::{prepare, PreparedPoint};
use super::results::{readings, Ranking, Results, Row};
use super::runner::run_all;
use crate::run::span::{check_span, time_span};
use crate::run::RunSpec;
use crate::split::{Cut, Split};
use crate::statistics::{Settings, Window};

/// The results' file names in the output directory.
pub const RESULTS_CSV: &str = "results.csv";
pub const RESULTS_JSON: &str = "results.json";

/// What a sweep is asked to do.
pub struct SweepRequest<'a> {
    /// The configuration every point starts from.
    pub spec: &'a RunSpec,
    pub data: &'a EventLog,
    /// The span of `data` every point runs over.
    pub first: Seq,
    pub last: Seq,
    /// The `--from` and `--to` that chose the span, as given (for the results' record).
    pub period: (Option<Timestamp>, Option<Timestamp>),
    /// The sweep's directory (must not exist).
    pub out: &'a Path,
    pub axes: &'a [Axis],
    /// The statistic the points are ranked by, and whose (default: the first bot).
    pub metric: Metric,
    pub sort_bot: Option<BotId>,
    pub split: Option<Split>,
    /// Threads to run points on (default: every core).
    pub threads: Option<NonZeroUsize>,
    pub settings: Settings,
}

/// A sweep ready to run: its points written and checked, its inputs read.
pub struct SweepPlan<'a> {
    request: &'a SweepRequest<'a>,
    points: Vec<PreparedPoint>,
    inputs: Vec<Envelope>,
    threads: usize,
    ranking: Ranking,
    cut: Option<Cut>,
}

/// A sweep's ranked results, and what they were ranked by.
pub struct SweepOutcome {
    pub results: Results,
    pub ranking: Ranking,
    /// Where the span was cut in and out of sample, with `--split`.
    pub cut: Option<Cut>,
    /// The JSON record of the sweep (`results.json`).
    document: serde_json::Value,
}

/// Checks a sweep's request and prepares it (see the module's doc).
pub fn plan<'a>(request: &'a SweepRequest<'a>) -> Result<SweepPlan<'a>, SweepError> {
    let (data, first, last, out) = (request.data, request.first, request.last, request.out);
    check_span(data, first, last)?;
    if out.exists() {
        return Err(SweepError::Exists(out.to_path_buf()));
    }
    let grid = points(request.axes).map_err(SweepError::Grid)?;
    let ranking = Ranking {
        metric: request.metric,
        bot: bot_index(request.spec, request.sort_bot.as_ref())?,
    };
    let cut = match request.split {
        Some(split) => {
            let (start, end) = time_span(data, first, last)?;
            Some(split.cut(start, end).map_err(SweepError::Split)?)
        }
        None => None,
    };
    std::fs::create_dir_all(out).map_err(|source| SweepError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let points = prepare(&request.spec.bundle, grid, out).map_err(|failure| {
        // Nothing ran: leave no half-written sweep behind (the directory is the sweep's own).
        let _ = std::fs::remove_dir_all(out);
        if failure.is_bad_input() {
            SweepError::Removed {
                out: out.to_path_buf(),
                source: Box::new(failure),
            }
        } else {
            failure
        }
    })?;
    let inputs = data
        .range(first, last)
        .collect::<Result<Vec<Envelope>, _>>()
        .map_err(crate::run::RunError::from)?;
    let threads = request
        .threads
        .map_or_else(
            || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            NonZeroUsize::get,
        )
        .min(points.len())
        .max(1);
    Ok(SweepPlan {
        request,
        points,
        inputs,
        threads,
        ranking,
        cut,
    })
}

/// The configuration's bot `--sort-bot` names, or its first.
fn bot_index(spec: &RunSpec, wanted: Option<&BotId>) -> Result<usize, SweepError> {
    let Some(wanted) = wanted else { return Ok(0) };
    spec.config
        .bot
        .iter()
        .position(|bot| bot.name == *wanted)
        .ok_or_else(|| SweepError::NoSuchBot {
            wanted: wanted.to_string(),
            known: spec.config.bot.iter().map(|b| b.name.to_string()).collect(),
        })
}

impl SweepPlan<'_> {
    pub fn points(&self) -> usize {
        self.points.len()
    }

    pub fn inputs(&self) -> usize {
        self.inputs.len()
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs every point, calling `done` as each ends, and ranks the results.
    pub fn run(self, done: &(dyn Fn() + Sync)) -> Result<SweepOutcome, SweepError> {
        let request = self.request;
        tracing::info!(
            points = self.points.len(),
            inputs = self.inputs.len(),
            first_seq = request.first,
            last_seq = request.last,
            threads = self.threads,
            "sweep: {} points over {} inputs (data log seqs {}..={}) on {} thread{}",
            self.points.len(),
            self.inputs.len(),
            request.first,
            request.last,
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        );
        let windows: Vec<Window> = match self.cut {
            Some(cut) => vec![cut.in_sample, cut.out_of_sample],
            None => vec![Window::ALL],
        };
        let settings = request.settings;
        let summaries = run_all(&self.points, &self.inputs, self.threads, done, |history| {
            readings(&history, &windows, &settings)
        });
        let mut rows = Vec::with_capacity(self.points.len());
        for (point, summary) in self.points.iter().zip(summaries) {
            let bots = summary.map_err(|why| SweepError::PointFailed {
                index: point.point.index,
                label: point.point.label(),
                why,
            })?;
            rows.push(Row {
                point: point.point.clone(),
                config: relative(&point.config, request.out),
                bots,
            });
        }
        let mut results = Results {
            keys: request.axes.iter().map(|axis| axis.key.clone()).collect(),
            bots: request.spec.config.bot.iter().map(|bot| bot.name).collect(),
            windows: if self.cut.is_some() {
                vec!["in", "out"]
            } else {
                vec!["all"]
            },
            rows,
        };
        results.rank(self.ranking);
        let document = json_document(request, &results, self.ranking, self.cut);
        Ok(SweepOutcome {
            results,
            ranking: self.ranking,
            cut: self.cut,
            document,
        })
    }
}

impl SweepOutcome {
    /// Writes `results.csv` and `results.json` into the sweep's directory `out`.
    pub fn write(&self, out: &Path) -> Result<(), SweepError> {
        let put = |name: &str, text: String| {
            let path = out.join(name);
            std::fs::write(&path, text).map_err(|source| SweepError::Write { path, source })
        };
        put(RESULTS_CSV, self.results.csv())?;
        let json =
            serde_json::to_string_pretty(&self.document).map_err(|source| SweepError::Json {
                name: RESULTS_JSON,
                source,
            })?;
        put(RESULTS_JSON, json + "\n")
    }

    /// The best point's configuration file, under the sweep's directory `out`.
    pub fn best_config(&self, out: &Path) -> Option<(usize, PathBuf)> {
        let best = self.results.rows.first()?;
        Some((best.point.index, out.join(&best.config)))
    }
}

/// `path` relative to `base`, with `/` between its parts.
fn relative(path: &Path, base: &Path) -> String {
    let inside = path.strip_prefix(base).unwrap_or(path);
    inside
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn json_document(
    request: &SweepRequest<'_>,
    results: &Results,
    ranking: Ranking,
    cut: Option<Cut>,
) -> serde_json::Value {
    let split = match (request.split, cut) {
        (Some(split), Some(cut)) => json!({
            "in": split.in_sample,
            "out": split.out_of_sample,
            "cut": cut.at,
        }),
        _ => serde_json::Value::Null,
    };
    json!({
        "sort": {
            "statistic": ranking.metric.name(),
            "bot": results.bots[ranking.bot].to_string(),
            "order": if ranking.metric.higher_is_better() { "descending" } else { "ascending" },
            "window": results.windows[0],
        },
        "split": split,
        "settings": request.settings,
        "data": {
            "log": request.data.path().display().to_string(),
            "log_id": request.data.meta().log_id.0.to_string(),
            "first_seq": request.first,
            "last_seq": request.last,
            "from": request.period.0,
            "to": request.period.1,
        },
        "keys": results.keys,
        "rows": results.json_rows(),
    })
}
