//! End-to-end: `charon log stats`, `charon log inspect` and `charon bench log` run as the real
//! binary over real sled logs that the tests write (real recorded Binance events for the data
//! log; a two-bot backtest of real recorded bars for the filters by bot, pair and time),
//! including the failure paths: missing, foreign and corrupt logs exit 2 with one line.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use charon_adapters::recording::read_recording;
use charon_events::{Envelope, EventLog, LogKind, Timestamp};
use support::{arg, charon, stderr, stdout, two_bot_run};

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
    // A body that no longer decodes, in a block whose CRC still holds: named by its own seq.
    support::edit_stored_body(&path, 3, |body| body.truncate(body.len() / 2));
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

    // A flipped bit fails the CRC of the whole block: named by the first seq it holds.
    let (path, _) = run_log(&dir.path().join("second"));
    support::damage_stored_block(&path, 3);
    assert_bad_input(
        &charon(&["log", "stats", path.to_str().unwrap()]),
        "corrupt block holding seqs from 1: CRC mismatch",
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

/// Every event of `log` as the library reads it.
fn read_all(log: &Path) -> Vec<Envelope> {
    support::open_log(log).iter().map(Result::unwrap).collect()
}

/// The seqs `charon log inspect LOG ARGS... --json` prints.
fn inspected_seqs(log: &Path, args: &[&str]) -> Vec<u64> {
    let mut all = vec!["log", "inspect", arg(log), "--json"];
    all.extend_from_slice(args);
    let out = charon(&all);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

fn seqs_where(events: &[Envelope], keep: impl Fn(&Envelope) -> bool) -> Vec<u64> {
    events.iter().filter(|e| keep(e)).map(|e| e.seq).collect()
}

fn is_bot(env: &Envelope, name: &str) -> bool {
    env.bot.is_some_and(|bot| bot.as_str() == name)
}

fn is_pair(env: &Envelope, name: &str) -> bool {
    env.pair.is_some_and(|pair| pair.as_str() == name)
}

/// `2022-01-15 00:00:00`: the form `--from-ts` takes without an offset (UTC).
fn plain_time(ts: Timestamp) -> String {
    ts.to_rfc3339()
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

/// `actual == expected`, reported by length and first difference rather than in full.
fn assert_seqs(actual: &[u64], expected: &[u64], what: &str) {
    if actual != expected {
        let first = actual.iter().zip(expected).position(|(a, e)| a != e);
        panic!(
            "{what}: {} seqs, expected {}; first difference at index {first:?} \
             (got {:?}, expected {:?})",
            actual.len(),
            expected.len(),
            first.map(|i| actual[i]),
            first.map(|i| expected[i]),
        );
    }
}

#[test]
fn inspect_filters_by_bot_and_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (data, run, events) = two_bot_run(dir.path());

    for bot in ["btc", "xrp"] {
        let expected = seqs_where(&events, |e| is_bot(e, bot));
        assert!(
            expected.iter().any(|&seq| matches!(
                events[seq as usize - 1].payload.kind().name(),
                "order_filled"
            )),
            "bot {bot} traded"
        );
        assert_seqs(&inspected_seqs(&run, &["--bot", bot]), &expected, "--bot");
    }
    for pair in ["BTCUSDT", "XRPUSDT"] {
        let expected = seqs_where(&events, |e| is_pair(e, pair));
        assert!(!expected.is_empty());
        assert_seqs(
            &inspected_seqs(&run, &["--pair", pair]),
            &expected,
            "--pair",
        );
    }
    // The routing keys are the envelope's: equity updates name a bot but no pair.
    let btc = seqs_where(&events, |e| is_bot(e, "btc"));
    let btc_pair = seqs_where(&events, |e| is_pair(e, "BTCUSDT"));
    assert!(btc.len() > btc_pair.len(), "some btc events have no pair");
    // The manifest is routed to nobody, so neither filter keeps it.
    let both = inspected_seqs(&run, &["--bot", "btc,xrp"]);
    assert_seqs(&both, &seqs_where(&events, |e| e.bot.is_some()), "two bots");
    assert!(!both.contains(&1), "the manifest has no bot");
    assert_seqs(
        &inspected_seqs(&run, &["--bot", "btc", "--bot", "xrp"]),
        &both,
        "--bot repeated",
    );
    // A name that routes nothing, and a bot and a pair that never go together.
    assert!(inspected_seqs(&run, &["--bot", "eth"]).is_empty());
    assert!(inspected_seqs(&run, &["--bot", "xrp", "--pair", "BTCUSDT"]).is_empty());

    // On a data log the pair is the instrument, and market data names no bot.
    let data_events = read_all(&data);
    let xrp = seqs_where(&data_events, |e| is_pair(e, "XRPUSDT"));
    assert!(!xrp.is_empty() && xrp.len() < data_events.len());
    assert_seqs(
        &inspected_seqs(&data, &["--pair", "XRPUSDT"]),
        &xrp,
        "data --pair",
    );
    assert!(inspected_seqs(&data, &["--bot", "xrp"]).is_empty());
}

#[test]
fn inspect_filters_by_time_inclusive_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let (data, run, events) = two_bot_run(dir.path());
    // A window bounded by two events' own times: both ends are inclusive.
    let (from, to) = (events[events.len() / 3].ts, events[events.len() / 2].ts);
    assert!(from < to);
    let expected = seqs_where(&events, |e| e.ts >= from && e.ts <= to);
    assert!(expected.len() > 1 && expected.len() < events.len());
    assert!(expected.contains(&events[events.len() / 3].seq));
    assert!(expected.contains(&events[events.len() / 2].seq));
    let forms = [
        (from.to_rfc3339(), to.to_rfc3339()),
        (plain_time(from), plain_time(to)),
        (
            (from.nanos() / 1_000_000_000).to_string(),
            (to.nanos() / 1_000_000_000).to_string(),
        ),
    ];
    assert_eq!(
        from.nanos() % 1_000_000_000,
        0,
        "bar times are whole seconds"
    );
    for (from_text, to_text) in &forms {
        let seqs = inspected_seqs(&run, &["--from-ts", from_text, "--to-ts", to_text]);
        assert_seqs(
            &seqs,
            &expected,
            &format!("--from-ts {from_text} --to-ts {to_text}"),
        );
    }
    // Each end alone.
    assert_seqs(
        &inspected_seqs(&run, &["--from-ts", &from.to_rfc3339()]),
        &seqs_where(&events, |e| e.ts >= from),
        "--from-ts alone",
    );
    assert_seqs(
        &inspected_seqs(&run, &["--to-ts", &to.to_rfc3339()]),
        &seqs_where(&events, |e| e.ts <= to),
        "--to-ts alone",
    );
    // A data log, by day.
    let data_events = read_all(&data);
    let (day, next) = (
        charon_adapters::import::time::parse("2022-01-15").unwrap(),
        charon_adapters::import::time::parse("2022-01-15 23:59:59.999999999").unwrap(),
    );
    let expected = seqs_where(&data_events, |e| e.ts >= day && e.ts <= next);
    assert_eq!(
        expected.len(),
        24 * 60,
        "one BTCUSDT 1m bar per minute of the day"
    );
    assert_seqs(
        &inspected_seqs(
            &data,
            &[
                "--from-ts",
                "2022-01-15",
                "--to-ts",
                "2022-01-15T23:59:59.999999999Z",
            ],
        ),
        &expected,
        "data, one day",
    );
}

#[test]
fn inspect_filters_combine_as_and() {
    let dir = tempfile::tempdir().unwrap();
    let (_, run, events) = two_bot_run(dir.path());
    for bot in ["btc", "xrp"] {
        // A window inside the bot's own stretch of the log.
        let own: Vec<&Envelope> = events.iter().filter(|e| is_bot(e, bot)).collect();
        let (from, to) = (own[own.len() / 5].seq, own[own.len() * 4 / 5].seq);
        let from_ts = own[own.len() / 4].ts;
        let expected = seqs_where(&events, |e| {
            is_bot(e, bot)
                && matches!(e.payload.kind().name(), "order_filled" | "position_updated")
                && e.ts >= from_ts
                && (from..=to).contains(&e.seq)
        });
        assert!(
            expected
                .iter()
                .any(|&s| events[s as usize - 1].payload.kind().name() == "order_filled"),
            "{bot} filled an order in the window"
        );
        let (from, to, from_ts) = (from.to_string(), to.to_string(), from_ts.to_rfc3339());
        let filters: [&[&str]; 4] = [
            &["--bot", bot],
            &["--kind", "order_filled,position_updated"],
            &["--from-ts", &from_ts],
            &["--from", &from, "--to", &to],
        ];
        let combined = inspected_seqs(&run, &filters.concat());
        assert_seqs(&combined, &expected, bot);
        // AND: exactly the events every filter keeps on its own, and each keeps more.
        let alone: Vec<Vec<u64>> = filters.iter().map(|f| inspected_seqs(&run, f)).collect();
        let intersection: Vec<u64> = alone[0]
            .iter()
            .copied()
            .filter(|seq| alone[1..].iter().all(|other| other.contains(seq)))
            .collect();
        assert_seqs(&combined, &intersection, bot);
        for (filter, seqs) in filters.iter().zip(&alone) {
            assert!(
                seqs.len() > combined.len(),
                "{bot}: {filter:?} alone keeps more"
            );
        }
    }
    // The text form applies the same filters.
    let expected = seqs_where(&events, |e| {
        is_pair(e, "XRPUSDT") && e.payload.kind().name() == "order_filled"
    });
    let out = charon(&[
        "log",
        "inspect",
        arg(&run),
        "--pair",
        "XRPUSDT",
        "--kind",
        "order_filled",
    ]);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), expected.len());
    assert!(text
        .lines()
        .all(|l| l.contains("pair=XRPUSDT") && l.contains("order_filled")));
}

#[test]
fn bad_filter_values_exit_2_and_name_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = run_log(dir.path());
    let path = arg(&path);
    let out = charon(&["log", "inspect", path, "--from-ts", "last-tuesday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("\"last-tuesday\" is not a timestamp"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    let out = charon(&["log", "inspect", path, "--to-ts", "2022-13-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("2022-13-01"), "{}", stderr(&out));
    let out = charon(&["log", "inspect", path, "--bot", "no spaces"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no spaces"), "{}", stderr(&out));
    let out = charon(&["log", "inspect", path, "--pair", ""]);
    assert_eq!(out.status.code(), Some(2));
    assert_bad_input(
        &charon(&[
            "log",
            "inspect",
            path,
            "--from-ts",
            "2022-01-02",
            "--to-ts",
            "2022-01-01 12:00:00",
        ]),
        "--from-ts 2022-01-02T00:00:00Z is after --to-ts 2022-01-01T12:00:00Z",
    );
}
