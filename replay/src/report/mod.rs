//! The report of a backtest or paper run, computed incrementally from the run's events.
//!
//! Feed [`ReportBuilder::observe`] every event of a run in log order, then call
//! [`ReportBuilder::finish`] (as often as wanted: it does not consume the builder, so a live run
//! can print its report at any time). All money is exact `Decimal` arithmetic on the events'
//! own amounts; only the percentages are rounded.
//!
//! Observing keeps the counters below and the run's [`RunHistory`] (equity and contribution
//! curves, cumulative totals, every trade, sampled market prices): appends and overwrites in
//! event order, nothing recomputed per event. `finish` computes the
//! [statistics](crate::statistics) of the whole run from that history; other windows are
//! computed from [`ReportBuilder::history`] or [`Report::history`].
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
//!   It is the statistics' `drawdown.max_pct` over the whole run.
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
//!   vetoed appears with zeros), sorted by symbol. A fill or order event without a pair key
//!   counts for the pair its order id names.
//! - `risk_events`: the bot's `order_vetoed`, `signal_blocked`, `force_close`,
//!   `kill_switch_engaged`/`released`, `entries_paused`/`resumed` and `risk_warning` events in
//!   log order with their rule and message, the first [`risk::RISK_EVENTS_KEPT`];
//!   `risk_events_omitted` counts the rest.
//! - `statistics`: the bot's [`Statistics`] over the whole run.
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
//! - `statistics`: the pair's [`Statistics`] over the whole run (the pair measured as the
//!   bot's initial capital plus its contribution).
//!
//! What a trade records ([`ClosedTrade`]), from the same updates and the pair's fills, orders
//! and signals:
//!
//! - `realized_pnl`, `fees`, `funding`, `net_pnl`: the growth of the cumulative amounts from
//!   the baseline above to the closing update (so `net_pnl` is the trade's net P&L above).
//! - `entry_price`: the average entry of the last update before the close; `max_qty`: the
//!   largest quantity of its updates; `entry_notional = entry_price × max_qty`, the base of
//!   `return_pct` (net) and `gross_return_pct` (before fees and funding).
//! - `exit_price`: the quantity-weighted price of the fills on the side that reduces the
//!   position, each counted up to the position's size (a flip's fill only for the part that
//!   closed).
//! - `exit`: the order of the last fill before the closing update: its purpose, its `reason`
//!   text, and its rule: for an exit order, the rule of the pair's last exit `Signal` before
//!   it; for a force-close order, the rule of the pair's last `ForceClose` before it.
//!
//! Curves and totals ([`BotHistory`], [`PairHistory`]):
//!
//! - A bot's `equity_curve`: (time, `equity`) of each account-level `EquityUpdated`; its
//!   `totals`: the update's cumulative realized P&L, fees and funding, each time they change.
//! - A pair's `contribution_curve`: (time, net + `unrealized_pnl`) of each `PositionUpdated`;
//!   its `totals` as for the bot, from those updates.
//! - A pair's `prices`: see [`prices`].
//!
//! Percentages are computed in `Decimal` and rounded to 4 decimal places with
//! [`Decimal::round_dp`] (banker's rounding: a midpoint goes to the even digit).

pub mod history;
pub mod prices;
pub mod risk;
mod text;
pub mod trades;

use std::collections::BTreeMap;

