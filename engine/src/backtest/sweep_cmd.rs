//! `charon backtest --sweep`: from the arguments to the results. The output directory is
//! created, every point prepared and checked under `OUT/points/` (an invalid point stops the
//! sweep before anything runs and the directory is removed), the inputs read once from the
//! data log, the points run in parallel, and the ranked table printed and written as
//! `OUT/results.csv` and `OUT/results.json` (docs/SWEEPS.md).

use std::num::NonZeroUsize;
use std::path::Path;

use charon_events::{Envelope, EventLog, Seq};
use charon_replay::statistics::Window;
use serde_json::json;

use super::bundle::RunSpec;
use super::results::{readings, Ranking, Results, Row};
use super::split::Cut;
use super::{grid, runner, sweep, BacktestArgs};
use crate::failure::Failure;

/// The results' file names in the output directory.
pub const RESULTS_CSV: &str = "results.csv";
pub const RESULTS_JSON: &str = "results.json";

pub fn run(
    args: &BacktestArgs,
    spec: &RunSpec,
    data: &EventLog,
    first: Seq,
    last: Seq,
) -> Result<(), Failure> {
    runner::check_span(data, first, last)?;
    let out = &args.out;
    if out.exists() {
        return Err(Failure::BadInput(format!(
            "{}: already exists; a sweep never overwrites",
            out.display()
        )));
    }
    let points = grid::points(&args.sweep).map_err(Failure::BadInput)?;
    let ranking = Ranking {
        metric: args.sort,
        bot: bot_index(spec, args.sort_bot.as_ref())?,
    };
    let cut = match args.split {
        Some(split) => {
            let (start, end) = runner::time_span(data, first, last)?;
            Some(split.cut(start, end).map_err(Failure::BadInput)?)
        }
        None => None,
    };
    std::fs::create_dir_all(out).map_err(|e| Failure::Failed(format!("{}: {e}", out.display())))?;
    let prepared = sweep::prepare(&spec.bundle, points, out).map_err(|failure| {
        // Nothing ran: leave no half-written sweep behind (the directory is the sweep's own).
        let _ = std::fs::remove_dir_all(out);
        match failure {
            Failure::BadInput(why) => Failure::BadInput(format!(
                "{why} (nothing ran; {} was removed)",
                out.display()
            )),
            other => other,
        }
    })?;

    let inputs = data
        .range(first, last)
        .collect::<Result<Vec<Envelope>, _>>()?;
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        NonZeroUsize::get,
    );
    let threads = threads.min(prepared.len()).max(1);
    eprintln!(
        "sweep: {} points over {} inputs (data log seqs {first}..={last}) on {threads} thread{}",
        prepared.len(),
        inputs.len(),
        if threads == 1 { "" } else { "s" }
    );
    let windows: Vec<Window> = match cut {
        Some(cut) => vec![cut.in_sample, cut.out_of_sample],
        None => vec![Window::ALL],
    };
    let settings = args.report.risk_free_rate;
    let summaries = sweep::run_all(&prepared, &inputs, threads, true, |history| {
        readings(&history, &windows, &settings)
    });
    let mut rows = Vec::with_capacity(prepared.len());
    for (point, summary) in prepared.iter().zip(summaries) {
        let bots = summary.map_err(|e| {
            Failure::Failed(format!(
                "sweep point {} ({}): {e}",
                point.point.index,
                point.point.label()
            ))
        })?;
        rows.push(Row {
            point: point.point.clone(),
            config: relative(&point.config, out),
            bots,
        });
    }
    let mut results = Results {
        keys: args.sweep.iter().map(|axis| axis.key.clone()).collect(),
        bots: spec.config.bot.iter().map(|bot| bot.name).collect(),
        windows: if cut.is_some() {
            vec!["in", "out"]
        } else {
            vec!["all"]
        },
        rows,
    };
    results.rank(ranking);
    write(
        out,
        &results,
        &json_document(args, data, &results, ranking, cut, (first, last)),
    )?;
    print(args, &results, ranking, cut);
    Ok(())
}

/// The configuration's bot `--sort-bot` names, or its first.
fn bot_index(spec: &RunSpec, wanted: Option<&charon_events::BotId>) -> Result<usize, Failure> {
    let Some(wanted) = wanted else { return Ok(0) };
    spec.config
        .bot
        .iter()
        .position(|bot| bot.name == *wanted)
        .ok_or_else(|| {
            let names: Vec<String> = spec.config.bot.iter().map(|b| b.name.to_string()).collect();
            Failure::BadInput(format!(
                "--sort-bot {wanted}: the configuration has no such bot (it has {})",
                names.join(", ")
            ))
        })
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
    args: &BacktestArgs,
    data: &EventLog,
    results: &Results,
    ranking: Ranking,
    cut: Option<Cut>,
    (first, last): (Seq, Seq),
) -> serde_json::Value {
    let split = match (args.split, cut) {
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
        "settings": args.report.risk_free_rate,
        "data": {
            "log": data.path().display().to_string(),
            "log_id": data.meta().log_id.0.to_string(),
            "first_seq": first,
            "last_seq": last,
            "from": args.from,
            "to": args.to,
        },
        "keys": results.keys,
        "rows": results.json_rows(),
    })
}

fn write(out: &Path, results: &Results, document: &serde_json::Value) -> Result<(), Failure> {
    let put = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))
    };
    put(RESULTS_CSV, results.csv())?;
    let json = serde_json::to_string_pretty(document)
        .map_err(|e| Failure::Failed(format!("{RESULTS_JSON}: {e}")))?;
    put(RESULTS_JSON, json + "\n")
}

fn print(args: &BacktestArgs, results: &Results, ranking: Ranking, cut: Option<Cut>) {
    let order = if ranking.metric.higher_is_better() {
        "highest first"
    } else {
        "lowest first"
    };
    let window = match (args.split, cut) {
        (Some(split), Some(cut)) => format!(
            " in sample; split {split} at {} (\"in\" before it, \"out\" from it)",
            cut.at
        ),
        _ => String::new(),
    };
    outln!(
        "sweep of {} points, ranked by {} of bot {} ({order}){window}",
        results.rows.len(),
        ranking.metric,
        results.bots[ranking.bot]
    );
    out!("{}", results.render_text(ranking, args.top));
    if results.rows.len() > args.top {
        outln!("  ... {} more in the files", results.rows.len() - args.top);
    }
    let out = &args.out;
    outln!(
        "results: {}, {}",
        out.join(RESULTS_CSV).display(),
        out.join(RESULTS_JSON).display()
    );
    if let Some(best) = results.rows.first() {
        outln!(
            "reproduce point {}: {}",
            best.point.index,
            reproduce(args, &out.join(&best.config))
        );
    }
}

/// The `charon backtest` command that runs one point again on its own.
fn reproduce(args: &BacktestArgs, config: &Path) -> String {
    let mut command = format!(
        "charon backtest --config {} --data {}",
        config.display(),
        args.data.display()
    );
    if let Some(from) = args.from {
        command.push_str(&format!(" --from {from}"));
    }
    if let Some(to) = args.to {
        command.push_str(&format!(" --to {to}"));
    }
    let rate = args.report.risk_free_rate.risk_free_rate_pct();
    if !rate.is_zero() {
        command.push_str(&format!(" --risk-free-rate {}", rate.normalize()));
    }
    if let Some(split) = args.split {
        command.push_str(&format!(" --split {split}"));
    }
    command.push_str(" --out RUN");
    command
}
