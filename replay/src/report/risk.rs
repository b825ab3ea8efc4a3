//! The risk events of a bot, as a list to read: every veto, blocked signal, force close, kill
//! switch, pause and risk warning with its time, pair, rule and message, in log order. A run
//! that vetoes on every bar would make the list as long as the run, so only the first
//! [`RISK_EVENTS_KEPT`] are kept and the rest counted; the report's counts by rule stay exact.

use charon_events::payload::risk::RiskCheck;
use charon_events::{Envelope, Event, Seq, Symbol, Timestamp};
use serde::Serialize;

use super::json_name;

/// How many risk events a bot's report lists.
pub const RISK_EVENTS_KEPT: usize = 1_000;

/// One risk event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskEventRecord {
    pub seq: Seq,
    pub ts: Timestamp,
    pub pair: Option<Symbol>,
    /// The event's kind (`order_vetoed`, `signal_blocked`, `force_close`,
    /// `kill_switch_engaged`, `kill_switch_released`, `entries_paused`, `entries_resumed`,
    /// `risk_warning`).
    pub kind: String,
    /// The rule in snake_case (`daily_loss`, `max_trade_loss`, ...); `None` for a release.
    pub rule: Option<String>,
    pub message: String,
}

/// A bot's risk events as they are observed.
#[derive(Debug, Clone, Default)]
pub struct RiskLog {
    kept: Vec<RiskEventRecord>,
    omitted: u64,
}

impl RiskLog {
    pub fn observe(&mut self, event: &Envelope) {
        let (rule, message) = match &event.payload {
            Event::OrderVetoed(e) => checked(&e.check),
            Event::SignalBlocked(e) => checked(&e.check),
            Event::ForceClose(e) => checked(&e.check),
            Event::KillSwitchEngaged(e) => checked(&e.check),
            Event::EntriesPaused(e) => checked(&e.check),
            Event::RiskWarning(e) => checked(&e.check),
            Event::EntriesResumed(e) => (Some(json_name(&e.rule)), e.reason.clone()),
            Event::KillSwitchReleased(e) => (
                None,
                format!(
                    "released; start-of-day equity {}",
                    e.start_of_day_equity.0.normalize()
                ),
            ),
            _ => return,
        };
        if self.kept.len() == RISK_EVENTS_KEPT {
            self.omitted += 1;
            return;
        }
        self.kept.push(RiskEventRecord {
            seq: event.seq,
            ts: event.ts,
            pair: event.pair,
            kind: event.payload.kind().name().to_string(),
            rule,
            message,
        });
    }

    /// The events kept, and how many more there were.
    pub fn events(&self) -> (&[RiskEventRecord], u64) {
        (&self.kept, self.omitted)
    }
}

fn checked(check: &RiskCheck) -> (Option<String>, String) {
    (Some(json_name(&check.rule)), check.message.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use charon_events::samples::one_of;
    use charon_events::EventKind;

    #[test]
    fn every_risk_kind_is_listed_with_its_rule_and_nothing_else_is() {
        let mut log = RiskLog::default();
        for kind in [
            EventKind::OrderVetoed,
            EventKind::SignalBlocked,
            EventKind::ForceClose,
            EventKind::KillSwitchEngaged,
            EventKind::KillSwitchReleased,
            EventKind::EntriesPaused,
            EventKind::EntriesResumed,
            EventKind::RiskWarning,
            EventKind::OrderFilled,
            EventKind::Signal,
        ] {
            log.observe(&one_of(kind));
        }
        let (events, omitted) = log.events();
        assert_eq!(omitted, 0);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "order_vetoed",
                "signal_blocked",
                "force_close",
                "kill_switch_engaged",
                "kill_switch_released",
                "entries_paused",
                "entries_resumed",
                "risk_warning"
            ]
        );
        assert!(events[4].rule.is_none());
        assert!(events
            .iter()
            .enumerate()
            .all(|(i, e)| i == 4 || e.rule.is_some()));
        let veto = one_of(EventKind::OrderVetoed);
        let Event::OrderVetoed(v) = &veto.payload else {
            unreachable!()
        };
        assert_eq!(events[0].message, v.check.message);
        assert_eq!(events[0].seq, veto.seq);
    }

    #[test]
    fn the_list_is_capped_and_the_rest_counted() {
        let mut log = RiskLog::default();
        let veto = one_of(EventKind::OrderVetoed);
        for _ in 0..RISK_EVENTS_KEPT + 7 {
            log.observe(&veto);
        }
        let (events, omitted) = log.events();
        assert_eq!((events.len(), omitted), (RISK_EVENTS_KEPT, 7));
    }
}
