//! End-to-end: `charon log export` as the real binary over real sled logs: a backtest of two
//! bots over real recorded bars imported with `charon import` (BTCUSDT 1m, XRPUSDT 5m and its
//! funding rates), exported as JSON lines, as CSV and as fills for spreadsheets, read back
//! with the `csv` crate and checked against the run log's own events; and the failure paths
//! (exit 2 for bad input, 1 when the output cannot be written).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use charon_events::payload::order::Fill;
use charon_events::{Envelope, Event, EventLog, LogKind, Origin};
use rust_decimal::Decimal;
use support::{arg, charon, stderr, stdout, two_bot_run};

/// `charon log export LOG --format FORMAT ARGS...`, which must succeed; its standard output.
fn export(log: &Path, format: &str, args: &[&str]) -> String {
    let mut all = vec!["log", "export", arg(log), "--format", format];
    all.extend_from_slice(args);
    let out = charon(&all);
    assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    stdout(&out)
}

/// The header and the rows of a CSV text, read back with the `csv` crate.
fn read_csv(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}

fn optional(value: Option<impl ToString>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn is_bot(env: &Envelope, name: &str) -> bool {
    env.bot.is_some_and(|bot| bot.as_str() == name)
}

fn fill_of(env: &Envelope) -> Option<&Fill> {
    match &env.payload {
        Event::OrderFilled(filled) => Some(&filled.fill),
        Event::OrderPartiallyFilled(partial) => Some(&partial.fill),
        _ => None,
    }
}

/// The realized P&L of the first position update after `events[i]` with its bot and pair,
/// found by scanning forward.
fn next_realized_pnl(events: &[Envelope], i: usize) -> String {
    let fill = &events[i];
    events[i + 1..]
        .iter()
        .find_map(|e| match &e.payload {
            Event::PositionUpdated(update) if e.bot == fill.bot && e.pair == fill.pair => {
                Some(update.realized_pnl.to_string())
            }
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn jsonl_export_is_what_inspect_json_prints() {
    let dir = tempfile::tempdir().unwrap();
    let (_, run, events) = two_bot_run(dir.path());
    let xrp_fill = events
        .iter()
        .filter(|e| is_bot(e, "xrp") && fill_of(e).is_some())
        .nth(3)
        .expect("the xrp bot traded");
    let from_ts = xrp_fill.ts.to_rfc3339();
    for filters in [
        &[][..],
        &[
            "--bot",
            "xrp",
            "--from-ts",
            &from_ts,
            "--kind",
            "order_filled,signal",
        ][..],
        &["--pair", "BTCUSDT", "--from", "100", "--to", "5000"][..],
    ] {
        let mut inspect = vec!["log", "inspect", arg(&run), "--json"];
        inspect.extend_from_slice(filters);
        let inspected = charon(&inspect);
        assert!(inspected.status.success(), "{}", stderr(&inspected));
        let exported = export(&run, "jsonl", filters);
        assert!(!exported.is_empty(), "{filters:?}");
        let inspected = stdout(&inspected);
        assert!(
            exported == inspected,
            "{filters:?}: the export ({} lines) differs from inspect --json ({} lines)",
            exported.lines().count(),
            inspected.lines().count()
        );
    }
    let all = export(&run, "jsonl", &[]);
    assert_eq!(all.lines().count(), events.len());
}

#[test]
fn csv_export_has_one_row_per_event_with_its_payload_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let (_, run, events) = two_bot_run(dir.path());
    let text = export(&run, "csv", &[]);
    assert!(
        text.starts_with("seq,time,ts_ns,origin,actor,kind,bot,pair,cause,payload_json\n"),
        "{}",
        &text[..200]
    );
    let (_, rows) = read_csv(&text);
    assert_eq!(rows.len(), events.len());
    for (row, env) in rows.iter().zip(&events) {
        assert_eq!(row[0], env.seq.to_string());
        assert_eq!(row[1], env.ts.to_rfc3339());
        assert_eq!(row[2], env.ts.nanos().to_string());
        match env.origin {
            Origin::Input => assert_eq!((&row[3], &row[4]), ("input", "")),
            Origin::Derived(actor) => {
                assert_eq!((&row[3], &row[4]), ("derived", actor.to_string().as_str()))
            }
        }
        assert_eq!(&row[5], env.payload.kind().name());
        assert_eq!(row[6], optional(env.bot));
        assert_eq!(row[7], optional(env.pair));
        assert_eq!(row[8], optional(env.cause));
        let payload: serde_json::Value = serde_json::from_str(&row[9]).unwrap();
        assert_eq!(payload, serde_json::to_value(&env.payload).unwrap());
    }
    // The payload's commas and quotes are quoted, RFC 4180 style: `""` inside `"..."`.
    assert!(text.contains(r#","{""kind"":""order_filled"","#));

    // Filtered: the rows are exactly the matching events, with the right kinds.
    let expected: Vec<&Envelope> = events
        .iter()
        .filter(|e| {
            is_bot(e, "btc") && matches!(e.payload.kind().name(), "order_filled" | "signal")
        })
        .collect();
    assert!(expected.len() > 10);
    let (_, rows) = read_csv(&export(
        &run,
        "csv",
        &["--bot", "btc", "--kind", "order_filled,signal"],
    ));
    assert_eq!(rows.len(), expected.len());
    for (row, env) in rows.iter().zip(&expected) {
        assert_eq!(row[0], env.seq.to_string());
        assert_eq!(&row[5], env.payload.kind().name());
    }
}

#[test]
fn fills_csv_has_one_row_per_fill_with_the_following_realized_pnl() {
    let dir = tempfile::tempdir().unwrap();
    let (_, run, events) = two_bot_run(dir.path());
    let fills: Vec<usize> = (0..events.len())
        .filter(|&i| fill_of(&events[i]).is_some())
        .collect();
    let text = export(&run, "fills-csv", &[]);
    let (header, rows) = read_csv(&text);
    assert_eq!(
        header,
        [
            "time",
            "bot",
            "pair",
            "order_id",
            "side",
            "price",
            "qty",
            "fee",
            "liquidity",
            "realized_pnl_after"
        ]
    );
    assert_eq!(rows.len(), fills.len());
    let mut realized = 0;
    for (row, &i) in rows.iter().zip(&fills) {
        let env = &events[i];
        let fill = fill_of(env).unwrap();
        assert_eq!(row[0], env.ts.to_rfc3339());
        assert!(row[0].ends_with('Z'), "UTC: {}", &row[0]);
        assert_eq!(row[1], optional(env.bot));
        assert_eq!(row[2], optional(env.pair));
        assert_eq!(row[3], fill.order_id.to_wire());
        assert_eq!(
            &row[4],
            serde_json::to_value(fill.side).unwrap().as_str().unwrap()
        );
        assert_eq!(row[5], fill.price.to_string());
        assert_eq!(row[6], fill.qty.to_string());
        assert_eq!(row[7], fill.fee.to_string());
        assert_eq!(
            &row[8],
            serde_json::to_value(fill.liquidity)
                .unwrap()
                .as_str()
                .unwrap()
        );
        let pnl = next_realized_pnl(&events, i);
        assert!(
            !pnl.is_empty(),
            "every fill is followed by a position update"
        );
        assert_eq!(row[9], pnl, "seq {}", env.seq);
        // Plain decimals: digits, one point, maybe a sign; never an exponent.
        for value in [&row[5], &row[6], &row[7], &row[9]] {
            assert!(
                value.parse::<rust_decimal::Decimal>().is_ok()
                    && value
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == '-'),
                "{value}"
            );
        }
        realized += usize::from(pnl != "0");
    }
    assert!(realized > 10, "exits realize P&L ({realized} rows)");
    for bot in ["btc", "xrp"] {
        assert!(rows.iter().any(|r| &r[1] == bot), "{bot} traded");
    }

    // Filters select the fills: the xrp bot's, in a time window.
    let xrp: Vec<usize> = fills
        .iter()
        .copied()
        .filter(|&i| is_bot(&events[i], "xrp"))
        .collect();
    let (from_ts, to_ts) = (events[xrp[2]].ts, events[xrp[xrp.len() - 3]].ts);
    let expected: Vec<usize> = xrp
        .iter()
        .copied()
        .filter(|&i| events[i].ts >= from_ts && events[i].ts <= to_ts)
        .collect();
    let (_, rows) = read_csv(&export(
        &run,
        "fills-csv",
        &[
            "--bot",
            "xrp",
            "--from-ts",
            &from_ts.to_rfc3339(),
            "--to-ts",
            &to_ts.to_rfc3339(),
        ],
    ));
    assert!(expected.len() > 2 && expected.len() < xrp.len());
    assert_eq!(rows.len(), expected.len());
    for (row, &i) in rows.iter().zip(&expected) {
        assert_eq!(row[3], fill_of(&events[i]).unwrap().order_id.to_wire());
    }

    // `--to` ends the fills at a fill's seq; its row still takes the update that follows.
    let last = fills[fills.len() / 2];
    let (_, rows) = read_csv(&export(
        &run,
        "fills-csv",
        &["--to", &events[last].seq.to_string()],
    ));
    assert_eq!(rows.len(), fills.len() / 2 + 1);
    assert_eq!(rows[rows.len() - 1][9], next_realized_pnl(&events, last));
}

/// The closing update of a trade row: the `position_updated` of its bot and pair at its close
/// time that left the position flat or on the other side.
fn closing_update<'a>(events: &'a [Envelope], row: &csv::StringRecord) -> &'a Envelope {
    events
        .iter()
        .find(|e| {
            e.ts.to_rfc3339() == row[4]
                && optional(e.bot) == row[0]
                && optional(e.pair) == row[1]
                && matches!(&e.payload, Event::PositionUpdated(update)
                    if update.qty.0.is_zero()
                        || update.side.map(|s| serde_json::to_value(s).unwrap()) != Some(row[2].into()))
        })
        .unwrap_or_else(|| panic!("no closing update for {row:?}"))
}

#[test]
fn trades_csv_has_one_row_per_closed_trade_that_adds_up_to_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (_, run, events) = two_bot_run(dir.path());
    let text = export(&run, "trades-csv", &[]);
    let (header, rows) = read_csv(&text);
    assert_eq!(header, charon_replay::export::TRADE_COLUMNS);
    assert!(rows.len() > 10, "{} trades", rows.len());
    let dec = |text: &str| -> Decimal {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} is not a plain decimal: {e}"))
    };
    for row in &rows {
        // Amounts add up; returns are on the entry notional.
        let (gross, fees, funding, net) =
            (dec(&row[10]), dec(&row[11]), dec(&row[12]), dec(&row[13]));
        assert_eq!(net, gross - fees + funding, "{row:?}");
        let notional = dec(&row[9]);
        assert_eq!(notional, dec(&row[6]) * dec(&row[8]), "{row:?}");
        assert_eq!(
            dec(&row[14]),
            (net / notional * Decimal::ONE_HUNDRED).round_dp(4)
        );
        // The close is a position update of the log; the exit price is its closing fill's,
        // and the exit's purpose and reason that fill's order's.
        let close = closing_update(&events, row);
        let fill = events
            .iter()
            .filter(|e| e.ts == close.ts && e.bot == close.bot && e.pair == close.pair)
            .filter_map(fill_of)
            .next_back()
            .expect("a fill closed the trade");
        assert_eq!(dec(&row[7]), fill.price.0, "{row:?}");
        let intent = events
            .iter()
            .find_map(|e| match &e.payload {
                Event::OrderIntent(intent) if intent.order_id == fill.order_id => Some(intent),
                _ => None,
            })
            .expect("the fill's order");
        assert_eq!(row[16], serde_json::to_value(intent.purpose).unwrap());
        assert_eq!(row[18], intent.reason);
        assert!(!row[17].is_empty(), "the exit's rule: {row:?}");
        // Times: RFC 3339 in UTC, the duration between them in seconds (0 for a trade stopped
        // out on the bar it entered on).
        assert!(row[3] <= row[4] && row[4].ends_with('Z'), "{row:?}");
        let seconds = |at: &str| {
            let ts = events
                .iter()
                .find(|e| e.ts.to_rfc3339() == at)
                .expect("an event at the trade's time")
                .ts;
            Decimal::new(ts.nanos(), 9)
        };
        assert_eq!(dec(&row[5]), seconds(&row[4]) - seconds(&row[3]));
    }
    // Every amount of a pair that ends flat belongs to a trade: the rows add up to its last
    // update's cumulative net.
    for (bot, pair) in [("btc", "BTCUSDT"), ("xrp", "XRPUSDT")] {
        let last = events
            .iter()
            .rev()
            .find_map(|e| match &e.payload {
                Event::PositionUpdated(update) if is_bot(e, bot) => Some(update),
                _ => None,
            })
            .unwrap();
        let booked: Decimal = rows
            .iter()
            .filter(|r| &r[0] == bot && &r[1] == pair)
            .map(|r| dec(&r[13]))
            .sum();
        if last.qty.0.is_zero() {
            assert_eq!(
                booked,
                last.realized_pnl.0 - last.fees.0 + last.funding.0,
                "{bot}"
            );
        }
        assert!(rows.iter().any(|r| &r[0] == bot), "{bot} traded");
    }

    // Filters select trades by the update that closed them.
    let xrp: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[0] == "xrp").collect();
    let from = &xrp[2][4];
    let (_, selected) = read_csv(&export(
        &run,
        "trades-csv",
        &["--bot", "xrp", "--from-ts", from],
    ));
    let expected: Vec<&csv::StringRecord> = xrp.iter().copied().filter(|r| &r[4] >= from).collect();
    assert!(expected.len() > 1 && expected.len() < xrp.len());
    assert_eq!(selected.iter().collect::<Vec<_>>(), expected);
    let middle = closing_update(&events, &rows[rows.len() / 2]).seq;
    let (_, up_to) = read_csv(&export(&run, "trades-csv", &["--to", &middle.to_string()]));
    assert_eq!(up_to.len(), rows.len() / 2 + 1);
    assert_eq!(
        up_to.iter().collect::<Vec<_>>(),
        rows.iter().take(up_to.len()).collect::<Vec<_>>()
    );

    let kind = charon(&[
        "log",
        "export",
        arg(&run),
        "--format",
        "trades-csv",
        "--kind",
        "order_filled",
    ]);
    assert_eq!(kind.status.code(), Some(2), "{}", stderr(&kind));
    assert!(
        stderr(&kind).contains("--kind does not apply"),
        "{}",
        stderr(&kind)
    );
}

