//! The `Event` enum naming every payload, and `EventKind`, its fieldless twin used for
//! filtering and statistics.
//!
//! The variant order is the wire format (bincode encodes the variant index): new variants go at
//! the end, and none is ever removed or reordered.

use std::fmt;
use std::str::FromStr;

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::payload::control::*;
use crate::payload::external::*;
use crate::payload::manifest::*;
use crate::payload::market::*;
use crate::payload::order::*;
use crate::payload::risk::*;

macro_rules! events {
    ($($variant:ident($payload:ty) => $name:literal, $class:ident;)*) => {
        /// Every event charon records.
        #[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Event {
            $($variant($payload),)*
        }

        /// The kind of an [`Event`], without its data.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventKind {
            $($variant,)*
        }

        impl Event {
            pub fn kind(&self) -> EventKind {
                match self {
                    $(Event::$variant(_) => EventKind::$variant,)*
                }
            }
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            /// The snake_case name used on the command line and in JSON.
            pub fn name(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)*
                }
            }

            pub fn class(self) -> EventClass {
                match self {
                    $(EventKind::$variant => EventClass::$class,)*
                }
            }
        }
    };
}

events! {
    Trade(Trade) => "trade", Market;
    BookTicker(BookTicker) => "book_ticker", Market;
    Bar(Bar) => "bar", Market;
    FundingRate(FundingRate) => "funding_rate", Market;
    MarkPrice(MarkPrice) => "mark_price", Market;
    Signal(Signal) => "signal", Strategy;
    SignalBlocked(SignalBlocked) => "signal_blocked", Risk;
    OrderIntent(OrderIntent) => "order_intent", Order;
    OrderApproved(OrderApproved) => "order_approved", Risk;
    OrderVetoed(OrderVetoed) => "order_vetoed", Risk;
    OrderSubmitted(OrderSubmitted) => "order_submitted", Order;
    OrderAccepted(OrderAccepted) => "order_accepted", Order;
    OrderRejected(OrderRejected) => "order_rejected", Order;
    OrderPartiallyFilled(OrderPartiallyFilled) => "order_partially_filled", Order;
    OrderFilled(OrderFilled) => "order_filled", Order;
    CancelRequested(CancelRequested) => "cancel_requested", Order;
    OrderCanceled(OrderCanceled) => "order_canceled", Order;
    OrderExpired(OrderExpired) => "order_expired", Order;
    PositionUpdated(PositionUpdated) => "position_updated", Account;
    FundingPaid(FundingPaid) => "funding_paid", Account;
    EquityUpdated(EquityUpdated) => "equity_updated", Account;
    ForceClose(ForceClose) => "force_close", Risk;
    KillSwitchEngaged(KillSwitchEngaged) => "kill_switch_engaged", Risk;
    KillSwitchReleased(KillSwitchReleased) => "kill_switch_released", Risk;
    EntriesPaused(EntriesPaused) => "entries_paused", Risk;
    EntriesResumed(EntriesResumed) => "entries_resumed", Risk;
    RiskWarning(RiskWarning) => "risk_warning", Risk;
    Alert(Alert) => "alert", Control;
    BotStateChanged(BotStateChanged) => "bot_state_changed", Control;
    OperatorCommand(OperatorCommand) => "operator_command", Control;
    DecisionRequested(DecisionRequested) => "decision_requested", External;
    DecisionMade(DecisionMade) => "decision_made", External;
    NewsItem(NewsItem) => "news_item", External;
    ConnectionChanged(ConnectionChanged) => "connection_changed", External;
    MarketDataGap(MarketDataGap) => "market_data_gap", External;
    ApiError(ApiError) => "api_error", External;
    ClockTick(ClockTick) => "clock_tick", External;
    RunManifest(RunManifest) => "run_manifest", Control;
}

/// Broad groups of kinds, for summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventClass {
    Market,
    Strategy,
    Order,
    Account,
    Risk,
    Control,
    External,
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An event kind name that charon does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind {0:?}")]
pub struct UnknownKind(pub String);

impl FromStr for EventKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_parse_back_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &kind in EventKind::ALL {
            assert!(seen.insert(kind.name()), "duplicate name {}", kind.name());
            assert_eq!(kind.name().parse::<EventKind>(), Ok(kind));
        }
        assert!("no_such_kind".parse::<EventKind>().is_err());
    }
}
