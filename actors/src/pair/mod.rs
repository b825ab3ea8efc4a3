//! The Pair actor: one traded symbol of one bot. It turns market data into bars of its
//! timeframe, evaluates its strategy at each bar's close, and owns the position's state
//! (flat, entering, open, adding, exiting), asking for orders through `OrderIntent`s that
//! the RiskSupervisor must approve.
//!
//! - **Bars.** Input bars of the timeframe are evaluated as they come (a pair whose
//!   configuration leaves the timeframe out takes its first input bar's interval); shorter
//!   input bars are resampled ([`BarResampler`]) and trades aggregated ([`BarAggregator`]) into bars of
//!   the timeframe, each **derived as a `Bar` event** before it is evaluated, so the log shows
//!   what the strategy saw. Once an input bar of the symbol has been seen, trades no longer
//!   build bars (the data has bars; trades then only move stops).
//! - **Exits before rules.** Every market input (a bar of any length, or a trade read as a
//!   bar of one price) is checked against the position's effective stop and its take-profit
//!   ([`exits`]: the exit rules of risk layer 1 combine into those two levels) with
//!   [`Intrabar::exit`] before anything else; a level reached derives a `Signal` naming the rule
//!   and a `StopMarket` or `TakeProfitMarket` intent that the Exchange fills against the same
//!   input. Levels a closed bar moved apply from the next market input on (with
//!   `trailing = "high_first"`, each input's favourable extreme moves them first, before its
//!   adverse extreme is checked). The intrabar conventions ([`Intrabar`]) say where a level
//!   fills and which wins a bar that reaches both. When a fill
//!   opens or adds to the position, the input it filled at is checked at once (an entry at a
//!   bar's open can be stopped inside that bar), except with same-bar-close fills, whose
//!   range lies before the fill; when an add-on is refused instead, the input it waited on is
//!   checked then.
//! - **Rules** are evaluated at each closed bar of the timeframe: an entry rule fires only
//!   when flat and the bot is running (a short entry only on a perpetual); when open, the
//!   template's exit rule, then the signal flip (the opposite entry rule), then the time stop
//!   close at market, each after a `Signal` naming it. One order is in flight at a time;
//!   while it is, rules are still evaluated (indicators must see every bar) but nothing is
//!   asked.
//! - **Gates** (layer 2, [`Gates`]) see every closed bar of the timeframe and every funding
//!   rate of the symbol; an entry signal they block is recorded as `signal` then
//!   `signal_blocked`, and no order is asked. They apply to entries, not to add-ons (an
//!   add-on grows a trade the gates already let in; the size cap and the RiskSupervisor still
//!   apply).
//! - **Entry on the exit's bar** (`entry_on_exit_bar`, Freqtrade): a bar evaluated while an
//!   exit is in flight (a stop hit on it, or an exit signal filling at its open) keeps its
//!   entry signal; once the exit has filled and the bot's equity counts it, the entry is asked
//!   as if the bar had closed flat. The next market input drops it.
//! - **Add-ons**: when open, after each further move of `trigger_move_pct` in the position's
//!   favour from the last fill, add `size_pct` of the first entry's size, within the cap.
//! - **Force closes** (from the Bot or the RiskSupervisor) become a market exit at once, or
//!   as soon as an order in flight has filled.
//! - **Order ids** are `(pair, input seq, leg)`: the same inputs give the same ids.

pub mod exits;
mod sizing;

#[cfg(test)]
mod tests;

use charon_events::payload::control::BotState;
use charon_events::payload::market::{Bar, Interval};
use charon_events::payload::order::{
    OrderIntent, OrderPurpose, OrderType, PositionSide, Side, TimeInForce,
};
use charon_events::payload::risk::{RiskCheck, RiskRule, Signal, SignalAction, SignalSource};
use charon_events::payload::{control::Alert, control::AlertKind, control::Severity};
use charon_events::{
    ActorId, BotId, ClientOrderId, Envelope, Event, EventKind, Money, Num, Origin, Price, Quantity,
    Rate, Seq, Symbol, Timestamp,
};

