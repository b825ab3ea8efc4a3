//! `charon replay diff RUN_A RUN_B`: how two runs over the same inputs differ, typically a
//! recorded run and a what-if (`charon replay run`).
//!
//! Both logs are read once, side by side, from the event after their manifests:
//!
//! - **First divergence**: the first seq whose records differ (each event's record encoding,
//!   compared byte for byte, as `verify` does), or where one log ends before the other. Both
//!   events are shown as JSON with the fields that differ.
//! - **Trades**: a trade is a position of one bot and pair going from flat to open and back
//!   to flat (a flip closes one trade and opens another), from `position_updated` events, as
//!   the report counts them (the same `TradeLedger`, `replay/src/report/trades.rs`); its net
//!   P&L is the report's (realized − fees + funding at its close, minus the same at the update
//!   before it opened, or at the flip that opened it). A trade is identified by (bot, pair, side, open time); those
//!   present in only one run are listed, and those in both that closed differently. A trade
//!   still open at the end is not a trade yet, as in the report.
//! - **Per bot**: final equity, return, max drawdown, trades and win rate from the report
//!   builder over each log, with each manifest's own bot list, and B − A.
//! - **Risk events**: counts by (kind, rule) of `order_vetoed`, `force_close`,
//!   `signal_blocked`, `kill_switch_engaged` and `entries_paused`; only rows whose counts
//!   differ are shown.
//!
//! Exit 0 when every record after the manifests is identical (whatever the configurations),
//! 1 when they differ, 2 on bad input. Manifests citing different inputs are diffed anyway,
//! with a warning on standard error.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use charon_events::codec::encode_record;
use charon_events::payload::manifest::{ExecutionMode, RunManifest};
use charon_events::payload::order::PositionSide;
use charon_events::payload::risk::RiskRule;
use charon_events::{BotId, Envelope, Event, EventLog, Money, Seq, Symbol, Timestamp};
use charon_replay::inspect::render_json;
use charon_replay::report::trades::TradeLedger;
use charon_replay::report::{json_name, BotReport, Report, ReportBuilder};
use clap::Args;
use rust_decimal::Decimal;

use crate::backtest::bundle::{Bundle, RunSpec};
use crate::failure::Failure;
use crate::open_log::open_existing;
use crate::replay_cmd::{differing_fields, manifest_of};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first run log (the baseline: deltas are B − A).
    pub run_a: PathBuf,
    /// The second run log.
    pub run_b: PathBuf,
}

/// Differing fields shown for the first divergence, at most.
const FIELDS_SHOWN: usize = 12;

pub fn diff_cmd(args: DiffArgs) -> Result<(), Failure> {
    let a = open_existing(&args.run_a)?;
    // A log cannot be opened twice at once: a run diffed with itself is read twice instead.
    let b = if same_file(&args.run_a, &args.run_b) {
        a.clone()
    } else {
        open_existing(&args.run_b)?
    };
    let (manifest_a, manifest_b) = (manifest_of(&a)?, manifest_of(&b)?);
    if manifest_a.data != manifest_b.data {
        eprintln!(
            "charon: warning: {} and {} cite different inputs ({} vs {}); their differences may be the inputs'",
            args.run_a.display(),
            args.run_b.display(),
            inputs_of(&manifest_a),
            inputs_of(&manifest_b)
        );
    }
    let bots_a = bots_of(&args.run_a, &manifest_a)?;
    let bots_b = bots_of(&args.run_b, &manifest_b)?;
    let diff = diff(&a, &b, &bots_a, &bots_b)?;

    let mut out = String::new();
    let names = [args.run_a.display(), args.run_b.display()].map(|n| n.to_string());
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let sides = [
        ("A", &names[0], &manifest_a, diff.a.events),
        ("B", &names[1], &manifest_b, diff.b.events),
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
        out!("{out}");
        return Ok(());
    };
    render_divergence(&mut out, divergence);
    out.push('\n');
    render_bots(&mut out, &diff.a.report, &diff.b.report);
    out.push('\n');
    render_trades(&mut out, &diff.trades);
    out.push('\n');
    render_risk(&mut out, &diff.a.risk, &diff.b.risk);
    out!("{out}");
    Err(Failure::Failed(format!(
        "{} and {} differ from seq {}",
        args.run_a.display(),
        args.run_b.display(),
        divergence.seq
    )))
}

