//! End-to-end: `charon replay verify` as the real binary over real run logs: the demo's run
//! and a backtest re-derive identically; a run log with one derived event altered (a fill
//! price, re-encoded with a valid CRC) fails at exactly that seq with both versions shown; a
//! backtest verified without its data log, or against another one, is bad input; its data log
//! is found without `--data` where its manifest recorded it; and a run that the build before
//! codec format 2 wrote (`tests/fixtures/format-v1/`) still verifies, and today's build
//! re-derives it record for record.
//!
//! What-if and diff: the demo re-run with a tighter BTC stop over exactly its inputs verifies
//! and differs; `replay diff` of a run with itself (or with its own configuration re-run) is
//! identical, and of the what-if names the first differing seq, the trades only one run made,
//! the P&L and drawdown deltas of the two reports and the risk events whose counts differ,
//! each checked here against the logs and reports themselves; bad input exits 2.

#[path = "support/mod.rs"]
mod support;

use support::{charon, demo_config, tighter_stop};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use charon_events::payload::manifest::{ExecutionMode, RunManifest};
use charon_events::payload::order::PositionSide;
use charon_events::{Envelope, Event, EventLog, LogKind, Timestamp};
use charon_replay::inspect::render_json;
use rust_decimal::Decimal;

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a utf-8 path")
}

/// The demo's run log and data log, written into `dir`.
fn demo(dir: &Path) -> (PathBuf, PathBuf) {
    let (run, data) = (dir.join("demo.run"), dir.join("demo.data"));
    let output = charon(&["demo", "--out", arg(&run), "--data-log", arg(&data)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    (run, data)
}

#[test]
fn the_demo_run_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (run, data) = demo(dir.path());
    let output = charon(&["replay", "verify", arg(&run), "--data", arg(&data)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("re-derived identically"), "{stdout}");
    assert!(stdout.contains("from 47121 inputs"), "{stdout}");
}

#[test]
fn an_altered_fill_fails_at_its_seq_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (run, data) = demo(dir.path());
    // Change the first fill's price by one unit and store it back with a valid CRC.
    let altered_seq = support::alter_first_fill(&run);
    let output = charon(&["replay", "verify", arg(&run), "--data", arg(&data)]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with(&format!("divergence at seq {altered_seq}\n")),
        "{stdout}"
    );
    let line = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line:\n{stdout}"))
            .to_string()
    };
    let (recorded, rederived) = (line("recorded:"), line("re-derived:"));
    assert!(recorded.contains("order_filled") && rederived.contains("order_filled"));
    assert_ne!(
        recorded.replace("recorded:", ""),
        rederived.replace("re-derived:", "")
    );
    assert!(stdout.contains("caused by input"), "{stdout}");
    // The difference is named field by field.
    assert!(
        stdout.contains("differs in payload.fill.price: recorded "),
        "{stdout}"
    );
    assert!(text(&output.stderr).contains(&format!("diverges at seq {altered_seq}")));
}

