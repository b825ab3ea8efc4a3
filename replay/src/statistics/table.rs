//! The statistics as an aligned terminal table: one row per statistic, one column per bot or
//! pair. Percentages and ratios show 2 decimals, amounts cents; `-` where a figure does not
//! exist (no trades, too short a run, no losing trade, ...).

use std::fmt::Write as _;

use charon_events::Money;
use rust_decimal::Decimal;

use super::Statistics;

/// Writes the table of `columns` (a title and its statistics each) into `out`, every line
/// indented by two spaces: the header, then the rows.
pub fn render(out: &mut String, columns: &[(&str, &Statistics)]) {
    let rows = rows(columns);
    let header: Vec<String> = std::iter::once("statistic".to_string())
        .chain(columns.iter().map(|(title, _)| title.to_string()))
        .collect();
    let mut widths: Vec<usize> = header.iter().map(String::len).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        out.push_str("  ");
        for (i, (cell, &width)) in row.iter().zip(&widths).enumerate() {
            let pad = width - cell.chars().count();
            if i == 0 {
                let _ = write!(out, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "  {}{cell}", " ".repeat(pad));
            }
        }
        out.push('\n');
    }
}

type Cell = fn(&Statistics) -> String;

/// Each row's label and how its cells read.
const ROWS: [(&str, Cell); 24] = [
    ("total return", |s| pct(s.returns.total_return_pct)),
    ("CAGR", |s| pct_f64(s.returns.cagr_pct)),
    ("volatility (ann.)", |s| pct_f64(s.returns.volatility_pct)),
    ("Sharpe", |s| ratio(s.returns.sharpe)),
    ("Sortino", |s| ratio(s.returns.sortino)),
    ("Calmar", |s| ratio(s.returns.calmar)),
    ("max drawdown", |s| pct(Some(s.drawdown.max_pct))),
    ("max drawdown length", |s| {
        duration((s.drawdown.episodes > 0).then_some(s.drawdown.max_duration_ns))
    }),
    ("longest drawdown", |s| {
        duration((s.drawdown.episodes > 0).then_some(s.drawdown.longest_duration_ns))
    }),
    ("average drawdown", |s| pct(s.drawdown.average_pct)),
    ("trades", |s| s.trades.trades.to_string()),
    ("win rate", |s| pct(s.trades.win_rate_pct)),
    ("profit factor", |s| {
        s.trades
            .profit_factor
            .map_or_else(dash, |f| format!("{f:.2}"))
    }),
    ("expectancy", |s| money(s.trades.expectancy)),
    ("expectancy %", |s| pct(s.trades.expectancy_pct)),
    ("best trade", |s| pct(s.trades.best_pct)),
    ("worst trade", |s| pct(s.trades.worst_pct)),
    ("average trade length", |s| {
        duration(s.trades.average_duration_ns)
    }),
    ("longest trade", |s| duration(s.trades.max_duration_ns)),
    ("exposure", |s| pct(s.exposure_pct)),
    ("net p&l (trades)", |s| money(Some(s.trades.net_pnl))),
    ("fees", |s| money(Some(s.fees))),
    ("funding", |s| money(Some(s.funding))),
    ("buy and hold", |s| pct(s.buy_and_hold_pct)),
];

pub(crate) fn rows(columns: &[(&str, &Statistics)]) -> Vec<Vec<String>> {
    ROWS.iter()
        .map(|(label, cell)| {
            std::iter::once(label.to_string())
                .chain(columns.iter().map(|(_, stats)| cell(stats)))
                .collect()
        })
        .collect()
}

fn dash() -> String {
    "-".to_string()
}

fn pct(value: Option<Decimal>) -> String {
    value.map_or_else(dash, |v| format!("{:.2}%", v.round_dp(2)))
}

fn pct_f64(value: Option<f64>) -> String {
    value.map_or_else(dash, |v| format!("{v:.2}%"))
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(dash, |v| format!("{v:.2}"))
}

fn money(value: Option<Money>) -> String {
    value.map_or_else(dash, |v| format!("{:.2}", v.0.round_dp(2)))
}

/// A duration for reading: `3d 4h`, `4h 12m`, `12m 5s`, `5.25s`.
pub fn duration(ns: Option<i64>) -> String {
    let Some(ns) = ns else { return dash() };
    let seconds = ns.div_euclid(1_000_000_000);
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{:.2}s", ns as f64 / 1e9),
        (0, 0, m) => format!("{m}m {}s", seconds % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_two_largest_units() {
        let s = 1_000_000_000;
        assert_eq!(duration(Some(5_250_000_000)), "5.25s");
        assert_eq!(duration(Some(12 * 60 * s + 5 * s)), "12m 5s");
        assert_eq!(duration(Some((4 * 60 + 12) * 60 * s + 59 * s)), "4h 12m");
        assert_eq!(duration(Some((3 * 24 + 4) * 3_600 * s + 60 * s)), "3d 4h");
        assert_eq!(duration(None), "-");
    }
}
