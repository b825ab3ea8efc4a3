//! A diff for people: each run's line (mode, configuration, inputs), then either "identical"
//! or the first divergence, the per-bot figures with B − A, the trades only one run made or
//! that closed differently, and the risk events whose counts differ.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use charon_events::payload::manifest::RunManifest;
use charon_events::{BotId, Envelope};
use rust_decimal::Decimal;

use super::comparison::{side_name, Comparison, FirstDivergence, Trade, TradeDiff};
use crate::fields::differing_fields;
use crate::inspect::render_json;
use crate::report::{BotReport, Report};
use crate::run::mode_name;

/// Differing fields shown for the first divergence, at most.
const FIELDS_SHOWN: usize = 12;

/// The text `replay diff` prints for two runs known to people as `names` (A, B).
pub fn render(names: [&str; 2], comparison: &Comparison) -> String {
    let Comparison {
        manifest_a,
        manifest_b,
        diff,
    } = comparison;
    let mut out = String::new();
    let width = names.iter().map(|name| name.len()).max().unwrap_or(0);
    let sides = [
        ("A", names[0], manifest_a, diff.a.events),
        ("B", names[1], manifest_b, diff.b.events),
    ];
    for (label, name, manifest, events) in sides {
        let _ = writeln!(
            out,
            "{label}  {name:<width$}  {}, config {}, {}, {events} events after the manifest",
            mode_name(manifest.mode),
            short_hash(&manifest.config_hash),
            inputs_of(manifest)
        );
    }
    out.push('\n');
    let Some(divergence) = &diff.first else {
        let _ = writeln!(
            out,
            "identical: every record after the manifests is the same ({} events)",
            diff.a.events
        );
        if manifest_a.config_hash != manifest_b.config_hash {
            let _ = writeln!(
                out,
                "(the configurations differ, but derived the same events)"
            );
        }
        return out;
    };
    render_divergence(&mut out, divergence);
    out.push('\n');
    render_bots(&mut out, &diff.a.report, &diff.b.report);
    out.push('\n');
    render_trades(&mut out, &diff.trades);
    out.push('\n');
    render_risk(&mut out, &diff.a.risk, &diff.b.risk);
    out
}

fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Where a run's inputs are, for people.
pub fn inputs_of(manifest: &RunManifest) -> String {
    match manifest.data {
        Some(range) => format!(
            "data log {} seqs {}..={}",
            range.log_id.0, range.first_seq, range.last_seq
        ),
        None => "inputs recorded in the log".to_string(),
    }
}

/// An exact amount without trailing zeros.
fn amount(value: Decimal) -> String {
    value.normalize().to_string()
}

/// `b − a` with its sign, `0` when equal.
fn delta(a: Decimal, b: Decimal) -> String {
    let d = (b - a).normalize();
    if d > Decimal::ZERO {
        format!("+{d}")
    } else {
        d.to_string()
    }
}

