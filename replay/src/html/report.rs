//! A run's report as one self-contained HTML page: per bot its figures, the equity,
//! drawdown and per-pair contribution charts, the statistics of the bot and of each pair
//! (the rows of the terminal table, `statistics::table`), every trade, trades still open and
//! the risk events. Everything shown comes from the [`Report`]; the page is a pure function
//! of it and of what the caller says about the run, so the same run gives the same file.

use std::fmt::Write as _;

use charon_events::{Money, Timestamp};
use rust_decimal::Decimal;

use super::chart::{self, Chart, Marker, Series, Unit};
use super::{escape, page, utc_time, Cell, Table};
use crate::report::{BotReport, Report};
use crate::statistics::table::{duration, rows};
use crate::statistics::{BotStatistics, RunStatistics, Statistics};

/// What the page says about the run besides the report: a title, `(label, value)` lines
/// (the run log, the data log and span, the configuration's hash, ...) and, for a run cut in
/// and out of sample, the statistics of either side.
#[derive(Debug, Clone, Default)]
pub struct RunDescription {
    pub title: String,
    pub lines: Vec<(String, String)>,
    pub split: Option<SampleSplit>,
}

/// A run's statistics in and out of sample (`--split`): each bot's section shows them side by
/// side, and its charts mark the cut.
#[derive(Debug, Clone)]
pub struct SampleSplit {
    /// How the span was cut, as given (`70:30`).
    pub ratio: String,
    /// The first instant out of sample.
    pub cut: Timestamp,
    pub in_sample: RunStatistics,
    pub out_of_sample: RunStatistics,
}

const EQUITY_COLOR: &str = "#1f6fb2";
const DRAWDOWN_COLOR: &str = "#c0392b";
const PAIR_COLORS: [&str; 6] = [
    "#2e8b57", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#b8860b",
];
const CHART_WIDTH: u32 = 1140;

