//! What two runs' logs add up to, side by side: the first record where they differ, each run's
//! report, trades and risk events, and the trades matched across the two.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use charon_events::codec::encode_record;
use charon_events::payload::manifest::RunManifest;
use charon_events::payload::order::PositionSide;
use charon_events::payload::risk::RiskRule;
use charon_events::{BotId, Envelope, Event, EventLog, Money, Seq, Symbol, Timestamp};
use rust_decimal::Decimal;

use crate::report::trades::TradeLedger;
use crate::report::{json_name, Report, ReportBuilder};
use crate::run::run_log::{manifest_of, recorded_spec};
use crate::run::RunError;

/// Two runs compared: their manifests and what differs.
#[derive(Debug)]
pub struct Comparison {
    pub manifest_a: RunManifest,
    pub manifest_b: RunManifest,
    pub diff: Diff,
}

impl Comparison {
    /// Whether the two runs cite different inputs (their differences may then be the inputs').
    pub fn inputs_differ(&self) -> bool {
        self.manifest_a.data != self.manifest_b.data
    }
}

/// Compares the run logs `a` (at `path_a`, the baseline: deltas are B − A) and `b`.
pub fn compare(
    path_a: &Path,
    a: &EventLog,
    path_b: &Path,
    b: &EventLog,
) -> Result<Comparison, RunError> {
    let (manifest_a, manifest_b) = (manifest_of(a)?, manifest_of(b)?);
    let bots_a = recorded_spec(path_a, &manifest_a)?.capitals();
    let bots_b = recorded_spec(path_b, &manifest_b)?.capitals();
    let diff = diff(a, b, &bots_a, &bots_b)?;
    Ok(Comparison {
        manifest_a,
        manifest_b,
        diff,
    })
}

/// Whether two paths name the same file system object (both exist and resolve alike): a log
/// cannot be opened twice at once, so a run diffed with itself is read twice through one
/// handle.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
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
) -> Result<Diff, RunError> {
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

fn same_record(a: Option<&Envelope>, b: Option<&Envelope>) -> Result<bool, RunError> {
    let encode = |event: &Envelope| {
        encode_record(event).map_err(|source| RunError::Encode {
            seq: event.seq,
            source,
        })
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

pub(crate) fn side_name(side: PositionSide) -> &'static str {
    match side {
        PositionSide::Long => "long",
        PositionSide::Short => "short",
    }
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
}