use crate::bars::{nearest_f64, BarAggregator, BarResampler};
use crate::config::{FillAt, MarketKind, PairConfig};
use crate::exchange::{ExitKind, ExitLevels, Intrabar, TrailingUpdate};
use crate::gates::Gates;
use crate::indicators::Candle;
use crate::journal::{Actor, Derived};
use crate::strategy::rules::{Fired, StrategyRules};

use exits::{rule_name, ExitRules, Level};
pub use sizing::{add_on_qty, moved_by_pct, per_trade_qty, within_cap, QTY_DP};

/// Where the pair's position stands. `Entering`, `Adding` and `Exiting` hold the order in
/// flight.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionState {
    Flat,
    Entering(ClientOrderId),
    Open,
    Adding(ClientOrderId),
    Exiting(ClientOrderId),
}

/// The position as the Exchange last reported it.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq)]
struct Held {
    side: PositionSide,
    qty: Quantity,
    avg_entry: Price,
    /// The effective stop ([`ExitRules::stop`]).
    stop: Option<Price>,
    /// The rule the effective stop belongs to.
    stop_rule: RiskRule,
    target: Option<Price>,
    /// The levels as the nearest doubles (±∞ when absent; `None` when a level has no
    /// correctly rounded fast conversion), for [`Held::clear_of`].
    levels_f64: Option<(f64, f64)>,
}

impl Held {
    fn new(
        side: PositionSide,
        qty: Quantity,
        avg_entry: Price,
        stop: Option<Level>,
        target: Option<Price>,
    ) -> Held {
        // Absent levels are never reached: beyond every price on the side they would be.
        let (below, above) = (f64::NEG_INFINITY, f64::INFINITY);
        let (stop_absent, target_absent) = match side {
            PositionSide::Long => (below, above),
            PositionSide::Short => (above, below),
        };
        let stop_price = stop.map(|level| level.price);
        Held {
            side,
            qty,
            avg_entry,
            stop: stop_price,
            stop_rule: stop.map_or(RiskRule::StopLoss, |level| level.rule),
            target,
            levels_f64: Option::zip(
                stop_price.map_or(Some(stop_absent), |level| nearest_f64(level.0)),
                target.map_or(Some(target_absent), |level| nearest_f64(level.0)),
            ),
        }
    }

    /// Whether `bar` reaches the stop (exactly).
    fn stop_reached(&self, bar: &Bar) -> bool {
        self.stop.is_some_and(|stop| match self.side {
            PositionSide::Long => bar.low <= stop,
            PositionSide::Short => bar.high >= stop,
        })
    }

    /// Whether `bar` certainly reaches neither level, judged in `f64`: most bars do, and
    /// comparing decimals of different scales costs several times more. Exact, not a
    /// heuristic: conversion to the nearest double never reverses an order (`a ≤ b` gives
    /// `f(a) ≤ f(b)`), so a strict comparison of the doubles implies the same of the decimals;
    /// anything closer is left to [`Intrabar::exit`]'s exact comparison.
    fn clear_of(&self, bar: &Bar) -> bool {
        let (Some((stop, target)), Some(low), Some(high)) = (
            self.levels_f64,
            nearest_f64(bar.low.0),
            nearest_f64(bar.high.0),
        ) else {
            return false;
        };
        match self.side {
            PositionSide::Long => low > stop && high < target,
            PositionSide::Short => high < stop && low > target,
        }
    }
}

/// What a Pair is built from.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct PairSetup {
    pub bot: BotId,
    pub config: PairConfig,
    pub timeframe: Interval,
    /// The configuration left the timeframe out: the first input bar's interval replaces
    /// `timeframe`, which then only applies to bars built from trades.
    #[serde(default)]
    pub timeframe_from_data: bool,
    pub rules: StrategyRules,
    /// The bot's equity before any update arrives (its initial capital).
    pub initial_equity: Money,
    pub fill_at: FillAt,
    /// The taker fee as a fraction (0.0005 for 0.05%): the break-even stop covers two.
    pub taker_fee: Rate,
    /// Where stops and targets fill inside a bar, and when trailing levels move.
    #[serde(default)]
    pub intrabar: Intrabar,
    /// An entry signal at the close of the bar whose input closed the position enters once
    /// the exit has filled (Freqtrade), instead of waiting for the next signal.
    #[serde(default)]
    pub entry_on_exit_bar: bool,
}

