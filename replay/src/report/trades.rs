//! Following one bot's pair from its events into trades: when a trade opens and closes, what
//! it realized, paid and received, its entry and exit prices and why it closed.
//!
//! [`TradeTracker`] takes the events of one bot and pair in log order: `PositionUpdated`
//! opens and closes trades (rules in [`crate::report`]); fills give the exit price; the
//! order intents, exit signals and `ForceClose` events before a fill say why it closed.
//! [`TradeLedger`] routes a whole log's events to a tracker per bot and pair.

use std::collections::BTreeMap;

use charon_events::payload::order::{Fill, OrderPurpose, PositionSide, PositionUpdated, Side};
use charon_events::payload::risk::{RiskRule, SignalAction};
use charon_events::{
    BotId, ClientOrderId, Envelope, Event, Money, Price, Quantity, Symbol, Timestamp,
};
use rust_decimal::Decimal;

use super::history::{ClosedTrade, OpenTrade, Totals, TradeExit};
use super::{rule_name, PCT_DP};
use crate::statistics::percent_of;

/// Orders remembered per pair while waiting for their fills; older ones are dropped first.
/// A pair has at most a few orders in flight.
const ORDERS_KEPT: usize = 16;

/// One bot's pair as its trades are followed.
#[derive(Debug, Clone)]
pub struct TradeTracker {
    bot: BotId,
    pair: Symbol,
    open: Option<Opened>,
    /// The last position update's cumulative amounts (zero before any).
    totals: Totals,
    /// The last position update's quantity and unrealized P&L.
    qty: Quantity,
    unrealized: Money,
    /// Orders seen and not yet done, with what an exit by them would be put down to.
    orders: Vec<(ClientOrderId, TradeExit)>,
    /// The rule of the latest exit signal not yet claimed by an exit order.
    exit_signal: Option<String>,
    /// The rule of the latest `ForceClose` not yet claimed by a force-close order.
    force_close: Option<RiskRule>,
    /// Why the latest fill happened; claimed by the update that closes a trade (or opens one,
    /// so an entry's fill is never taken for an exit).
    last_fill: Option<TradeExit>,
}

/// The open trade.
#[derive(Debug, Clone)]
struct Opened {
    side: PositionSide,
    at: Timestamp,
    /// The cumulative amounts the trade is measured from.
    baseline: Totals,
    entry_price: Price,
    max_qty: Quantity,
    /// Sums over the fills that reduced the position: quantity and `price × quantity`
    /// (`None` once a product does not fit a decimal).
    exit_qty: Decimal,
    exit_value: Option<Decimal>,
}

impl TradeTracker {
    pub fn new(bot: BotId, pair: Symbol) -> Self {
        Self {
            bot,
            pair,
            open: None,
            totals: Totals::default(),
            qty: Quantity::ZERO,
            unrealized: Money::ZERO,
            orders: Vec::new(),
            exit_signal: None,
            force_close: None,
            last_fill: None,
        }
    }

    /// Takes one event of this bot and pair; returns the trade it closed, if any.
    pub fn observe(&mut self, event: &Envelope) -> Option<ClosedTrade> {
        match &event.payload {
            Event::PositionUpdated(update) => return self.position_updated(event.ts, update),
            Event::OrderFilled(filled) => {
                self.fill(&filled.fill);
                self.forget(filled.fill.order_id);
            }
            Event::OrderPartiallyFilled(partial) => self.fill(&partial.fill),
            Event::Signal(signal) => {
                if matches!(
                    signal.action,
                    SignalAction::ExitLong | SignalAction::ExitShort
                ) {
                    self.exit_signal = Some(signal.rule.clone());
                }
            }
            Event::ForceClose(close) => self.force_close = Some(close.check.rule),
            Event::OrderIntent(intent) => {
                let rule = match intent.purpose {
                    OrderPurpose::Exit => self.exit_signal.take(),
                    OrderPurpose::ForceClose => self.force_close.take().map(rule_name),
                    OrderPurpose::Entry | OrderPurpose::AddOn => None,
                };
                if self.orders.len() == ORDERS_KEPT {
                    self.orders.remove(0);
                }
                self.orders.push((
                    intent.order_id,
                    TradeExit {
                        purpose: Some(intent.purpose),
                        rule,
                        reason: Some(intent.reason.clone()),
                    },
                ));
            }
            Event::OrderVetoed(veto) => self.forget(veto.order_id),
            Event::OrderRejected(rejected) => self.forget(rejected.order_id),
            Event::OrderCanceled(canceled) => self.forget(canceled.order_id),
            Event::OrderExpired(expired) => self.forget(expired.order_id),
            _ => {}
        }
        None
    }

    /// The trade open now, if any.
    pub fn open_trade(&self) -> Option<OpenTrade> {
        let open = self.open.as_ref()?;
        let since = self.totals.since(&open.baseline);
        Some(OpenTrade {
            bot: self.bot,
            pair: self.pair,
            side: open.side,
            opened_at: open.at,
            entry_price: open.entry_price,
            qty: self.qty,
            max_qty: open.max_qty,
            realized_pnl: since.realized_pnl,
            fees: since.fees,
            funding: since.funding,
            net_pnl: Money(since.net()),
            unrealized_pnl: self.unrealized,
        })
    }

    /// The last position update's quantity while a trade is open, else 0.
    pub fn open_qty(&self) -> Quantity {
        if self.open.is_some() {
            self.qty
        } else {
            Quantity::ZERO
        }
    }

