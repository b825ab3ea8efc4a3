//! The RiskSupervisor of one bot: risk layer 3, the bot's limits, which override the strategy.
//! Every order intent of the bot's pairs passes it and is approved or vetoed, and it can
//! force-close a pair at any event. Every decision is an event carrying a
//! [`RiskCheck`] (rule, threshold, observed value, message), so a replay shows exactly why.
//! Risk limits always win: a pair that ignored a limit still has its order refused here.
//!
//! Layer 3 also includes the bot's overall take-profit and stop-loss (`take_profit_pct`,
//! `stop_loss_pct` of `[[bot]]`), which the Bot actor enforces (`actors/src/bot`) because they
//! stop the bot's lifecycle; everything else lives here, configured by `[bot.risk]`
//! ([`RiskConfig`], docs/CONFIG.md). A limit that is not configured is not enforced.
//!
//! # Decisions on intents, in the order they are checked
//!
//! "Entries" below are `Entry` and `AddOn` intents; the first rule that refuses one vetoes it
//! with that rule's check, and an intent no rule refuses is approved at its full quantity.
//!
//! 1. **Exits are never vetoed**: an intent that only reduces a position (`reduce_only`, exit
//!    or force-close purpose) is approved as it is, whatever else holds (halts included).
//! 2. **One pair, one bot** ([`RiskRule::PairOwnership`]): an intent for a pair the bot does
//!    not own is vetoed.
//! 3. **Bot not running** ([`RiskRule::BotNotRunning`]): no entries unless the bot is running
//!    (it starts created; paused and stopped bots only exit).
//! 4. **Daily-loss kill switch engaged** ([`RiskRule::DailyLoss`], below).
//! 5. **Consecutive-loss pause** ([`RiskRule::ConsecutiveLosses`], below).
//! 6. **API-error pause** ([`RiskRule::ApiErrors`], below).
//! 7. **Pair max drawdown** ([`RiskRule::PairMaxDrawdown`]): the pair's P&L (realized +
//!    unrealized − fees + funding, from the Exchange's position updates) is tracked against its
//!    peak; when it has fallen from the peak by `max_drawdown_pct` percent **of the bot's
//!    initial capital**, an open position is force-closed (once) and the pair's entries are
//!    vetoed from then on (for the rest of the run).
//! 8. **Pair leverage** ([`RiskRule::MaxLeverage`]): at most the pair's configured leverage.
//! 9. **Bot leverage** ([`RiskRule::MaxLeverage`], `max_leverage`): at most the bot-wide cap
//!    as well. An order above it is **vetoed, never reduced**: an approval carries only a
//!    quantity, not a leverage, and shrinking the order instead would silently change the risk
//!    the strategy chose; the pair sees the veto and its reason.
//! 10. **Size cap** ([`RiskRule::PositionSizeCap`]): the position after the order, valued at
//!     the intent's expected price, must not exceed the pair's `sizing.max_position_quote`.
//! 11. **Positions per asset** ([`RiskRule::MaxPositionsPerAsset`],
//!     `max_positions_per_asset`) and 12. **positions in total**
//!     ([`RiskRule::MaxPositionsTotal`], `max_positions_total`), for `Entry` intents only
//!     (add-ons and exits open no new position). The bot's positions are its pairs' open
//!     positions plus every `Entry` approved and not yet done (until its `OrderFilled`,
//!     `OrderRejected`, `OrderCanceled` or `OrderExpired`), each counted once; an entry is
//!     blocked **at** the cap (the count before it equals the cap; `observed` is that count).
//!     The asset of a pair is its symbol without the bot's quote currency (`BTCUSDT` → `BTC`).
//!
//! # Limits watched on the Exchange's reports
//!
//! On each `PositionUpdated` of a pair (the Exchange sends one after every fill, funding
//! payment and bar close while a position is open), in this order:
//!
//! - a position that **opens while the kill switch is engaged** (an entry approved before it)
//!   is force-closed at once with the kill switch's check;
//! - the **pair max drawdown** (above);
//! - **per-trade loss** ([`RiskRule::PerTradeLoss`], `max_trade_loss_pct`): when the open
//!   position's unrealized loss is at least that percent of the bot's latest equity (its last
//!   `EquityUpdated`, the initial capital before any), a `ForceClose` for the pair and an
//!   `Alert { Critical, OutsizedLoss }` are derived, once per position (until the pair is flat
//!   again or flips side). The Pair turns the `ForceClose` into a market exit at the next
//!   price, which closes a position whose stop a gap jumped over;
//! - **consecutive losses** ([`RiskRule::ConsecutiveLosses`], `consecutive_losses` N and
//!   `loss_cooldown`): a trade closes when the pair goes from open to flat (or flips side); its
//!   P&L is the change of the pair's `realized_pnl − fees + funding` since the update before
//!   the one that opened it (the definition of replay's report), and ≤ 0 is a loss. The N-th
//!   loss in a row (across the bot's pairs; a win resets the count) derives
//!   `EntriesPaused { until: now + loss_cooldown }` and an `Alert { Warning, LimitHit }`;
//!   entries are vetoed until then, exits keep running. Trades closing during the pause are
//!   not counted: the count restarts from 0 when entries resume;
//! - **daily loss** ([`RiskRule::DailyLoss`], `daily_loss_pct`, `day_start_hour_utc`): the
//!   day's P&L is the sum over the bot's pairs of the change of `realized + unrealized − fees +
//!   funding` since the trading day began, so realized and unrealized losses both count. When
//!   its loss reaches the percent of the **start-of-day equity** (the bot's latest equity when
//!   the first event of the day reached the supervisor; the initial capital on the first day),
//!   the kill switch engages: `KillSwitchEngaged { until: the next day's start }`, a
//!   `ForceClose` for every open pair of the bot (and for any that opens while engaged), and an
//!   `Alert { Critical, LimitHit }`; entries are vetoed until `until`. It engages at most once
//!   per trading day.
//!
//! Also:
//!
//! - **Slippage** ([`RiskRule::MaxSlippage`], `max_slippage_bps`): each approved intent's side
//!   and expected price are kept by order id; on its `OrderFilled`, the adverse slippage of
//!   the average fill price in basis points (buy: `(fill − expected) / expected · 10⁴`; sell:
//!   `(expected − fill) / expected · 10⁴`) **above** the limit derives a `RiskWarning` and an
//!   `Alert { Warning, Slippage }`. The fill stands; favourable slippage never warns.
//! - **API errors** ([`RiskRule::ApiErrors`], `api_error_threshold` N and optional
//!   `api_error_cooldown`): `ApiError` inputs routed to the bot **or to no bot** count (an
//!   unrouted error is a failure of the venue connection every bot trades through, so it
//!   counts for each); the bot's `OrderFilled` resets the count. The N-th error in a row derives
//!   `EntriesPaused { until: now + cooldown, or None }` and an `Alert { Warning, LimitHit }`.
//!   The pause ends at the cooldown, or earlier on an operator's `ResumeBot` command for the
//!   bot (the only pause an operator lifts; the others resume by themselves). Errors during
//!   the pause are not counted; the count restarts from 0.
//! - **Rejections**: every `OrderRejected` of the bot derives an `Alert { Warning,
//!   OrderFailed }`.
//!
//! # Time
//!
//! Time is event time only (`Envelope::ts`, the cascade's input time). Before handling any
//! event, the supervisor first moves to the event's time: a new trading day takes its
//! start-of-day equity; an engaged kill switch whose `until` has come derives
//! `KillSwitchReleased { start_of_day_equity }`; pauses whose `until` has come derive
//! `EntriesResumed`. So the first event the supervisor sees at or after a deadline ends the
//! halt, before that event itself (often the next intent) is handled. Trading days are
//! computed from the nanosecond timestamp ([`day`]).