/// The Pair actor (see the module documentation).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Pair {
    bot: BotId,
    symbol: Symbol,
    config: PairConfig,
    timeframe: Interval,
    /// The timeframe is the data's: the first input bar sets it (see [`PairSetup`]).
    #[serde(default)]
    timeframe_from_data: bool,
    rules: StrategyRules,
    /// Layer 2: checks between an entry signal and its order.
    gates: Gates,
    fill_at: FillAt,
    /// Absent from snapshots taken before it existed: those runs used the defaults.
    #[serde(default)]
    intrabar: Intrabar,
    #[serde(default)]
    entry_on_exit_bar: bool,
    /// The rules that fired at the close of a bar evaluated while an exit was in flight, and
    /// that bar: entered from once the exit fills, until the next market input.
    #[serde(default)]
    entry_after_exit: Option<(Fired, Bar)>,
    from_trades: BarAggregator,
    from_bars: BarResampler,
    /// An input bar of the symbol has been seen: trades no longer build bars.
    input_bars: bool,
    /// Input bars that cannot make the timeframe have been reported once.
    mismatch_reported: bool,
    /// The latest market input, as a bar: what stops are checked and fills happen against.
    reference: Option<Bar>,
    state: PositionState,
    held: Option<Held>,
    /// The exit rules and their state for the position.
    exits: ExitRules,
    /// When the entry order filled (its event's time), until the position is known.
    entry_ts: Option<Timestamp>,
    first_entry_qty: Quantity,
    adds: u32,
    last_fill_price: Price,
    /// An order of ours filled; the next position update checks the input it filled at.
    check_after_fill: bool,
    /// The add-on level: (last fill price, side, level).
    add_trigger: Option<(Price, PositionSide, Price)>,
    /// A force close that arrived while an order was in flight.
    pending_close: Option<RiskCheck>,
    equity: Money,
    running: bool,
    /// (input seq, next leg) of the order ids issued in the current cascade.
    legs: (Seq, u16),
}

impl Pair {
    pub fn new(setup: PairSetup) -> Result<Pair, crate::bars::BarError> {
        Ok(Pair {
            bot: setup.bot,
            symbol: setup.config.symbol,
            from_trades: BarAggregator::new(setup.timeframe)?,
            from_bars: BarResampler::new(setup.timeframe)?,
            exits: ExitRules::new(
                &setup.config.exits,
                setup.taker_fee,
                setup.intrabar.take_profit,
            ),
            gates: Gates::new(&setup.config.gates),
            entry_ts: None,
            timeframe: setup.timeframe,
            timeframe_from_data: setup.timeframe_from_data,
            config: setup.config,
            rules: setup.rules,
            fill_at: setup.fill_at,
            intrabar: setup.intrabar,
            entry_on_exit_bar: setup.entry_on_exit_bar,
            entry_after_exit: None,
            input_bars: false,
            mismatch_reported: false,
            reference: None,
            state: PositionState::Flat,
            held: None,
            first_entry_qty: Quantity::ZERO,
            adds: 0,
            last_fill_price: Price::ZERO,
            check_after_fill: false,
            add_trigger: None,
            pending_close: None,
            equity: setup.initial_equity,
            running: false,
            legs: (0, 0),
        })
    }

    pub fn state(&self) -> PositionState {
        self.state
    }

    fn emit(&self, out: &mut Derived<'_>, payload: Event) {
        out.emit(payload, Some(self.bot), Some(self.symbol));
    }

    fn next_order_id(&mut self, out: &Derived<'_>) -> ClientOrderId {
        let cause = out.cause();
        if self.legs.0 != cause {
            self.legs = (cause, 0);
        }
        let leg = self.legs.1;
        self.legs.1 = leg.saturating_add(1);
        ClientOrderId {
            pair: self.symbol,
            cause,
            leg,
        }
    }