/// The whole page.
pub fn render(report: &Report, about: &RunDescription) -> String {
    let mut body = format!("<h1>{}</h1>", escape(&about.title));
    let ts = |t: Option<Timestamp>| t.map_or_else(|| "—".to_string(), |t| t.to_rfc3339());
    let mut lines = vec![
        (
            "period".to_string(),
            format!("{} .. {}", ts(report.first_ts), ts(report.last_ts)),
        ),
        ("events".to_string(), report.events.to_string()),
        (
            "ratios".to_string(),
            format!(
                "on daily equity returns (UTC days), annualized over {} days, risk-free rate {}% a year",
                report.settings.periods_per_year(),
                report.settings.risk_free_rate_pct().normalize()
            ),
        ),
    ];
    lines.extend(about.lines.iter().cloned());
    if let Some(split) = &about.split {
        lines.push((
            "split".to_string(),
            format!(
                "{} in:out, out of sample from {}",
                split.ratio,
                split.cut.to_rfc3339()
            ),
        ));
    }
    body.push_str(r#"<table class="meta" id="run">"#);
    for (label, value) in &lines {
        let _ = write!(
            body,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(label),
            escape(value)
        );
    }
    body.push_str("</table>");
    for (index, bot) in report.bots.iter().enumerate() {
        bot_section(&mut body, report, about.split.as_ref(), index, bot);
    }
    page(&about.title, &body)
}

fn bot_section(
    body: &mut String,
    report: &Report,
    split: Option<&SampleSplit>,
    index: usize,
    bot: &BotReport,
) {
    let id = |what: &str| format!("bot{index}-{what}");
    let _ = write!(
        body,
        "<h2 id=\"{}\">Bot {}</h2>",
        id("top"),
        escape(&bot.bot.to_string())
    );
    figures(body, bot, &id("figures"));
    let history = report.history.bots.get(index);
    let start = report.first_ts.map_or(0, Timestamp::nanos);
    let capital = bot.initial_capital;
    let equity: Vec<(i64, f64)> = std::iter::once((start, capital.0))
        .chain(
            history
                .into_iter()
                .flat_map(|h| h.equity_curve.iter().map(|p| (p.ts.nanos(), p.value.0))),
        )
        .map(|(t, v)| (t, float(v)))
        .collect();
    let drawdown = drawdown_pct(&equity);
    let markers: Vec<Marker> = split
        .map(|split| Marker {
            at: split.cut.nanos(),
            label: format!("out of sample ({})", split.ratio),
        })
        .into_iter()
        .collect();
    body.push_str(&chart::render(&Chart {
        id: id("equity"),
        title: format!("Equity ({} initial)", amount(capital)),
        unit: Unit::Money,
        width: CHART_WIDTH,
        height: 300,
        series: vec![Series {
            label: "equity".into(),
            points: equity,
            color: EQUITY_COLOR,
            area: false,
        }],
        markers: markers.clone(),
    }));
    body.push_str(&chart::render(&Chart {
        id: id("drawdown"),
        title: "Drawdown from the running peak".into(),
        unit: Unit::Percent,
        width: CHART_WIDTH,
        height: 180,
        series: vec![Series {
            label: "drawdown".into(),
            points: drawdown,
            color: DRAWDOWN_COLOR,
            area: true,
        }],
        markers: markers.clone(),
    }));
    if let Some(history) = history.filter(|h| !h.pairs.is_empty()) {
        let series = history
            .pairs
            .iter()
            .zip(PAIR_COLORS.iter().cycle())
            .map(|(pair, &color)| Series {
                label: pair.pair.to_string(),
                points: std::iter::once((start, 0.0))
                    .chain(
                        pair.contribution_curve
                            .iter()
                            .map(|p| (p.ts.nanos(), float(p.value.0))),
                    )
                    .collect(),
                color,
                area: false,
            })
            .collect();
        body.push_str(&chart::render(&Chart {
            id: id("pairs"),
            title: "Each pair's P&L (realized and unrealized, after fees and funding)".into(),
            unit: Unit::Money,
            width: CHART_WIDTH,
            height: 240,
            series,
            markers,
        }));
    }

    body.push_str("<h3>Statistics</h3>");
    let mut columns: Vec<(String, &Statistics)> =
        vec![(format!("bot {}", bot.bot), &bot.statistics)];
    columns.extend(
        bot.pairs
            .iter()
            .map(|p| (p.pair.to_string(), &p.statistics)),
    );
    body.push_str(&statistics_table(id("statistics"), &columns).render());
    if let Some(split) = split {
        split_section(body, split, bot, &id("split"));
    }

    trades(body, report, index, &id("trades"));
    risk(body, bot, &id("risk"));
}

/// The statistics of `columns` (a title and its statistics each), a row per statistic.
fn statistics_table(id: String, columns: &[(String, &Statistics)]) -> Table {
    let titled: Vec<(&str, &Statistics)> = columns.iter().map(|(t, s)| (t.as_str(), *s)).collect();
    let mut headers = vec!["statistic".to_string()];
    headers.extend(columns.iter().map(|(t, _)| t.clone()));
    Table {
        id,
        headers,
        rows: rows(&titled)
            .into_iter()
            .map(|row| {
                let mut cells = row.into_iter();
                let label = Cell::text(cells.next().unwrap_or_default());
                std::iter::once(label)
                    .chain(cells.map(|c| Cell::number(if c == "-" { String::new() } else { c })))
                    .collect()
            })
            .collect(),
    }
}

fn bot_in<'a>(run: &'a RunStatistics, bot: &BotReport) -> Option<&'a BotStatistics> {
    run.bots.iter().find(|b| b.bot == bot.bot)
}

/// The bot and each of its pairs in and out of sample, side by side.
fn split_section(body: &mut String, split: &SampleSplit, bot: &BotReport, id: &str) {
    let (Some(inside), Some(outside)) = (
        bot_in(&split.in_sample, bot),
        bot_in(&split.out_of_sample, bot),
    ) else {
        return;
    };
    let _ = write!(
        body,
        "<h3>In and out of sample</h3><p class=\"note\">In sample {} .. {}; out of sample {} .. {}. \
         One run goes on through the cut: indicators and open positions carry over, and a \
         trade counts where it closes.</p>",
        split.in_sample.period.start.to_rfc3339(),
        split.in_sample.period.end.to_rfc3339(),
        split.out_of_sample.period.start.to_rfc3339(),
        split.out_of_sample.period.end.to_rfc3339(),
    );
    let mut columns: Vec<(String, &Statistics)> = vec![
        (format!("bot {} in", bot.bot), &inside.statistics),
        (format!("bot {} out", bot.bot), &outside.statistics),
    ];
    for (a, b) in inside.pairs.iter().zip(&outside.pairs) {
        columns.push((format!("{} in", a.pair), &a.statistics));
        columns.push((format!("{} out", b.pair), &b.statistics));
    }
    let _ = write!(
        body,
        r#"<div class="wide">{}</div>"#,
        statistics_table(id.to_string(), &columns).render()
    );
}