mod day;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use charon_events::payload::control::{Alert, AlertKind, BotState, Command, Severity};
use charon_events::payload::external::ApiError;
use charon_events::payload::order::{
    OrderApproved, OrderFilled, OrderIntent, OrderPurpose, OrderRejected, OrderVetoed,
    PositionSide, PositionUpdated, Side,
};
use charon_events::payload::risk::{
    EntriesPaused, EntriesResumed, ForceClose, KillSwitchEngaged, KillSwitchReleased, RiskCheck,
    RiskRule, RiskWarning,
};
use charon_events::{
    ActorId, BotId, ClientOrderId, Envelope, Event, EventKind, Money, Num, Origin, Price, Quantity,
    Symbol, Timestamp,
};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::config::{BotConfig, PairConfig, RiskConfig};
use crate::journal::{Actor, Derived};
use day::TradingDays;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// What the supervisor tracks of one pair.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct PairRisk {
    config: PairConfig,
    /// The base asset: the symbol without the bot's quote currency.
    asset: String,
    /// The side of the open position; `None` when flat.
    side: Option<PositionSide>,
    qty: Quantity,
    /// `realized − fees + funding` of the last update (0 before any): cumulative since the
    /// account opened.
    net: Decimal,
    /// `net + unrealized` of the last update: the pair's whole P&L.
    pnl: Decimal,
    /// The `net` the open trade is measured from.
    trade_baseline: Decimal,
    /// The per-trade loss limit already closed the open position.
    loss_closed: bool,
    /// Peak of the pair's P&L so far (starts at 0: no P&L yet).
    peak_pnl: Decimal,
    /// The pair hit its max drawdown: entries are vetoed.
    halted: bool,
    /// `max_drawdown_pct` of the bot's capital, as an amount.
    limit_fall: Option<Decimal>,
}