    fn on_input_bar(&mut self, bar: &Bar, out: &mut Derived<'_>) {
        if !bar.closed {
            return;
        }
        self.reference = Some(*bar);
        self.entry_after_exit = None;
        if self.timeframe_from_data && !self.input_bars && bar.interval != self.timeframe {
            // No timeframe was configured: the strategy evaluates at the data's own interval.
            match BarResampler::new(bar.interval) {
                Ok(resampler) => {
                    self.timeframe = bar.interval;
                    self.from_bars = resampler;
                }
                Err(error) => self.report_bad_data(error.to_string(), out),
            }
        }
        self.input_bars = true;
        self.fold_closed_bar();
        self.check_exits(bar, false, out);
        if bar.interval == self.timeframe {
            self.evaluate(bar, out);
            return;
        }
        match self.from_bars.on_bar(bar) {
            Ok(completed) => {
                for bar in completed.into_iter().flatten() {
                    self.emit(out, Event::Bar(bar));
                    self.evaluate(&bar, out);
                }
            }
            Err(error) => self.report_bad_data(error.to_string(), out),
        }
    }

    fn on_trade(&mut self, event: &Envelope, price: Price, qty: Quantity, out: &mut Derived<'_>) {
        let tick = Bar {
            interval: Interval(0),
            open_time: event.ts,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: qty,
            trades: Some(1),
            closed: true,
        };
        self.reference = Some(tick);
        self.entry_after_exit = None;
        self.fold_closed_bar();
        self.check_exits(&tick, false, out);
        if self.input_bars {
            return;
        }
        match self.from_trades.on_trade(event.ts, price, qty) {
            Ok(Some(bar)) => {
                self.emit(out, Event::Bar(bar));
                self.evaluate(&bar, out);
            }
            Ok(None) => {}
            Err(error) => self.report_bad_data(error.to_string(), out),
        }
    }

    /// Data the pair cannot use is reported once, not per event.
    fn report_bad_data(&mut self, message: String, out: &mut Derived<'_>) {
        if self.mismatch_reported {
            return;
        }
        self.mismatch_reported = true;
        let alert = Alert {
            severity: Severity::Warning,
            category: AlertKind::Connectivity,
            message: format!(
                "{}: market data unusable for {} bars: {message}",
                self.symbol, self.timeframe
            ),
        };
        self.emit(out, Event::Alert(alert));
    }

    /// A stop or target reached on `bar` derives the exit. `entry_bar`: the position's entry
    /// filled at this bar's open.
    fn check_exits(&mut self, bar: &Bar, entry_bar: bool, out: &mut Derived<'_>) {
        if self.state != PositionState::Open {
            return;
        }
        let Some(mut held) = self.held else { return };
        let mut trailed = false;
        if self.intrabar.trailing == TrailingUpdate::HighFirst && !held.stop_reached(bar) {
            let favourable = match held.side {
                PositionSide::Long => bar.high,
                PositionSide::Short => bar.low,
            };
            if self.exits.favourable_first(favourable) {
                self.refresh_levels();
                let Some(moved) = self.held else { return };
                trailed = moved.stop != held.stop;
                held = moved;
            }
        }
        if held.clear_of(bar) {
            return;
        }
        let levels = ExitLevels {
            stop: held.stop,
            stop_moved: held.stop_rule != RiskRule::StopLoss,
            target: held.target,
        };
        let Some((mut price, kind)) = self.intrabar.exit(held.side, bar, levels) else {
            return;
        };
        // Freqtrade's entry candle: a trailing stop its own high moved fills at the worst
        // realistic price, within the bar.
        if entry_bar && trailed && kind == ExitKind::StopLoss {
            if let Some(worst) = self
                .exits
                .entry_bar_trailing(bar.open)
                .filter(|_| held.stop_rule == RiskRule::TrailingStop)
            {
                price = worst.clamp(bar.low, bar.high);
                held.stop = Some(price);
            }
        }
        let (order_type, rule, level) = match kind {
            ExitKind::StopLoss => {
                let stop = held.stop.unwrap_or(price);
                (
                    OrderType::StopMarket { trigger: stop },
                    held.stop_rule,
                    stop,
                )
            }
            ExitKind::TakeProfit => {
                let target = held.target.unwrap_or(price);
                (
                    OrderType::TakeProfitMarket { trigger: target },
                    RiskRule::TakeProfit,
                    target,
                )
            }
        };
        let name = rule_name(rule);
        let pct = match rule {
            RiskRule::StopLoss => self.exits.stop_loss_pct(),
            RiskRule::TakeProfit => self.exits.take_profit_pct(),
            _ => None,
        };
        let reason = match pct {
            Some(pct) => format!("exit: {name} {pct}% at {level}"),
            None => format!("exit: {name} at {level}"),
        };
        self.signal(exit_action(held.side), name, out);
        self.exit(order_type, price, OrderPurpose::Exit, reason, out);
    }