/// Rows of cells, indented, each column as wide as its widest cell: the first `left` columns
/// left-aligned (names), the others right-aligned (numbers).
fn table(out: &mut String, indent: &str, left: usize, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = indent.to_string();
        for (i, (cell, &width)) in row.iter().zip(&widths).enumerate() {
            let gap = if i == 0 { "" } else { "  " };
            if i < left {
                let _ = write!(line, "{gap}{cell:<width$}");
            } else {
                let _ = write!(line, "{gap}{cell:>width$}");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn render_divergence(out: &mut String, divergence: &FirstDivergence) {
    let show = |event: &Option<Envelope>| {
        event
            .as_ref()
            .map_or_else(|| "(nothing: the log ends)".to_string(), render_json)
    };
    let _ = writeln!(out, "first divergence at seq {}", divergence.seq);
    let _ = writeln!(out, "  A: {}", show(&divergence.a));
    let _ = writeln!(out, "  B: {}", show(&divergence.b));
    if let (Some(a), Some(b)) = (&divergence.a, &divergence.b) {
        let (kind_a, kind_b) = (a.payload.kind().name(), b.payload.kind().name());
        if kind_a != kind_b {
            // Field by field, two kinds differ everywhere: say what each is instead.
            let _ = writeln!(out, "  different events: A {kind_a}, B {kind_b}");
            return;
        }
        let fields = differing_fields(
            &serde_json::to_value(a).unwrap_or_default(),
            &serde_json::to_value(b).unwrap_or_default(),
        );
        for (path, in_a, in_b) in fields.iter().take(FIELDS_SHOWN) {
            let _ = writeln!(out, "  differs in {path}: A {in_a}, B {in_b}");
        }
        if fields.len() > FIELDS_SHOWN {
            let _ = writeln!(out, "  and {} more fields", fields.len() - FIELDS_SHOWN);
        }
    }
}

/// Per bot (A's bots in order, then B's others): the report's figures and B − A.
fn render_bots(out: &mut String, a: &Report, b: &Report) {
    let mut bots: Vec<BotId> = a.bots.iter().map(|r| r.bot).collect();
    for report in &b.bots {
        if !bots.contains(&report.bot) {
            bots.push(report.bot);
        }
    }
    let find = |report: &Report, bot: BotId| report.bots.iter().find(|r| r.bot == bot).cloned();
    let mut rows = vec![["", "A", "B", "B - A"].map(str::to_string).to_vec()];
    for bot in bots {
        let (in_a, in_b) = (find(a, bot), find(b, bot));
        rows.push(vec![format!("bot {bot}")]);
        type Figure = fn(&BotReport) -> Option<Decimal>;
        let figures: [(&str, Figure, bool); 5] = [
            ("  final equity", |r| Some(r.final_equity.0), false),
            ("  return %", |r| Some(r.return_pct), true),
            ("  max drawdown %", |r| Some(r.max_drawdown_pct), true),
            ("  trades", |r| Some(Decimal::from(r.trades)), false),
            ("  win rate %", |r| r.win_rate_pct, true),
        ];
        for (label, figure, pct) in figures {
            let value_a = in_a.as_ref().and_then(figure);
            let value_b = in_b.as_ref().and_then(figure);
            let show = |value: Option<Decimal>| match value {
                Some(v) if pct => format!("{v:.4}"),
                Some(v) => amount(v),
                None => "-".to_string(),
            };
            let change = match (value_a, value_b) {
                (Some(x), Some(y)) if pct => {
                    let d = y - x;
                    if d > Decimal::ZERO {
                        format!("+{d:.4}")
                    } else {
                        format!("{d:.4}")
                    }
                }
                (Some(x), Some(y)) => delta(x, y),
                _ => "-".to_string(),
            };
            rows.push(vec![
                label.to_string(),
                show(value_a),
                show(value_b),
                change,
            ]);
        }
    }
    table(out, "", 1, &rows);
}

fn render_trades(out: &mut String, trades: &TradeDiff) {
    let _ = writeln!(
        out,
        "trades: {} in both ({} closed differently), {} only in A, {} only in B",
        trades.in_both,
        trades.changed.len(),
        trades.only_a.len(),
        trades.only_b.len()
    );
    let cells = |t: &Trade| {
        vec![
            t.bot.to_string(),
            t.pair.to_string(),
            side_name(t.side).to_string(),
            t.opened.to_string(),
            t.closed.to_string(),
            amount(t.net_pnl),
        ]
    };
    if !trades.only_a.is_empty() || !trades.only_b.is_empty() {
        let mut rows = vec![[
            "only in", "bot", "pair", "side", "opened", "closed", "net p&l",
        ]
        .map(str::to_string)
        .to_vec()];
        for (run, list) in [("A", &trades.only_a), ("B", &trades.only_b)] {
            for trade in list {
                let mut row = vec![run.to_string()];
                row.extend(cells(trade));
                rows.push(row);
            }
        }
        table(out, "  ", 6, &rows);
    }
    if !trades.changed.is_empty() {
        let _ = writeln!(
            out,
            "closed differently (same bot, pair, side and opening):"
        );
        let mut rows = vec![[
            "bot",
            "pair",
            "side",
            "opened",
            "closed A",
            "closed B",
            "net p&l A",
            "net p&l B",
        ]
        .map(str::to_string)
        .to_vec()];
        for (a, b) in &trades.changed {
            let mut row = cells(a);
            row.truncate(5);
            row.push(b.closed.to_string());
            row.push(amount(a.net_pnl));
            row.push(amount(b.net_pnl));
            rows.push(row);
        }
        table(out, "  ", 6, &rows);
    }
}

fn render_risk(
    out: &mut String,
    a: &BTreeMap<(&'static str, String), u64>,
    b: &BTreeMap<(&'static str, String), u64>,
) {
    let mut keys: Vec<&(&'static str, String)> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut rows = vec![["kind", "rule", "A", "B"].map(str::to_string).to_vec()];
    for key in keys {
        let (in_a, in_b) = (
            a.get(key).copied().unwrap_or(0),
            b.get(key).copied().unwrap_or(0),
        );
        if in_a != in_b {
            rows.push(vec![
                key.0.to_string(),
                key.1.clone(),
                in_a.to_string(),
                in_b.to_string(),
            ]);
        }
    }
    if rows.len() == 1 {
        let _ = writeln!(out, "risk events: the same counts by kind and rule");
        return;
    }
    let _ = writeln!(out, "risk events whose counts differ:");
    table(out, "  ", 2, &rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec<T: From<Decimal>>(text: &str) -> T {
        T::from(Decimal::from_str_exact(text).expect("a decimal"))
    }

    #[test]
    fn only_risk_rows_whose_counts_differ_are_shown() {
        let counts = |rows: &[(&'static str, &str, u64)]| {
            rows.iter()
                .map(|&(kind, rule, n)| ((kind, rule.to_string()), n))
                .collect::<BTreeMap<_, _>>()
        };
        let a = counts(&[
            ("order_vetoed", "max_leverage", 2),
            ("signal_blocked", "atr_gate", 5),
        ]);
        let b = counts(&[
            ("order_vetoed", "max_leverage", 3),
            ("signal_blocked", "atr_gate", 5),
            ("force_close", "stop_loss", 1),
        ]);
        let mut out = String::new();
        render_risk(&mut out, &a, &b);
        assert_eq!(
            out,
            "risk events whose counts differ:\n\
             \x20 kind          rule          A  B\n\
             \x20 force_close   stop_loss     0  1\n\
             \x20 order_vetoed  max_leverage  2  3\n"
        );
        let mut out = String::new();
        render_risk(&mut out, &a, &a);
        assert_eq!(out, "risk events: the same counts by kind and rule\n");
    }

    #[test]
    fn deltas_are_exact_and_signed() {
        assert_eq!(
            delta(dec("10000"), dec("9318.10451367932860")),
            "-681.8954863206714"
        );
        assert_eq!(delta(dec("1.50"), dec("2")), "+0.5");
        assert_eq!(delta(dec("2.0"), dec("2")), "0");
    }
}