/// An approved order not yet done: what slippage and position counts need.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy)]
struct Working {
    side: Side,
    expected: Price,
    /// An `Entry`: a position it will open counts from its approval.
    entry: bool,
}

/// Entries halted by a rule: its check and when the halt ends (`None`: when an operator
/// resumes the bot).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
struct Halt {
    check: RiskCheck,
    until: Option<Timestamp>,
}

impl Halt {
    /// The check an entry is vetoed with while this halt lasts.
    fn veto(&self) -> RiskCheck {
        let until = match self.until {
            Some(until) => format!("until {until}"),
            None => "until an operator resumes the bot".to_string(),
        };
        RiskCheck {
            message: format!("entries are halted {until}: {}", self.check.message),
            ..self.check.clone()
        }
    }
}

/// The trading day in progress, for the daily loss.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy)]
struct Day {
    index: i64,
    start_equity: Money,
    /// The bot's P&L since the day began (the sum of its pairs' P&L changes).
    pnl: Decimal,
}

/// The RiskSupervisor actor of one bot (see the module documentation).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct RiskSupervisor {
    bot: BotId,
    initial_capital: Money,
    limits: RiskConfig,
    pairs: BTreeMap<Symbol, PairRisk>,
    state: BotState,
    /// The bot's latest equity (the initial capital before any update).
    equity: Money,
    /// Approved orders not yet done, kept only when a limit needs them.
    working: BTreeMap<ClientOrderId, Working>,
    track_orders: bool,
    /// The trading-day calendar, when a daily loss limit is configured.
    days: Option<TradingDays>,
    day: Option<Day>,
    kill_switch: Option<Halt>,
    loss_pause: Option<Halt>,
    losses: u32,
    api_pause: Option<Halt>,
    api_errors: u32,
}

impl RiskSupervisor {
    pub fn new(bot: &BotConfig) -> Self {
        let pairs = bot
            .pair
            .iter()
            .map(|pair| {
                let symbol = pair.symbol.as_str();
                let asset = symbol
                    .strip_suffix(bot.quote.as_str())
                    .filter(|base| !base.is_empty())
                    .unwrap_or(symbol);
                let risk = PairRisk {
                    config: pair.clone(),
                    asset: asset.to_string(),
                    side: None,
                    qty: Quantity::ZERO,
                    net: Decimal::ZERO,
                    pnl: Decimal::ZERO,
                    trade_baseline: Decimal::ZERO,
                    loss_closed: false,
                    peak_pnl: Decimal::ZERO,
                    halted: false,
                    limit_fall: None,
                };
                (pair.symbol, risk)
            })
            .collect();
        let limits = bot.risk.clone();
        Self {
            bot: bot.name,
            initial_capital: bot.initial_capital,
            track_orders: limits.max_slippage_bps.is_some()
                || limits.max_positions_per_asset.is_some()
                || limits.max_positions_total.is_some(),
            days: limits
                .daily_loss_pct
                .map(|_| TradingDays::starting_at(limits.day_start_hour())),
            limits,
            pairs,
            state: BotState::Created,
            equity: bot.initial_capital,
            working: BTreeMap::new(),
            day: None,
            kill_switch: None,
            loss_pause: None,
            losses: 0,
            api_pause: None,
            api_errors: 0,
        }
    }