#[test]
fn a_backtest_needs_its_own_data_log() {
    let dir = tempfile::tempdir().unwrap();
    let (run, data) = demo(dir.path());
    // Where the manifest recorded it, the data log is found without being named.
    let found = charon(&["replay", "verify", arg(&run)]);
    assert!(found.status.success(), "{}", text(&found.stderr));
    assert!(text(&found.stdout).contains("re-derived identically"));
    // Moved, it must be named, and then it is found by its id wherever it is.
    let moved = dir.path().join("moved.data");
    std::fs::rename(&data, &moved).unwrap();
    let missing = charon(&["replay", "verify", arg(&run)]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("--data"));
    assert!(
        text(&missing.stderr).contains(&format!("no longer at {}", data.display())),
        "{}",
        text(&missing.stderr)
    );
    let named = charon(&["replay", "verify", arg(&run), "--data", arg(&moved)]);
    assert!(named.status.success(), "{}", text(&named.stderr));

    // Another data log (a different id) is refused, not replayed.
    let other = dir.path().join("other.data");
    let import = charon(&[
        "import",
        "funding-csv",
        arg(&Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../data/freqtrade/XRP_USDT_USDT-8h-funding_rate.csv")),
        "--data",
        arg(&other),
        "--symbol",
        "XRPUSDT",
    ]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let wrong = charon(&["replay", "verify", arg(&run), "--data", arg(&other)]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("is not the run's"));
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn import(data: &Path, format: &str, files: &[&str], symbol: Option<&str>) {
    let mut args = vec!["import", format];
    let paths: Vec<PathBuf> = files.iter().map(|f| repo(f)).collect();
    args.extend(paths.iter().map(|p| arg(p)));
    args.extend(["--data", arg(data)]);
    if let Some(symbol) = symbol {
        args.extend(["--symbol", symbol]);
    }
    let output = charon(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn a_run_naming_its_templates_by_absolute_paths_verifies_after_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let (_, data) = demo(dir.path());
    // The demo's configuration with each template copied to an absolute path of its own.
    let templates = dir.path().join("elsewhere");
    std::fs::create_dir_all(&templates).unwrap();
    let mut config = std::fs::read_to_string(repo("examples/bots/demo.toml")).unwrap();
    for name in ["ema_cross.toml", "bollinger_reversion.toml"] {
        let copy = templates.join(name);
        std::fs::copy(repo("examples/strategies").join(name), &copy).unwrap();
        let relative = format!("\"../strategies/{name}\"");
        assert!(config.contains(&relative), "the demo uses {name}");
        config = config.replace(&relative, &format!("{:?}", arg(&copy)));
    }
    let config_path = dir.path().join("absolute.toml");
    std::fs::write(&config_path, config).unwrap();
    let run = dir.path().join("absolute.run");
    let output = support::backtest(&config_path, &data, &run, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    // The files the run named are gone: verify must use the texts its manifest recorded.
    std::fs::remove_dir_all(&templates).unwrap();
    let output = charon(&["replay", "verify", arg(&run), "--data", arg(&data)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("re-derived identically"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn every_example_configuration_backtests_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    // The spot example on the recorded Binance spot ticks; the perpetual example on the BTC
    // perpetual 1-minute bars.
    let ticks = dir.path().join("ticks.data");
    import(
        &ticks,
        "binance-ws",
        &[
            "data/hftbacktest/btcusdt_20240808.gz",
            "data/hftbacktest/btcusdt_20240809.gz",
            "data/hftbacktest/ethusdt_20240808.gz",
        ],
        None,
    );
    let bars = dir.path().join("bars.data");
    import(
        &bars,
        "ohlcv-csv",
        &["data/nautilus_trader/btc-perp-20211231-20220201_1m.csv.gz"],
        Some("BTCUSDT"),
    );
    for (config, data) in [
        ("examples/bots/spot_trend.toml", &ticks),
        ("examples/bots/perp_breakout.toml", &bars),
    ] {
        let run = dir.path().join(Path::new(config).file_stem().unwrap());
        let output = charon(&[
            "backtest",
            "--config",
            arg(&repo(config)),
            "--data",
            arg(data),
            "--out",
            arg(&run),
        ]);
        assert!(
            output.status.success(),
            "{config}: {}",
            text(&output.stderr)
        );
        let output = charon(&["replay", "verify", arg(&run), "--data", arg(data)]);
        assert!(
            output.status.success(),
            "{config}: {}",
            text(&output.stderr)
        );
        assert!(text(&output.stdout).contains("re-derived identically"));
    }
}

// ---- What-if (`replay run`) and `replay diff` ----

/// XRPUSDT's funding gate made strict enough to block some entries (in November 2021, before
/// any BTCUSDT bar: the tighter BTC stop leaves these blocks as they are).
fn strict_funding_gate(text: &str) -> String {
    let gate = "gates = { funding = { max_abs_rate_pct = 0.05 } }";
    assert_eq!(text.matches(gate).count(), 1, "the demo's XRP gate moved");
    text.replace(gate, "gates = { funding = { max_abs_rate_pct = 0.01 } }")
}

/// Two runs over the demo's inputs, A and B, with their JSON reports: A is the demo's own run,
/// or with `baseline` a what-if of it with that edit; B is a what-if of the demo with
/// `baseline` (if any) and a tighter BTC stop.
struct WhatIf {
    _dir: tempfile::TempDir,
    data: PathBuf,
    run: PathBuf,
    what_if: PathBuf,
    report: serde_json::Value,
    what_if_report: serde_json::Value,
    what_if_stdout: String,
}

/// `replay run RUN --config CONFIG --out DIR/NAME.run --data DATA --report-json ...`: the new
/// run, its JSON report and its standard output.
fn replay_run(
    dir: &Path,
    run: &Path,
    data: &Path,
    config: &Path,
    name: &str,
) -> (PathBuf, serde_json::Value, String) {
    let (out, json) = (
        dir.join(format!("{name}.run")),
        dir.join(format!("{name}.json")),
    );
    let output = charon(&[
        "replay",
        "run",
        arg(run),
        "--config",
        arg(config),
        "--out",
        arg(&out),
        "--data",
        arg(data),
        "--report-json",
        arg(&json),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    (out, read_json(&json), text(&output.stdout))
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn what_if(baseline: Option<fn(&str) -> String>) -> WhatIf {
    let dir = tempfile::tempdir().unwrap();
    let (demo_run, data) = (dir.path().join("demo.run"), dir.path().join("demo.data"));
    let json = dir.path().join("demo.json");
    let output = charon(&[
        "demo",
        "--out",
        arg(&demo_run),
        "--data-log",
        arg(&data),
        "--report-json",
        arg(&json),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let edit = |text: &str| baseline.map_or_else(|| text.to_string(), |edit| edit(text));
    let (run, report) = match baseline {
        None => (demo_run.clone(), read_json(&json)),
        Some(_) => {
            let config = demo_config(dir.path(), "baseline", edit);
            let (run, report, _) = replay_run(dir.path(), &demo_run, &data, &config, "baseline");
            (run, report)
        }
    };
    let config = demo_config(dir.path(), "tight", |text| tighter_stop(&edit(text)));
    let (what_if, what_if_report, what_if_stdout) =
        replay_run(dir.path(), &demo_run, &data, &config, "tight");
    WhatIf {
        _dir: dir,
        data,
        run,
        what_if,
        report,
        what_if_report,
        what_if_stdout,
    }
}

fn manifest(path: &Path) -> RunManifest {
    let log = support::open_log(path);
    match log.get(1).unwrap().map(|e| e.payload) {
        Some(Event::RunManifest(manifest)) => manifest,
        other => panic!("{}: first event {other:?}", path.display()),
    }
}

/// Every event after the manifest.
fn events(path: &Path) -> Vec<Envelope> {
    let log = support::open_log(path);
    log.iter_from(2).map(Result::unwrap).collect()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn a_what_if_with_a_tighter_stop_runs_the_same_inputs_and_verifies() {
    let w = what_if(None);
    // Printed like a backtest: the report, then the run log over the cited inputs.
    for expected in ["bot demo", "max drawdown", "BTCUSDT", "47121 inputs"] {
        assert!(w.what_if_stdout.contains(expected), "{}", w.what_if_stdout);
    }
    // The same inputs (data log and seq range), the other configuration.
    let (original, changed) = (manifest(&w.run), manifest(&w.what_if));
    assert_eq!(changed.data, original.data);
    assert!(changed.data.is_some());
    assert_ne!(changed.config_hash, original.config_hash);
    assert!(changed.config_toml.contains("stop_loss_pct = 1,"));
    assert!(!changed.config_toml.contains("stop_loss_pct = 2,"));
    // A run of its own: it re-derives from its inputs like any backtest.
    let output = charon(&["replay", "verify", arg(&w.what_if), "--data", arg(&w.data)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("from 47121 inputs"));
    // And it differs from the original: in its events and in its result.
    assert_ne!(events(&w.run), events(&w.what_if));
    assert_ne!(
        w.report["bots"][0]["final_equity"],
        w.what_if_report["bots"][0]["final_equity"]
    );
}

#[test]
fn the_unchanged_configuration_reproduces_the_run_and_diffs_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (run, data) = demo(dir.path());
    // A run diffed with itself.
    let output = charon(&["replay", "diff", arg(&run), arg(&run)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("\nidentical: "), "{stdout}");
    assert!(!stdout.contains("divergence"), "{stdout}");

    // A what-if with the demo's own configuration is the demo's run again, record for record.
    let same = dir.path().join("same.run");
    let output = charon(&[
        "replay",
        "run",
        arg(&run),
        "--config",
        arg(&repo("examples/bots/demo.toml")),
        "--out",
        arg(&same),
        "--data",
        arg(&data),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(events(&run), events(&same));
    let output = charon(&["replay", "diff", arg(&run), arg(&same)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("\nidentical: "), "{stdout}");
    assert!(!stdout.contains("configurations differ"), "{stdout}");

    // A configuration that reads differently but trades the same: identical, and said so.
    let commented = demo_config(dir.path(), "commented", |t| format!("{t}\n# a comment\n"));
    let other = dir.path().join("commented.run");
    let output = charon(&[
        "replay",
        "run",
        arg(&run),
        "--config",
        arg(&commented),
        "--out",
        arg(&other),
        "--data",
        arg(&data),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = charon(&["replay", "diff", arg(&run), arg(&other)]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("configurations differ, but derived the same events"));
}

/// A closed trade as the report defines it: (bot, pair, side, open time), its close time and
/// its net P&L.
type TradeRow = (String, String, String, String, String, Decimal);

/// The closed trades of a run's events: flat → open → flat per bot and pair, a flip closing
/// one and opening the other; net P&L = (realized − fees + funding) at the close minus the same
/// at the update before the opening (or at the flip).
fn closed_trades(events: &[Envelope]) -> Vec<TradeRow> {
    struct State {
        open: Option<(PositionSide, Timestamp)>,
        net: Decimal,
        baseline: Decimal,
    }
    let mut states: BTreeMap<(String, String), State> = BTreeMap::new();
    let mut trades = Vec::new();
    for event in events {
        let Event::PositionUpdated(update) = &event.payload else {
            continue;
        };
        let (bot, pair) = (
            event.bot.unwrap().to_string(),
            event.pair.unwrap().to_string(),
        );
        let state = states.entry((bot.clone(), pair.clone())).or_insert(State {
            open: None,
            net: Decimal::ZERO,
            baseline: Decimal::ZERO,
        });
        let net = update.realized_pnl.0 - update.fees.0 + update.funding.0;
        let now = if update.qty.0.is_zero() {
            None
        } else {
            update.side
        };
        let side_name = |side: PositionSide| format!("{side:?}").to_lowercase();
        if let Some((side, opened)) = state.open {
            if now != Some(side) {
                trades.push((
                    bot.clone(),
                    pair.clone(),
                    side_name(side),
                    opened.to_string(),
                    event.ts.to_string(),
                    net - state.baseline,
                ));
                state.open = None;
                state.baseline = net;
            }
        } else {
            state.baseline = state.net;
        }
        if state.open.is_none() {
            state.open = now.map(|side| (side, event.ts));
        }
        state.net = net;
    }
    trades
}

/// The rows of the table that follows the line starting with `title`, split on whitespace
/// (header skipped), up to the first blank line.
fn rows_after(stdout: &str, title: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip_while(|line| !line.starts_with(title))
        .skip(2)
        .take_while(|line| line.starts_with("  "))
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn a_diff_of_the_what_if_shows_where_and_how_it_differs() {
    let w = what_if(Some(strict_funding_gate));
    let output = charon(&["replay", "diff", arg(&w.run), arg(&w.what_if)]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let (a, b) = (events(&w.run), events(&w.what_if));

    // The first divergence, found here by comparing the decoded events one by one.
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .expect("the runs differ within their common length");
    assert!(a[..at] == b[..at]);
    let seq = a[at].seq;
    assert_eq!(b[at].seq, seq);
    assert!(
        stdout.contains(&format!("\nfirst divergence at seq {seq}\n")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("\n  A: {}\n", render_json(&a[at]))));
    assert!(stdout.contains(&format!("\n  B: {}\n", render_json(&b[at]))));
    assert!(text(&output.stderr).contains(&format!("differ from seq {seq}")));

    // P&L and drawdown per bot, against the two runs' own reports.
    let row = |label: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("  {label} ")))
            .unwrap_or_else(|| panic!("no {label} row:\n{stdout}"));
        line[label.len() + 2..]
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let figure = |report: &serde_json::Value, name: &str| -> Decimal {
        match &report["bots"][0][name] {
            serde_json::Value::String(s) => dec(s),
            other => dec(&other.to_string()),
        }
    };
    let equity = row("final equity");
    let (equity_a, equity_b) = (
        figure(&w.report, "final_equity"),
        figure(&w.what_if_report, "final_equity"),
    );
    assert_eq!(dec(&equity[0]), equity_a, "{stdout}");
    assert_eq!(dec(&equity[1]), equity_b, "{stdout}");
    assert_eq!(dec(&equity[2]), equity_b - equity_a, "{stdout}");
    assert_ne!(equity_b, equity_a);
    let drawdown = row("max drawdown %");
    assert_eq!(
        dec(&drawdown[2]),
        figure(&w.what_if_report, "max_drawdown_pct") - figure(&w.report, "max_drawdown_pct")
    );
    let (trades_a, trades_b) = (
        w.report["bots"][0]["trades"].as_u64().unwrap(),
        w.what_if_report["bots"][0]["trades"].as_u64().unwrap(),
    );
    assert_eq!(
        row("trades")[..2],
        [trades_a.to_string(), trades_b.to_string()]
    );

    // Trades only in one run: what each run's own trades, matched by (bot, pair, side, open
    // time), leave over, with their net P&L.
    let (all_a, all_b) = (closed_trades(&a), closed_trades(&b));
    assert_eq!(all_a.len() as u64, trades_a, "as the report counts");
    assert_eq!(all_b.len() as u64, trades_b, "as the report counts");
    let key = |t: &TradeRow| (t.0.clone(), t.1.clone(), t.2.clone(), t.3.clone());
    let only = |mine: &[TradeRow], theirs: &[TradeRow], run: &str| -> BTreeSet<Vec<String>> {
        let keys: BTreeSet<_> = theirs.iter().map(key).collect();
        mine.iter()
            .filter(|t| !keys.contains(&key(t)))
            .map(|t| {
                vec![
                    run.to_string(),
                    t.0.clone(),
                    t.1.clone(),
                    t.2.clone(),
                    t.3.clone(),
                    t.4.clone(),
                    t.5.normalize().to_string(),
                ]
            })
            .collect()
    };
    let expected: BTreeSet<Vec<String>> = only(&all_a, &all_b, "A")
        .union(&only(&all_b, &all_a, "B"))
        .cloned()
        .collect();
    let listed: BTreeSet<Vec<String>> = rows_after(&stdout, "trades: ").into_iter().collect();
    assert!(
        !expected.is_empty(),
        "a tighter stop changes which trades happen"
    );
    assert_eq!(listed, expected, "{stdout}");
    let only_a = expected.iter().filter(|r| r[0] == "A").count() as u64;
    let only_b = expected.len() as u64 - only_a;
    // Every other trade is in both: the counts add up to each run's report.
    let in_both = trades_a - only_a;
    assert_eq!(trades_b - only_b, in_both);
    // Trades in both that closed at another time or with another net P&L.
    let by_key = |trades: &[TradeRow]| -> BTreeMap<_, (String, Decimal)> {
        let map: BTreeMap<_, _> = trades
            .iter()
            .map(|t| (key(t), (t.4.clone(), t.5)))
            .collect();
        assert_eq!(map.len(), trades.len(), "one trade per key");
        map
    };
    let (keyed_a, keyed_b) = (by_key(&all_a), by_key(&all_b));
    let changed: BTreeSet<Vec<String>> = keyed_a
        .iter()
        .filter_map(|(k, (closed_a, net_a))| {
            let (closed_b, net_b) = keyed_b.get(k)?;
            ((closed_a, net_a) != (closed_b, net_b)).then(|| {
                vec![
                    k.0.clone(),
                    k.1.clone(),
                    k.2.clone(),
                    k.3.clone(),
                    closed_a.clone(),
                    closed_b.clone(),
                    net_a.normalize().to_string(),
                    net_b.normalize().to_string(),
                ]
            })
        })
        .collect();
    assert!(!changed.is_empty());
    let shown: BTreeSet<Vec<String>> = rows_after(&stdout, "closed differently")
        .into_iter()
        .collect();
    assert_eq!(shown, changed, "{stdout}");
    let summary = stdout.lines().find(|l| l.starts_with("trades: ")).unwrap();
    assert!(summary.starts_with(&format!(
        "trades: {in_both} in both ({} closed differently)",
        changed.len()
    )));
    assert!(summary.ends_with(&format!(", {only_a} only in A, {only_b} only in B")));

    // Risk events: only the (kind, rule) rows whose counts differ, with both counts.
    let risk_counts = |events: &[Envelope]| {
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        for event in events {
            let json = serde_json::to_value(&event.payload).unwrap();
            let kind = json["kind"].as_str().unwrap().to_string();
            let risk = [
                "order_vetoed",
                "force_close",
                "signal_blocked",
                "kill_switch_engaged",
                "entries_paused",
            ];
            if risk.contains(&kind.as_str()) {
                let rule = json["check"]["rule"].as_str().unwrap().to_string();
                *counts.entry((kind, rule)).or_default() += 1;
            }
        }
        counts
    };
    let (risk_a, risk_b) = (risk_counts(&a), risk_counts(&b));
    let differing: BTreeSet<Vec<String>> = risk_a
        .keys()
        .chain(risk_b.keys())
        .filter_map(|k| {
            let (x, y) = (risk_a.get(k).copied(), risk_b.get(k).copied());
            (x != y).then(|| {
                vec![
                    k.0.clone(),
                    k.1.clone(),
                    x.unwrap_or(0).to_string(),
                    y.unwrap_or(0).to_string(),
                ]
            })
        })
        .collect();
    assert!(
        !differing.is_empty(),
        "the demo's risk events change with the stop"
    );
    // Rows with the same counts in both runs (the XRP gate's blocks) are left out.
    let same: Vec<_> = risk_a
        .iter()
        .filter(|(k, n)| risk_b.get(*k) == Some(*n))
        .collect();
    assert!(
        same.iter().any(|((kind, _), _)| kind == "signal_blocked"),
        "{risk_a:?} {risk_b:?}"
    );
    let shown: BTreeSet<Vec<String>> = rows_after(&stdout, "risk events whose counts differ")
        .into_iter()
        .collect();
    assert_eq!(shown, differing, "{stdout}");
}

#[test]
fn a_what_if_keeps_a_partial_runs_span_and_diff_warns_only_on_other_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (run, data) = demo(dir.path());
    // The demo's configuration over the first half of its data only.
    let shorter = dir.path().join("shorter.run");
    let output = charon(&[
        "backtest",
        "--config",
        arg(&repo("examples/bots/demo.toml")),
        "--data",
        arg(&data),
        "--out",
        arg(&shorter),
        "--to",
        "2022-01-15T00:00:00Z",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let span = manifest(&shorter).data.unwrap();
    assert!(span.last_seq < manifest(&run).data.unwrap().last_seq);

    // Other inputs: diffed, with a warning. The shorter run is the longer one's beginning,
    // so they part where it ends.
    let output = charon(&["replay", "diff", arg(&run), arg(&shorter)]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cite different inputs"), "{stderr}");
    let stdout = text(&output.stdout);
    let end = support::open_log(&shorter).last_seq();
    assert!(
        stdout.contains(&format!("\nfirst divergence at seq {}\n", end + 1)),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  B: (nothing: the log ends)\n"),
        "{stdout}"
    );

    // A what-if of the shorter run runs exactly its span, and is diffed without a warning.
    let config = demo_config(dir.path(), "tight", tighter_stop);
    let (what_if, _, stdout) = replay_run(dir.path(), &shorter, &data, &config, "tight");
    assert_eq!(manifest(&what_if).data, Some(span));
    let inputs = span.last_seq - span.first_seq + 1;
    assert!(stdout.contains(&format!(": {inputs} inputs (")), "{stdout}");
    let output = charon(&["replay", "diff", arg(&shorter), arg(&what_if)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !text(&output.stderr).contains("warning"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn what_if_and_diff_refuse_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (run, data) = demo(dir.path());
    let config = demo_config(dir.path(), "tight", tighter_stop);
    let what_if = |out: &Path, config: &Path, extra: &[&str]| {
        let mut args = vec![
            "replay",
            "run",
            arg(&run),
            "--config",
            arg(config),
            "--out",
            arg(out),
        ];
        args.extend_from_slice(extra);
        charon(&args)
    };
    let out = dir.path().join("new.run");

    // A backtest's inputs need its data log, and only its own: moved from where the run
    // recorded it, it must be named.
    let moved = dir.path().join("moved.data");
    std::fs::rename(&data, &moved).unwrap();
    let data = moved;
    let missing = what_if(&out, &config, &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("pass it with --data"));
    let other = dir.path().join("other.data");
    import(
        &other,
        "funding-csv",
        &["data/freqtrade/XRP_USDT_USDT-8h-funding_rate.csv"],
        Some("XRPUSDT"),
    );
    let wrong = what_if(&out, &config, &["--data", arg(&other)]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("is not the run's"));

    // A broken configuration is named by file, line and field; nothing is written.
    let broken = demo_config(dir.path(), "broken", |t| {
        t.replace(
            "leverage = 2\nstrategy = \"../strategies/ema",
            "leverage = \"two\"\nstrategy = \"../strategies/ema",
        )
    });
    let line = 1 + std::fs::read_to_string(&broken)
        .unwrap()
        .lines()
        .position(|l| l == "leverage = \"two\"")
        .expect("the edit applied");
    let output = what_if(&out, &broken, &["--data", arg(&data)]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("demo.toml:{line}:")), "{stderr}");
    assert!(stderr.contains("leverage"), "{stderr}");
    assert!(!out.exists());

    // A run log is never overwritten.
    let taken = what_if(&run, &config, &["--data", arg(&data)]);
    assert_eq!(taken.status.code(), Some(2));
    assert!(text(&taken.stderr).contains("already exists"));

    // A live run's inputs include the venue's reports on its own orders: no what-if.
    let live = dir.path().join("live.log");
    {
        let log = EventLog::create(&live, LogKind::Live).unwrap();
        let mut recorded = manifest(&run);
        recorded.mode = ExecutionMode::Live;
        recorded.data = None;
        let mut opening = Envelope::input(Timestamp::from_nanos(0), Event::RunManifest(recorded));
        log.append(&mut opening).unwrap();
        log.sync_through(log.last_seq()).unwrap();
    }
    let output = charon(&[
        "replay",
        "run",
        arg(&live),
        "--config",
        arg(&config),
        "--out",
        arg(&out),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("a live run's inputs include the venue's reports"),
        "{}",
        text(&output.stderr)
    );
    assert!(!out.exists());

    // Not a run log, no log at all, a missing argument.
    let not_run = charon(&["replay", "diff", arg(&data), arg(&run)]);
    assert_eq!(not_run.status.code(), Some(2));
    assert!(text(&not_run.stderr).contains("not a run log"));
    let absent = charon(&["replay", "diff", arg(&run), arg(&dir.path().join("absent"))]);
    assert_eq!(absent.status.code(), Some(2));
    assert!(text(&absent.stderr).contains("absent"));
    let one = charon(&["replay", "diff", arg(&run)]);
    assert_eq!(one.status.code(), Some(2));
    let not_run = charon(&[
        "replay",
        "run",
        arg(&data),
        "--config",
        arg(&config),
        "--out",
        arg(&out),
    ]);
    assert_eq!(not_run.status.code(), Some(2));
    assert!(text(&not_run.stderr).contains("not a run log"));
}

/// Unpacks `tests/fixtures/format-v1/xrp-backtest.tar.gz` (see its README) into `dir`: the
/// data log and the backtest's run log that `charon` wrote in codec format 1.
fn format_1_run(dir: &Path) -> (PathBuf, PathBuf) {
    let archive = repo("tests/fixtures/format-v1/xrp-backtest.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("xzf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .status()
        .expect("tar runs");
    assert!(status.success(), "unpacking {}", archive.display());
    (dir.join("xrp.run"), dir.join("xrp.data"))
}

#[test]
fn a_run_written_by_format_1_still_verifies_and_reruns_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (run, data) = format_1_run(dir.path());
    let verified = charon(&["replay", "verify", arg(&run), "--data", arg(&data)]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert!(
        text(&verified.stdout)
            .contains("2815 derived events re-derived identically from 1999 inputs"),
        "{}",
        text(&verified.stdout)
    );
    // Its manifest never recorded where the data log was: it must be named.
    let unnamed = charon(&["replay", "verify", arg(&run)]);
    assert_eq!(unnamed.status.code(), Some(2));
    assert!(text(&unnamed.stderr).contains("pass it with --data"));
    assert!(manifest(&run).data_path.is_none());

    // Today's build, given the configuration the run recorded, derives the very same events
    // over the same inputs: a what-if of it is identical record for record.
    let config = dir.path().join("xrp.toml");
    let recorded = manifest(&run);
    let bundle: toml::Table = toml::from_str(&recorded.config_toml).unwrap();
    std::fs::write(&config, bundle["config"].as_str().unwrap()).unwrap();
    for (path, template) in bundle["templates"].as_table().unwrap() {
        std::fs::write(dir.path().join(path), template.as_str().unwrap()).unwrap();
    }
    let again = dir.path().join("again.run");
    let output = charon(&[
        "replay",
        "run",
        arg(&run),
        "--config",
        arg(&config),
        "--out",
        arg(&again),
        "--data",
        arg(&data),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let diff = charon(&["replay", "diff", arg(&run), arg(&again)]);
    assert!(
        diff.status.success(),
        "{}{}",
        text(&diff.stdout),
        text(&diff.stderr)
    );
    assert!(text(&diff.stdout).contains("identical: every record after the manifests is the same"));
    assert_eq!(
        manifest(&again).data_path.as_deref(),
        data.canonicalize().unwrap().to_str(),
        "today's manifest records where its data log is"
    );
}
