//! The report of a backtest or paper run, computed incrementally from the run's events.
//!
//! Feed [`ReportBuilder::observe`] every event of a run in log order, then call
//! [`ReportBuilder::finish`] (as often as wanted: it does not consume the builder, so a live run
//! can print its report at any time). All money is exact `Decimal` arithmetic on the events'
//! own amounts; only the percentages are rounded.
//!
//! # Definitions
//!
//! Run-wide:
//!
//! - `events`: every envelope observed, whatever its kind or routing (inputs included).
//! - `first_ts`, `last_ts`: the `ts` of the first and of the last envelope observed (`None`
//!   before any). Inputs are fed for this only: they advance time.
//!
//! Per bot, in the order the bots were given to [`ReportBuilder::new`]. An event counts for a
//! bot only if its envelope's `bot` is that bot; events of other bots and events with no bot
//! count for none (beyond `events` and the timestamps).
//!
//! - Equity series: starts at `initial_capital`; each `EquityUpdated` of the bot with no pair
//!   (the account-level update) appends its `equity`. An `EquityUpdated` that carries a pair is
//!   ignored.
//! - `final_equity`: the last equity of the series (`initial_capital` if the bot had no
//!   `EquityUpdated`).
//! - `return_pct`: `(final_equity − initial_capital) / initial_capital × 100`; 0 if the
//!   initial capital is not positive (configuration forbids that).
//! - `max_drawdown_pct`: the largest `(peak − equity) / peak × 100` over the series, where
//!   `peak` is the highest equity so far, the initial capital included (so a run that only ever
//!   loses draws down from its initial capital). 0 if equity never falls below a peak. It is
//!   within [0, 100] while equity stays ≥ 0; only a negative equity takes it beyond 100.
//!   Points where the peak is not positive are skipped (impossible with a positive capital).
//! - `realized_pnl`, `fees`, `funding`: from the bot's last `EquityUpdated`, whose amounts are
//!   cumulative since the account opened (0 if none). `fees` is what was paid (positive),
//!   `funding` is net received (negative when paid), `realized_pnl` is before fees and funding.
//! - `signals`: `Signal` events. `orders`: `OrderIntent` events (whatever became of them).
//!   `fills`: executions, i.e. `OrderFilled` plus `OrderPartiallyFilled` events.
//!   `rejections`: `OrderRejected` (by the exchange). `force_closes`: `ForceClose`.
//! - `vetoes`: `OrderVetoed` events counted by `check.rule`, keyed by the rule's snake_case name
//!   (as in JSON, e.g. `max_leverage`), sorted by name. `blocked`: `SignalBlocked` events (entry
//!   signals a gate stopped) counted the same way; they are not vetoes. `alerts`: `Alert`
//!   events.
//! - `trades`, `wins`, `losses`, `win_rate_pct`: the sums over the bot's pairs (below);
//!   `win_rate_pct = wins / trades × 100`, `None` when there were no closed trades.
//! - `pairs`: every pair named by an event of the bot (a pair that only signalled or was only
//!   vetoed appears with zeros), sorted by symbol.
//!
//! Per pair, from the `PositionUpdated` events of the bot with that pair (a `PositionUpdated`
//! with no pair is ignored). Their `realized_pnl`, `fees` and `funding` are cumulative for the
//! pair since the account opened, so one update's *net* is `realized_pnl − fees + funding`.
//!
//! - A position is *open* when `side` is `Some` and `qty ≠ 0`, *flat* otherwise.
//! - A trade opens when the pair goes from flat (or from no update at all) to open, and closes
//!   when it returns to flat. A change of side between two open updates (a flip, Long → Short
//!   or back) closes one trade and opens another. Increases and partial reductions stay within
//!   the trade.
//! - A trade's net P&L is the net of the update that closed it minus its *baseline*: for a
//!   trade opened from flat, the net of the update before the one that opened it (0 when there
//!   was none), so the opening fee belongs to the trade; for a trade opened by a flip, the net
//!   of the flip's update itself, so the whole flip fill's fee (and the P&L it realized) goes
//!   to the trade it closed. Funding paid or received while open is part of the trade.
//! - `wins`: closed trades with net P&L > 0; `losses`: the other closed trades (break-even
//!   counts as a loss). A trade still open at the end is not counted in `trades`, `wins` or
//!   `losses`; its size is `open_qty` (always ≥ 0; 0 when flat).
//! - `net_pnl`, `fees`, `funding`: from the pair's last update (`net_pnl` is its net as above):
//!   cumulative, so they include what an open position has realized so far (and its entry
//!   fees), but **exclude unrealized P&L**. The pairs' `net_pnl` therefore need not add up to
//!   `final_equity − initial_capital` while a position is open.
//!
//! Percentages are computed in `Decimal` and rounded to 4 decimal places with
//! [`Decimal::round_dp`] (banker's rounding: a midpoint goes to the even digit).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use charon_events::payload::order::{EquityUpdated, PositionSide, PositionUpdated};
use charon_events::payload::risk::RiskRule;
use charon_events::{BotId, Envelope, Event, Money, Quantity, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;

/// Decimal places percentages are rounded to.
const PCT_DP: u32 = 4;

/// Accumulates a run's events into a [`Report`].
#[derive(Debug, Clone)]
pub struct ReportBuilder {
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    events: u64,
    bots: Vec<BotState>,
    /// Position of each bot in `bots`.
    index: BTreeMap<BotId, usize>,
}

impl ReportBuilder {
    /// `bots`: each bot of the run with its initial capital, in config order. A bot listed
    /// twice keeps its first entry.
    pub fn new(bots: &[(BotId, Money)]) -> Self {
        let mut index = BTreeMap::new();
        let mut states = Vec::with_capacity(bots.len());
        for &(bot, capital) in bots {
            if index.contains_key(&bot) {
                continue;
            }
            index.insert(bot, states.len());
            states.push(BotState::new(bot, capital));
        }
        Self {
            first_ts: None,
            last_ts: None,
            events: 0,
            bots: states,
            index,
        }
    }

    /// Feed every event of a run in log order (inputs may be fed too; they only advance time).
    pub fn observe(&mut self, event: &Envelope) {
        self.events += 1;
        if self.first_ts.is_none() {
            self.first_ts = Some(event.ts);
        }
        self.last_ts = Some(event.ts);
        let Some(&at) = event.bot.as_ref().and_then(|bot| self.index.get(bot)) else {
            return;
        };
        self.bots[at].observe(event);
    }

    pub fn finish(&self) -> Report {
        Report {
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            events: self.events,
            bots: self.bots.iter().map(BotState::report).collect(),
        }
    }
}

/// A run's report; see the [module docs](self) for every number's definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub events: u64,
    pub bots: Vec<BotReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BotReport {
    pub bot: BotId,
    pub initial_capital: Money,
    pub final_equity: Money,
    /// Rounded to 4 decimal places.
    pub return_pct: Decimal,
    /// Rounded to 4 decimal places.
    pub max_drawdown_pct: Decimal,
    pub realized_pnl: Money,
    pub fees: Money,
    pub funding: Money,
    pub trades: u64,
    pub wins: u64,
    pub losses: u64,
    /// Rounded to 4 decimal places; `None` when no trade closed.
    pub win_rate_pct: Option<Decimal>,
    pub signals: u64,
    /// `OrderIntent` events.
    pub orders: u64,
    pub fills: u64,
    /// By rule name in snake_case.
    pub vetoes: BTreeMap<String, u64>,
    /// Entry signals a gate blocked, by rule name in snake_case.
    pub blocked: BTreeMap<String, u64>,
    pub alerts: u64,
    pub rejections: u64,
    pub force_closes: u64,
    /// Sorted by pair.
    pub pairs: Vec<PairReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairReport {
    pub pair: Symbol,
    pub trades: u64,
    pub wins: u64,
    pub losses: u64,
    /// Realized − fees + funding, cumulative; unrealized P&L excluded.
    pub net_pnl: Money,
    pub fees: Money,
    pub funding: Money,
    pub open_qty: Quantity,
}

/// Cumulative realized P&L, fees and funding, as `EquityUpdated` and `PositionUpdated` carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Totals {
    realized: Money,
    fees: Money,
    funding: Money,
}

impl Totals {
    /// Realized − fees + funding.
    fn net(self) -> Decimal {
        self.realized.0 - self.fees.0 + self.funding.0
    }
}

#[derive(Debug, Clone)]
struct BotState {
    bot: BotId,
    initial: Money,
    equity: Money,
    /// Highest equity so far, the initial capital included.
    peak: Decimal,
    /// Largest drawdown seen, in percent, unrounded.
    max_drawdown: Decimal,
    /// From the last `EquityUpdated`.
    totals: Totals,
    signals: u64,
    orders: u64,
    fills: u64,
    vetoes: BTreeMap<String, u64>,
    blocked: BTreeMap<String, u64>,
    alerts: u64,
    rejections: u64,
    force_closes: u64,
    pairs: BTreeMap<Symbol, PairState>,
}

impl BotState {
    fn new(bot: BotId, initial: Money) -> Self {
        Self {
            bot,
            initial,
            equity: initial,
            peak: initial.0,
            max_drawdown: Decimal::ZERO,
            totals: Totals::default(),
            signals: 0,
            orders: 0,
            fills: 0,
            vetoes: BTreeMap::new(),
            blocked: BTreeMap::new(),
            alerts: 0,
            rejections: 0,
            force_closes: 0,
            pairs: BTreeMap::new(),
        }
    }

    fn observe(&mut self, event: &Envelope) {
        if let Some(pair) = event.pair {
            self.pairs.entry(pair).or_default();
        }
        match &event.payload {
            Event::EquityUpdated(update) if event.pair.is_none() => self.equity_updated(update),
            Event::PositionUpdated(update) => {
                if let Some(pair) = event.pair {
                    self.pairs.entry(pair).or_default().position_updated(update);
                }
            }
            Event::Signal(_) => self.signals += 1,
            Event::OrderIntent(_) => self.orders += 1,
            Event::OrderFilled(_) | Event::OrderPartiallyFilled(_) => self.fills += 1,
            Event::OrderVetoed(veto) => {
                *self.vetoes.entry(rule_name(veto.check.rule)).or_default() += 1;
            }
            Event::SignalBlocked(blocked) => {
                *self
                    .blocked
                    .entry(rule_name(blocked.check.rule))
                    .or_default() += 1;
            }
            Event::Alert(_) => self.alerts += 1,
            Event::OrderRejected(_) => self.rejections += 1,
            Event::ForceClose(_) => self.force_closes += 1,
            _ => {}
        }
    }

    fn equity_updated(&mut self, update: &EquityUpdated) {
        let equity = update.equity.0;
        self.equity = update.equity;
        self.totals = Totals {
            realized: update.realized_pnl,
            fees: update.fees,
            funding: update.funding,
        };
        if equity > self.peak {
            self.peak = equity;
        }
        if self.peak > Decimal::ZERO {
            let drawdown = percent(self.peak - equity, self.peak);
            if drawdown > self.max_drawdown {
                self.max_drawdown = drawdown;
            }
        }
    }

    fn report(&self) -> BotReport {
        let pairs: Vec<PairReport> = self
            .pairs
            .iter()
            .map(|(&pair, state)| state.report(pair))
            .collect();
        let trades = pairs.iter().map(|p| p.trades).sum::<u64>();
        let wins = pairs.iter().map(|p| p.wins).sum::<u64>();
        let losses = pairs.iter().map(|p| p.losses).sum::<u64>();
        let return_pct = if self.initial.0 > Decimal::ZERO {
            percent(self.equity.0 - self.initial.0, self.initial.0)
        } else {
            Decimal::ZERO
        };
        BotReport {
            bot: self.bot,
            initial_capital: self.initial,
            final_equity: self.equity,
            return_pct: return_pct.round_dp(PCT_DP),
            max_drawdown_pct: self.max_drawdown.round_dp(PCT_DP),
            realized_pnl: self.totals.realized,
            fees: self.totals.fees,
            funding: self.totals.funding,
            trades,
            wins,
            losses,
            win_rate_pct: (trades > 0)
                .then(|| percent(Decimal::from(wins), Decimal::from(trades)).round_dp(PCT_DP)),
            signals: self.signals,
            orders: self.orders,
            fills: self.fills,
            vetoes: self.vetoes.clone(),
            blocked: self.blocked.clone(),
            alerts: self.alerts,
            rejections: self.rejections,
            force_closes: self.force_closes,
            pairs,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct PairState {
    trades: u64,
    wins: u64,
    losses: u64,
    /// The side of the open trade; `None` when flat.
    open: Option<PositionSide>,
    /// The last update's quantity.
    qty: Quantity,
    /// The last update's cumulative amounts (zero before any).
    totals: Totals,
    /// The net the open trade is measured from.
    baseline: Decimal,
}

impl PairState {
    fn position_updated(&mut self, update: &PositionUpdated) {
        let totals = Totals {
            realized: update.realized_pnl,
            fees: update.fees,
            funding: update.funding,
        };
        let now_open = update.side.filter(|_| !update.qty.0.is_zero());
        match (self.open, now_open) {
            (None, Some(_)) => self.baseline = self.totals.net(),
            (Some(_), None) => self.close(totals.net()),
            (Some(was), Some(side)) if was != side => {
                self.close(totals.net());
                self.baseline = totals.net();
            }
            _ => {}
        }
        self.open = now_open;
        self.qty = update.qty;
        self.totals = totals;
    }

    fn close(&mut self, net_at_close: Decimal) {
        self.trades += 1;
        if net_at_close - self.baseline > Decimal::ZERO {
            self.wins += 1;
        } else {
            self.losses += 1;
        }
    }

    fn report(&self, pair: Symbol) -> PairReport {
        PairReport {
            pair,
            trades: self.trades,
            wins: self.wins,
            losses: self.losses,
            net_pnl: Money(self.totals.net()),
            fees: self.totals.fees,
            funding: self.totals.funding,
            open_qty: if self.open.is_some() {
                self.qty
            } else {
                Quantity::ZERO
            },
        }
    }
}

/// `part / whole × 100`, unrounded; `whole` must be positive.
fn percent(part: Decimal, whole: Decimal) -> Decimal {
    part / whole * Decimal::ONE_HUNDRED
}

/// The rule's snake_case name, as it appears in JSON.
fn rule_name(rule: RiskRule) -> String {
    match serde_json::to_value(rule) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{rule:?}"),
    }
}

impl Report {
    /// The human summary: the run's period, then per bot its figures and a table of its pairs.
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
        if self.pairs.is_empty() {
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use charon_events::payload::external::ClockTick;
    use charon_events::payload::order::{
        Fill, Liquidity, OrderFilled, OrderIntent, OrderPartiallyFilled, OrderPurpose,
        OrderRejected, OrderType, OrderVetoed, Side, TimeInForce,
    };
    use charon_events::payload::risk::{
        ForceClose, RiskCheck, Signal, SignalAction, SignalBlocked, SignalSource,
    };
    use charon_events::{ActorId, ClientOrderId, Venue};
    use proptest::prelude::*;

    fn dec<T: From<Decimal>>(text: &str) -> T {
        T::from(Decimal::from_str_exact(text).expect("a decimal"))
    }

    fn bot(name: &str) -> BotId {
        BotId::new(name).unwrap()
    }

    fn sym(name: &str) -> Symbol {
        Symbol::new(name).unwrap()
    }

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_millis(s * 1_000)
    }

    fn derived(at: i64, payload: Event) -> Envelope {
        Envelope::derived(
            ts(at),
            ActorId::Exchange(Venue::new("sim").unwrap()),
            1,
            payload,
        )
    }

    fn equity(at: i64, name: &str, equity: &str) -> Envelope {
        derived(
            at,
            Event::EquityUpdated(EquityUpdated {
                cash: dec(equity),
                equity: dec(equity),
                realized_pnl: Money::ZERO,
                unrealized_pnl: Money::ZERO,
                fees: Money::ZERO,
                funding: Money::ZERO,
                peak_equity: Money::ZERO,
                drawdown: Default::default(),
            }),
        )
        .with_bot(bot(name))
    }

    /// A position update of `pair` for bot `b`: `side` `None` is flat.
    #[allow(clippy::too_many_arguments)]
    fn position(
        name: &str,
        pair: &str,
        side: Option<PositionSide>,
        qty: &str,
        realized: &str,
        fees: &str,
        funding: &str,
    ) -> Envelope {
        derived(
            0,
            Event::PositionUpdated(PositionUpdated {
                side,
                qty: dec(qty),
                avg_entry: dec("100"),
                mark: dec("100"),
                leverage: dec("1"),
                liquidation_price: None,
                realized_pnl: dec(realized),
                unrealized_pnl: dec("123"),
                fees: dec(fees),
                funding: dec(funding),
            }),
        )
        .with_bot(bot(name))
        .with_pair(sym(pair))
    }

    const LONG: Option<PositionSide> = Some(PositionSide::Long);
    const SHORT: Option<PositionSide> = Some(PositionSide::Short);
    const FLAT: Option<PositionSide> = None;

    fn run(bots: &[(&str, &str)], events: &[Envelope]) -> Report {
        let bots: Vec<(BotId, Money)> = bots
            .iter()
            .map(|&(name, capital)| (bot(name), dec(capital)))
            .collect();
        let mut builder = ReportBuilder::new(&bots);
        for event in events {
            builder.observe(event);
        }
        builder.finish()
    }

    fn order_id() -> ClientOrderId {
        ClientOrderId {
            pair: sym("BTCUSDT"),
            cause: 1,
            leg: 0,
        }
    }

    fn check(rule: RiskRule) -> RiskCheck {
        RiskCheck {
            rule,
            threshold: dec("1"),
            observed: dec("2"),
            message: String::new(),
        }
    }

    fn fill() -> Fill {
        Fill {
            order_id: order_id(),
            venue_trade_id: None,
            side: Side::Buy,
            price: dec("100"),
            qty: dec("1"),
            fee: dec("0.1"),
            liquidity: Liquidity::Taker,
        }
    }

    fn pair_event(name: &str, payload: Event) -> Envelope {
        derived(0, payload)
            .with_bot(bot(name))
            .with_pair(sym("BTCUSDT"))
    }

    #[test]
    fn return_and_drawdown_follow_the_equity_series() {
        let report = run(
            &[("b", "1000")],
            &[
                equity(1, "b", "1100"),
                equity(2, "b", "880"),
                equity(3, "b", "990"),
            ],
        );
        let b = &report.bots[0];
        assert_eq!(b.final_equity, dec("990"));
        assert_eq!(b.return_pct, dec::<Decimal>("-1"));
        // From the 1100 peak down to 880, not from the initial 1000 (which would be 12%).
        assert_eq!(b.max_drawdown_pct, dec::<Decimal>("20"));
        assert_eq!(report.events, 3);
        assert_eq!(report.first_ts, Some(ts(1)));
        assert_eq!(report.last_ts, Some(ts(3)));
    }

    #[test]
    fn drawdown_counts_from_the_initial_capital_and_percentages_round_to_4dp() {
        // Never above the initial capital: the peak is the capital itself.
        let report = run(
            &[("b", "3000")],
            &[equity(1, "b", "2000"), equity(2, "b", "2999")],
        );
        let b = &report.bots[0];
        // 1000 / 3000 = 33.33333…%, 1 / 3000 = 0.0333…%.
        assert_eq!(b.max_drawdown_pct, dec::<Decimal>("33.3333"));
        assert_eq!(b.return_pct, dec::<Decimal>("-0.0333"));
    }

    #[test]
    fn a_bot_without_equity_updates_keeps_its_capital() {
        let report = run(&[("b", "500")], &[]);
        let b = &report.bots[0];
        assert_eq!(b.final_equity, dec("500"));
        assert_eq!(b.return_pct, Decimal::ZERO);
        assert_eq!(b.max_drawdown_pct, Decimal::ZERO);
        assert_eq!(b.win_rate_pct, None);
        assert_eq!(report.first_ts, None);
    }

    #[test]
    fn account_totals_come_from_the_last_equity_update() {
        let update = |equity: &str, realized: &str, fees: &str, funding: &str| {
            derived(
                0,
                Event::EquityUpdated(EquityUpdated {
                    cash: dec(equity),
                    equity: dec(equity),
                    realized_pnl: dec(realized),
                    unrealized_pnl: Money::ZERO,
                    fees: dec(fees),
                    funding: dec(funding),
                    peak_equity: Money::ZERO,
                    drawdown: Default::default(),
                }),
            )
            .with_bot(bot("b"))
        };
        let report = run(
            &[("b", "1000")],
            &[
                update("1010", "12", "2", "0"),
                update("1004.5", "10", "3", "-2.5"),
                // Carries a pair: not the account's update, ignored.
                update("1", "99", "99", "99").with_pair(sym("BTCUSDT")),
            ],
        );
        let b = &report.bots[0];
        assert_eq!(b.final_equity, dec("1004.5"));
        assert_eq!(b.realized_pnl, dec("10"));
        assert_eq!(b.fees, dec("3"));
        assert_eq!(b.funding, dec("-2.5"));
        assert_eq!(b.return_pct, dec::<Decimal>("0.45"));
        // 1010 → 1004.5 is 0.54455…%.
        assert_eq!(b.max_drawdown_pct, dec::<Decimal>("0.5446"));
    }

    #[test]
    fn a_win_and_a_loss_with_fees_and_funding() {
        let report = run(
            &[("b", "1000")],
            &[
                // Trade 1: fee 1 to open, +10 realized, fee 1 to close: net +8, a win.
                position("b", "BTCUSDT", LONG, "1", "0", "1", "0"),
                position("b", "BTCUSDT", FLAT, "0", "10", "2", "0"),
                // Trade 2: realizes +3 before fees (1 + 1) but pays 2.5 funding: −1.5, a loss.
                position("b", "BTCUSDT", SHORT, "2", "10", "3", "0"),
                position("b", "BTCUSDT", SHORT, "2", "10", "3", "-2.5"),
                position("b", "BTCUSDT", FLAT, "0", "13", "4", "-2.5"),
                // Trade 3: exactly break even (−1 realized, +1 funding, fees 0): a loss.
                position("b", "ETHUSDT", LONG, "1", "0", "0", "0"),
                position("b", "ETHUSDT", LONG, "1", "0", "0", "1"),
                position("b", "ETHUSDT", FLAT, "0", "-1", "0", "1"),
            ],
        );
        let b = &report.bots[0];
        assert_eq!((b.trades, b.wins, b.losses), (3, 1, 2));
        assert_eq!(b.win_rate_pct, Some(dec::<Decimal>("33.3333")));
        let btc = &b.pairs[0];
        assert_eq!(btc.pair, sym("BTCUSDT"));
        assert_eq!((btc.trades, btc.wins, btc.losses), (2, 1, 1));
        assert_eq!(btc.net_pnl, dec("6.5"));
        assert_eq!(btc.fees, dec("4"));
        assert_eq!(btc.funding, dec("-2.5"));
        assert_eq!(btc.open_qty, Quantity::ZERO);
        let eth = &b.pairs[1];
        assert_eq!(eth.pair, sym("ETHUSDT"));
        assert_eq!((eth.trades, eth.wins, eth.losses), (1, 0, 1));
        assert_eq!(eth.net_pnl, Money(Decimal::ZERO));
    }

    #[test]
    fn a_flip_closes_one_trade_and_opens_another() {
        let report = run(
            &[("b", "1000")],
            &[
                // Flat with earlier history: the long's baseline is this net, 5 − 1 = 4.
                position("b", "BTCUSDT", FLAT, "0", "5", "1", "0"),
                position("b", "BTCUSDT", LONG, "1", "5", "2", "0"),
                // The flip realizes +1 and pays fee 4: net 0, so the long made −4. The short
                // is measured from this 0.
                position("b", "BTCUSDT", SHORT, "1", "6", "6", "0"),
                // The short realizes +3 and pays fee 1: +2, a win. Measured from before the
                // flip (3) it would be a loss, as it would with half the flip fee (from 2).
                position("b", "BTCUSDT", FLAT, "0", "9", "7", "0"),
            ],
        );
        let b = &report.bots[0];
        assert_eq!((b.trades, b.wins, b.losses), (2, 1, 1));
        assert_eq!(b.pairs[0].net_pnl, dec("2"));
        assert_eq!(b.pairs[0].open_qty, Quantity::ZERO);
    }

    #[test]
    fn an_open_trade_is_not_counted() {
        let report = run(
            &[("b", "1000")],
            &[
                position("b", "BTCUSDT", LONG, "1", "0", "1", "0"),
                position("b", "BTCUSDT", FLAT, "0", "-4", "2", "0"),
                position("b", "BTCUSDT", SHORT, "0.5", "-4", "3", "0"),
                // A partial reduction realizes +6 but the trade stays open.
                position("b", "BTCUSDT", SHORT, "0.25", "2", "4", "0"),
            ],
        );
        let b = &report.bots[0];
        assert_eq!((b.trades, b.wins, b.losses), (1, 0, 1));
        let pair = &b.pairs[0];
        assert_eq!(pair.trades, 1);
        assert_eq!(pair.open_qty, dec("0.25"));
        // Realized so far, fees included; the unrealized 123 of every update is not.
        assert_eq!(pair.net_pnl, dec("-2"));
    }

    #[test]
    fn a_side_with_zero_quantity_is_flat() {
        let report = run(
            &[("b", "1000")],
            &[
                position("b", "BTCUSDT", LONG, "1", "0", "0", "0"),
                position("b", "BTCUSDT", LONG, "0", "1", "0", "0"),
            ],
        );
        let pair = &report.bots[0].pairs[0];
        assert_eq!((pair.trades, pair.wins), (1, 1));
        assert_eq!(pair.open_qty, Quantity::ZERO);
    }

    #[test]
    fn counters_and_vetoes_grouped_by_rule() {
        let veto = |rule| {
            pair_event(
                "b",
                Event::OrderVetoed(OrderVetoed {
                    order_id: order_id(),
                    check: check(rule),
                }),
            )
        };
        let signal = Event::Signal(Signal {
            action: SignalAction::EnterLong,
            source: SignalSource::Strategy,
            rule: "long_entry".into(),
        });
        let intent = Event::OrderIntent(OrderIntent {
            order_id: order_id(),
            side: Side::Buy,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Gtc,
            qty: dec("1"),
            expected_price: dec("100"),
            leverage: dec("1"),
            reduce_only: false,
            purpose: OrderPurpose::Entry,
            reason: "entry".into(),
        });
        let events = [
            pair_event("b", signal.clone()),
            pair_event("b", signal),
            pair_event(
                "b",
                Event::SignalBlocked(SignalBlocked {
                    action: SignalAction::EnterLong,
                    check: check(RiskRule::AtrGate),
                }),
            ),
            pair_event("b", intent.clone()),
            pair_event("b", intent.clone()),
            pair_event("b", intent),
            veto(RiskRule::MaxLeverage),
            veto(RiskRule::DailyLoss),
            veto(RiskRule::MaxLeverage),
            pair_event(
                "b",
                Event::OrderPartiallyFilled(OrderPartiallyFilled {
                    fill: fill(),
                    cum_qty: dec("1"),
                    leaves_qty: dec("1"),
                }),
            ),
            pair_event(
                "b",
                Event::OrderFilled(OrderFilled {
                    fill: fill(),
                    cum_qty: dec("2"),
                    avg_price: dec("100"),
                }),
            ),
            pair_event(
                "b",
                Event::OrderRejected(OrderRejected {
                    order_id: order_id(),
                    code: Some(-2010),
                    reason: "insufficient balance".into(),
                }),
            ),
            pair_event(
                "b",
                Event::ForceClose(ForceClose {
                    side: PositionSide::Long,
                    check: check(RiskRule::StopLoss),
                }),
            ),
            pair_event(
                "b",
                Event::Alert(charon_events::payload::control::Alert {
                    severity: charon_events::payload::control::Severity::Warning,
                    category: charon_events::payload::control::AlertKind::LimitHit,
                    message: "entries paused".into(),
                }),
            ),
        ];
        let report = run(&[("b", "1000")], &events);
        let b = &report.bots[0];
        assert_eq!(b.signals, 2);
        assert_eq!(b.orders, 3);
        assert_eq!(b.fills, 2);
        assert_eq!(b.rejections, 1);
        assert_eq!(b.force_closes, 1);
        let vetoes: Vec<(&str, u64)> = b.vetoes.iter().map(|(k, &v)| (k.as_str(), v)).collect();
        assert_eq!(vetoes, [("daily_loss", 1), ("max_leverage", 2)]);
        // The gate's block is counted as a blocked signal, not a veto.
        let blocked: Vec<(&str, u64)> = b.blocked.iter().map(|(k, &v)| (k.as_str(), v)).collect();
        assert_eq!(blocked, [("atr_gate", 1)]);
        assert_eq!(b.alerts, 1);
        // A pair that never held a position still has its row.
        assert_eq!(b.pairs.len(), 1);
        assert_eq!(b.pairs[0].trades, 0);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["bots"][0]["vetoes"]["max_leverage"], 2);
        assert_eq!(json["bots"][0]["initial_capital"], "1000");
    }

    #[test]
    fn events_of_unknown_bots_are_ignored() {
        let events = [
            Envelope::input(ts(10), Event::ClockTick(ClockTick {})),
            equity(11, "other", "1"),
            position("other", "BTCUSDT", LONG, "1", "0", "0", "0"),
            position("other", "BTCUSDT", FLAT, "0", "50", "0", "0"),
            pair_event(
                "other",
                Event::ForceClose(ForceClose {
                    side: PositionSide::Long,
                    check: check(RiskRule::StopLoss),
                }),
            ),
            // No bot at all.
            derived(
                12,
                Event::EquityUpdated(EquityUpdated {
                    cash: dec("1"),
                    equity: dec("1"),
                    realized_pnl: Money::ZERO,
                    unrealized_pnl: Money::ZERO,
                    fees: Money::ZERO,
                    funding: Money::ZERO,
                    peak_equity: Money::ZERO,
                    drawdown: Default::default(),
                }),
            ),
            equity(13, "b", "1200"),
            Envelope::input(ts(14), Event::ClockTick(ClockTick {})),
        ];
        let report = run(&[("a", "100"), ("b", "1000")], &events);
        assert_eq!(report.events, 8);
        assert_eq!(report.first_ts, Some(ts(10)));
        assert_eq!(report.last_ts, Some(ts(14)));
        let names: Vec<&str> = report.bots.iter().map(|b| b.bot.as_str()).collect();
        assert_eq!(names, ["a", "b"], "config order");
        for b in &report.bots {
            assert_eq!(b.max_drawdown_pct, Decimal::ZERO, "{}", b.bot);
            assert_eq!(b.trades, 0);
            assert_eq!(b.force_closes, 0);
            assert!(b.pairs.is_empty());
        }
        assert_eq!(report.bots[0].final_equity, dec("100"));
        assert_eq!(report.bots[1].final_equity, dec("1200"));
        assert_eq!(report.bots[1].return_pct, dec::<Decimal>("20"));
    }

    #[test]
    fn text_names_the_figures_and_aligns_the_pair_table() {
        let report = run(
            &[("b", "1000")],
            &[
                Envelope::input(Timestamp::from_nanos(1_723_161_253_937_085_768), {
                    Event::ClockTick(ClockTick {})
                }),
                position("b", "BTCUSDT", LONG, "1", "0", "1", "0"),
                position("b", "BTCUSDT", FLAT, "0", "10", "2", "0"),
                position("b", "DOGEUSDT", SHORT, "12345.5", "0", "0.25", "0"),
                equity(1_723_161_300, "b", "1007.75"),
            ],
        );
        let text = report.render_text();
        assert!(
            text.starts_with("period  2024-08-08T23:54:13.937085768Z .. 2024-08-08T23:55:00Z\n"),
            "{text}"
        );
        assert!(text.contains("\n  return           0.7750%\n"), "{text}");
        assert!(text.contains("\n  max drawdown     0.0000%\n"), "{text}");
        assert!(text.contains("\n  win rate         100.0000%\n"), "{text}");
        assert!(
            text.contains("\n  trades           1 (1 won, 0 lost)\n"),
            "{text}"
        );
        let table: Vec<&str> = text
            .lines()
            .skip_while(|line| !line.trim_start().starts_with("pair"))
            .collect();
        assert_eq!(table.len(), 3, "{text}");
        assert!(table[1].starts_with("  BTCUSDT "), "{text}");
        assert!(table[2].ends_with("  12345.5"), "{text}");
        // Right-aligned columns: every line ends at the same width, and each column's cells end
        // where its header does.
        assert!(
            table.iter().all(|line| line.len() == table[0].len()),
            "{text}"
        );
        let end_of = |line: &str, cell: &str| line.find(cell).unwrap() + cell.len();
        // Amounts read in cents: 8 and -0.25 print as 8.00 and -0.25.
        assert_eq!(end_of(table[0], "net p&l"), end_of(table[1], "  8.00"));
        assert_eq!(end_of(table[0], "net p&l"), end_of(table[2], "-0.25"));
    }

    /// The largest `(e_i − e_j) / e_i × 100` over every `i ≤ j`, the capital being `e_0`.
    fn naive_drawdown(series: &[Decimal]) -> Decimal {
        let mut worst = Decimal::ZERO;
        for (j, &later) in series.iter().enumerate() {
            for &earlier in &series[..=j] {
                if earlier > Decimal::ZERO {
                    worst = worst.max((earlier - later) / earlier * Decimal::ONE_HUNDRED);
                }
            }
        }
        worst.round_dp(PCT_DP)
    }

    proptest! {
        #[test]
        fn drawdown_is_a_bounded_exact_maximum(
            capital in 1i64..10_000_000,
            cents in prop::collection::vec(0i64..20_000_000, 0..40),
        ) {
            let capital = Money::new(capital, 2);
            let mut builder = ReportBuilder::new(&[(bot("b"), capital)]);
            let mut series = vec![capital.0];
            for (i, &c) in cents.iter().enumerate() {
                let mut event = equity(i as i64, "b", "0");
                if let Event::EquityUpdated(update) = &mut event.payload {
                    update.equity = Money::new(c, 2);
                }
                builder.observe(&event);
                series.push(Decimal::new(c, 2));
            }
            let dd = builder.finish().bots[0].max_drawdown_pct;
            prop_assert!(dd >= Decimal::ZERO && dd <= Decimal::ONE_HUNDRED, "{dd}");
            prop_assert_eq!(dd, naive_drawdown(&series));
        }
    }
}