    fn decide(&self, pair: Option<Symbol>, intent: &OrderIntent) -> Result<(), RiskCheck> {
        if is_exit(intent) {
            return Ok(());
        }
        let Some(risk) = pair.and_then(|symbol| self.pairs.get(&symbol)) else {
            return Err(RiskCheck {
                rule: RiskRule::PairOwnership,
                threshold: Num::ZERO,
                observed: Num::ZERO,
                message: format!(
                    "{} is not a pair of bot {}",
                    pair.map_or("no pair".to_string(), |symbol| symbol.to_string()),
                    self.bot
                ),
            });
        };
        if self.state != BotState::Running {
            return Err(RiskCheck {
                rule: RiskRule::BotNotRunning,
                threshold: Num::ZERO,
                observed: Num::ZERO,
                message: format!("bot {} is {:?}: entries are refused", self.bot, self.state),
            });
        }
        let halts = [&self.kill_switch, &self.loss_pause, &self.api_pause];
        if let Some(halt) = halts.into_iter().flatten().next() {
            return Err(halt.veto());
        }
        if risk.halted {
            let limit = risk.config.max_drawdown_pct.unwrap_or_default();
            return Err(RiskCheck {
                rule: RiskRule::PairMaxDrawdown,
                threshold: Num(limit),
                observed: Num(limit),
                message: format!(
                    "{} reached its max drawdown of {limit}%: entries stay blocked",
                    risk.config.symbol
                ),
            });
        }
        if intent.leverage.0 > risk.config.leverage {
            return Err(RiskCheck {
                rule: RiskRule::MaxLeverage,
                threshold: Num(risk.config.leverage),
                observed: Num(intent.leverage.0),
                message: format!(
                    "leverage {} above the pair's {}",
                    intent.leverage, risk.config.leverage
                ),
            });
        }
        if let Some(max) = self.limits.max_leverage {
            if intent.leverage.0 > max {
                return Err(RiskCheck {
                    rule: RiskRule::MaxLeverage,
                    threshold: Num(max),
                    observed: Num(intent.leverage.0),
                    message: format!(
                        "leverage {} above the bot's max_leverage {max}",
                        intent.leverage
                    ),
                });
            }
        }
        if let Some(cap) = risk.config.sizing.max_position_quote {
            let after = risk.qty.0 + intent.qty.0;
            let value = after * intent.expected_price.0;
            if value > cap.0 {
                return Err(RiskCheck {
                    rule: RiskRule::PositionSizeCap,
                    threshold: Num(cap.0),
                    observed: Num(value),
                    message: format!(
                        "the position would be worth {value} at {}, above the cap of {cap}",
                        intent.expected_price
                    ),
                });
            }
        }
        if intent.purpose == OrderPurpose::Entry {
            self.check_position_counts(risk)?;
        }
        Ok(())
    }

    /// The position caps for a new entry on `risk`'s pair.
    fn check_position_counts(&self, risk: &PairRisk) -> Result<(), RiskCheck> {
        if let Some(cap) = self.limits.max_positions_per_asset {
            let count = self.positions(Some(&risk.asset));
            if count >= cap {
                return Err(RiskCheck {
                    rule: RiskRule::MaxPositionsPerAsset,
                    threshold: Num(Decimal::from(cap)),
                    observed: Num(Decimal::from(count)),
                    message: format!(
                        "{count} positions on {} open or pending; the cap per asset is {cap}",
                        risk.asset
                    ),
                });
            }
        }
        if let Some(cap) = self.limits.max_positions_total {
            let count = self.positions(None);
            if count >= cap {
                return Err(RiskCheck {
                    rule: RiskRule::MaxPositionsTotal,
                    threshold: Num(Decimal::from(cap)),
                    observed: Num(Decimal::from(count)),
                    message: format!("{count} positions open or pending; the bot's cap is {cap}",),
                });
            }
        }
        Ok(())
    }

    /// The bot's open positions plus its approved entries not yet done, on `asset` or on all.
    fn positions(&self, asset: Option<&str>) -> u32 {
        let on = |pair: &PairRisk| asset.is_none_or(|asset| pair.asset == asset);
        let open = self
            .pairs
            .values()
            .filter(|pair| pair.side.is_some() && on(pair))
            .count();
        let pending = self
            .working
            .iter()
            .filter(|(id, order)| order.entry && self.pairs.get(&id.pair).is_some_and(on))
            .count();
        u32::try_from(open + pending).unwrap_or(u32::MAX)
    }

    fn on_intent(&mut self, event: &Envelope, intent: &OrderIntent, out: &mut Derived<'_>) {
        let payload = match self.decide(event.pair, intent) {
            Ok(()) => {
                if self.track_orders {
                    let working = Working {
                        side: intent.side,
                        expected: intent.expected_price,
                        entry: intent.purpose == OrderPurpose::Entry && !is_exit(intent),
                    };
                    self.working.insert(intent.order_id, working);
                }
                Event::OrderApproved(OrderApproved {
                    order_id: intent.order_id,
                    qty: intent.qty,
                })
            }
            Err(check) => Event::OrderVetoed(OrderVetoed {
                order_id: intent.order_id,
                check,
            }),
        };
        out.emit(payload, Some(self.bot), event.pair);
    }