use charon_events::payload::order::EquityUpdated;
use charon_events::payload::risk::RiskRule;
use charon_events::{BotId, Envelope, Event, Money, Quantity, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::statistics::{compute, Settings, Statistics, Window};
pub use history::{
    BotHistory, ClosedTrade, CurvePoint, OpenTrade, PairHistory, RunHistory, Totals, TotalsPoint,
    TradeExit,
};
use prices::MarketPrices;
pub use risk::RiskEventRecord;
use risk::RiskLog;
use trades::{trade_pair, TradeTracker};

/// Decimal places percentages are rounded to.
pub(crate) const PCT_DP: u32 = crate::statistics::PCT_DP;

/// Accumulates a run's events into a [`Report`].
#[derive(Debug, Clone)]
pub struct ReportBuilder {
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    events: u64,
    bots: Vec<BotState>,
    /// Position of each bot in `bots`.
    index: BTreeMap<BotId, usize>,
    prices: MarketPrices,
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
            prices: MarketPrices::default(),
        }
    }

    /// Feed every event of a run in log order (inputs too: they advance time, and their bars
    /// and trades give the market prices).
    pub fn observe(&mut self, event: &Envelope) {
        self.events += 1;
        if self.first_ts.is_none() {
            self.first_ts = Some(event.ts);
        }
        self.last_ts = Some(event.ts);
        self.prices.observe(event);
        let Some(&at) = event.bot.as_ref().and_then(|bot| self.index.get(bot)) else {
            return;
        };
        self.bots[at].observe(event);
    }

    /// The report with statistics computed under the default [`Settings`].
    pub fn finish(&self) -> Report {
        self.finish_with(&Settings::default())
    }

    /// The report, its statistics computed over the whole run under `settings`.
    pub fn finish_with(&self, settings: &Settings) -> Report {
        let history = self.history();
        let statistics = compute(&history, Window::ALL, settings);
        let bots = self
            .bots
            .iter()
            .zip(statistics.bots)
            .map(|(state, stats)| state.report(stats))
            .collect();
        Report {
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            events: self.events,
            settings: *settings,
            bots,
            history,
        }
    }

    /// What the run's events gave so far, for [`crate::statistics::compute`].
    pub fn history(&self) -> RunHistory {
        RunHistory {
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            bots: self
                .bots
                .iter()
                .map(|bot| bot.history(&self.prices))
                .collect(),
        }
    }
}

/// A run's report; see the [module docs](self) for every number's definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub events: u64,
    /// What the statistics were computed with.
    pub settings: Settings,
    pub bots: Vec<BotReport>,
    /// The curves and trades the statistics were computed from.
    pub history: RunHistory,
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
    /// The bot's risk events in log order, the first [`risk::RISK_EVENTS_KEPT`] of them.
    pub risk_events: Vec<RiskEventRecord>,
    /// Risk events beyond those listed.
    pub risk_events_omitted: u64,
    /// Over the whole run.
    pub statistics: Statistics,
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
    /// Over the whole run.
    pub statistics: Statistics,
}

#[derive(Debug, Clone)]
struct BotState {
    bot: BotId,
    initial: Money,
    equity_curve: Vec<CurvePoint>,
    totals: Vec<TotalsPoint>,
    closed_trades: Vec<ClosedTrade>,
    signals: u64,
    orders: u64,
    fills: u64,
    vetoes: BTreeMap<String, u64>,
    blocked: BTreeMap<String, u64>,
    alerts: u64,
    rejections: u64,
    force_closes: u64,
    risk: RiskLog,
    pairs: BTreeMap<Symbol, PairState>,
}

impl BotState {
    fn new(bot: BotId, initial: Money) -> Self {
        Self {
            bot,
            initial,
            equity_curve: Vec::new(),
            totals: Vec::new(),
            closed_trades: Vec::new(),
            signals: 0,
            orders: 0,
            fills: 0,
            vetoes: BTreeMap::new(),
            blocked: BTreeMap::new(),
            alerts: 0,
            rejections: 0,
            force_closes: 0,
            risk: RiskLog::default(),
            pairs: BTreeMap::new(),
        }
    }

