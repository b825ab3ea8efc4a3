//! End-to-end: `charon replay verify` as the real binary over real run logs: the demo's run
//! and a backtest re-derive identically; a run log with one derived event altered (a fill
//! price, re-encoded with a valid CRC) fails at exactly that seq with both versions shown; a
//! backtest verified without its data log, or against another one, is bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use charon_events::codec::{decode_record, encode_record};
use charon_events::log::EVENTS_TREE;
use charon_events::{Event, Price};

fn charon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_charon"))
        .args(args)
        .output()
        .expect("the charon binary runs")
}

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
    let altered_seq = {
        let db = sled::open(&run).unwrap();
        let tree = db.open_tree(EVENTS_TREE).unwrap();
        let mut found = None;
        for entry in tree.iter() {
            let (key, value) = entry.unwrap();
            let seq = u64::from_be_bytes(key.as_ref().try_into().unwrap());
            let mut event = decode_record(seq, &value).unwrap();
            if let Event::OrderFilled(filled) = &mut event.payload {
                filled.fill.price = Price(filled.fill.price.0 + rust_decimal::Decimal::ONE);
                tree.insert(key, encode_record(&event).unwrap()).unwrap();
                found = Some(seq);
                break;
            }
        }
        db.flush().unwrap();
        found.expect("the demo fills orders")
    };
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
    let (run, _) = demo(dir.path());
    let missing = charon(&["replay", "verify", arg(&run)]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("--data"));

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