/// Whether two paths name the same file system object (both exist and resolve alike).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub(crate) fn mode_name(mode: ExecutionMode) -> &'static str {
    match mode {
        ExecutionMode::Backtest => "backtest",
        ExecutionMode::Paper => "paper",
        ExecutionMode::Live => "live",
    }
}

fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Where a run's inputs are, for people.
fn inputs_of(manifest: &RunManifest) -> String {
    match manifest.data {
        Some(range) => format!(
            "data log {} seqs {}..={}",
            range.log_id.0, range.first_seq, range.last_seq
        ),
        None => "inputs recorded in the log".to_string(),
    }
}

/// Each bot of a run with its initial capital, in configuration order, from the bundle its
/// manifest holds.
fn bots_of(run: &Path, manifest: &RunManifest) -> Result<Vec<(BotId, Money)>, Failure> {
    let named = |failure: Failure| {
        Failure::BadInput(format!(
            "{}: the run's configuration: {failure}",
            run.display()
        ))
    };
    let bundle = Bundle::from_toml(&manifest.config_toml)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", run.display())))?;
    let dir =
        tempfile::tempdir().map_err(|e| Failure::Failed(format!("a temporary directory: {e}")))?;
    let spec = RunSpec::from_bundle(&bundle, dir.path(), "run.toml").map_err(named)?;
    Ok(spec.capitals())
}

/// What differs between two runs.
#[derive(Debug)]
pub struct Diff {
    /// The first seq whose records differ; `None` when the logs are identical after their
    /// manifests.
    pub first: Option<FirstDivergence>,
    pub a: Side,
    pub b: Side,
    pub trades: TradeDiff,
}

#[derive(Debug)]
pub struct FirstDivergence {
    pub seq: Seq,
    /// What each log holds at `seq` (`None`: it ends before).
    pub a: Option<Envelope>,
    pub b: Option<Envelope>,
}

/// What one run's events add up to.
#[derive(Debug)]
pub struct Side {
    /// Events after the manifest.
    pub events: u64,
    pub report: Report,
    pub trades: Vec<Trade>,
    /// Risk events by (kind, rule).
    pub risk: BTreeMap<(&'static str, String), u64>,
}

/// A closed trade: a position of one bot and pair from flat (or a flip) to flat (or a flip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    pub bot: BotId,
    pub pair: Symbol,
    pub side: PositionSide,
    pub opened: Timestamp,
    pub closed: Timestamp,
    /// Realized − fees + funding over the trade, as the report computes it.
    pub net_pnl: Decimal,
}

