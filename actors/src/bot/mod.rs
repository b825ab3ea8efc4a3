//! The Bot actor: a bot's lifecycle (created → running ⇄ paused → stopping → stopped), its
//! equity as the Exchange reports it, and its overall take-profit and stop-loss.
//!
//! - **Start.** A bot is created by its configuration and starts running on the first input
//!   of the run (a backtest's first market event, a daemon's first event after start-up), so
//!   the start is an event in the log like everything else.
//! - **Take-profit / stop-loss.** On each equity update, equity at or above
//!   `initial · (1 + take_profit_pct/100)`, or at or below `initial · (1 − stop_loss_pct/100)`,
//!   stops the bot: it moves to `stopping`, derives a `ForceClose` for every open pair, and
//!   becomes `stopped` once every pair is flat (at once if none is open). A pair that opens
//!   later (its entry was already approved) is force-closed as it opens, the bot `stopping`
//!   again until it is flat.
//! - **Operator commands** addressed to the bot: pause (no entries; exits keep working),
//!   resume, start, and stop (optionally closing every position).

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use charon_events::payload::control::{
    Alert, AlertKind, BotState, BotStateChanged, Command, Severity,
};
use charon_events::payload::order::{EquityUpdated, PositionSide};
use charon_events::payload::risk::{ForceClose, RiskCheck, RiskRule};
use charon_events::{ActorId, BotId, Envelope, Event, Money, Num, Origin, Symbol};
use rust_decimal::Decimal;

use crate::config::BotConfig;
use crate::journal::{Actor, Derived};

/// The Bot actor (see the module documentation).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Bot {
    id: BotId,
    initial_capital: Money,
    /// (percent, the equity it is reached at), computed once: checked on every equity update.
    take_profit: Option<(Decimal, Decimal)>,
    stop_loss: Option<(Decimal, Decimal)>,
    state: BotState,
    equity: Money,
    /// Open positions by pair, from the Exchange's position updates.
    open: BTreeMap<Symbol, PositionSide>,
    /// The check of a stop that closes every position: a pair that opens after it (an entry
    /// already approved when the bot stopped) is closed too.
    closing: Option<RiskCheck>,
}

impl Bot {
    pub fn new(config: &BotConfig) -> Self {
        Self {
            id: config.name,
            initial_capital: config.initial_capital,
            take_profit: config
                .take_profit_pct
                .map(|pct| (pct, level(config.initial_capital.0, pct))),
            stop_loss: config
                .stop_loss_pct
                .map(|pct| (pct, level(config.initial_capital.0, -pct))),
            state: BotState::Created,
            equity: config.initial_capital,
            open: BTreeMap::new(),
            closing: None,
        }
    }

    pub fn state(&self) -> BotState {
        self.state
    }

    pub fn equity(&self) -> Money {
        self.equity
    }

    fn set_state(&mut self, state: BotState, reason: String, out: &mut Derived<'_>) {
        if self.state == state {
            return;
        }
        self.state = state;
        out.emit(
            Event::BotStateChanged(BotStateChanged { state, reason }),
            Some(self.id),
            None,
        );
    }

    fn on_equity(&mut self, update: &EquityUpdated, out: &mut Derived<'_>) {
        self.equity = update.equity;
        if !matches!(self.state, BotState::Running | BotState::Paused) {
            return;
        }
        let initial = self.initial_capital.0;
        let equity = update.equity.0;
        let hit = if let Some((limit, _)) = self.take_profit.filter(|(_, at)| equity >= *at) {
            Some((RiskRule::BotTakeProfit, limit, "take-profit"))
        } else {
            self.stop_loss
                .filter(|(_, at)| equity <= *at)
                .map(|(limit, _)| (RiskRule::BotStopLoss, -limit, "stop-loss"))
        };
        if let Some((rule, threshold, name)) = hit {
            let change_pct = (equity - initial) / initial * Decimal::ONE_HUNDRED;
            let check = RiskCheck {
                rule,
                threshold: Num(threshold),
                observed: Num(change_pct.round_dp(4)),
                message: format!(
                    "bot {} equity {} is {}% from its initial {}: bot {name} of {}%",
                    self.id,
                    update.equity,
                    change_pct.round_dp(2),
                    self.initial_capital,
                    threshold.abs()
                ),
            };
            self.stop(check, out);
        }
    }