    /// Moves to `ts`: a new trading day, and the end of halts whose time has come.
    fn advance(&mut self, ts: Timestamp, out: &mut Derived<'_>) {
        if let Some(days) = self.days {
            let index = days.index(ts);
            match &mut self.day {
                Some(day) if index <= day.index => {}
                day => {
                    *day = Some(Day {
                        index,
                        start_equity: self.equity,
                        pnl: Decimal::ZERO,
                    })
                }
            }
        }
        let due = |halt: &Option<Halt>| {
            halt.as_ref()
                .and_then(|halt| halt.until)
                .is_some_and(|until| until <= ts)
        };
        if due(&self.kill_switch) {
            self.kill_switch = None;
            let start_of_day_equity = self.day.map_or(self.equity, |day| day.start_equity);
            out.emit(
                Event::KillSwitchReleased(KillSwitchReleased {
                    start_of_day_equity,
                }),
                Some(self.bot),
                None,
            );
        }
        if due(&self.loss_pause) {
            self.loss_pause = None;
            self.losses = 0;
            let reason = match self.limits.loss_cooldown {
                Some(cooldown) => format!("the {cooldown} cooldown after losing trades is over"),
                None => "the cooldown after losing trades is over".to_string(),
            };
            self.resume(RiskRule::ConsecutiveLosses, reason, out);
        }
        if due(&self.api_pause) {
            self.api_pause = None;
            self.api_errors = 0;
            let reason = match self.limits.api_error_cooldown {
                Some(cooldown) => format!("the {cooldown} cooldown after API errors is over"),
                None => "the cooldown after API errors is over".to_string(),
            };
            self.resume(RiskRule::ApiErrors, reason, out);
        }
    }

    fn resume(&self, rule: RiskRule, reason: String, out: &mut Derived<'_>) {
        out.emit(
            Event::EntriesResumed(EntriesResumed { rule, reason }),
            Some(self.bot),
            None,
        );
    }

    /// Pauses entries with `check` until `until`, with a warning alert.
    fn pause(&self, check: RiskCheck, until: Option<Timestamp>, out: &mut Derived<'_>) -> Halt {
        let alert = Alert {
            severity: Severity::Warning,
            category: AlertKind::LimitHit,
            message: format!("bot {}: {}", self.bot, check.message),
        };
        out.emit(
            Event::EntriesPaused(EntriesPaused {
                check: check.clone(),
                until,
            }),
            Some(self.bot),
            None,
        );
        out.emit(Event::Alert(alert), Some(self.bot), None);
        Halt { check, until }
    }

    fn force_close(
        &self,
        symbol: Symbol,
        side: PositionSide,
        check: RiskCheck,
        out: &mut Derived<'_>,
    ) {
        out.emit(
            Event::ForceClose(ForceClose { side, check }),
            Some(self.bot),
            Some(symbol),
        );
    }

