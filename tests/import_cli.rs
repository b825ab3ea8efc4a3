//! End-to-end: `charon import` of every format as the real binary, over the real data shipped in
//! `data/` (and, for Binance's trade CSVs, the sample rows of Binance's public-data docs), read
//! back from the sled data log it writes. Also the rules: merging, re-import refusal, bad rows.

#[path = "support/mod.rs"]
mod support;

use support::charon;

use std::path::{Path, PathBuf};
use std::process::Output;

use charon_events::payload::market::Aggressor;
use charon_events::{Envelope, Event, EventLog, LogKind};

fn data(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(file)
        .display()
        .to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn import(args: &[&str]) -> Output {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    charon(&all)
}

fn events_of(log: &Path) -> Vec<Envelope> {
    support::open_log(log).iter().map(Result::unwrap).collect()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        stderr(out)
    );
}

fn assert_bad_input(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(
        stderr(out).contains(needle),
        "{:?} should mention {needle:?}",
        stderr(out)
    );
}

#[test]
fn binance_klines_from_the_public_archive() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ada");
    let out = import(&[
        "binance-klines",
        &data("nautilus_trader/ADABTC-1m-2021-11-27.csv"),
        &data("nautilus_trader/ADABTC-1m-2021-11-28.csv"),
        "--data",
        log.to_str().unwrap(),
        "--symbol",
        "ADABTC",
    ]);
    assert_ok(&out);
    let events = events_of(&log);
    assert_eq!(events.len(), 21);
    // The first row: 1637971200000,0.00002853,0.00002854,0.00002851,0.00002854,36304.2,...,79,...
    let Event::Bar(bar) = &events[0].payload else {
        panic!("not a bar: {:?}", events[0])
    };
    assert_eq!(bar.open_time.to_string(), "2021-11-27T00:00:00Z");
    assert_eq!(
        events[0].ts.to_string(),
        "2021-11-27T00:01:00Z",
        "a bar is stamped at its close"
    );
    assert_eq!(bar.interval.0, 60, "inferred from open and close time");
    assert_eq!(
        (bar.open.to_string(), bar.low.to_string()),
        ("0.00002853".into(), "0.00002851".into())
    );
    assert_eq!(
        (bar.volume.to_string(), bar.trades),
        ("36304.20000000".into(), Some(79))
    );
    assert_eq!(events[0].pair.unwrap().as_str(), "ADABTC");
}

#[test]
fn ohlcv_csv_and_freqtrade_json_bars() {
    let dir = tempfile::tempdir().unwrap();
    let perp = dir.path().join("perp");
    let out = import(&[
        "ohlcv-csv",
        &data("nautilus_trader/btc-perp-20211231-20220201_1m.csv.gz"),
        "--data",
        perp.to_str().unwrap(),
        "--symbol",
        "BTCUSDT",
    ]);
    assert_ok(&out);
    let bars = events_of(&perp);
    assert_eq!(bars.len(), 45_031);
    // First row: 2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295
    let Event::Bar(first) = &bars[0].payload else {
        panic!()
    };
    assert_eq!(first.open_time.to_string(), "2021-12-31T23:01:00Z");
    assert_eq!(
        (first.close.to_string(), first.volume.to_string()),
        ("46377.0".into(), "2300413.7295".into())
    );
    assert!(bars.windows(2).all(|w| w[0].ts <= w[1].ts));

    let ft = dir.path().join("ft");
    let out = import(&[
        "freqtrade-json",
        &data("freqtrade/UNITTEST_BTC-1m.json.gz"),
        "--data",
        ft.to_str().unwrap(),
        "--symbol",
        "UNITTEST",
        "--interval",
        "1m",
    ]);
    assert_ok(&out);
    let candles = events_of(&ft);
    assert_eq!(candles.len(), 13_681);
    // First candle: [1509836520000, 0.00162008, 0.00162008, 0.00162008, 0.00162008, 108.14853839]
    let Event::Bar(first) = &candles[0].payload else {
        panic!()
    };
    assert_eq!(first.open_time.nanos(), 1_509_836_520_000 * 1_000_000);
    assert_eq!(
        (first.open.to_string(), first.volume.to_string()),
        ("0.00162008".into(), "108.14853839".into())
    );
}