    /// The last position update's cumulative amounts.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    fn forget(&mut self, order_id: ClientOrderId) {
        self.orders.retain(|(id, _)| *id != order_id);
    }

    fn fill(&mut self, fill: &Fill) {
        self.last_fill = Some(
            self.orders
                .iter()
                .find(|(id, _)| *id == fill.order_id)
                .map(|(_, exit)| exit.clone())
                .unwrap_or_default(),
        );
        let Some(open) = &mut self.open else { return };
        let reduces = matches!(
            (open.side, fill.side),
            (PositionSide::Long, Side::Sell) | (PositionSide::Short, Side::Buy)
        );
        if !reduces {
            return;
        }
        // A fill larger than the position flips it: only the part that closed counts here.
        let closed = fill.qty.0.min(self.qty.0);
        open.exit_qty += closed;
        open.exit_value = open.exit_value.and_then(|sum| {
            fill.price
                .0
                .checked_mul(closed)
                .and_then(|v| sum.checked_add(v))
        });
    }

    fn position_updated(&mut self, ts: Timestamp, update: &PositionUpdated) -> Option<ClosedTrade> {
        let totals = Totals {
            realized_pnl: update.realized_pnl,
            fees: update.fees,
            funding: update.funding,
        };
        let now_open = update.side.filter(|_| !update.qty.0.is_zero());
        let mut closed = None;
        match (self.open.as_mut(), now_open) {
            (None, Some(side)) => {
                self.last_fill = None;
                self.open = Some(Opened::new(side, ts, self.totals, update));
            }
            (Some(_), None) => {
                let exit = self.last_fill.take().unwrap_or_default();
                closed = self.close(ts, totals, exit);
            }
            (Some(open), Some(side)) if open.side != side => {
                let exit = self.last_fill.take().unwrap_or_default();
                closed = self.close(ts, totals, exit);
                // The flip's fill (its fee, what it realized) belongs to the trade it closed.
                self.open = Some(Opened::new(side, ts, totals, update));
            }
            (Some(open), Some(_)) => {
                open.entry_price = update.avg_entry;
                open.max_qty = open.max_qty.max(update.qty);
            }
            (None, None) => {}
        }
        self.totals = totals;
        self.qty = update.qty;
        self.unrealized = update.unrealized_pnl;
        closed
    }

    fn close(&mut self, ts: Timestamp, totals: Totals, exit: TradeExit) -> Option<ClosedTrade> {
        let open = self.open.take()?;
        let over = totals.since(&open.baseline);
        let net = over.net();
        let entry_notional = open.entry_price.0.checked_mul(open.max_qty.0);
        let return_on = |amount: Decimal| {
            entry_notional
                .filter(|notional| *notional > Decimal::ZERO)
                .and_then(|notional| percent_of(amount, notional))
                .map(|pct| pct.round_dp(PCT_DP))
        };
        let exit_price = open
            .exit_value
            .filter(|_| open.exit_qty > Decimal::ZERO)
            .and_then(|value| value.checked_div(open.exit_qty))
            .map(Price);
        Some(ClosedTrade {
            bot: self.bot,
            pair: self.pair,
            side: open.side,
            opened_at: open.at,
            closed_at: ts,
            duration_ns: ts.nanos().saturating_sub(open.at.nanos()),
            entry_price: open.entry_price,
            exit_price,
            max_qty: open.max_qty,
            entry_notional: Money(entry_notional.unwrap_or_default()),
            realized_pnl: over.realized_pnl,
            fees: over.fees,
            funding: over.funding,
            net_pnl: Money(net),
            return_pct: return_on(net),
            gross_return_pct: return_on(over.realized_pnl.0),
            exit,
        })
    }
}

impl Opened {
    fn new(side: PositionSide, at: Timestamp, baseline: Totals, update: &PositionUpdated) -> Self {
        Self {
            side,
            at,
            baseline,
            entry_price: update.avg_entry,
            max_qty: update.qty,
            exit_qty: Decimal::ZERO,
            exit_value: Some(Decimal::ZERO),
        }
    }
}

/// The trades of a whole log, every bot and pair: each event goes to the tracker of its bot
/// and pair (a fill or order event without a pair key, to the pair its order id names).
#[derive(Debug, Clone, Default)]
pub struct TradeLedger {
    trackers: BTreeMap<(BotId, Symbol), TradeTracker>,
}

impl TradeLedger {
    /// Takes one event; returns the trade it closed, if any.
    pub fn observe(&mut self, event: &Envelope) -> Option<ClosedTrade> {
        let bot = event.bot?;
        let pair = trade_pair(event)?;
        self.trackers
            .entry((bot, pair))
            .or_insert_with(|| TradeTracker::new(bot, pair))
            .observe(event)
    }

    /// The trades open now, by bot and pair.
    pub fn open_trades(&self) -> Vec<OpenTrade> {
        self.trackers
            .values()
            .filter_map(TradeTracker::open_trade)
            .collect()
    }
}

/// The pair an event of a trade belongs to: its `pair` key, else the pair its order id names.
pub fn trade_pair(event: &Envelope) -> Option<Symbol> {
    if event.pair.is_some() {
        return event.pair;
    }
    let order_id = match &event.payload {
        Event::OrderFilled(filled) => filled.fill.order_id,
        Event::OrderPartiallyFilled(partial) => partial.fill.order_id,
        Event::OrderIntent(intent) => intent.order_id,
        Event::OrderVetoed(veto) => veto.order_id,
        Event::OrderRejected(rejected) => rejected.order_id,
        Event::OrderCanceled(canceled) => canceled.order_id,
        Event::OrderExpired(expired) => expired.order_id,
        _ => return None,
    };
    Some(order_id.pair)
}
