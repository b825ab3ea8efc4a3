//! End-to-end: the binary's diagnostics on standard error. With `--log-format json` every event
//! is one JSON object on one line, with its time, level, fields and the spans it happened in
//! (a sweep's event carries the `backtest` span's configuration, data and output); a failure
//! is one `ERROR` event with its exit code (and a divergence's seq, bot and pair); `RUST_LOG`
//! sets the level; in text each event is one
//! `charon: ...` line; and nothing secret from the environment ever reaches the log, even at
//! `trace`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::{arg, charon, repo, stderr, stdout};

/// A value that must never appear in any log line.
const SECRET: &str = "sk_live_5f3c9a7e0d2b4c61";

/// The XRPUSDT 5-minute bars (1,999) in a data log, and a one-bot configuration over them.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("xrp.data");
    let output = charon(&[
        "import",
        "ohlcv-csv",
        arg(&repo("data/freqtrade/XRP_USDT_USDT-5m-futures.csv")),
        "--data",
        arg(&data),
        "--symbol",
        "XRPUSDT",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::copy(
        repo("examples/strategies/ema_cross.toml"),
        dir.join("ema_cross.toml"),
    )
    .unwrap();
    let config = dir.join("xrp.toml");
    std::fs::write(
        &config,
        r#"[[bot]]
name = "xrp"
quote = "USDT"
initial_capital = 5000

[[bot.pair]]
symbol = "XRPUSDT"
market = "perpetual"
leverage = 2
strategy = "ema_cross.toml"
timeframe = "5m"
sizing = { per_trade = { quote = 1000 } }
exits = { stop_loss_pct = 2 }
"#,
    )
    .unwrap();
    (data, config)
}

/// Runs the binary with `RUST_LOG` as given (unset when `None`) and a secret in its
/// environment.
fn run(args: &[&str], rust_log: Option<&str>) -> Output {
    let scratch = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_charon"));
    command
        .args(args)
        .current_dir(scratch.path())
        .env("CHARON_API_SECRET", SECRET)
        .env_remove("RUST_LOG");
    if let Some(level) = rust_log {
        command.env("RUST_LOG", level);
    }
    command.output().expect("the charon binary runs")
}

fn sweep_args<'a>(data: &'a Path, config: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "backtest",
        "--config",
        arg(config),
        "--data",
        arg(data),
        "--out",
        arg(out),
        "--sweep",
        "params.fast=5,8",
    ]
}

/// Every line of standard error, each parsed as one JSON object.
fn json_lines(output: &Output) -> Vec<Value> {
    stderr(output)
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("not one JSON object: {line:?}: {e}"))
        })
        .collect()
}

#[test]
fn in_json_every_event_is_one_line_with_its_fields_and_spans() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path());
    let out = dir.path().join("sweep");
    let mut args = vec!["--log-format", "json"];
    args.extend(sweep_args(&data, &config, &out));
    let output = run(&args, Some("trace"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("sweep of 2 points"));
    let events = json_lines(&output);
    assert!(!events.is_empty(), "the sweep logs its size");
    for event in &events {
        for key in ["timestamp", "level", "target", "fields"] {
            assert!(event.get(key).is_some(), "no {key} in {event}");
        }
        assert!(event["fields"]["message"].is_string(), "{event}");
    }
    let sweep = events
        .iter()
        .find(|event| {
            event["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("sweep: 2 points over 1999 inputs"))
        })
        .unwrap_or_else(|| panic!("no sweep event in {events:?}"));
    assert_eq!(sweep["level"], "INFO");
    assert_eq!(sweep["fields"]["points"], 2);
    assert_eq!(sweep["fields"]["inputs"], 1999);
    assert_eq!(sweep["fields"]["first_seq"], 1);
    assert_eq!(sweep["fields"]["last_seq"], 1999);
    let span = sweep["spans"]
        .as_array()
        .and_then(|spans| spans.iter().find(|span| span["name"] == "backtest"))
        .unwrap_or_else(|| panic!("no backtest span in {sweep}"));
    assert_eq!(span["config"], arg(&config));
    assert_eq!(span["data"], arg(&data));
    assert_eq!(span["out"], arg(&out));
    assert!(!stderr(&output).contains(SECRET));
}

#[test]
fn a_failure_is_one_error_event_with_its_exit_code_in_either_format() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.run");
    let json = run(
        &["--log-format", "json", "replay", "verify", arg(&missing)],
        None,
    );
    assert_eq!(json.status.code(), Some(2));
    let events = json_lines(&json);
    assert_eq!(events.len(), 1, "{events:?}");
    let error = &events[0];
    assert_eq!(error["level"], "ERROR");
    assert_eq!(error["fields"]["exit_code"], 2);
    let message = error["fields"]["message"].as_str().unwrap();
    assert!(message.contains(arg(&missing)), "{message}");
    let spans = error["spans"].as_array().map_or(0, Vec::len);
    assert_eq!(
        spans, 0,
        "the failure is reported outside the command: {error}"
    );

    let text = run(&["replay", "verify", arg(&missing)], None);
    assert_eq!(text.status.code(), Some(2));
    assert_eq!(stderr(&text), format!("charon: {message}\n"));
}

#[test]
fn rust_log_sets_the_level_and_text_is_one_charon_line_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path());
    let out = dir.path().join("default");
    let default = run(&sweep_args(&data, &config, &out), None);
    assert!(default.status.success(), "{}", stderr(&default));
    let lines: Vec<String> = stderr(&default).lines().map(String::from).collect();
    assert!(
        lines.iter().any(|line| line
            .starts_with("charon: sweep: 2 points over 1999 inputs (data log seqs 1..=1999)")),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|line| line.starts_with("charon: ")),
        "{lines:?}"
    );

    let out = dir.path().join("quiet");
    let quiet = run(&sweep_args(&data, &config, &out), Some("warn"));
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(stderr(&quiet), "", "nothing at warn or above happened");
    assert_eq!(
        stdout(&quiet).lines().next(),
        stdout(&default).lines().next(),
        "levels change the diagnostics, never the result"
    );

    // A level no one can read falls back to info, and says so.
    let out = dir.path().join("bad");
    let bad = run(&sweep_args(&data, &config, &out), Some("charon=loud"));
    assert!(bad.status.success(), "{}", stderr(&bad));
    assert!(
        stderr(&bad).starts_with("charon: warning: RUST_LOG: "),
        "{}",
        stderr(&bad)
    );
    assert!(stderr(&bad).contains("charon: sweep: 2 points"));
}

#[test]
fn a_divergence_is_logged_with_its_seq_bot_and_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path());
    let run_log = dir.path().join("xrp.run");
    let backtest = support::backtest(&config, &data, &run_log, &[]);
    assert!(backtest.status.success(), "{}", stderr(&backtest));
    let fill = support::alter_first_fill(&run_log);
    let output = run(
        &["--log-format", "json", "replay", "verify", arg(&run_log)],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let events = json_lines(&output);
    let error = events.last().expect("the failure is logged");
    assert_eq!(error["level"], "ERROR");
    assert_eq!(error["fields"]["exit_code"], 1);
    assert_eq!(error["fields"]["seq"], fill);
    assert_eq!(error["fields"]["bot"], "xrp");
    assert_eq!(error["fields"]["pair"], "XRPUSDT");
    assert!(error["fields"]["message"]
        .as_str()
        .unwrap()
        .ends_with(&format!("diverges at seq {fill}")));
}
