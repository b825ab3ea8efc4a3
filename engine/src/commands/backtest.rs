//! `charon backtest`: a configuration over recorded market data, reported; with `--split`, the
//! statistics in and out of sample as well; with `--sweep`, a grid of configurations instead of
//! one, ranked (docs/SWEEPS.md).

use charon_replay::backtest::backtest;
use charon_replay::html::report::SampleSplit;
use charon_replay::report::Report;
use charon_replay::run::span::{check_span, seq_range, time_span};
use charon_replay::split::SplitStatistics;
use charon_replay::statistics::compute;
use charon_replay::sweep::{plan, SweepRequest, RESULTS_CSV, RESULTS_JSON};
use serde::Serialize;

use crate::cli::BacktestArgs;
use crate::config_files::run_spec;
use crate::error::CommandError;
use crate::open_log::open_existing;
use crate::report_output::{
    print_outcome, progress_bar, report, with_progress, write_html, write_json,
};

pub fn run(args: BacktestArgs) -> Result<(), CommandError> {
    let _command = tracing::info_span!(
        "backtest",
        config = %args.config.display(),
        data = %args.data.display(),
        out = %args.out.display()
    )
    .entered();
    let spec = run_spec(&args.config)?;
    let data = open_existing(&args.data)?;
    let (first, last) = seq_range(&data, args.from, args.to)?;
    if !args.sweep.is_empty() {
        return sweep(
            &args,
            SweepRequest {
                spec: &spec,
                data: &data,
                first,
                last,
                period: (args.from, args.to),
                out: &args.out,
                axes: &args.sweep,
                metric: args.sort,
                sort_bot: args.sort_bot,
                split: args.split,
                threads: args.threads,
                settings: args.report.risk_free_rate,
            },
        );
    }
    let settings = args.report.risk_free_rate;
    let inputs = (last + 1).saturating_sub(first);
    let Some(split) = args.split else {
        let outcome = with_progress(inputs, |progress| {
            backtest(&spec, &data, first, last, &args.out, &settings, progress)
        })?;
        return report(&outcome, &args.out, &args.report);
    };
    check_span(&data, first, last)?;
    let (start, end) = time_span(&data, first, last)?;
    let cut = split.cut(start, end).map_err(CommandError::Split)?;
    let outcome = with_progress(inputs, |progress| {
        backtest(&spec, &data, first, last, &args.out, &settings, progress)
    })?;
    let history = &outcome.report.history;
    let windows = SplitStatistics {
        split,
        cut: cut.at,
        in_sample: compute(history, cut.in_sample, &settings),
        out_of_sample: compute(history, cut.out_of_sample, &settings),
    };
    print_outcome(&outcome, &args.out);
    outln!();
    out!("{}", windows.render_text());
    if let Some(path) = &args.report.report_json {
        let with_split = WithSplit {
            report: &outcome.report,
            split: &windows,
        };
        write_json(&with_split, path)?;
    }
    if let Some(path) = &args.report.html {
        let split = SampleSplit {
            ratio: windows.split.to_string(),
            cut: windows.cut,
            in_sample: windows.in_sample.clone(),
            out_of_sample: windows.out_of_sample.clone(),
        };
        write_html(&outcome, &args.out, path, Some(split))?;
        outln!("HTML report: {}", path.display());
    }
    Ok(())
}

/// The JSON report of a run with `--split`: the report's fields and `split`.
#[derive(Serialize)]
struct WithSplit<'a> {
    #[serde(flatten)]
    report: &'a Report,
    split: &'a SplitStatistics,
}

/// `--sweep`: the grid run, ranked, printed and written.
fn sweep(args: &BacktestArgs, request: SweepRequest<'_>) -> Result<(), CommandError> {
    let planned = plan(&request)?;
    let bar = progress_bar(planned.points() as u64, true, "points");
    let outcome = planned.run(&|| bar.inc(1))?;
    bar.finish_and_clear();
    outcome.write(&args.out)?;
    let (results, ranking) = (&outcome.results, outcome.ranking);
    let order = if ranking.metric.higher_is_better() {
        "highest first"
    } else {
        "lowest first"
    };
    let window = match (args.split, outcome.cut) {
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
    if let Some((index, config)) = outcome.best_config(out) {
        outln!("reproduce point {index}: {}", reproduce(args, &config));
    }
    Ok(())
}

/// The `charon backtest` command that runs one point again on its own.
fn reproduce(args: &BacktestArgs, config: &std::path::Path) -> String {
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