    /// The bar of the timeframe that closed before this market input moves the exit levels now.
    fn fold_closed_bar(&mut self) {
        if self.exits.on_input() {
            self.refresh_levels();
        }
    }

    /// The position's levels as the exit rules now give them.
    fn refresh_levels(&mut self) {
        if let Some(held) = self.held {
            self.held = Some(Held::new(
                held.side,
                held.qty,
                held.avg_entry,
                self.exits.stop(),
                self.exits.target(),
            ));
        }
    }

    fn evaluate(&mut self, bar: &Bar, out: &mut Derived<'_>) {
        let candle = Candle::from(bar);
        let fired = self.rules.on_bar(&candle);
        if !self.gates.is_empty() {
            self.gates.on_candle(&candle);
        }
        // A bar closed earlier in this input's cascade (a resampler catching up) is folded in
        // before this one counts.
        self.fold_closed_bar();
        self.exits.bar_closed(bar, &candle);
        match self.state {
            PositionState::Flat if self.running => self.maybe_enter(fired, bar, out),
            PositionState::Open => {
                let Some(held) = self.held else { return };
                let action = exit_action(held.side);
                let (exit, rule, flip, opposite) = match held.side {
                    PositionSide::Long => (
                        fired.long_exit,
                        "long.exit",
                        fired.short_entry,
                        "short.entry",
                    ),
                    PositionSide::Short => (
                        fired.short_exit,
                        "short.exit",
                        fired.long_entry,
                        "long.entry",
                    ),
                };
                let (signal, reason) = if exit {
                    (rule, format!("exit: {} {rule}", self.rules.name()))
                } else if flip && self.exits.signal_flip() {
                    let name = rule_name(RiskRule::SignalFlip);
                    let reason = format!("exit: {name} {} {opposite}", self.rules.name());
                    (name, reason)
                } else if let Some(limit) = self.exits.time_stop(out.ts()) {
                    let name = rule_name(RiskRule::TimeStop);
                    (name, format!("exit: {name} {limit}"))
                } else {
                    if self.running {
                        self.maybe_add(held, bar, out);
                    }
                    return;
                };
                self.signal(action, signal, out);
                self.exit(
                    OrderType::Market,
                    bar.close,
                    OrderPurpose::Exit,
                    reason,
                    out,
                );
            }
            PositionState::Exiting(_)
                if self.entry_on_exit_bar && (fired.long_entry || fired.short_entry) =>
            {
                self.entry_after_exit = Some((fired, *bar));
            }
            _ => {}
        }
    }

    /// With `entry_on_exit_bar`: the exit of the bar evaluated while it was in flight has
    /// filled (the bot's equity now counts it), so that bar's entry signal is acted on.
    fn enter_after_exit(&mut self, out: &mut Derived<'_>) {
        if self.state != PositionState::Flat || !self.running {
            return;
        }
        if let Some((fired, bar)) = self.entry_after_exit.take() {
            self.maybe_enter(fired, &bar, out);
        }
    }

