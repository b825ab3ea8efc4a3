//! The report as text for a terminal: the run's period, then per bot its figures, the table
//! of its statistics (the bot and each pair) and the table of its pairs' trades and amounts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use charon_events::{Money, Timestamp};

use super::{BotReport, Report};
use crate::statistics::table;

impl Report {
    /// The human summary: the run's period and how ratios are computed, then per bot its
    /// figures, its statistics table and the table of its pairs.
    pub fn render_text(&self) -> String {
        let opt_ts = |ts: Option<Timestamp>| ts.map_or_else(|| "-".to_string(), |t| t.to_string());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "period  {} .. {}",
            opt_ts(self.first_ts),
            opt_ts(self.last_ts)
        );
        let _ = writeln!(out, "events  {}", self.events);
        let _ = writeln!(
            out,
            "ratios  on daily equity returns (UTC days), annualized over {} days, risk-free rate {}% a year",
            self.settings.periods_per_year(),
            self.settings.risk_free_rate_pct().normalize()
        );
        for bot in &self.bots {
            out.push('\n');
            bot.render_text(&mut out);
        }
        out
    }
}

/// An amount for reading: rounded to 2 places (the JSON report keeps every digit).
fn cents(amount: Money) -> String {
    format!("{:.2}", amount.0.round_dp(2))
}

impl BotReport {
    fn render_text(&self, out: &mut String) {
        let _ = writeln!(out, "bot {}", self.bot);
        let by_rule = |counts: &BTreeMap<String, u64>| {
            let total: u64 = counts.values().sum();
            if counts.is_empty() {
                return "0".to_string();
            }
            let each: Vec<String> = counts
                .iter()
                .map(|(rule, n)| format!("{rule} {n}"))
                .collect();
            format!("{total} ({})", each.join(", "))
        };
        let lines: [(&str, String); 17] = [
            ("initial capital", cents(self.initial_capital)),
            ("final equity", cents(self.final_equity)),
            ("return", format!("{:.4}%", self.return_pct)),
            ("max drawdown", format!("{:.4}%", self.max_drawdown_pct)),
            (
                "trades",
                format!("{} ({} won, {} lost)", self.trades, self.wins, self.losses),
            ),
            (
                "win rate",
                self.win_rate_pct
                    .map_or_else(|| "-".to_string(), |rate| format!("{rate:.4}%")),
            ),
            ("realized p&l", cents(self.realized_pnl)),
            ("fees", cents(self.fees)),
            ("funding", cents(self.funding)),
            ("signals", self.signals.to_string()),
            ("orders", self.orders.to_string()),
            ("fills", self.fills.to_string()),
            ("signals blocked", by_rule(&self.blocked)),
            ("vetoes", by_rule(&self.vetoes)),
            ("rejections", self.rejections.to_string()),
            ("alerts", self.alerts.to_string()),
            ("force closes", self.force_closes.to_string()),
        ];
        let width = lines
            .iter()
            .map(|(label, _)| label.len())
            .max()
            .unwrap_or(0);
        for (label, value) in &lines {
            let _ = writeln!(out, "  {label:<width$}  {value}");
        }
        out.push('\n');
        let bot = self.bot.to_string();
        let columns: Vec<(&str, &crate::statistics::Statistics)> =
            std::iter::once((bot.as_str(), &self.statistics))
                .chain(self.pairs.iter().map(|p| (p.pair.as_str(), &p.statistics)))
                .collect();
        table::render(out, &columns);
        if self.pairs.is_empty() {
            return;
        }
        out.push('\n');
        let header = [
            "pair", "trades", "wins", "losses", "net p&l", "fees", "funding", "open qty",
        ];
        let rows: Vec<[String; 8]> = self
            .pairs
            .iter()
            .map(|p| {
                [
                    p.pair.to_string(),
                    p.trades.to_string(),
                    p.wins.to_string(),
                    p.losses.to_string(),
                    cents(p.net_pnl),
                    cents(p.fees),
                    cents(p.funding),
                    p.open_qty.to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }
        let header = header.map(str::to_string);
        for row in std::iter::once(&header).chain(&rows) {
            out.push_str("  ");
            for (i, (cell, &width)) in row.iter().zip(&widths).enumerate() {
                if i == 0 {
                    let _ = write!(out, "{cell:<width$}");
                } else {
                    let _ = write!(out, "  {cell:>width$}");
                }
            }
            out.push('\n');
        }
    }
}