#[test]
fn funding_rates_from_freqtrade_futures_data() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("xrp");
    let out = import(&[
        "funding-csv",
        &data("freqtrade/XRP_USDT_USDT-8h-funding_rate.csv"),
        "--data",
        log.to_str().unwrap(),
        "--symbol",
        "XRPUSDT",
    ]);
    assert_ok(&out);
    let events = events_of(&log);
    assert_eq!(events.len(), 91);
    // First row: 2021-11-18 00:00:00.017+00:00,0.0001,... (the rate is in `open`)
    let Event::FundingRate(rate) = &events[0].payload else {
        panic!()
    };
    assert_eq!(rate.rate.to_string(), "0.0001");
    assert_eq!(rate.funding_time.to_string(), "2021-11-18T00:00:00.017Z");
    assert_eq!(events[0].ts, rate.funding_time);
}

/// Binance's public-data docs' sample rows: spot files in microseconds (from 2025), futures in
/// milliseconds without the best-match column, one with a header as some tools write it.
#[test]
fn binance_trade_csvs_in_both_timestamp_units() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let spot_trades = write(
        "spot-trades.csv",
        "51175358,17.80180000,5.69000000,101.29224200,1735689600010866,True,True\n",
    );
    let futures_trades = write("um-trades.csv", "id,price,qty,quote_qty,time,is_buyer_maker\n28457,4.00000100,12.00000000,48.00,1499865549590,true\n");
    let spot_agg = write(
        "spot-agg.csv",
        "0,0.20000000,50.00000000,0,0,1735689600010866,False,True\n",
    );
    let futures_agg = write(
        "um-agg.csv",
        "26129,0.01633102,4.70443515,27781,27781,1498793709153,true\n",
    );

    let check =
        |format: &str, file: &Path, id: u64, price: &str, time: &str, aggressor: Aggressor| {
            let log = dir.path().join(format!(
                "{}-log",
                file.file_name().unwrap().to_str().unwrap()
            ));
            assert_ok(&import(&[
                format,
                file.to_str().unwrap(),
                "--data",
                log.to_str().unwrap(),
                "--symbol",
                "X",
            ]));
            let events = events_of(&log);
            assert_eq!(events.len(), 1);
            let Event::Trade(trade) = &events[0].payload else {
                panic!()
            };
            assert_eq!(
                (trade.trade_id, trade.price.to_string()),
                (id, price.to_string())
            );
            assert_eq!(
                trade.aggressor, aggressor,
                "buyer-is-maker true means the seller took liquidity"
            );
            assert_eq!(events[0].ts.to_string(), time);
        };
    check(
        "binance-trades",
        &spot_trades,
        51_175_358,
        "17.80180000",
        "2025-01-01T00:00:00.010866Z",
        Aggressor::Seller,
    );
    check(
        "binance-trades",
        &futures_trades,
        28_457,
        "4.00000100",
        "2017-07-12T13:19:09.590Z",
        Aggressor::Seller,
    );
    check(
        "binance-aggtrades",
        &spot_agg,
        0,
        "0.20000000",
        "2025-01-01T00:00:00.010866Z",
        Aggressor::Buyer,
    );
    check(
        "binance-aggtrades",
        &futures_agg,
        26_129,
        "0.01633102",
        "2017-06-30T03:35:09.153Z",
        Aggressor::Seller,
    );
}