    fn observe(&mut self, event: &Envelope) {
        self.risk.observe(event);
        if let Some(pair) = trade_pair(event) {
            let bot = self.bot;
            let state = self
                .pairs
                .entry(pair)
                .or_insert_with(|| PairState::new(bot, pair));
            if let Some(trade) = state.observe(event) {
                self.closed_trades.push(trade);
            }
        }
        match &event.payload {
            Event::EquityUpdated(update) if event.pair.is_none() => {
                self.equity_updated(event.ts, update);
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

    fn equity_updated(&mut self, ts: Timestamp, update: &EquityUpdated) {
        self.equity_curve.push(CurvePoint {
            ts,
            value: update.equity,
        });
        let totals = Totals {
            realized_pnl: update.realized_pnl,
            fees: update.fees,
            funding: update.funding,
        };
        push_changed(&mut self.totals, ts, totals);
    }

    fn history(&self, prices: &MarketPrices) -> BotHistory {
        BotHistory {
            bot: self.bot,
            initial_capital: self.initial,
            equity_curve: self.equity_curve.clone(),
            totals: self.totals.clone(),
            closed_trades: self.closed_trades.clone(),
            open_trades: self
                .pairs
                .values()
                .filter_map(|pair| pair.tracker.open_trade())
                .collect(),
            pairs: self
                .pairs
                .iter()
                .map(|(&pair, state)| PairHistory {
                    pair,
                    contribution_curve: state.contribution_curve.clone(),
                    totals: state.totals.clone(),
                    prices: prices.of(pair).to_vec(),
                })
                .collect(),
        }
    }

    /// The bot's report, `stats` being its statistics over the whole run.
    fn report(&self, stats: crate::statistics::BotStatistics) -> BotReport {
        let totals = self.totals.last().map(|p| p.totals).unwrap_or_default();
        let final_equity = self.equity_curve.last().map_or(self.initial, |p| p.value);
        let overall = stats.statistics;
        let pairs = self
            .pairs
            .iter()
            .zip(stats.pairs)
            .map(|((&pair, state), stats)| state.report(pair, stats.statistics))
            .collect();
        BotReport {
            bot: self.bot,
            initial_capital: self.initial,
            final_equity,
            return_pct: overall.returns.total_return_pct.unwrap_or_default(),
            max_drawdown_pct: overall.drawdown.max_pct,
            realized_pnl: totals.realized_pnl,
            fees: totals.fees,
            funding: totals.funding,
            trades: overall.trades.trades,
            wins: overall.trades.wins,
            losses: overall.trades.losses,
            win_rate_pct: overall.trades.win_rate_pct,
            signals: self.signals,
            orders: self.orders,
            fills: self.fills,
            vetoes: self.vetoes.clone(),
            blocked: self.blocked.clone(),
            alerts: self.alerts,
            rejections: self.rejections,
            force_closes: self.force_closes,
            risk_events: self.risk.events().0.to_vec(),
            risk_events_omitted: self.risk.events().1,
            statistics: overall,
            pairs,
        }
    }
}

/// Appends `totals` at `ts` unless they equal the last point's (or zero, before any);
/// whether it did.
fn push_changed(series: &mut Vec<TotalsPoint>, ts: Timestamp, totals: Totals) -> bool {
    let last = series.last().map_or_else(Totals::default, |p| p.totals);
    let changed = last != totals;
    if changed {
        series.push(TotalsPoint { ts, totals });
    }
    changed
}

#[derive(Debug, Clone)]
struct PairState {
    tracker: TradeTracker,
    contribution_curve: Vec<CurvePoint>,
    totals: Vec<TotalsPoint>,
    /// The net of the last point of `totals` (zero before any).
    net: Decimal,
}

impl PairState {
    fn new(bot: BotId, pair: Symbol) -> Self {
        Self {
            tracker: TradeTracker::new(bot, pair),
            contribution_curve: Vec::new(),
            totals: Vec::new(),
            net: Decimal::ZERO,
        }
    }

    /// Takes an event of the bot for this pair; returns the trade it closed, if any.
    fn observe(&mut self, event: &Envelope) -> Option<ClosedTrade> {
        let closed = self.tracker.observe(event);
        if let Event::PositionUpdated(update) = &event.payload {
            let totals = self.tracker.totals();
            // Most updates only mark the position: the net is recomputed when it changes.
            if push_changed(&mut self.totals, event.ts, totals) {
                self.net = totals.net();
            }
            self.contribution_curve.push(CurvePoint {
                ts: event.ts,
                value: Money(self.net + update.unrealized_pnl.0),
            });
        }
        closed
    }

    fn report(&self, pair: Symbol, statistics: Statistics) -> PairReport {
        let totals = self.tracker.totals();
        PairReport {
            pair,
            trades: statistics.trades.trades,
            wins: statistics.trades.wins,
            losses: statistics.trades.losses,
            net_pnl: Money(totals.net()),
            fees: totals.fees,
            funding: totals.funding,
            open_qty: self.tracker.open_qty(),
            statistics,
        }
    }
}

/// The rule's snake_case name, as it appears in JSON.
fn rule_name(rule: RiskRule) -> String {
    json_name(&rule)
}

/// The name a unit enum variant has in JSON (`stop_loss`, `force_close`, `long`).
pub fn json_name<T: Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests;