/// What identifies a trade across two runs.
type TradeKey = (BotId, Symbol, &'static str, Timestamp);

impl Trade {
    fn key(&self) -> TradeKey {
        (self.bot, self.pair, side_name(self.side), self.opened)
    }
}

#[derive(Debug, Default)]
pub struct TradeDiff {
    /// Trades with the same key in both runs.
    pub in_both: u64,
    pub only_a: Vec<Trade>,
    pub only_b: Vec<Trade>,
    /// Trades in both runs that closed at another time or with another net P&L: (A, B).
    pub changed: Vec<(Trade, Trade)>,
}

/// Reads both logs side by side from the event after their manifests.
pub fn diff(
    a: &EventLog,
    b: &EventLog,
    bots_a: &[(BotId, Money)],
    bots_b: &[(BotId, Money)],
) -> Result<Diff, Failure> {
    let (mut side_a, mut side_b) = (Accumulator::new(bots_a), Accumulator::new(bots_b));
    let (mut events_a, mut events_b) = (a.iter_from(2), b.iter_from(2));
    let mut first = None;
    loop {
        let next_a = events_a.next().transpose()?;
        let next_b = events_b.next().transpose()?;
        if next_a.is_none() && next_b.is_none() {
            break;
        }
        if first.is_none() && !same_record(next_a.as_ref(), next_b.as_ref())? {
            let seq = next_a.as_ref().or(next_b.as_ref()).map_or(0, |e| e.seq);
            first = Some(FirstDivergence {
                seq,
                a: next_a.clone(),
                b: next_b.clone(),
            });
        }
        if let Some(event) = &next_a {
            side_a.observe(event);
        }
        if let Some(event) = &next_b {
            side_b.observe(event);
        }
    }
    let (a, b) = (side_a.finish(), side_b.finish());
    let trades = match_trades(&a.trades, &b.trades);
    Ok(Diff {
        first,
        a,
        b,
        trades,
    })
}

fn same_record(a: Option<&Envelope>, b: Option<&Envelope>) -> Result<bool, Failure> {
    let encode = |event: &Envelope| {
        encode_record(event)
            .map_err(|e| Failure::Failed(format!("encoding seq {}: {e}", event.seq)))
    };
    match (a, b) {
        (Some(a), Some(b)) => Ok(a.seq == b.seq && encode(a)? == encode(b)?),
        _ => Ok(false),
    }
}

/// The trades of A and B matched by key (in order, should a key occur twice).
fn match_trades(a: &[Trade], b: &[Trade]) -> TradeDiff {
    let mut by_key: BTreeMap<TradeKey, VecDeque<&Trade>> = BTreeMap::new();
    for trade in a {
        by_key.entry(trade.key()).or_default().push_back(trade);
    }
    let mut diff = TradeDiff::default();
    for trade in b {
        match by_key.get_mut(&trade.key()).and_then(VecDeque::pop_front) {
            Some(in_a) => {
                diff.in_both += 1;
                if in_a != trade {
                    diff.changed.push((in_a.clone(), trade.clone()));
                }
            }
            None => diff.only_b.push(trade.clone()),
        }
    }
    diff.only_a = by_key.into_values().flatten().cloned().collect();
    let order = |t: &Trade| (t.opened, t.bot, t.pair, side_name(t.side));
    diff.only_a.sort_by_key(order);
    diff.only_b.sort_by_key(order);
    diff.changed.sort_by_key(|(a, _)| order(a));
    diff
}

/// One run's running totals.
struct Accumulator {
    events: u64,
    report: ReportBuilder,
    /// Every bot's trades (the report keeps only its configured bots').
    ledger: TradeLedger,
    trades: Vec<Trade>,
    risk: BTreeMap<(&'static str, String), u64>,
}

impl Accumulator {
    fn new(bots: &[(BotId, Money)]) -> Self {
        Self {
            events: 0,
            report: ReportBuilder::new(bots),
            ledger: TradeLedger::default(),
            trades: Vec::new(),
            risk: BTreeMap::new(),
        }
    }

    fn observe(&mut self, event: &Envelope) {
        self.events += 1;
        self.report.observe(event);
        if let Some(closed) = self.ledger.observe(event) {
            self.trades.push(Trade {
                bot: closed.bot,
                pair: closed.pair,
                side: closed.side,
                opened: closed.opened_at,
                closed: closed.closed_at,
                net_pnl: closed.net_pnl.0,
            });
        }
        let check = match &event.payload {
            Event::OrderVetoed(veto) => Some(&veto.check),
            Event::ForceClose(close) => Some(&close.check),
            Event::SignalBlocked(blocked) => Some(&blocked.check),
            Event::KillSwitchEngaged(engaged) => Some(&engaged.check),
            Event::EntriesPaused(paused) => Some(&paused.check),
            _ => None,
        };
        if let Some(check) = check {
            *self
                .risk
                .entry((event.payload.kind().name(), rule_name(check.rule)))
                .or_default() += 1;
        }
    }

    fn finish(self) -> Side {
        Side {
            events: self.events,
            report: self.report.finish(),
            trades: self.trades,
            risk: self.risk,
        }
    }
}

/// The rule's snake_case name, as in JSON and in the report.
fn rule_name(rule: RiskRule) -> String {
    json_name(&rule)
}

fn side_name(side: PositionSide) -> &'static str {
    match side {
        PositionSide::Long => "long",
        PositionSide::Short => "short",
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
        let mut fields = Vec::new();
        differing_fields(
            "",
            &serde_json::to_value(a).unwrap_or_default(),
            &serde_json::to_value(b).unwrap_or_default(),
            &mut fields,
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
    use charon_events::samples::position_update;
    use charon_events::ActorId;

    fn dec<T: From<Decimal>>(text: &str) -> T {
        T::from(Decimal::from_str_exact(text).expect("a decimal"))
    }

    fn bot() -> BotId {
        BotId::new("b").unwrap()
    }

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_nanos(seconds * 1_000_000_000)
    }

    /// A position update at `seconds` with cumulative realized P&L, fees and funding.
    fn position(
        seconds: i64,
        side: Option<PositionSide>,
        qty: &str,
        realized: &str,
        fees: &str,
    ) -> Envelope {
        Envelope::derived(
            at(seconds),
            ActorId::Exchange(charon_events::Venue::new("simulated").unwrap()),
            1,
            Event::PositionUpdated(position_update(
                side, qty, "100", realized, "123", fees, "0",
            )),
        )
        .with_bot(bot())
        .with_pair(btc())
    }

    const LONG: Option<PositionSide> = Some(PositionSide::Long);
    const SHORT: Option<PositionSide> = Some(PositionSide::Short);

    fn trade(side: PositionSide, opened: i64, closed: i64, net: &str) -> Trade {
        Trade {
            bot: bot(),
            pair: btc(),
            side,
            opened: at(opened),
            closed: at(closed),
            net_pnl: dec(net),
        }
    }

    #[test]
    fn trades_are_the_reports_with_a_flip_closing_one_and_opening_the_next() {
        // The report's own flip case: the long made −4 (its baseline is the net before it
        // opened, 4), the short +2 (measured from the flip's net, 0, whole flip fee included).
        let mut side = Accumulator::new(&[(bot(), dec("1000"))]);
        for event in [
            position(1, None, "0", "5", "1"),
            position(2, LONG, "1", "5", "2"),
            position(3, SHORT, "1", "6", "6"),
            position(4, SHORT, "0.5", "7", "6"),
            position(5, None, "0", "9", "7"),
            position(6, LONG, "1", "9", "8"),
        ] {
            side.observe(&event);
        }
        let side = side.finish();
        assert_eq!(
            side.trades,
            [
                trade(PositionSide::Long, 2, 3, "-4"),
                trade(PositionSide::Short, 3, 5, "2"),
            ],
            "the long still open at the end is no trade"
        );
        let report = &side.report.bots[0];
        assert_eq!((report.trades, report.wins, report.losses), (2, 1, 1));
        assert_eq!(side.events, 6);
    }

    #[test]
    fn trades_match_by_bot_pair_side_and_open_time() {
        let a = [
            trade(PositionSide::Long, 1, 2, "1"),
            trade(PositionSide::Long, 3, 4, "2"),
            trade(PositionSide::Short, 3, 4, "3"),
            trade(PositionSide::Long, 9, 10, "1"),
        ];
        let b = [
            trade(PositionSide::Long, 1, 2, "1"),
            // Same opening, closed later: in both, changed.
            trade(PositionSide::Long, 3, 5, "2"),
            // Opened a second later: another trade.
            trade(PositionSide::Short, 4, 5, "3"),
            trade(PositionSide::Long, 9, 10, "-1"),
        ];
        let diff = match_trades(&a, &b);
        assert_eq!(diff.in_both, 3);
        assert_eq!(diff.only_a, [a[2].clone()]);
        assert_eq!(diff.only_b, [b[2].clone()]);
        assert_eq!(
            diff.changed,
            [(a[1].clone(), b[1].clone()), (a[3].clone(), b[3].clone())]
        );
        // A key twice in one run: matched in order, the extra one left over.
        let twice = [a[0].clone(), a[0].clone()];
        let diff = match_trades(&twice, &a[..1]);
        assert_eq!((diff.in_both, diff.only_a.len()), (1, 1));
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
