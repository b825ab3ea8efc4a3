//! The RiskSupervisor of one bot: every order intent of the bot's pairs passes it and is
//! approved or vetoed with the rule, threshold and observed value, and it can force-close a
//! pair at any event. Risk limits always win: a pair that ignored a limit still has its
//! order refused here.
//!
//! Rules enforced now (the risk issue adds the rest of DESIGN.md's list):
//!
//! - **Exits are never vetoed**: an intent that only reduces a position (`reduce_only`, exit
//!   or force-close purpose) is approved as it is, whatever else holds.
//! - **One pair, one bot** ([`RiskRule::PairOwnership`]): an intent for a pair the bot does
//!   not own is vetoed.
//! - **Bot not running** ([`RiskRule::BotNotRunning`]): no entries or add-ons unless the bot
//!   is running (it starts created; paused and stopped bots only exit).
//! - **Leverage** ([`RiskRule::MaxLeverage`]): at most the pair's configured leverage.
//! - **Size cap** ([`RiskRule::PositionSizeCap`]): the position after the order, valued at the
//!   intent's expected price, must not exceed `sizing.max_position_quote`.
//! - **Pair max drawdown** ([`RiskRule::PairMaxDrawdown`]): the pair's P&L (realized +
//!   unrealized − fees + funding, from the Exchange's position updates) is tracked against its
//!   peak; when it has fallen from the peak by `max_drawdown_pct` percent **of the bot's
//!   initial capital**, an open position is force-closed and the pair's entries are vetoed
//!   from then on (for the rest of the run).

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use charon_events::payload::control::BotState;
use charon_events::payload::order::{
    OrderApproved, OrderIntent, OrderPurpose, OrderVetoed, PositionSide, PositionUpdated,
};
use charon_events::payload::risk::{ForceClose, RiskCheck, RiskRule};
use charon_events::{ActorId, BotId, Envelope, Event, EventKind, Money, Num, Quantity, Symbol};
use rust_decimal::Decimal;

use crate::config::{BotConfig, PairConfig};
use crate::journal::{Actor, Derived};

/// What the supervisor tracks of one pair.
#[derive(Debug, Clone)]
struct PairRisk {
    config: PairConfig,
    side: Option<PositionSide>,
    qty: Quantity,
    /// Peak of the pair's P&L so far (starts at 0: no P&L yet).
    peak_pnl: Decimal,
    /// The pair hit its max drawdown: entries are vetoed.
    halted: bool,
    /// `max_drawdown_pct` of the bot's capital, as an amount.
    limit_fall: Option<Decimal>,
}

/// The RiskSupervisor actor of one bot (see the module documentation).
#[derive(Debug, Clone)]
pub struct RiskSupervisor {
    bot: BotId,
    initial_capital: Money,
    pairs: BTreeMap<Symbol, PairRisk>,
    state: BotState,
}

impl RiskSupervisor {
    pub fn new(bot: &BotConfig) -> Self {
        let pairs = bot
            .pair
            .iter()
            .map(|pair| {
                let risk = PairRisk {
                    config: pair.clone(),
                    side: None,
                    qty: Quantity::ZERO,
                    peak_pnl: Decimal::ZERO,
                    halted: false,
                    limit_fall: None,
                };
                (pair.symbol, risk)
            })
            .collect();
        Self {
            bot: bot.name,
            initial_capital: bot.initial_capital,
            pairs,
            state: BotState::Created,
        }
    }

    fn decide(&self, pair: Option<Symbol>, intent: &OrderIntent) -> Result<(), RiskCheck> {
        let exit = intent.reduce_only
            || matches!(
                intent.purpose,
                OrderPurpose::Exit | OrderPurpose::ForceClose
            );
        if exit {
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
        Ok(())
    }

    fn on_intent(&self, event: &Envelope, intent: &OrderIntent, out: &mut Derived<'_>) {
        let payload = match self.decide(event.pair, intent) {
            Ok(()) => Event::OrderApproved(OrderApproved {
                order_id: intent.order_id,
                qty: intent.qty,
            }),
            Err(check) => Event::OrderVetoed(OrderVetoed {
                order_id: intent.order_id,
                check,
            }),
        };
        out.emit(payload, Some(self.bot), event.pair);
    }

    fn on_position(&mut self, symbol: Symbol, update: &PositionUpdated, out: &mut Derived<'_>) {
        let capital = self.initial_capital.0;
        let Some(risk) = self.pairs.get_mut(&symbol) else {
            return;
        };
        risk.side = update.side;
        risk.qty = update.qty;
        let pnl =
            update.realized_pnl.0 + update.unrealized_pnl.0 - update.fees.0 + update.funding.0;
        risk.peak_pnl = risk.peak_pnl.max(pnl);
        let (Some(limit), false) = (risk.config.max_drawdown_pct, risk.halted) else {
            return;
        };
        // The fall from the peak that is `limit` percent of the capital, computed once.
        let limit_fall = *risk
            .limit_fall
            .get_or_insert_with(|| limit * capital / Decimal::ONE_HUNDRED);
        let fall = risk.peak_pnl - pnl;
        if capital <= Decimal::ZERO || fall < limit_fall {
            return;
        }
        let drawdown_pct = fall / capital * Decimal::ONE_HUNDRED;
        risk.halted = true;
        if let Some(side) = risk.side.filter(|_| !risk.qty.0.is_zero()) {
            let check = RiskCheck {
                rule: RiskRule::PairMaxDrawdown,
                threshold: Num(limit),
                observed: Num(drawdown_pct.round_dp(4)),
                message: format!(
                    "{symbol} is down {}% of the bot's capital from its best; limit {limit}%",
                    drawdown_pct.round_dp(2)
                ),
            };
            out.emit(
                Event::ForceClose(ForceClose { side, check }),
                Some(self.bot),
                Some(symbol),
            );
        }
    }
}

impl Actor for RiskSupervisor {
    fn id(&self) -> ActorId {
        ActorId::RiskSupervisor(self.bot)
    }

    fn kinds(&self) -> Option<&'static [EventKind]> {
        Some(&[
            EventKind::OrderIntent,
            EventKind::PositionUpdated,
            EventKind::BotStateChanged,
        ])
    }

    fn concerns(&self, event: &Envelope) -> bool {
        match &event.payload {
            Event::OrderIntent(_) | Event::PositionUpdated(_) | Event::BotStateChanged(_) => {
                event.bot == Some(self.bot)
            }
            _ => false,
        }
    }

    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
        match &event.payload {
            Event::OrderIntent(intent) => self.on_intent(event, intent, out),
            Event::PositionUpdated(update) => {
                if let Some(symbol) = event.pair {
                    self.on_position(symbol, update, out);
                }
            }
            Event::BotStateChanged(changed) if event.pair.is_none() => self.state = changed.state,
            _ => {}
        }
    }
}
