//! A finished run's report as the commands that run one show it (`backtest`, `demo`, `replay
//! run`): printed on standard output, and written as JSON (`--report-json`) and as one
//! self-contained HTML page (`--html`) where asked.

use std::io::IsTerminal;
use std::path::Path;

use charon_replay::html;
use charon_replay::html::report::{RunDescription, SampleSplit};
use charon_replay::run::reported::Outcome;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::cli::ReportArgs;
use crate::error::CommandError;

/// Prints a finished run's report and writes its JSON and HTML where `args` asks.
pub fn report(outcome: &Outcome, out: &Path, args: &ReportArgs) -> Result<(), CommandError> {
    print_outcome(outcome, out);
    if let Some(path) = &args.report_json {
        write_json(&outcome.report, path)?;
    }
    if let Some(path) = &args.html {
        write_html(outcome, out, path, None)?;
        outln!("HTML report: {}", path.display());
    }
    Ok(())
}

/// The report's text and the run log's line.
pub fn print_outcome(outcome: &Outcome, out: &Path) {
    out!("{}", outcome.report.render_text());
    outln!(
        "run log {}: {}, {} derived events",
        out.display(),
        outcome.inputs_text(),
        outcome.derived
    );
}

/// The report as one HTML page at `path`, with the in- and out-of-sample statistics of `split`.
pub fn write_html(
    outcome: &Outcome,
    out: &Path,
    path: &Path,
    split: Option<SampleSplit>,
) -> Result<(), CommandError> {
    let about = RunDescription {
        title: "charon backtest report".into(),
        lines: vec![
            ("run log".into(), out.display().to_string()),
            ("inputs".into(), outcome.inputs_text()),
            ("derived events".into(), outcome.derived.to_string()),
            (
                "configuration".into(),
                format!("sha256 {}", outcome.config_hash),
            ),
        ],
        split,
    };
    std::fs::write(path, html::report::render(&outcome.report, &about)).map_err(|source| {
        CommandError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// `report` as pretty JSON at `path`.
pub fn write_json(report: &impl Serialize, path: &Path) -> Result<(), CommandError> {
    let json = serde_json::to_string_pretty(report).map_err(CommandError::Report)?;
    std::fs::write(path, json + "\n").map_err(|source| CommandError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// A bar on standard error counting `unit`s, drawn only when `wanted` and standard error is a
/// terminal.
pub fn progress_bar(total: u64, wanted: bool, unit: &str) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template = format!(
        "{{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
    );
    let style = ProgressStyle::with_template(&template).expect("a valid progress template");
    bar.set_style(style);
    bar
}

/// Runs `run` with a bar of `events` on standard error (when it is a terminal) that `run`'s
/// progress moves.
pub fn with_progress<T>(
    events: u64,
    run: impl FnOnce(&mut dyn FnMut(u64)) -> Result<T, charon_replay::run::RunError>,
) -> Result<T, CommandError> {
    let bar = progress_bar(events, true, "events");
    let outcome = run(&mut |done| bar.set_position(done))?;
    bar.finish_and_clear();
    Ok(outcome)
}