    fn signal(&self, action: SignalAction, rule: &str, out: &mut Derived<'_>) {
        let signal = Signal {
            action,
            source: SignalSource::Strategy,
            rule: rule.to_string(),
        };
        self.emit(out, Event::Signal(signal));
    }

    fn maybe_enter(&mut self, fired: Fired, bar: &Bar, out: &mut Derived<'_>) {
        let (side, action, rule) = if fired.long_entry {
            (Side::Buy, SignalAction::EnterLong, "long.entry")
        } else if fired.short_entry && self.config.market == MarketKind::Perpetual {
            (Side::Sell, SignalAction::EnterShort, "short.entry")
        } else {
            return;
        };
        self.signal(action, rule, out);
        let position_side = match side {
            Side::Buy => PositionSide::Long,
            Side::Sell => PositionSide::Short,
        };
        if let Some(check) = self.gates.check(position_side, bar.close) {
            let blocked = charon_events::payload::risk::SignalBlocked { action, check };
            self.emit(out, Event::SignalBlocked(blocked));
            return;
        }
        let sizing = &self.config.sizing;
        let qty = per_trade_qty(sizing.per_trade, self.equity, bar.close)
            .and_then(|qty| within_cap(qty, Quantity::ZERO, bar.close, sizing.max_position_quote));
        let Some(qty) = qty else {
            self.blocked_by_size(action, bar.close, out);
            return;
        };
        let reason = format!("entry: {} {rule}", self.rules.name());
        let id = self.intent(
            side,
            OrderType::Market,
            qty,
            bar.close,
            OrderPurpose::Entry,
            reason,
            out,
        );
        self.state = PositionState::Entering(id);
    }

    /// An entry that sizes to nothing (the cap is full, or a size too small to trade) is
    /// recorded as a blocked signal rather than silently dropped.
    fn blocked_by_size(&self, action: SignalAction, price: Price, out: &mut Derived<'_>) {
        let cap = self.config.sizing.max_position_quote.unwrap_or(Money::ZERO);
        let check = RiskCheck {
            rule: RiskRule::PositionSizeCap,
            threshold: Num(cap.0),
            observed: Num(price.0),
            message: format!(
                "{}: the entry sizes to nothing at {price} (per trade {:?}, cap {cap})",
                self.symbol, self.config.sizing.per_trade
            ),
        };
        let blocked = charon_events::payload::risk::SignalBlocked { action, check };
        self.emit(out, Event::SignalBlocked(blocked));
    }

    fn maybe_add(&mut self, held: Held, bar: &Bar, out: &mut Derived<'_>) {
        let Some(add_on) = &self.config.add_on else {
            return;
        };
        if self.adds >= add_on.max_adds {
            return;
        }
        let (move_pct, side) = match held.side {
            PositionSide::Long => (add_on.trigger_move_pct, Side::Buy),
            PositionSide::Short => (-add_on.trigger_move_pct, Side::Sell),
        };
        // The level depends only on the last fill: computed once per fill, not per bar.
        let trigger = match self.add_trigger {
            Some((from, side, trigger)) if from == self.last_fill_price && side == held.side => {
                trigger
            }
            _ => {
                let Some(trigger) = moved_by_pct(self.last_fill_price, move_pct) else {
                    return;
                };
                self.add_trigger = Some((self.last_fill_price, held.side, trigger));
                trigger
            }
        };
        let reached = match held.side {
            PositionSide::Long => bar.close >= trigger,
            PositionSide::Short => bar.close <= trigger,
        };
        if !reached {
            return;
        }
        let qty = add_on_qty(self.first_entry_qty, add_on.size_pct).and_then(|qty| {
            within_cap(
                qty,
                held.qty,
                bar.close,
                self.config.sizing.max_position_quote,
            )
        });
        let Some(qty) = qty else { return };
        let reason = format!("add-on {} of {}", self.adds + 1, add_on.max_adds);
        let id = self.intent(
            side,
            OrderType::Market,
            qty,
            bar.close,
            OrderPurpose::AddOn,
            reason,
            out,
        );
        self.state = PositionState::Adding(id);
    }