/// A run log holding one event of every kind.
fn sample_log(path: &Path) -> PathBuf {
    let path = path.to_path_buf();
    let log = EventLog::create(&path, LogKind::Run).unwrap();
    for event in &mut charon_events::samples::one_of_each() {
        log.append(event).unwrap();
    }
    log.sync_through(log.last_seq()).unwrap();
    path
}

fn assert_exit(out: &Output, code: i32, needle: &str) {
    assert_eq!(out.status.code(), Some(code), "stderr: {}", stderr(out));
    assert!(
        stderr(out).contains(needle),
        "{:?} should mention {needle:?}",
        stderr(out)
    );
}

#[test]
fn export_to_a_file_and_its_failures() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample_log(&dir.path().join("sample.run"));
    let events = charon_events::samples::one_of_each();

    // --out writes what standard output would get, and says so.
    let file = dir.path().join("events.csv");
    let out = charon(&[
        "log",
        "export",
        arg(&log),
        "--format",
        "csv",
        "--out",
        arg(&file),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        export(&log, "csv", &[])
    );
    assert_eq!(
        stdout(&out).trim_end(),
        format!(
            "{}: {} rows from {} (csv)",
            arg(&file),
            events.len(),
            arg(&log)
        )
    );

    // Bad input: exit 2, and no output file.
    let unwritten = dir.path().join("never.csv");
    let out_arg = ["--out", arg(&unwritten)];
    let missing = dir.path().join("missing.run");
    for (args, needle) in [
        (vec!["--format", "xlsx"], "unknown export format \"xlsx\""),
        (vec!["--format", "csv", "--from-ts", "soon"], "\"soon\""),
        (vec!["--format", "csv", "--bot", "a,b c"], "b c"),
        (vec!["--format", "csv", "--follow"], "--follow"),
        (
            vec!["--format", "csv", "--from", "5", "--to", "4"],
            "--from 5 is after --to 4",
        ),
    ] {
        let mut all = vec!["log", "export", arg(&log)];
        all.extend_from_slice(&args);
        all.extend_from_slice(&out_arg);
        assert_exit(&charon(&all), 2, needle);
        assert!(!unwritten.exists(), "{args:?}");
    }
    let out = charon(&[
        "log",
        "export",
        arg(&missing),
        "--format",
        "jsonl",
        "--out",
        arg(&unwritten),
    ]);
    assert_exit(&out, 2, "no such log");
    assert!(!unwritten.exists());

    // A damaged record: exit 2 naming its seq, and the partial file is removed.
    let damaged = sample_log(&dir.path().join("damaged.run"));
    support::edit_stored_body(&damaged, 20, |body| body.truncate(3));
    let out = charon(&[
        "log",
        "export",
        arg(&damaged),
        "--format",
        "csv",
        "--out",
        arg(&unwritten),
    ]);
    assert_exit(&out, 2, "corrupt record at seq 20");
    assert!(!unwritten.exists(), "a partial export is not left behind");

    // Writing fails: exit 1 with one line naming the file.
    let nowhere = dir.path().join("no-such-dir").join("x.csv");
    let out = charon(&[
        "log",
        "export",
        arg(&log),
        "--format",
        "csv",
        "--out",
        arg(&nowhere),
    ]);
    assert_exit(&out, 1, arg(&nowhere));
    assert_eq!(stderr(&out).trim_end().lines().count(), 1);
    if Path::new("/dev/full").exists() {
        let out = charon(&[
            "log",
            "export",
            arg(&log),
            "--format",
            "jsonl",
            "--out",
            "/dev/full",
        ]);
        assert_exit(&out, 1, "/dev/full: writing");
        assert_eq!(stderr(&out).trim_end().lines().count(), 1);
        assert!(Path::new("/dev/full").exists());
    }
}