fn figures(body: &mut String, bot: &BotReport, id: &str) {
    let counts = |map: &std::collections::BTreeMap<String, u64>| map.values().sum::<u64>();
    let rows = vec![
        ("initial capital", amount(bot.initial_capital)),
        ("final equity", amount(bot.final_equity)),
        ("return", format!("{:.2}%", bot.return_pct.round_dp(2))),
        (
            "max drawdown",
            format!("{:.2}%", bot.max_drawdown_pct.round_dp(2)),
        ),
        ("realized p&l", amount(bot.realized_pnl)),
        ("fees", amount(bot.fees)),
        ("funding", amount(bot.funding)),
        (
            "trades",
            format!("{} ({} won, {} lost)", bot.trades, bot.wins, bot.losses),
        ),
        (
            "signals, orders, fills",
            format!("{}, {}, {}", bot.signals, bot.orders, bot.fills),
        ),
        (
            "vetoes, blocked signals",
            format!("{}, {}", counts(&bot.vetoes), counts(&bot.blocked)),
        ),
        (
            "force closes, rejections, alerts",
            format!("{}, {}, {}", bot.force_closes, bot.rejections, bot.alerts),
        ),
    ];
    let _ = write!(body, r#"<table class="figures" id="{id}">"#);
    for (label, value) in rows {
        let _ = write!(
            body,
            r#"<tr><th>{label}</th><td class="num">{}</td></tr>"#,
            escape(&value)
        );
    }
    body.push_str("</table>");
}

fn trades(body: &mut String, report: &Report, index: usize, id: &str) {
    let Some(history) = report.history.bots.get(index) else {
        return;
    };
    let _ = write!(body, "<h3>Trades ({})</h3>", history.closed_trades.len());
    let headers = [
        "#",
        "pair",
        "side",
        "opened",
        "closed",
        "length",
        "entry",
        "exit",
        "max qty",
        "net p&l",
        "return",
        "gross return",
        "fees",
        "funding",
        "exit by",
    ];
    let table = Table {
        id: id.to_string(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows: history
            .closed_trades
            .iter()
            .enumerate()
            .map(|(n, t)| {
                let exit = t
                    .exit
                    .rule
                    .clone()
                    .or_else(|| t.exit.purpose.map(|p| crate::report::json_name(&p)))
                    .unwrap_or_default();
                vec![
                    Cell::number((n + 1).to_string()),
                    Cell::text(t.pair.to_string()),
                    Cell::text(crate::report::json_name(&t.side)),
                    Cell::text(utc_time(t.opened_at)),
                    Cell::text(utc_time(t.closed_at)),
                    Cell::keyed(duration(Some(t.duration_ns)), t.duration_ns),
                    decimal(t.entry_price.0),
                    t.exit_price
                        .map_or_else(|| Cell::number(""), |p| decimal(p.0)),
                    decimal(t.max_qty.0),
                    money(t.net_pnl),
                    percent(t.return_pct),
                    percent(t.gross_return_pct),
                    money(t.fees),
                    money(t.funding),
                    Cell::text(exit),
                ]
            })
            .collect(),
    };
    let _ = write!(body, r#"<div class="scroll">{}</div>"#, table.render());
    if !history.open_trades.is_empty() {
        let _ = write!(
            body,
            "<h3>Open at the end ({})</h3>",
            history.open_trades.len()
        );
        let table = Table {
            id: format!("{id}-open"),
            headers: [
                "pair",
                "side",
                "opened",
                "entry",
                "qty",
                "booked p&l",
                "unrealized p&l",
            ]
            .iter()
            .map(|h| h.to_string())
            .collect(),
            rows: history
                .open_trades
                .iter()
                .map(|t| {
                    vec![
                        Cell::text(t.pair.to_string()),
                        Cell::text(crate::report::json_name(&t.side)),
                        Cell::text(utc_time(t.opened_at)),
                        decimal(t.entry_price.0),
                        decimal(t.qty.0),
                        money(t.net_pnl),
                        money(t.unrealized_pnl),
                    ]
                })
                .collect(),
        };
        body.push_str(&table.render());
    }
}

fn risk(body: &mut String, bot: &BotReport, id: &str) {
    let total = bot.risk_events.len() as u64 + bot.risk_events_omitted;
    let _ = write!(body, "<h3>Risk events ({total})</h3>");
    let mut by_rule: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for (rule, n) in &bot.vetoes {
        by_rule.insert(("order_vetoed".into(), rule.clone()), *n);
    }
    for (rule, n) in &bot.blocked {
        by_rule.insert(("signal_blocked".into(), rule.clone()), *n);
    }
    for event in &bot.risk_events {
        if event.kind != "order_vetoed" && event.kind != "signal_blocked" {
            *by_rule
                .entry((event.kind.clone(), event.rule.clone().unwrap_or_default()))
                .or_default() += 1;
        }
    }
    let counts = Table {
        id: format!("{id}-counts"),
        headers: vec!["event".into(), "rule".into(), "count".into()],
        rows: by_rule
            .into_iter()
            .map(|((kind, rule), n)| {
                vec![
                    Cell::text(kind),
                    Cell::text(rule),
                    Cell::number(n.to_string()),
                ]
            })
            .collect(),
    };
    body.push_str(&counts.render());
    let list = Table {
        id: id.to_string(),
        headers: ["seq", "time", "event", "pair", "rule", "message"]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        rows: bot
            .risk_events
            .iter()
            .map(|e| {
                vec![
                    Cell::number(e.seq.to_string()),
                    Cell::text(utc_time(e.ts)),
                    Cell::text(e.kind.clone()),
                    Cell::text(e.pair.map(|p| p.to_string()).unwrap_or_default()),
                    Cell::text(e.rule.clone().unwrap_or_default()),
                    Cell::text(e.message.clone()),
                ]
            })
            .collect(),
    };
    let _ = write!(body, r#"<div class="scroll">{}</div>"#, list.render());
    if bot.risk_events_omitted > 0 {
        let _ = write!(
            body,
            r#"<p class="meta">{} more risk events are not listed (counted above; every one is in the run log: <code>charon log inspect RUN --bot {}</code>).</p>"#,
            bot.risk_events_omitted,
            escape(&bot.bot.to_string())
        );
    }
}

/// The fall of each point from the running peak, in percent (≤ 0), the first point being
/// the first peak.
fn drawdown_pct(equity: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut peak = f64::MIN;
    equity
        .iter()
        .map(|&(t, v)| {
            peak = peak.max(v);
            let dd = if peak > 0.0 {
                (v - peak) / peak * 100.0
            } else {
                0.0
            };
            (t, dd)
        })
        .collect()
}

/// `value` as the nearest-enough double for drawing and sorting: the mantissa over a power
/// of ten, both exact as doubles for any amount a run books (rust_decimal's own `to_f64` goes
/// a slower, exact way, which a page of thousands of points does not need).
fn float(value: Decimal) -> f64 {
    const POWERS: [f64; 29] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
    ];
    value.mantissa() as f64 / POWERS[value.scale() as usize]
}

fn amount(value: Money) -> String {
    format!("{:.2}", value.0.round_dp(2))
}

fn money(value: Money) -> Cell {
    Cell::number(amount(value))
}

fn decimal(value: Decimal) -> Cell {
    Cell::number(value.normalize().to_string())
}

fn percent(value: Option<Decimal>) -> Cell {
    match value {
        Some(v) => Cell::number(format!("{:.2}%", v.round_dp(2))),
        None => Cell::number(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_within_a_hair_of_the_exact_value() {
        use rust_decimal::prelude::ToPrimitive;
        for text in [
            "0",
            "9541.8041589590546794",
            "-35.0144241896720",
            "1e-8",
            "47332.26630",
        ] {
            let value: Decimal = text.parse().unwrap();
            let exact = value.to_f64().unwrap();
            assert!(
                (float(value) - exact).abs() <= exact.abs() * 1e-15,
                "{text}"
            );
        }
    }

    #[test]
    fn drawdown_is_the_fall_from_the_running_peak() {
        let equity = [(0, 100.0), (1, 110.0), (2, 99.0), (3, 121.0), (4, 108.9)];
        let dd = drawdown_pct(&equity);
        let values: Vec<f64> = dd.iter().map(|p| (p.1 * 1e9).round() / 1e9).collect();
        // 99 is 10% under the peak of 110; 108.9 is 10% under 121.
        assert_eq!(values, [0.0, 0.0, -10.0, 0.0, -10.0]);
    }
}
