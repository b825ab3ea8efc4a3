//! The HTML report in a real browser: `charon demo` writes the report of a backtest over real
//! recorded data; headless Chromium (Debian's, driven through ChromeDriver) opens the file
//! with the network unused and the test checks what it rendered: every chart drawn with real
//! geometry, the statistics, trades and risk-event tables with as many rows as the JSON report
//! has entries, and a table that sorts when its header is clicked. The page must need nothing
//! from the network, and the same run must write the same file.

#[path = "support/mod.rs"]
mod support;

#[path = "support/browser.rs"]
mod browser;

use std::path::Path;

use serde_json::Value;
use support::{arg, charon, stderr};

fn demo_report(dir: &Path, name: &str) -> (String, Value) {
    let (html, json) = (
        dir.join(format!("{name}.html")),
        dir.join(format!("{name}.json")),
    );
    let out = charon(&["demo", "--html", arg(&html), "--report-json", arg(&json)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (std::fs::read_to_string(&html).unwrap(), report)
}

#[test]
fn the_demo_report_renders_its_charts_and_tables_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (html, report) = demo_report(dir.path(), "report");
    for remote in ["http://", "https://", "<link", " src=", "@import", "url("] {
        assert!(
            !html.contains(remote),
            "the page refers to something outside it: {remote}"
        );
    }
    // A second demo imports the data again, into a new data log with its own id, and runs
    // into another temporary run log: apart from those two lines the page is the same.
    let (again, _) = demo_report(dir.path(), "again");
    let without_paths = |page: &str| -> String {
        page.split("<tr>")
            .filter(|row| {
                !row.starts_with("<th>run log</th>") && !row.starts_with("<th>inputs</th>")
            })
            .collect::<Vec<_>>()
            .join("<tr>")
    };
    assert_ne!(html, again);
    assert_eq!(
        without_paths(&html),
        without_paths(&again),
        "the same run writes the same page"
    );

    let bot = &report["bots"][0];
    let trades = report["history"]["bots"][0]["closed_trades"]
        .as_array()
        .unwrap()
        .len();
    let risk_events = bot["risk_events"].as_array().unwrap().len();
    assert!(
        trades > 50 && risk_events > 5,
        "{trades} trades, {risk_events} risk events"
    );

    let browser = browser::Browser::start();
    let path = dir.path().join("report.html");
    browser.open(&format!("file://{}", path.display()));
    let rendered = browser.execute(
        r#"
        const charts = Array.from(document.querySelectorAll('svg.chart')).map(svg => {
            const box = svg.getBoundingClientRect();
            const paths = Array.from(svg.querySelectorAll('path.series')).map(p => {
                const b = p.getBBox();
                return { width: b.width, height: b.height, length: p.getTotalLength(),
                         points: Number(p.dataset.points) };
            });
            return { id: svg.id, width: box.width, height: box.height, paths: paths,
                     ticks: svg.querySelectorAll('text.tick').length };
        });
        const rows = id => document.querySelectorAll('#' + id + ' tbody tr').length;
        return { title: document.title, charts: charts,
                 statistics: rows('bot0-statistics'), trades: rows('bot0-trades'),
                 risk: rows('bot0-risk'), figures: document.querySelectorAll('#bot0-figures tr').length };
        "#,
    );
    assert_eq!(rendered["title"], "charon backtest report");
    let charts = rendered["charts"].as_array().unwrap();
    let ids: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["bot0-equity", "bot0-drawdown", "bot0-pairs"]);
    for chart in charts {
        assert!(chart["width"].as_f64().unwrap() > 600.0, "{chart}");
        assert!(chart["height"].as_f64().unwrap() > 100.0, "{chart}");
        assert!(
            chart["ticks"].as_u64().unwrap() >= 6,
            "axes with ticks: {chart}"
        );
        let paths = chart["paths"].as_array().unwrap();
        assert!(!paths.is_empty(), "{chart}");
        for path in paths {
            // A drawn line with extent and length, from a real series (XRPUSDT's data covers
            // two weeks of the run's eleven, so its line spans a part of the plot).
            assert!(path["width"].as_f64().unwrap() > 50.0, "{chart}");
            assert!(path["height"].as_f64().unwrap() > 10.0, "{chart}");
            assert!(path["length"].as_f64().unwrap() > 200.0, "{chart}");
            assert!(path["points"].as_u64().unwrap() > 100, "{chart}");
        }
    }
    assert_eq!(
        charts[2]["paths"].as_array().unwrap().len(),
        2,
        "one line per pair"
    );
    assert_eq!(rendered["statistics"], 24);
    assert_eq!(rendered["trades"].as_u64().unwrap() as usize, trades);
    assert_eq!(rendered["risk"].as_u64().unwrap() as usize, risk_events);
    assert_eq!(rendered["figures"], 11);

    // Clicking "net p&l" sorts the trades by it, ascending, then descending.
    let sorted = browser.execute(
        r#"
        const table = document.getElementById('bot0-trades');
        const column = Array.from(table.tHead.rows[0].cells).findIndex(c => c.textContent === 'net p&l');
        const values = () => Array.from(table.tBodies[0].rows).map(r => parseFloat(r.cells[column].textContent));
        table.tHead.rows[0].cells[column].click();
        const up = values();
        table.tHead.rows[0].cells[column].click();
        return { up: up, down: values() };
        "#,
    );
    let numbers = |key: &str| -> Vec<f64> {
        sorted[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let (up, down) = (numbers("up"), numbers("down"));
    assert_eq!(up.len(), trades);
    assert!(
        up.windows(2).all(|w| w[0] <= w[1]),
        "ascending after one click"
    );
    assert!(
        down.windows(2).all(|w| w[0] >= w[1]),
        "descending after two"
    );
    assert!(
        up[0] < 0.0 && *down.first().unwrap() > 0.0,
        "losses and wins both shown"
    );

    let png = browser.screenshot();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    assert!(
        png.len() > 20_000,
        "a page with content, not a blank one: {} bytes",
        png.len()
    );
    // Kept for people to look at.
    let _ = std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-report.png"),
        &png,
    );
}