    fn on_position(
        &mut self,
        ts: Timestamp,
        symbol: Symbol,
        update: &PositionUpdated,
        out: &mut Derived<'_>,
    ) {
        let capital = self.initial_capital.0;
        let equity = self.equity.0;
        let Some(risk) = self.pairs.get_mut(&symbol) else {
            return;
        };
        let was = risk.side;
        let now = update.side.filter(|_| !update.qty.0.is_zero());
        let net = update.realized_pnl.0 - update.fees.0 + update.funding.0;
        let pnl = net + update.unrealized_pnl.0;
        // A trade closes when the pair goes flat or flips; one opens from flat or by a flip.
        let mut closed_trade = None;
        let opened = match (was, now) {
            (None, Some(_)) => {
                risk.trade_baseline = risk.net;
                true
            }
            (Some(_), None) => {
                closed_trade = Some(net - risk.trade_baseline);
                false
            }
            (Some(before), Some(after)) if before != after => {
                closed_trade = Some(net - risk.trade_baseline);
                risk.trade_baseline = net;
                true
            }
            _ => false,
        };
        if opened || now.is_none() {
            risk.loss_closed = false;
        }
        let pnl_change = pnl - risk.pnl;
        risk.side = now;
        risk.qty = update.qty;
        risk.net = net;
        risk.pnl = pnl;
        risk.peak_pnl = risk.peak_pnl.max(pnl);

        // 1. A position opening while the kill switch is engaged is closed at once.
        if let (true, Some(side), Some(halt)) = (opened, now, &self.kill_switch) {
            self.force_close(symbol, side, halt.check.clone(), out);
        }
        let Some(risk) = self.pairs.get_mut(&symbol) else {
            return;
        };
        // 2. The pair's max drawdown.
        let mut drawdown_close = None;
        if let (Some(limit), false) = (risk.config.max_drawdown_pct, risk.halted) {
            // The fall from the peak that is `limit` percent of the capital, computed once.
            let limit_fall = *risk
                .limit_fall
                .get_or_insert_with(|| limit * capital / Decimal::ONE_HUNDRED);
            let fall = risk.peak_pnl - pnl;
            if capital > Decimal::ZERO && fall >= limit_fall {
                let drawdown_pct = fall / capital * Decimal::ONE_HUNDRED;
                risk.halted = true;
                if let Some(side) = now {
                    let check = RiskCheck {
                        rule: RiskRule::PairMaxDrawdown,
                        threshold: Num(limit),
                        observed: Num(drawdown_pct.round_dp(4)),
                        message: format!(
                            "{symbol} is down {}% of the bot's capital from its best; limit {limit}%",
                            drawdown_pct.round_dp(2)
                        ),
                    };
                    drawdown_close = Some((side, check));
                }
            }
        }
        // 3. The per-trade loss.
        let mut loss_close = None;
        if let (Some(pct), Some(side), false) =
            (self.limits.max_trade_loss_pct, now, risk.loss_closed)
        {
            let loss = -update.unrealized_pnl.0;
            if loss > Decimal::ZERO && loss >= pct * equity / Decimal::ONE_HUNDRED {
                risk.loss_closed = true;
                let observed = share_pct(loss, equity);
                let check = RiskCheck {
                    rule: RiskRule::PerTradeLoss,
                    threshold: Num(pct),
                    observed: Num(observed),
                    message: format!(
                        "{symbol} {} is losing {} unrealized, {}% of the bot's equity {}; limit {pct}%",
                        side_name(side),
                        cents(loss),
                        observed.round_dp(2),
                        cents(equity)
                    ),
                };
                loss_close = Some((side, check));
            }
        }
        if let Some((side, check)) = drawdown_close {
            let alert = Alert {
                severity: Severity::Warning,
                category: AlertKind::LimitHit,
                message: format!("bot {}: force close: {}", self.bot, check.message),
            };
            self.force_close(symbol, side, check, out);
            out.emit(Event::Alert(alert), Some(self.bot), Some(symbol));
        }
        if let Some((side, check)) = loss_close {
            let alert = Alert {
                severity: Severity::Critical,
                category: AlertKind::OutsizedLoss,
                message: format!("bot {}: force close: {}", self.bot, check.message),
            };
            self.force_close(symbol, side, check, out);
            out.emit(Event::Alert(alert), Some(self.bot), Some(symbol));
        }
        // 4. Consecutive losses.
        if let Some(trade_pnl) = closed_trade {
            self.on_trade_closed(ts, symbol, trade_pnl, out);
        }
        // 5. The daily loss.
        if let Some(day) = &mut self.day {
            day.pnl += pnl_change;
            self.check_daily_loss(out);
        }
    }

    fn on_trade_closed(
        &mut self,
        ts: Timestamp,
        symbol: Symbol,
        trade_pnl: Decimal,
        out: &mut Derived<'_>,
    ) {
        let (Some(limit), Some(cooldown)) =
            (self.limits.consecutive_losses, self.limits.loss_cooldown)
        else {
            return;
        };
        if self.loss_pause.is_some() {
            return;
        }
        if trade_pnl > Decimal::ZERO {
            self.losses = 0;
            return;
        }
        self.losses += 1;
        if self.losses < limit {
            return;
        }
        let until = after(ts, cooldown.0);
        let check = RiskCheck {
            rule: RiskRule::ConsecutiveLosses,
            threshold: Num(Decimal::from(limit)),
            observed: Num(Decimal::from(self.losses)),
            message: format!(
                "{} losing trades in a row (the last on {symbol}, {}); entries paused for {cooldown}",
                self.losses,
                cents(trade_pnl)
            ),
        };
        self.losses = 0;
        self.loss_pause = Some(self.pause(check, Some(until), out));
    }

