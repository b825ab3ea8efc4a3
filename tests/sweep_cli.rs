//! End-to-end: `charon backtest --sweep` and `--split` as the real binary over a data log of
//! real recorded bars (BTC perpetual 1-minute bars of January 2022, imported by the binary):
//! a sweep point reproduced on its own by `charon backtest` to the last digit, results that do
//! not depend on the thread count, the ranking, bad keys, and in- and out-of-sample windows
//! that add up to the whole run.

mod support;

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde_json::Value;
use support::{arg, backtest, charon, repo, stderr, stdout};

/// The BTC perpetual 1-minute bars (45,031) in a data log, and a one-bot configuration on
/// 15-minute bars following a copy of the shipped EMA-cross template (whose `[params]` name
/// its periods) at `dir/strategies/`, the configuration at `dir/bots/btc.toml`.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("btc.data");
    let output = charon(&[
        "import",
        "ohlcv-csv",
        arg(&repo(
            "data/nautilus_trader/btc-perp-20211231-20220201_1m.csv.gz",
        )),
        "--data",
        arg(&data),
        "--symbol",
        "BTCUSDT",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::create_dir_all(dir.join("strategies")).unwrap();
    std::fs::create_dir_all(dir.join("bots")).unwrap();
    std::fs::copy(
        repo("examples/strategies/ema_cross.toml"),
        dir.join("strategies/ema_cross.toml"),
    )
    .unwrap();
    let config = dir.join("bots/btc.toml");
    std::fs::write(
        &config,
        r#"[[bot]]
name = "btc"
quote = "USDT"
initial_capital = 10000

[[bot.pair]]
symbol = "BTCUSDT"
market = "perpetual"
leverage = 2
strategy = "../strategies/ema_cross.toml"
timeframe = "15m"
sizing = { per_trade = { equity_pct = 20 } }
exits = { stop_loss_pct = 2, take_profit_pct = 4 }
"#,
    )
    .unwrap();
    (data, config)
}

/// 3 stop-losses × 2 fast EMA periods (a template parameter): 6 points.
const AXES: [&str; 4] = [
    "--sweep",
    "bot.pair.exits.stop_loss_pct=1..2:0.5",
    "--sweep",
    "params.fast=5,10",
];

fn sweep(config: &Path, data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    backtest(config, data, out, &[&AXES[..], extra].concat())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn dec(value: &Value) -> Decimal {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a decimal"));
    Decimal::from_str_exact(text).unwrap()
}

/// Each statistic of the sweep's table and where a run's JSON report has the same figure,
/// under a bot's or a window's `statistics`.
const STATISTICS: [(&str, &[&str]); 13] = [
    ("total_return", &["returns", "total_return_pct"]),
    ("cagr", &["returns", "cagr_pct"]),
    ("sharpe", &["returns", "sharpe"]),
    ("sortino", &["returns", "sortino"]),
    ("calmar", &["returns", "calmar"]),
    ("max_drawdown", &["drawdown", "max_pct"]),
    ("volatility", &["returns", "volatility_pct"]),
    ("trades", &["trades", "trades"]),
    ("win_rate", &["trades", "win_rate_pct"]),
    ("profit_factor", &["trades", "profit_factor"]),
    ("expectancy", &["trades", "expectancy"]),
    ("exposure", &["exposure_pct"]),
    ("pnl", &["returns", "pnl"]),
];

/// That a sweep row's statistics (`row_stats`, name → value) are exactly the report's.
fn assert_same_statistics(row_stats: &Value, report_stats: &Value, what: &str) {
    for (name, path) in STATISTICS {
        let reported = path.iter().fold(report_stats, |value, key| &value[*key]);
        assert_eq!(&row_stats[name], reported, "{what}: {name}");
    }
}

#[test]
fn a_sweep_point_reproduces_alone_and_the_thread_count_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path());
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let output = sweep(&config, &data, &one, &["--threads", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let output = sweep(&config, &data, &two, &["--threads", "2"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for file in ["results.csv", "results.json"] {
        let (a, b) = (
            std::fs::read(one.join(file)).unwrap(),
            std::fs::read(two.join(file)).unwrap(),
        );
        assert!(a == b, "{file} differs between 1 and 2 threads");
    }

    let results = read_json(&one.join("results.json"));
    let rows = results["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(results["sort"]["statistic"], "sharpe");
    // Ranked by Sharpe, highest first, ties by point index; every point once.
    let sharpe = |row: &Value| row["bots"][0]["all"]["sharpe"].as_f64().expect("a Sharpe");
    for pair in rows.windows(2) {
        let (a, b) = (sharpe(&pair[0]), sharpe(&pair[1]));
        assert!(
            a > b || (a == b && pair[0]["point"].as_u64() < pair[1]["point"].as_u64()),
            "{a} before {b}"
        );
    }
    let mut indexes: Vec<u64> = rows.iter().map(|r| r["point"].as_u64().unwrap()).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
    // The grid: the first axis slowest, exact decimal steps.
    let point = |index: u64| rows.iter().find(|r| r["point"] == index).unwrap();
    assert_eq!(point(3)["values"]["bot.pair.exits.stop_loss_pct"], "1.5");
    assert_eq!(point(3)["values"]["params.fast"], "10");
    // The points differ: the swept keys reached the runs.
    let pnls: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| r["bots"][0]["all"]["pnl"].to_string())
        .collect();
    assert_eq!(pnls.len(), 6, "{pnls:?}");
    // The CSV holds the same rows in the same order.
    let csv = std::fs::read_to_string(one.join("results.csv")).unwrap();
    let order: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let json_order: Vec<String> = rows.iter().map(|r| r["point"].to_string()).collect();
    assert_eq!(order, json_order);
    assert!(printed.contains("ranked by sharpe of bot btc"), "{printed}");
    assert!(printed.contains("reproduce point"), "{printed}");

    // Point 3 on its own, from its recorded configuration: the same statistics to the digit.
    let recorded = one.join(point(3)["config"].as_str().unwrap());
    let text = std::fs::read_to_string(&recorded).unwrap();
    assert!(text.contains("stop_loss_pct = 1.5"), "{text}");
    let template = std::fs::read_to_string(
        recorded
            .parent()
            .unwrap()
            .join("../strategies/ema_cross.toml"),
    )
    .unwrap();
    assert!(template.contains("fast = 10"), "{template}");
    let report_path = dir.path().join("point3.json");
    let output = backtest(
        &recorded,
        &data,
        &dir.path().join("point3.run"),
        &["--report-json", arg(&report_path)],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = read_json(&report_path);
    assert_same_statistics(
        &point(3)["bots"][0]["all"],
        &report["bots"][0]["statistics"],
        "point 3",
    );
}

#[test]
fn a_split_sweep_ranks_in_sample_and_its_rows_are_the_split_backtests() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path());
    let out = dir.path().join("split");
    let extra = ["--split", "70:30", "--sort", "max_drawdown", "--top", "2"];
    let output = sweep(&config, &data, &out, &extra);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(printed.contains("max DD in  max DD out"), "{printed}");
    assert!(printed.contains("... 4 more in the files"), "{printed}");

    let results = read_json(&out.join("results.json"));
    assert_eq!(results["sort"]["window"], "in");
    assert_eq!(results["sort"]["order"], "ascending");
    let rows = results["rows"].as_array().unwrap();
    // Ranked by the in-sample drawdown, lowest first.
    let drawdown = |row: &Value| dec(&row["bots"][0]["in"]["max_drawdown"]);
    for pair in rows.windows(2) {
        assert!(drawdown(&pair[0]) <= drawdown(&pair[1]));
    }
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.contains("btc.sharpe.in,btc.sharpe.out"), "{header}");

    // The best row, run alone with the same split: the same windows' statistics.
    let best = &rows[0];
    let report_path = dir.path().join("best.json");
    let output = backtest(
        &out.join(best["config"].as_str().unwrap()),
        &data,
        &dir.path().join("best.run"),
        &["--split", "70:30", "--report-json", arg(&report_path)],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = read_json(&report_path);
    assert_eq!(report["split"]["cut"], results["split"]["cut"]);
    for (window, name) in [("in", "in_sample"), ("out", "out_of_sample")] {
        assert_same_statistics(
            &best["bots"][0][window],
            &report["split"][name]["bots"][0]["statistics"],
            window,
        );
    }
}

#[test]
fn a_split_backtest_has_windows_that_add_up_to_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path());
    let report_path = dir.path().join("report.json");
    let html_path = dir.path().join("report.html");
    let output = backtest(
        &config,
        &data,
        &dir.path().join("run"),
        &[
            "--from",
            "2022-01-03T00:00:00Z",
            "--to",
            "2022-01-28T00:00:00Z",
            "--split",
            "70:30",
            "--report-json",
            arg(&report_path),
            "--html",
            arg(&html_path),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(printed.contains("split 70:30 at "), "{printed}");
    assert!(
        printed.contains("btc in  btc out  BTCUSDT in  BTCUSDT out"),
        "{printed}"
    );

    let report = read_json(&report_path);
    let split = &report["split"];
    assert_eq!(
        (&split["split"]["in"], &split["split"]["out"]),
        (&70.into(), &30.into())
    );
    // The cut: 70% of the way from the first input to the last (1-minute bars stamped at their
    // close, both bounds inclusive: the bars closing at 00:00 on the 3rd and on the 28th).
    let minute = 60_000_000_000i64;
    let (start, end) = (
        report["first_ts"].as_i64().unwrap(),
        report["last_ts"].as_i64().unwrap(),
    );
    assert_eq!(end - start, 25 * 24 * 60 * minute);
    assert_eq!(
        split["cut"].as_i64().unwrap(),
        start + (end - start) * 7 / 10
    );
    let (inside, outside) = (&split["in_sample"], &split["out_of_sample"]);
    assert_eq!(inside["period"]["start"].as_i64(), Some(start));
    assert_eq!(
        inside["period"]["end"].as_i64(),
        Some(split["cut"].as_i64().unwrap() - 1)
    );
    assert_eq!(outside["period"]["start"], split["cut"]);
    assert_eq!(outside["period"]["end"].as_i64(), Some(end));

    // The bot and its pair: the windows split trades, P&L and fees exactly.
    let whole = &report["bots"][0];
    let subjects = [
        (
            &whole["statistics"],
            &inside["bots"][0]["statistics"],
            &outside["bots"][0]["statistics"],
        ),
        (
            &whole["pairs"][0]["statistics"],
            &inside["bots"][0]["pairs"][0]["statistics"],
            &outside["bots"][0]["pairs"][0]["statistics"],
        ),
    ];
    for (all, a, b) in subjects {
        let trades = |s: &Value| s["trades"]["trades"].as_u64().unwrap();
        assert!(
            trades(a) > 5 && trades(b) > 5,
            "{} and {}",
            trades(a),
            trades(b)
        );
        assert_eq!(trades(a) + trades(b), trades(all));
        for path in [["trades", "net_pnl"], ["returns", "pnl"]] {
            let at = |s: &Value| dec(&s[path[0]][path[1]]);
            assert_eq!(at(a) + at(b), at(all), "{path:?}");
        }
        assert_eq!(dec(&a["fees"]) + dec(&b["fees"]), dec(&all["fees"]));
        assert_eq!(a["returns"]["end_equity"], b["returns"]["start_equity"]);
        assert_eq!(a["returns"]["start_equity"], all["returns"]["start_equity"]);
        assert_eq!(b["returns"]["end_equity"], all["returns"]["end_equity"]);
    }

    // The HTML page shows both windows side by side and marks the cut on the bot's charts.
    let html = std::fs::read_to_string(&html_path).unwrap();
    let table = html
        .split(r#"<table class="sortable" id="bot0-split">"#)
        .nth(1)
        .expect("the page has the split table")
        .split("</table>")
        .next()
        .unwrap();
    assert!(
        table.starts_with(
            "<thead><tr><th>statistic</th><th>bot btc in</th><th>bot btc out</th>\
             <th>BTCUSDT in</th><th>BTCUSDT out</th></tr></thead>"
        ),
        "{table}"
    );
    let trades = |s: &Value| s["trades"]["trades"].as_u64().unwrap().to_string();
    let row: Vec<String> = [
        &inside["bots"][0]["statistics"],
        &outside["bots"][0]["statistics"],
        &inside["bots"][0]["pairs"][0]["statistics"],
        &outside["bots"][0]["pairs"][0]["statistics"],
    ]
    .iter()
    .map(|s| format!(r#"<td class="num">{}</td>"#, trades(s)))
    .collect();
    assert!(
        table.contains(&format!("<tr><td>trades</td>{}</tr>", row.concat())),
        "the trades row reads the JSON's counts {row:?}: {table}"
    );
    for chart in ["bot0-equity", "bot0-drawdown", "bot0-pairs"] {
        let svg = html
            .split(&format!(r#"id="{chart}""#))
            .nth(1)
            .and_then(|rest| rest.split("</svg>").next())
            .unwrap_or_else(|| panic!("no chart {chart}"));
        assert_eq!(
            svg.matches(r#"<line class="marker" data-label="out of sample (70:30)""#)
                .count(),
            1,
            "{chart} marks the cut once"
        );
    }
}

#[test]
fn bad_sweeps_exit_2_naming_the_problem_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path());
    let run = |name: &str, args: &[&str]| {
        let out = dir.path().join(name);
        let output = backtest(&config, &data, &out, args);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        (out, stderr(&output))
    };
    // A misspelt key: the loader refuses the point's file, naming the key and the point.
    let (out, message) = run(
        "typo",
        &[
            "--sweep",
            "bot.pair.exits.stop_los_pct=1,2",
            "--sweep",
            "params.fast=5,10",
        ],
    );
    assert!(message.contains("stop_los_pct"), "{message}");
    assert!(
        message.contains("sweep point 0 (bot.pair.exits.stop_los_pct=1 params.fast=5)"),
        "{message}"
    );
    assert!(!out.exists(), "a refused sweep leaves its directory");
    // A value the configuration refuses, at a later point.
    let (_, message) = run(
        "negative",
        &["--sweep", "bot.pair.exits.stop_loss_pct=2,-1"],
    );
    assert!(
        message.contains("sweep point 1 (bot.pair.exits.stop_loss_pct=-1)"),
        "{message}"
    );
    assert!(message.contains("stop_loss_pct"), "{message}");
    // A parameter no template has; a bot that does not exist; a key that is no key.
    let (_, message) = run("param", &["--sweep", "params.fastest=5"]);
    assert!(message.contains("parameter `fastest`"), "{message}");
    let (_, message) = run("bot", &["--sweep", "bot[eth].leverage=2"]);
    assert!(message.contains("no `bot` named eth"), "{message}");
    let (_, message) = run("axis", &["--sweep", "bot.leverage=3..1:1"]);
    assert!(message.contains("FROM is above TO"), "{message}");
    // A statistic that does not exist lists those that do.
    let (_, message) = run("sort", &["--sweep", "params.fast=5", "--sort", "sharp"]);
    assert!(message.contains("sharpe, sortino"), "{message}");
    let (_, message) = run(
        "sortbot",
        &["--sweep", "params.fast=5", "--sort-bot", "eth"],
    );
    assert!(message.contains("no such bot (it has btc)"), "{message}");
    // An existing directory is never overwritten.
    std::fs::create_dir(dir.path().join("exists")).unwrap();
    let (_, message) = run("exists", &["--sweep", "params.fast=5"]);
    assert!(message.contains("already exists"), "{message}");
}
