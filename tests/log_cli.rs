//! End-to-end: `charon log stats`, `charon log inspect` and `charon bench log` run as the real
//! binary over real sled logs that the tests write (real recorded Binance events for the data
//! log), including the failure paths: missing, foreign and corrupt logs exit 2 with one line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use charon_adapters::recording::read_recording;
use charon_events::log::EVENTS_TREE;
use charon_events::{Envelope, EventLog, LogKind};

fn charon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_charon"))
        .args(args)
        .output()
        .expect("the charon binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 output")
}

fn recording() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/hftbacktest/ethusdt_20240808.gz")
}

/// A data log of the real ETHUSDT recording; returns its path and the events written.
fn data_log(dir: &Path) -> (PathBuf, Vec<Envelope>) {
    let path = dir.join("eth.data");
    let mut events = read_recording(&recording()).expect("the recording parses");
    let log = EventLog::create(&path, LogKind::Data).unwrap();
    log.append_batch(&mut events).unwrap();
    log.sync_through(log.last_seq()).unwrap();
    (path, events)
}

/// A run log holding one event of every kind.
fn run_log(dir: &Path) -> (PathBuf, Vec<Envelope>) {
    let path = dir.join("sample.run");
    let log = EventLog::create(&path, LogKind::Run).unwrap();
    let mut events = charon_events::samples::one_of_each();
    for event in &mut events {
        log.append(event).unwrap();
    }
    log.sync_through(log.last_seq()).unwrap();
    (path, events)
}

fn count_kind(events: &[Envelope], kind: &str) -> u64 {
    events
        .iter()
        .filter(|e| e.payload.kind().name() == kind)
        .count() as u64
}

#[test]
fn stats_counts_a_real_data_log() {
    let dir = tempfile::tempdir().unwrap();
    let (path, events) = data_log(dir.path());
    let out = charon(&["log", "stats", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(stats["events"], events.len() as u64);
    assert_eq!(stats["meta"]["kind"], "data");
    assert_eq!(stats["first_seq"], 1);
    assert_eq!(stats["last_seq"], events.len() as u64);
    assert_eq!(stats["first_ts"], events[0].ts.nanos());
    assert_eq!(stats["by_kind"]["trade"], count_kind(&events, "trade"));
    assert_eq!(
        stats["by_kind"]["book_ticker"],
        count_kind(&events, "book_ticker")
    );
    assert!(stats["bytes_on_disk"].as_u64().unwrap() > 0);

    let text = charon(&["log", "stats", path.to_str().unwrap()]);
    let text = stdout(&text);
    assert!(
        text.contains(&format!("events     {}", events.len())),
        "{text}"
    );
    assert!(
        text.contains("2024-08-08T23:54"),
        "first event time shown: {text}"
    );
}

#[test]
fn inspect_json_round_trips_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (path, events) = run_log(dir.path());
    let out = charon(&["log", "inspect", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), events.len());
    for (line, event) in lines.iter().zip(&events) {
        assert_eq!(line["seq"], event.seq);
        assert_eq!(line["ts"], event.ts.nanos());
        assert_eq!(line["payload"]["kind"], event.payload.kind().name());
        assert_eq!(
            line["payload"],
            serde_json::to_value(&event.payload).unwrap()
        );
    }
}

#[test]
fn inspect_filters_by_seq_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (path, events) = data_log(dir.path());
    let path = path.to_str().unwrap();
    let out = charon(&[
        "log", "inspect", path, "--from", "100", "--to", "199", "--kind", "trade", "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seqs: Vec<u64> = stdout(&out)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let expected: Vec<u64> = events[99..199]
        .iter()
        .filter(|e| e.payload.kind().name() == "trade")
        .map(|e| e.seq)
        .collect();
    assert!(!expected.is_empty(), "the window holds trades");
    assert_eq!(seqs, expected);

    let text = charon(&["log", "inspect", path, "--from", "5", "--to", "5"]);
    let text = stdout(&text);
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("pair=ETHUSDT"), "{text}");
}

fn assert_bad_input(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

#[test]
fn missing_and_foreign_paths_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    assert_bad_input(
        &charon(&["log", "stats", missing.to_str().unwrap()]),
        "no such log",
    );

    let foreign = dir.path().join("photos");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("cat.jpg"), b"not a log").unwrap();
    assert_bad_input(
        &charon(&["log", "inspect", foreign.to_str().unwrap()]),
        "not a charon log",
    );
    assert!(
        !foreign.join("db").exists(),
        "opening must not create a database"
    );

    let bare = dir.path().join("bare-sled");
    drop(sled::open(&bare).unwrap());
    assert_bad_input(
        &charon(&["log", "stats", bare.to_str().unwrap()]),
        "without a charon meta record",
    );
}

#[test]
fn corrupt_record_names_its_seq_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = run_log(dir.path());
    {
        let db = sled::open(&path).unwrap();
        let tree = db.open_tree(EVENTS_TREE).unwrap();
        let key = 3u64.to_be_bytes();
        let mut value = tree.get(key).unwrap().unwrap().to_vec();
        let last = value.len() - 1;
        value[last] ^= 0x01;
        tree.insert(key, value).unwrap();
        db.flush().unwrap();
    }
    let out = charon(&["log", "inspect", path.to_str().unwrap()]);
    assert_bad_input(&out, "corrupt record at seq 3");
    assert!(
        stderr(&out).contains(path.to_str().unwrap()),
        "names the log"
    );
    assert_eq!(
        stdout(&out).lines().count(),
        2,
        "seqs 1 and 2 were printed before the damage"
    );
    assert_bad_input(
        &charon(&["log", "stats", path.to_str().unwrap()]),
        "CRC mismatch",
    );
}

#[test]
fn unknown_kind_and_bad_range_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = run_log(dir.path());
    let out = charon(&["log", "inspect", path.to_str().unwrap(), "--kind", "tardes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown event kind \"tardes\""),
        "{}",
        stderr(&out)
    );
    let out = charon(&[
        "log",
        "inspect",
        path.to_str().unwrap(),
        "--from",
        "9",
        "--to",
        "3",
    ]);
    assert_bad_input(&out, "--from 9 is after --to 3");
}

#[test]
fn bench_log_prints_the_contract_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = charon(&[
        "bench",
        "log",
        "--events",
        "20000",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut names = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 4, "`BENCH <name> <value> <unit>`: {line}");
        assert_eq!(fields[0], "BENCH");
        let value: f64 = fields[2]
            .parse()
            .unwrap_or_else(|_| panic!("numeric value: {line}"));
        assert!(value.is_finite() && value > 0.0, "{line}");
        names.push(fields[1].to_string());
    }
    for name in [
        "codec.encode",
        "codec.decode",
        "log.run.append",
        "log.run.append_batch",
        "log.sync_through.p50",
        "log.sync_through.p99",
        "log.data.append_batch",
        "log.data.scan_decode",
        "log.data.disk_bytes_per_event",
        "log.data.disk_per_encoded_byte",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "missing {name} in:\n{text}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the bench cleans up after itself"
    );
}