    fn check_daily_loss(&mut self, out: &mut Derived<'_>) {
        let (Some(pct), Some(days), Some(day)) = (self.limits.daily_loss_pct, self.days, self.day)
        else {
            return;
        };
        if self.kill_switch.is_some() {
            return;
        }
        let loss = -day.pnl;
        let base = day.start_equity.0;
        if loss <= Decimal::ZERO || loss < pct * base / Decimal::ONE_HUNDRED {
            return;
        }
        let until = days.start(day.index + 1);
        let observed = share_pct(loss, base);
        let check = RiskCheck {
            rule: RiskRule::DailyLoss,
            threshold: Num(pct),
            observed: Num(observed),
            message: format!(
                "bot {} lost {} since the trading day began, {}% of its start-of-day equity {}; \
                 limit {pct}%: every position is closed",
                self.bot,
                cents(loss),
                observed.round_dp(2),
                cents(day.start_equity.0)
            ),
        };
        out.emit(
            Event::KillSwitchEngaged(KillSwitchEngaged {
                check: check.clone(),
                until,
            }),
            Some(self.bot),
            None,
        );
        for (symbol, risk) in &self.pairs {
            if let Some(side) = risk.side {
                self.force_close(*symbol, side, check.clone(), out);
            }
        }
        let alert = Alert {
            severity: Severity::Critical,
            category: AlertKind::LimitHit,
            message: format!(
                "bot {}: daily loss kill switch until {until}: {}",
                self.bot, check.message
            ),
        };
        out.emit(Event::Alert(alert), Some(self.bot), None);
        self.kill_switch = Some(Halt {
            check,
            until: Some(until),
        });
    }

    fn on_filled(&mut self, event: &Envelope, filled: &OrderFilled, out: &mut Derived<'_>) {
        self.api_errors = 0;
        let order_id = filled.fill.order_id;
        let Some(order) = self.working.remove(&order_id) else {
            return;
        };
        let Some(max) = self.limits.max_slippage_bps else {
            return;
        };
        let expected = order.expected.0;
        if expected <= Decimal::ZERO {
            return;
        }
        let fill = filled.avg_price.0;
        let adverse = match order.side {
            Side::Buy => fill - expected,
            Side::Sell => expected - fill,
        };
        let exact = adverse * Decimal::from(10_000) / expected;
        if exact <= max {
            return;
        }
        // Rounded up to 8 places, so that the value recorded is above the limit too.
        let bps = exact
            .round_dp_with_strategy(8, RoundingStrategy::AwayFromZero)
            .normalize();
        let check = RiskCheck {
            rule: RiskRule::MaxSlippage,
            threshold: Num(max),
            observed: Num(bps),
            message: format!(
                "{order_id} ({}) filled at {} against an expected {}: {} bps of slippage, above {max}",
                side_name_order(order.side),
                filled.avg_price,
                order.expected,
                bps
            ),
        };
        let alert = Alert {
            severity: Severity::Warning,
            category: AlertKind::Slippage,
            message: format!("bot {}: {}", self.bot, check.message),
        };
        out.emit(
            Event::RiskWarning(RiskWarning { check }),
            Some(self.bot),
            event.pair,
        );
        out.emit(Event::Alert(alert), Some(self.bot), event.pair);
    }

    fn on_rejected(&mut self, event: &Envelope, rejected: &OrderRejected, out: &mut Derived<'_>) {
        self.working.remove(&rejected.order_id);
        let code = rejected
            .code
            .map_or(String::new(), |code| format!(" (code {code})"));
        let alert = Alert {
            severity: Severity::Warning,
            category: AlertKind::OrderFailed,
            message: format!(
                "bot {}: order {} rejected{code}: {}",
                self.bot, rejected.order_id, rejected.reason
            ),
        };
        out.emit(Event::Alert(alert), Some(self.bot), event.pair);
    }

    fn on_api_error(&mut self, ts: Timestamp, error: &ApiError, out: &mut Derived<'_>) {
        let Some(limit) = self.limits.api_error_threshold else {
            return;
        };
        if self.api_pause.is_some() {
            return;
        }
        self.api_errors += 1;
        if self.api_errors < limit {
            return;
        }
        let cooldown = self.limits.api_error_cooldown;
        let until = cooldown.map(|cooldown| after(ts, cooldown.0));
        let resume = match cooldown {
            Some(cooldown) => format!("for {cooldown} or until an operator resumes the bot"),
            None => "until an operator resumes the bot".to_string(),
        };
        let check = RiskCheck {
            rule: RiskRule::ApiErrors,
            threshold: Num(Decimal::from(limit)),
            observed: Num(Decimal::from(self.api_errors)),
            message: format!(
                "{} exchange API errors in a row (the last from {} {}: {}); entries paused {resume}",
                self.api_errors, error.venue, error.endpoint, error.message
            ),
        };
        self.api_errors = 0;
        self.api_pause = Some(self.pause(check, until, out));
    }