#[test]
fn overlapping_recordings_merge_in_time_order_and_reimport_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("spot");
    let log_arg = log.to_str().unwrap();
    assert_ok(&import(&[
        "binance-ws",
        &data("hftbacktest/btcusdt_20240808.gz"),
        "--data",
        log_arg,
    ]));
    let btc = events_of(&log);
    // The data README's counts for the recording up to midnight.
    let count = |events: &[Envelope], kind: &str| {
        events
            .iter()
            .filter(|e| e.payload.kind().name() == kind)
            .count()
    };
    assert_eq!(
        (count(&btc, "trade"), count(&btc, "book_ticker")),
        (9_757, 28_040)
    );
    let first_id = support::open_log(&log).meta().log_id;

    let out = import(&[
        "binance-ws",
        &data("hftbacktest/ethusdt_20240808.gz"),
        "--data",
        log_arg,
    ]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("rebuilt as a merge"),
        "{}",
        stdout(&out)
    );
    let merged = support::open_log(&log);
    assert_ne!(
        merged.meta().log_id,
        first_id,
        "a rebuilt dataset gets a new identity"
    );
    assert_eq!(merged.kind(), LogKind::Data);
    let events: Vec<Envelope> = merged.iter().map(Result::unwrap).collect();
    drop(merged);
    assert_eq!(events.len(), btc.len() + 30_183);
    assert!(
        events.windows(2).all(|w| w[0].ts <= w[1].ts),
        "merged by event time"
    );
    assert!(events
        .iter()
        .enumerate()
        .all(|(i, e)| e.seq == i as u64 + 1));

    let again = import(&[
        "binance-ws",
        &data("hftbacktest/ethusdt_20240808.gz"),
        "--data",
        log_arg,
    ]);
    assert_bad_input(&again, "was this file imported before?");
    assert_eq!(
        events_of(&log).len(),
        events.len(),
        "a refused import changes nothing"
    );
    assert!(
        !dir.path().join("spot.importing").exists() && !dir.path().join("spot.replaced").exists()
    );
}

#[test]
fn a_bad_row_names_its_line_or_is_skipped_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bars.csv");
    std::fs::write(
        &csv,
        "date,open,high,low,close,volume\n\
         2021-11-15 00:00:00+00:00,1.1893,1.1954,1.1891,1.1941,9289043.5\n\
         2021-11-15 00:05:00+00:00,1.1941,oops,1.1920,1.1950,100\n\
         2021-11-15 00:10:00+00:00,1.1950,1.1900,1.1960,1.1955,100\n\
         2021-11-15 00:15:00+00:00,1.1955,1.1990,1.1950,1.1980,100\n",
    )
    .unwrap();
    let log = dir.path().join("bars");
    let args = [
        "ohlcv-csv",
        csv.to_str().unwrap(),
        "--data",
        log.to_str().unwrap(),
        "--symbol",
        "XRPUSDT",
    ];
    let out = import(&args);
    assert_bad_input(
        &out,
        &format!("{}:3: high: \"oops\" is not a number", csv.display()),
    );
    assert!(!log.exists(), "nothing is written when an import fails");

    let mut skipping = args.to_vec();
    skipping.push("--skip-bad");
    let out = import(&skipping);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("skipped 2 bad rows"),
        "line 3's text and line 4's high below its low: {}",
        stdout(&out)
    );
    assert_eq!(events_of(&log).len(), 2);
}

#[test]
fn inputs_that_cannot_be_imported_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("x");
    let ada = data("nautilus_trader/ADABTC-1m-2021-11-27.csv");
    assert_bad_input(
        &import(&["binance-klines", &ada, "--data", log.to_str().unwrap()]),
        "pass --symbol",
    );
    assert_bad_input(
        &import(&[
            "binance-klines",
            &data("freqtrade/XRP_USDT_USDT-8h-funding_rate.csv"),
            "--data",
            log.to_str().unwrap(),
            "--symbol",
            "X",
        ]),
        "XRP_USDT_USDT-8h-funding_rate.csv:2: open time",
    );
    let missing = dir.path().join("nope.csv");
    assert_bad_input(
        &import(&[
            "ohlcv-csv",
            missing.to_str().unwrap(),
            "--data",
            log.to_str().unwrap(),
            "--symbol",
            "X",
        ]),
        "nope.csv",
    );
    let out = import(&["parquet", &ada, "--data", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("binance-klines"),
        "lists the formats: {}",
        stderr(&out)
    );

    let run = dir.path().join("run");
    drop(EventLog::create(&run, LogKind::Run).unwrap());
    assert_bad_input(
        &import(&[
            "binance-klines",
            &ada,
            "--data",
            run.to_str().unwrap(),
            "--symbol",
            "ADABTC",
        ]),
        "a run log; market data goes into a data log",
    );
}