    /// Closes the whole position with a reduce-only order.
    fn exit(
        &mut self,
        order_type: OrderType,
        expected: Price,
        purpose: OrderPurpose,
        reason: String,
        out: &mut Derived<'_>,
    ) {
        let Some(held) = self.held else { return };
        let side = match held.side {
            PositionSide::Long => Side::Sell,
            PositionSide::Short => Side::Buy,
        };
        let id = self.intent(side, order_type, held.qty, expected, purpose, reason, out);
        self.state = PositionState::Exiting(id);
    }

    #[allow(clippy::too_many_arguments)]
    fn intent(
        &mut self,
        side: Side,
        order_type: OrderType,
        qty: Quantity,
        expected_price: Price,
        purpose: OrderPurpose,
        reason: String,
        out: &mut Derived<'_>,
    ) -> ClientOrderId {
        let order_id = self.next_order_id(out);
        let reduce_only = matches!(purpose, OrderPurpose::Exit | OrderPurpose::ForceClose);
        let intent = OrderIntent {
            order_id,
            side,
            order_type,
            time_in_force: TimeInForce::Gtc,
            qty,
            expected_price,
            leverage: Rate(self.config.leverage),
            reduce_only,
            purpose,
            reason,
        };
        self.emit(out, Event::OrderIntent(intent));
        order_id
    }

    fn on_filled(&mut self, order_id: ClientOrderId, price: Price, qty: Quantity, at: Timestamp) {
        match self.state {
            PositionState::Entering(id) if id == order_id => {
                self.state = PositionState::Open;
                self.first_entry_qty = qty;
                self.adds = 0;
                self.entry_ts = Some(at);
            }
            PositionState::Adding(id) if id == order_id => {
                self.state = PositionState::Open;
                self.adds += 1;
            }
            PositionState::Exiting(id) if id == order_id => {
                // The position update that follows says whether anything is left.
                self.state = PositionState::Open;
            }
            _ => return,
        }
        self.last_fill_price = price;
        self.check_after_fill = true;
    }

    /// A vetoed or rejected order leaves the position as it was. A refused add-on hands the
    /// input it waited on back to the stop check it skipped (a refused exit does not: it
    /// would be asked again at once, and refused again).
    fn on_refused(&mut self, order_id: ClientOrderId, out: &mut Derived<'_>) {
        let was = self.state;
        self.state = match self.state {
            PositionState::Entering(id) if id == order_id => PositionState::Flat,
            PositionState::Adding(id) | PositionState::Exiting(id) if id == order_id => {
                PositionState::Open
            }
            other => other,
        };
        if self.state == PositionState::Flat {
            self.pending_close = None;
        }
        if matches!(was, PositionState::Adding(id) if id == order_id) {
            if let Some(check) = self.pending_close.take() {
                self.force_close(check, out);
            } else if let Some(reference) = self.reference {
                self.check_exits(&reference, false, out);
            }
        }
    }

    fn on_position(
        &mut self,
        update: &charon_events::payload::order::PositionUpdated,
        at: Timestamp,
        out: &mut Derived<'_>,
    ) {
        let Some(side) = update.side.filter(|_| !update.qty.0.is_zero()) else {
            self.held = None;
            self.exits.closed();
            self.entry_ts = None;
            if self.state == PositionState::Open {
                self.state = PositionState::Flat;
            }
            self.check_after_fill = false;
            self.pending_close = None;
            return;
        };
        let mut opened = false;
        match &mut self.held {
            // A mark-to-market update (or a partial reduction): same entry, same levels.
            Some(held) if held.side == side && held.avg_entry == update.avg_entry => {
                held.qty = update.qty;
            }
            held => {
                if held.is_some_and(|held| held.side == side) {
                    // An add-on moved the average entry.
                    self.exits.entry_changed(update.avg_entry);
                } else {
                    opened = true;
                    let entered = self.entry_ts.take().unwrap_or(at);
                    self.exits.opened(side, update.avg_entry, entered);
                }
                self.held = Some(Held::new(
                    side,
                    update.qty,
                    update.avg_entry,
                    self.exits.stop(),
                    self.exits.target(),
                ));
            }
        }
        if std::mem::take(&mut self.check_after_fill) && self.state == PositionState::Open {
            if let Some(check) = self.pending_close.take() {
                self.force_close(check, out);
                return;
            }
            if self.fill_at == FillAt::NextBarOpen {
                if let Some(reference) = self.reference {
                    self.check_exits(&reference, opened, out);
                }
            }
        }
    }