    /// Stops the bot, closing every open pair first.
    fn stop(&mut self, check: RiskCheck, out: &mut Derived<'_>) {
        let (severity, category) = match check.rule {
            RiskRule::BotStopLoss => (Severity::Critical, AlertKind::LimitHit),
            RiskRule::BotTakeProfit => (Severity::Warning, AlertKind::LimitHit),
            _ => (Severity::Info, AlertKind::BotStateChange),
        };
        let alert = Alert {
            severity,
            category,
            message: format!("bot {} stops: {}", self.id, check.message),
        };
        self.closing = Some(check.clone());
        if self.open.is_empty() {
            self.set_state(BotState::Stopped, check.message, out);
        } else {
            self.set_state(BotState::Stopping, check.message.clone(), out);
            for (symbol, side) in &self.open {
                let close = ForceClose {
                    side: *side,
                    check: check.clone(),
                };
                out.emit(Event::ForceClose(close), Some(self.id), Some(*symbol));
            }
        }
        // After the decisions, so the log reads: what happened, then who is told.
        out.emit(Event::Alert(alert), Some(self.id), None);
    }

    fn on_command(&mut self, command: &Command, operator: &str, out: &mut Derived<'_>) {
        let by = format!("operator {operator}");
        match command {
            Command::StartBot | Command::ResumeBot
                if matches!(self.state, BotState::Created | BotState::Paused) =>
            {
                self.set_state(BotState::Running, by, out)
            }
            Command::PauseBot if self.state == BotState::Running => {
                self.set_state(BotState::Paused, by, out)
            }
            Command::StopBot { close_positions } if self.state != BotState::Stopped => {
                if *close_positions {
                    let check = RiskCheck {
                        rule: RiskRule::Operator,
                        threshold: Num::ZERO,
                        observed: Num::ZERO,
                        message: format!("stopped by {by}"),
                    };
                    self.stop(check, out);
                } else {
                    self.set_state(BotState::Stopped, by, out);
                }
            }
            _ => {}
        }
    }
}

/// `capital · (1 + pct/100)`: the equity at which a bot limit of `pct` percent is reached.
fn level(capital: Decimal, pct: Decimal) -> Decimal {
    capital + capital * pct / Decimal::ONE_HUNDRED
}

impl Actor for Bot {
    crate::snapshot_whole_state!();

    fn id(&self) -> ActorId {
        ActorId::Bot(self.id)
    }

    fn concerns(&self, event: &Envelope) -> bool {
        match &event.payload {
            Event::EquityUpdated(_) | Event::PositionUpdated(_) => event.bot == Some(self.id),
            Event::OperatorCommand(_) => event.bot == Some(self.id),
            _ => self.state == BotState::Created && event.origin == Origin::Input,
        }
    }

    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
        match &event.payload {
            Event::EquityUpdated(update) if event.pair.is_none() => self.on_equity(update, out),
            Event::PositionUpdated(update) => {
                let Some(symbol) = event.pair else { return };
                match update.side.filter(|_| !update.qty.0.is_zero()) {
                    Some(side) => {
                        // Most updates revalue a position already known: no map write.
                        let opened = match self.open.get_mut(&symbol) {
                            Some(known) => {
                                *known = side;
                                false
                            }
                            None => {
                                self.open.insert(symbol, side);
                                true
                            }
                        };
                        if let Some(check) = self.closing.clone().filter(|_| opened) {
                            self.set_state(BotState::Stopping, check.message.clone(), out);
                            let close = ForceClose { side, check };
                            out.emit(Event::ForceClose(close), Some(self.id), Some(symbol));
                        }
                    }
                    None => {
                        self.open.remove(&symbol);
                        if self.state == BotState::Stopping && self.open.is_empty() {
                            let reason = "every position is closed".to_string();
                            self.set_state(BotState::Stopped, reason, out);
                        }
                    }
                }
            }
            Event::OperatorCommand(command) => {
                self.on_command(&command.command, &command.operator, out)
            }
            _ if self.state == BotState::Created && event.origin == Origin::Input => {
                let reason = "started by the run's first input".to_string();
                self.set_state(BotState::Running, reason, out);
            }
            _ => {}
        }
    }
}
