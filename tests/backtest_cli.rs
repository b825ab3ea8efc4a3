//! End-to-end: `charon backtest` and `charon demo` as the real binary over real sled logs of
//! real recorded market data (XRPUSDT perpetual 5-minute bars and funding rates, imported
//! with `charon import`): the run log's contents, determinism run to run, the report, and
//! the failure paths (exit 2 with the file and the problem).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use support::{backtest, charon};

use charon_events::log::EVENTS_TREE;
use charon_events::payload::manifest::ExecutionMode;
use charon_events::payload::order::EquityUpdated;
use charon_events::{Event, Origin};
use rust_decimal::Decimal;

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a utf-8 path")
}

/// A data log of the real XRPUSDT 5m bars and 8h funding rates, imported by the binary.
fn import_xrp(dir: &Path) -> PathBuf {
    let data = dir.join("xrp.data");
    for (format, file) in [
        ("ohlcv-csv", "data/freqtrade/XRP_USDT_USDT-5m-futures.csv"),
        (
            "funding-csv",
            "data/freqtrade/XRP_USDT_USDT-8h-funding_rate.csv",
        ),
    ] {
        let output = charon(&[
            "import",
            format,
            arg(&repo(file)),
            "--data",
            arg(&data),
            "--symbol",
            "XRPUSDT",
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    data
}

/// A one-pair perpetual bot on XRPUSDT (5m, 3x) following the template at `strategy`; `rest`
/// ends its `[[bot.pair]]` table and may add tables after it.
fn xrp_bot(strategy: &str, rest: &str) -> String {
    format!(
        r#"[[bot]]
name = "xrp"
quote = "USDT"
initial_capital = 5000

[[bot.pair]]
symbol = "XRPUSDT"
market = "perpetual"
leverage = 3
strategy = "{strategy}"
timeframe = "5m"
{rest}"#
    )
}

/// A one-pair perpetual bot on XRPUSDT with the shipped mean-reversion template.
fn xrp_config(dir: &Path) -> PathBuf {
    let template = repo("examples/strategies/bollinger_reversion.toml");
    let config = dir.join("xrp.toml");
    let rest = r#"sizing = { per_trade = { quote = 1500 }, max_position_quote = 3000 }
exits = { stop_loss_pct = 1.5, take_profit_pct = 2 }
add_on = { max_adds = 1, trigger_move_pct = 0.5, size_pct = 50 }

[simulation]
slippage_bps = 2
"#;
    std::fs::write(&config, xrp_bot(&template.display().to_string(), rest)).unwrap();
    config
}

/// Every stored value of a log (blocks of events), as the bytes sled holds, by key.
fn stored_records(path: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let db = support::open_store(path);
    let tree = db.open_tree(EVENTS_TREE).unwrap();
    tree.iter()
        .map(|entry| {
            let (key, value) = entry.unwrap();
            (key.to_vec(), value.to_vec())
        })
        .collect()
}

#[test]
fn the_same_backtest_twice_writes_byte_identical_run_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = import_xrp(dir.path());
    let config = xrp_config(dir.path());
    let (first, second) = (dir.path().join("run1"), dir.path().join("run2"));
    for out in [&first, &second] {
        let output = backtest(&config, &data, out, &[]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let events = support::open_log(&first).last_seq();
    assert!(events > 500, "the run holds {events} events");
    let (a, b) = (stored_records(&first), stored_records(&second));
    assert!(a.len() > 10, "{} blocks", a.len());
    assert_eq!(a, b);
}

#[test]
fn a_run_log_holds_its_manifest_its_inputs_by_reference_and_what_was_derived() {
    let dir = tempfile::tempdir().unwrap();
    let data_path = import_xrp(dir.path());
    let config = xrp_config(dir.path());
    let out = dir.path().join("run");
    let output = backtest(&config, &data_path, &out, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));

    let data = support::open_log(&data_path);
    let (data_id, data_last) = (data.meta().log_id, data.last_seq());
    drop(data);
    let run = support::open_log(&out);
    let events: Vec<_> = run.iter().map(Result::unwrap).collect();
    let Event::RunManifest(manifest) = &events[0].payload else {
        panic!("the first event is {:?}", events[0].payload.kind());
    };
    assert_eq!(manifest.mode, ExecutionMode::Backtest);
    let range = manifest.data.expect("inputs by reference");
    assert_eq!(
        (range.log_id, range.first_seq, range.last_seq),
        (data_id, 1, data_last)
    );
    // The bundle: the configuration's text and each template's, as written.
    let bundle: toml::Table = toml::from_str(&manifest.config_toml).unwrap();
    assert_eq!(
        bundle["config"].as_str(),
        Some(std::fs::read_to_string(&config).unwrap().as_str())
    );
    let templates = bundle["templates"].as_table().unwrap();
    assert_eq!(templates.len(), 1);
    assert!(templates
        .values()
        .all(|t| t.as_str().unwrap().contains("bollinger")));
    assert_eq!(manifest.config_hash.len(), 64);
    // No input is copied: everything after the manifest is derived, caused by a data-log seq.
    for event in &events[1..] {
        assert!(matches!(event.origin, Origin::Derived(_)), "{event:?}");
        let cause = event.cause.expect("a derived event has a cause");
        assert!((1..=data_last).contains(&cause), "{event:?}");
    }
    let count = |kind: &str| {
        events
            .iter()
            .filter(|e| e.payload.kind().name() == kind)
            .count()
    };
    assert!(count("order_filled") >= 2);
    assert_eq!(count("order_approved"), count("order_intent"));
    assert!(
        count("funding_paid") >= 1,
        "funding was paid on open positions"
    );
    // Every approval follows its intent and every fill its approval.
    for (i, event) in events.iter().enumerate() {
        if let Event::OrderFilled(filled) = &event.payload {
            let approved = events[..i].iter().any(|e| {
                matches!(&e.payload, Event::OrderApproved(a) if a.order_id == filled.fill.order_id)
            });
            assert!(approved, "fill of an unapproved order: {event:?}");
        }
    }
    let stdout = text(&output.stdout);
    assert!(stdout.contains("bot xrp"), "{stdout}");
    assert!(stdout.contains("max drawdown"), "{stdout}");
}

#[test]
fn the_report_json_agrees_with_the_run_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = import_xrp(dir.path());
    let config = xrp_config(dir.path());
    let (out, json_path) = (dir.path().join("run"), dir.path().join("report.json"));
    let output = backtest(&config, &data, &out, &["--report-json", arg(&json_path)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let bot = &report["bots"][0];
    assert_eq!(bot["bot"], "xrp");

    let run = support::open_log(&out);
    let events: Vec<_> = run.iter().map(Result::unwrap).collect();
    let fills = events
        .iter()
        .filter(|e| matches!(e.payload, Event::OrderFilled(_)))
        .count();
    assert_eq!(bot["fills"].as_u64().unwrap(), fills as u64);
    let account: Vec<&EquityUpdated> = events
        .iter()
        .filter(|e| e.pair.is_none())
        .filter_map(|e| match &e.payload {
            Event::EquityUpdated(update) => Some(update),
            _ => None,
        })
        .collect();
    let last_equity = account.last().expect("equity was reported").equity;
    assert_eq!(bot["final_equity"], last_equity.to_string());
    let trades = bot["trades"].as_u64().unwrap();
    assert_eq!(
        bot["wins"].as_u64().unwrap() + bot["losses"].as_u64().unwrap(),
        trades
    );
    assert!(trades >= 1);

    // The history: the equity curve is every account-level update of the log.
    let history = &report["history"]["bots"][0];
    let curve = history["equity_curve"].as_array().unwrap();
    assert_eq!(curve.len(), account.len());
    assert_eq!(curve.last().unwrap()["value"], last_equity.to_string());
    // Every closed trade is listed; with what is still open they add up to the pair's net.
    let closed = history["closed_trades"].as_array().unwrap();
    assert_eq!(closed.len() as u64, trades);
    let amount = |value: &serde_json::Value| dec(value.as_str().unwrap());
    let booked: Decimal = closed
        .iter()
        .chain(history["open_trades"].as_array().unwrap())
        .map(|t| amount(&t["net_pnl"]))
        .sum();
    assert_eq!(booked, amount(&bot["pairs"][0]["net_pnl"]));
    for trade in closed {
        let net =
            amount(&trade["realized_pnl"]) - amount(&trade["fees"]) + amount(&trade["funding"]);
        assert_eq!(amount(&trade["net_pnl"]), net, "{trade}");
        assert!(trade["exit"]["purpose"].is_string(), "{trade}");
    }
    // Funding was paid on this perpetual: the trades' funding is the account's.
    let funding: Decimal = closed
        .iter()
        .chain(history["open_trades"].as_array().unwrap())
        .map(|t| amount(&t["funding"]))
        .sum();
    assert_eq!(funding, amount(&bot["funding"]));
    assert!(funding != Decimal::ZERO);

    // The statistics, on the same figures.
    let stats = &bot["statistics"];
    assert_eq!(stats["returns"]["end_equity"], bot["final_equity"]);
    assert_eq!(stats["returns"]["total_return_pct"], bot["return_pct"]);
    assert_eq!(stats["drawdown"]["max_pct"], bot["max_drawdown_pct"]);
    assert_eq!(stats["trades"]["trades"], bot["trades"]);
    assert_eq!(stats["fees"], bot["fees"]);
    // One pair: its contribution is all of the bot's P&L.
    let pair = &bot["pairs"][0]["statistics"];
    assert_eq!(
        pair["returns"]["end_equity"],
        stats["returns"]["end_equity"]
    );
    // One daily return per UTC date the period touches (a period ending at midnight does not
    // touch the next date): a month of bars, so every ratio exists.
    const DAY: i64 = 86_400_000_000_000;
    let (start, end) = (
        stats["period"]["start"].as_i64().unwrap(),
        stats["period"]["end"].as_i64().unwrap(),
    );
    let last_date = if end % DAY == 0 {
        end / DAY - 1
    } else {
        end / DAY
    };
    let days = stats["returns"]["days"].as_u64().unwrap();
    assert_eq!(days as i64, last_date - start / DAY + 1);
    assert!(days > 20, "{days} days");
    for ratio in ["cagr_pct", "volatility_pct", "sharpe", "sortino", "calmar"] {
        assert!(
            stats["returns"][ratio].is_f64(),
            "{ratio}: {}",
            stats["returns"]
        );
    }
    let hold = stats["buy_and_hold_pct"]
        .as_str()
        .expect("prices from the inputs");
    assert_eq!(hold, pair["buy_and_hold_pct"].as_str().unwrap());
}

#[test]
fn the_risk_free_rate_moves_sharpe_and_sortino_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = import_xrp(dir.path());
    let config = xrp_config(dir.path());
    let read = |name: &str, extra: &[&str]| -> serde_json::Value {
        let json = dir.path().join(format!("{name}.json"));
        let mut args = vec!["--report-json", arg(&json)];
        args.extend_from_slice(extra);
        let output = backtest(&config, &data, &dir.path().join(name), &args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        assert!(stdout.contains("\n  Sharpe "), "{stdout}");
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
    };
    let (zero, five) = (read("zero", &[]), read("five", &["--risk-free-rate", "5"]));
    let returns = |report: &serde_json::Value| report["bots"][0]["statistics"]["returns"].clone();
    let (a, b) = (returns(&zero), returns(&five));
    assert_eq!(five["settings"]["risk_free_rate_pct"], "5");
    assert!(b["sharpe"].as_f64().unwrap() < a["sharpe"].as_f64().unwrap());
    assert!(b["sortino"].as_f64().unwrap() < a["sortino"].as_f64().unwrap());
    for same in ["cagr_pct", "volatility_pct", "calmar", "total_return_pct"] {
        assert_eq!(a[same], b[same], "{same}");
    }

    let bad = backtest(
        &config,
        &data,
        &dir.path().join("bad"),
        &["--risk-free-rate", "-100"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("-100"), "{}", text(&bad.stderr));
}

#[test]
fn from_and_to_narrow_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let data = import_xrp(dir.path());
    let config = xrp_config(dir.path());
    let out = dir.path().join("run");
    let output = backtest(
        &config,
        &data,
        &out,
        &[
            "--from",
            "2021-11-17T00:00:00Z",
            "--to",
            "2021-11-18 00:00:00",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let data = support::open_log(&data);
    let run = support::open_log(&out);
    let Some(Event::RunManifest(manifest)) = run.get(1).unwrap().map(|e| e.payload) else {
        panic!("no manifest");
    };
    let range = manifest.data.unwrap();
    let first = data.get(range.first_seq).unwrap().unwrap();
    let before = data.get(range.first_seq - 1).unwrap().unwrap();
    let last = data.get(range.last_seq).unwrap().unwrap();
    let after = data.get(range.last_seq + 1).unwrap().unwrap();
    let day = |text: &str| charon_adapters::import::time::parse(text).unwrap();
    assert!(first.ts >= day("2021-11-17T00:00:00Z") && before.ts < first.ts);
    assert!(last.ts <= day("2021-11-18T00:00:00Z") && after.ts > day("2021-11-18T00:00:00Z"));
    // A 5-minute series over one day: 288 bars and at most a few funding rates.
    let inputs = range.last_seq - range.first_seq + 1;
    assert!((288..=292).contains(&inputs), "{inputs} inputs");
}

#[test]
fn bad_input_exits_2_and_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = import_xrp(dir.path());
    let config = xrp_config(dir.path());

    let out = dir.path().join("run");
    assert!(backtest(&config, &data, &out, &[]).status.success());
    let again = backtest(&config, &data, &out, &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already exists"));

    let missing = backtest(
        &config,
        &dir.path().join("nothing"),
        &dir.path().join("r2"),
        &[],
    );
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));

    let bad = dir.path().join("bad.toml");
    let broken = std::fs::read_to_string(&config)
        .unwrap()
        .replace("leverage = 3", "leverage = \"three\"");
    let line = 1 + broken
        .lines()
        .position(|l| l.starts_with("leverage"))
        .unwrap();
    std::fs::write(&bad, broken).unwrap();
    let output = backtest(&bad, &data, &dir.path().join("r3"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("bad.toml:{line}:")), "{stderr}");
    assert!(stderr.contains("leverage"), "{stderr}");

    let empty = backtest(
        &config,
        &data,
        &dir.path().join("r4"),
        &["--from", "2030-01-01T00:00:00Z"],
    );
    assert_eq!(empty.status.code(), Some(2));
    assert!(text(&empty.stderr).contains("no market data"));
}

#[test]
fn the_demo_runs_on_what_ships_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.run");
    let output = charon(&["demo", "--out", arg(&out)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for expected in [
        "bot demo",
        "return",
        "max drawdown",
        "win rate",
        "BTCUSDT",
        "XRPUSDT",
        "\n  statistic ",
        "\n  Sortino ",
        "\n  buy and hold ",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    let run = support::open_log(&out);
    let pairs: std::collections::BTreeSet<String> = run
        .iter()
        .map(Result::unwrap)
        .filter(|e| matches!(e.payload, Event::OrderFilled(_)))
        .filter_map(|e| e.pair.map(|p| p.to_string()))
        .collect();
    assert_eq!(pairs.len(), 2, "both pairs traded: {pairs:?}");
}

/// Layer-1 exits of a run: each stop-market or take-profit-market intent with the position it
/// closes (side and average entry, from the latest position update before it), the input bar
/// it filled against (from the data log, by the fill's cause) and its fill price.
struct LevelExit {
    reason: String,
    take_profit: bool,
    trigger: charon_events::Price,
    side: charon_events::payload::order::PositionSide,
    avg_entry: charon_events::Price,
    bar: charon_events::payload::market::Bar,
    fill: charon_events::Price,
}

fn level_exits(run: &Path, data: &Path) -> Vec<LevelExit> {
    use charon_events::payload::order::OrderType;
    let data = support::open_log(data);
    let events: Vec<_> = support::open_log(run).iter().map(Result::unwrap).collect();
    let mut position = None;
    let mut pending = std::collections::BTreeMap::new();
    let mut exits = Vec::new();
    for event in &events {
        match &event.payload {
            Event::PositionUpdated(update) => {
                position = update.side.map(|side| (side, update.avg_entry));
            }
            Event::OrderIntent(intent) => {
                let (take_profit, trigger) = match intent.order_type {
                    OrderType::StopMarket { trigger } => (false, trigger),
                    OrderType::TakeProfitMarket { trigger } => (true, trigger),
                    _ => continue,
                };
                let (side, avg_entry) = position.expect("an exit closes a position");
                pending.insert(
                    intent.order_id,
                    (intent.reason.clone(), take_profit, trigger, side, avg_entry),
                );
            }
            Event::OrderFilled(filled) => {
                let Some((reason, take_profit, trigger, side, avg_entry)) =
                    pending.remove(&filled.fill.order_id)
                else {
                    continue;
                };
                let input = data.get(event.cause.unwrap()).unwrap().unwrap();
                let Event::Bar(bar) = input.payload else {
                    panic!("a level exit fills against an input bar, not {input:?}")
                };
                exits.push(LevelExit {
                    reason,
                    take_profit,
                    trigger,
                    side,
                    avg_entry,
                    bar,
                    fill: filled.fill.price,
                });
            }
            _ => {}
        }
    }
    exits
}

#[test]
fn the_freqtrade_profile_verifies_and_differs_from_the_defaults_where_it_should() {
    use charon_actors::exchange::roi_target;
    use charon_actors::pair::moved_by_pct;
    use charon_events::payload::order::PositionSide;
    use charon_events::Rate;
    use rust_decimal::Decimal;

    let dir = tempfile::tempdir().unwrap();
    let data = import_xrp(dir.path());
    // The template beside the configuration, so the bundle can be re-derived from the log.
    std::fs::copy(
        repo("examples/strategies/bollinger_reversion.toml"),
        dir.path().join("bollinger_reversion.toml"),
    )
    .unwrap();
    let run = |name: &str, simulation: &str| {
        let config = dir.path().join(format!("{name}.toml"));
        let rest = format!(
            "sizing = {{ per_trade = {{ quote = 1500 }} }}\n\
             exits = {{ stop_loss_pct = 1.5, trailing_stop_pct = 1, \
             trailing_activation_pct = 0.5, take_profit_pct = 1.2 }}\n\n[simulation]\n{simulation}\n"
        );
        std::fs::write(&config, xrp_bot("bollinger_reversion.toml", &rest)).unwrap();
        let out = dir.path().join(format!("{name}.run"));
        let output = backtest(&config, &data, &out, &[]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        out
    };
    let charon_run = run("charon", "");
    let freqtrade_run = run("freqtrade", "conventions = \"freqtrade\"");

    // The profile is recorded in the manifest's bundle, and the run re-derives byte for byte.
    let first = support::open_log(&freqtrade_run).get(1).unwrap();
    let Some(Event::RunManifest(manifest)) = first.map(|event| event.payload) else {
        panic!("the run log starts with its manifest")
    };
    let bundle: toml::Table = toml::from_str(&manifest.config_toml).unwrap();
    let config = bundle["config"].as_str().unwrap();
    assert!(config.contains("conventions = \"freqtrade\""), "{config}");
    let verify = charon(&[
        "replay",
        "verify",
        arg(&freqtrade_run),
        "--data",
        arg(&data),
    ]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(text(&verify.stdout).contains("re-derived identically"));

    let fee = Rate(Decimal::new(5, 4));
    let pct = Decimal::new(12, 1);
    let (defaults, freqtrade) = (
        level_exits(&charon_run, &data),
        level_exits(&freqtrade_run, &data),
    );
    for (exits, profile) in [(&defaults, "charon"), (&freqtrade, "freqtrade")] {
        assert!(
            exits.iter().any(|exit| exit.take_profit),
            "{profile}: no take-profit"
        );
        assert!(
            exits
                .iter()
                .any(|exit| exit.reason.contains("trailing_stop")),
            "{profile}: no trailing stop"
        );
        for exit in exits.iter() {
            let (bar, long) = (&exit.bar, exit.side == PositionSide::Long);
            // Every fill lies within its bar (no slippage in either run).
            assert!(bar.low <= exit.fill && exit.fill <= bar.high, "{profile}");
            if exit.take_profit {
                // A price move by default; the price that nets 1.2% after both fees under
                // Freqtrade's ROI.
                let sign = if long { Decimal::ONE } else { -Decimal::ONE };
                let expected = match profile {
                    "charon" => moved_by_pct(exit.avg_entry, sign * pct),
                    _ => roi_target(exit.side, exit.avg_entry, pct, fee),
                };
                assert_eq!(Some(exit.trigger), expected, "{profile}");
            }
            // Where a stop fills: the open of a bar that opens beyond it by default; its level
            // under Freqtrade unless the whole bar is beyond it.
            if !exit.take_profit {
                let beyond = |price| {
                    if long {
                        price <= exit.trigger
                    } else {
                        price >= exit.trigger
                    }
                };
                let past = |price| {
                    if long {
                        price < exit.trigger
                    } else {
                        price > exit.trigger
                    }
                };
                let whole_bar = past(if long { bar.high } else { bar.low });
                let at_open = match profile {
                    "charon" => beyond(bar.open),
                    _ => whole_bar,
                };
                let expected = if at_open { bar.open } else { exit.trigger };
                assert_eq!(exit.fill, expected, "{profile}: {}", exit.reason);
            }
        }
    }
    // Under Freqtrade the ROI nets its fees, so it is further away and reached less often;
    // trailing stops moved by the high first fire inside bars the defaults let pass.
    let count = |exits: &[LevelExit], take_profit| {
        exits
            .iter()
            .filter(|exit| exit.take_profit == take_profit)
            .count()
    };
    assert!(count(&freqtrade, true) < count(&defaults, true));
    assert!(count(&freqtrade, false) > count(&defaults, false));

    // A trade closed on a bar frees the pair for that bar's entry signal under Freqtrade: an
    // entry is asked in the cascade of an exit's fill. By default it waits for a later signal.
    let entries_on_exit_bars = |run: &Path| {
        use charon_events::payload::order::OrderPurpose;
        let events: Vec<_> = support::open_log(run).iter().map(Result::unwrap).collect();
        // The inputs whose cascades filled an order (by default a Pair never asks for an entry
        // in such a cascade: it evaluated the bar while that order was in flight).
        let filled_on: std::collections::BTreeSet<_> = events
            .iter()
            .filter(|event| matches!(&event.payload, Event::OrderFilled(filled) if !filled.fill.qty.0.is_zero()))
            .filter_map(|event| event.cause)
            .collect();
        events
            .iter()
            .filter(|event| {
                matches!(&event.payload, Event::OrderIntent(intent) if intent.purpose == OrderPurpose::Entry)
                    && event.cause.is_some_and(|cause| filled_on.contains(&cause))
            })
            .count()
    };
    assert_eq!(entries_on_exit_bars(&charon_run), 0);
    assert!(entries_on_exit_bars(&freqtrade_run) > 0);
}

#[test]
fn a_reader_that_stops_early_is_not_a_failure() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_charon"))
        .args(["demo", "--no-html"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone (as `charon demo | head -1` leaves it) before the report is printed.
    assert!(first.starts_with("charon demo:"), "{first}");
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !dir.path().join("demo-report.html").exists(),
        "--no-html writes no page"
    );
}

/// Issue 13, defect 4: a pair whose configuration leaves `timeframe` out evaluates at its
/// data's own interval. On the real 5-minute XRP bars it used to default to 1-minute bars, which
/// 5-minute data cannot make: no trade at all, exit 0, and one "connectivity" alert.
#[test]
fn a_pair_without_a_timeframe_evaluates_at_its_datas_interval() {
    let dir = tempfile::tempdir().unwrap();
    let data = import_xrp(dir.path());
    let with = xrp_config(dir.path());
    let text_with = std::fs::read_to_string(&with).unwrap();
    assert!(text_with.contains("timeframe = \"5m\"\n"));
    let without = dir.path().join("xrp-no-timeframe.toml");
    std::fs::write(&without, text_with.replace("timeframe = \"5m\"\n", "")).unwrap();
    let reports = [("with", &with), ("without", &without)]
        .map(|(name, config)| report_of(dir.path(), name, config, &data));
    let trades = |report: &serde_json::Value| report["bots"][0]["trades"].as_u64().unwrap();
    assert!(trades(&reports[0]) > 0, "the 5-minute run trades");
    assert_eq!(trades(&reports[1]), trades(&reports[0]));
    assert_eq!(reports[1]["bots"], reports[0]["bots"], "the very same run");
    let check = charon(&["config", "check", arg(&without)]);
    assert!(
        text(&check.stdout).contains("(its data's interval)"),
        "{}",
        text(&check.stdout)
    );
}

/// Issue 13, item 16: the taker fee written as a ratio (`taker_fee_rate`, Freqtrade's `fee`)
/// is the same fee as the percent (`taker_fee_pct`): the same trades to the last digit.
#[test]
fn a_fee_as_a_ratio_is_the_same_fee_as_the_percent() {
    let dir = tempfile::tempdir().unwrap();
    let data = import_xrp(dir.path());
    let pct = xrp_config(dir.path());
    let base = std::fs::read_to_string(&pct).unwrap();
    let pct_text = base.replace(
        "slippage_bps = 2\n",
        "slippage_bps = 2\ntaker_fee_pct = 0.04\n",
    );
    let rate_text = base.replace(
        "slippage_bps = 2\n",
        "slippage_bps = 2\ntaker_fee_rate = 0.0004\n",
    );
    assert_ne!(pct_text, base);
    let reports = [("pct", pct_text), ("rate", rate_text)].map(|(name, config_text)| {
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(&config, config_text).unwrap();
        report_of(dir.path(), name, &config, &data)
    });
    assert!(reports[0]["bots"][0]["trades"].as_u64().unwrap() > 0);
    assert_eq!(reports[0]["bots"], reports[1]["bots"]);
    assert_ne!(
        reports[0]["bots"][0]["fees"],
        serde_json::Value::Null,
        "fees are reported"
    );
}

/// Backtests `config` over `data` as run `name` in `dir` and reads its JSON report.
fn report_of(dir: &Path, name: &str, config: &Path, data: &Path) -> serde_json::Value {
    let json = dir.join(format!("{name}.json"));
    let output = backtest(
        config,
        data,
        &dir.join(format!("{name}.run")),
        &["--report-json", arg(&json)],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}