    fn force_close(&mut self, check: RiskCheck, out: &mut Derived<'_>) {
        match self.state {
            PositionState::Open => {
                let expected = self.reference.map_or(self.last_fill_price, |bar| bar.close);
                let reason = format!("force close: {}", check.message);
                self.exit(
                    OrderType::Market,
                    expected,
                    OrderPurpose::ForceClose,
                    reason,
                    out,
                );
            }
            PositionState::Entering(_) | PositionState::Adding(_) => {
                self.pending_close = Some(check);
            }
            PositionState::Flat | PositionState::Exiting(_) => {}
        }
    }

    fn ours(&self, event: &Envelope) -> bool {
        event.pair == Some(self.symbol) && event.bot == Some(self.bot)
    }
}

/// The signal action that closes a position of `side`.
fn exit_action(side: PositionSide) -> SignalAction {
    match side {
        PositionSide::Long => SignalAction::ExitLong,
        PositionSide::Short => SignalAction::ExitShort,
    }
}

impl Actor for Pair {
    crate::snapshot_whole_state!();

    fn id(&self) -> ActorId {
        ActorId::Pair(self.symbol)
    }

    fn kinds(&self) -> Option<&'static [EventKind]> {
        Some(&[
            EventKind::Trade,
            EventKind::Bar,
            EventKind::FundingRate,
            EventKind::MarkPrice,
            EventKind::OrderFilled,
            EventKind::OrderRejected,
            EventKind::OrderVetoed,
            EventKind::PositionUpdated,
            EventKind::ForceClose,
            EventKind::EquityUpdated,
            EventKind::BotStateChanged,
        ])
    }

    fn concerns(&self, event: &Envelope) -> bool {
        match &event.payload {
            Event::Trade(_) | Event::Bar(_) | Event::FundingRate(_) | Event::MarkPrice(_) => {
                event.origin == Origin::Input && event.pair == Some(self.symbol)
            }
            Event::OrderFilled(_)
            | Event::OrderRejected(_)
            | Event::OrderVetoed(_)
            | Event::PositionUpdated(_)
            | Event::ForceClose(_) => self.ours(event),
            Event::EquityUpdated(_) | Event::BotStateChanged(_) => {
                event.bot == Some(self.bot) && event.pair.is_none()
            }
            _ => false,
        }
    }

    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
        match &event.payload {
            Event::Trade(trade) => self.on_trade(event, trade.price, trade.qty, out),
            Event::Bar(bar) => self.on_input_bar(bar, out),
            Event::FundingRate(funding) => self.gates.on_funding(funding.rate),
            Event::MarkPrice(mark) => {
                if let Some(rate) = mark.funding_rate {
                    self.gates.on_funding(rate);
                }
            }
            Event::OrderFilled(filled) => self.on_filled(
                filled.fill.order_id,
                filled.fill.price,
                filled.cum_qty,
                event.ts,
            ),
            Event::OrderRejected(rejected) => self.on_refused(rejected.order_id, out),
            Event::OrderVetoed(vetoed) => self.on_refused(vetoed.order_id, out),
            Event::PositionUpdated(update) => self.on_position(update, event.ts, out),
            Event::ForceClose(close) => self.force_close(close.check.clone(), out),
            Event::EquityUpdated(equity) => {
                self.equity = equity.equity;
                self.enter_after_exit(out);
            }
            Event::BotStateChanged(changed) => self.running = changed.state == BotState::Running,
            _ => {}
        }
    }
}