    fn on_command(&mut self, command: &Command, operator: &str, out: &mut Derived<'_>) {
        if matches!(command, Command::ResumeBot) && self.api_pause.take().is_some() {
            self.api_errors = 0;
            let reason = format!("operator {operator} resumed the bot after API errors");
            self.resume(RiskRule::ApiErrors, reason, out);
        }
    }
}

/// An intent that only reduces a position.
fn is_exit(intent: &OrderIntent) -> bool {
    intent.reduce_only
        || matches!(
            intent.purpose,
            OrderPurpose::Exit | OrderPurpose::ForceClose
        )
}

/// `part` as a percentage of `whole`, to 4 places; all of it (100) when `whole` is not
/// positive (nothing is left to lose).
fn share_pct(part: Decimal, whole: Decimal) -> Decimal {
    if whole <= Decimal::ZERO {
        return Decimal::ONE_HUNDRED;
    }
    (part * Decimal::ONE_HUNDRED / whole).round_dp(4)
}

/// An amount for a message, to the cent.
fn cents(amount: Decimal) -> Decimal {
    amount.round_dp(2).normalize()
}

/// `seconds` after `ts`.
fn after(ts: Timestamp, seconds: u32) -> Timestamp {
    Timestamp::from_nanos(
        ts.nanos()
            .saturating_add(i64::from(seconds).saturating_mul(NANOS_PER_SECOND)),
    )
}

fn side_name(side: PositionSide) -> &'static str {
    match side {
        PositionSide::Long => "long",
        PositionSide::Short => "short",
    }
}

fn side_name_order(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

impl Actor for RiskSupervisor {
    crate::snapshot_whole_state!();

    fn id(&self) -> ActorId {
        ActorId::RiskSupervisor(self.bot)
    }

    fn kinds(&self) -> Option<&'static [EventKind]> {
        Some(&[
            EventKind::OrderIntent,
            EventKind::PositionUpdated,
            EventKind::BotStateChanged,
            EventKind::EquityUpdated,
            EventKind::OrderFilled,
            EventKind::OrderRejected,
            EventKind::OrderCanceled,
            EventKind::OrderExpired,
            EventKind::ApiError,
            EventKind::OperatorCommand,
        ])
    }

    fn concerns(&self, event: &Envelope) -> bool {
        match &event.payload {
            Event::OrderIntent(_)
            | Event::PositionUpdated(_)
            | Event::BotStateChanged(_)
            | Event::EquityUpdated(_)
            | Event::OrderFilled(_)
            | Event::OrderRejected(_)
            | Event::OrderCanceled(_)
            | Event::OrderExpired(_) => event.bot == Some(self.bot),
            // An API error routed to no bot is the shared venue connection's: every bot's.
            Event::ApiError(_) => {
                event.origin == Origin::Input && event.bot.is_none_or(|bot| bot == self.bot)
            }
            Event::OperatorCommand(_) => {
                event.origin == Origin::Input && event.bot == Some(self.bot)
            }
            _ => false,
        }
    }

    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
        self.advance(event.ts, out);
        match &event.payload {
            Event::OrderIntent(intent) => self.on_intent(event, intent, out),
            Event::PositionUpdated(update) => {
                if let Some(symbol) = event.pair {
                    self.on_position(event.ts, symbol, update, out);
                }
            }
            Event::BotStateChanged(changed) if event.pair.is_none() => self.state = changed.state,
            Event::EquityUpdated(update) if event.pair.is_none() => self.equity = update.equity,
            Event::OrderFilled(filled) => self.on_filled(event, filled, out),
            Event::OrderRejected(rejected) => self.on_rejected(event, rejected, out),
            Event::OrderCanceled(canceled) => {
                self.working.remove(&canceled.order_id);
            }
            Event::OrderExpired(expired) => {
                self.working.remove(&expired.order_id);
            }
            Event::ApiError(error) => self.on_api_error(event.ts, error, out),
            Event::OperatorCommand(command) => {
                self.on_command(&command.command, &command.operator, out)
            }
            _ => {}
        }
    }
}
