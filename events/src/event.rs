//! The `Event` enum naming every payload, and `EventKind`, its fieldless twin used for
//! filtering and statistics.
//!
//! The variant order is the wire format (bincode encodes the variant index): new variants go at
//! the end, and none is ever removed or reordered.

use std::fmt;
use std::str::FromStr;

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::payload::control::*;
use crate::payload::external::*;
use crate::payload::manifest::*;
use crate::payload::market::*;
use crate::payload::order::*;
use crate::payload::risk::*;

macro_rules! events {
    ($($variant:ident($payload:ty) => $name:literal;)*) => {
        /// Every event charon records.
        #[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
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
        }
    };
}

events! {
    Trade(Trade) => "trade";
    BookTicker(BookTicker) => "book_ticker";
    Bar(Bar) => "bar";
    FundingRate(FundingRate) => "funding_rate";
    MarkPrice(MarkPrice) => "mark_price";
    Signal(Signal) => "signal";
    SignalBlocked(SignalBlocked) => "signal_blocked";
    OrderIntent(OrderIntent) => "order_intent";
    OrderApproved(OrderApproved) => "order_approved";
    OrderVetoed(OrderVetoed) => "order_vetoed";
    OrderSubmitted(OrderSubmitted) => "order_submitted";
    OrderAccepted(OrderAccepted) => "order_accepted";
    OrderRejected(OrderRejected) => "order_rejected";
    OrderPartiallyFilled(OrderPartiallyFilled) => "order_partially_filled";
    OrderFilled(OrderFilled) => "order_filled";
    CancelRequested(CancelRequested) => "cancel_requested";
    OrderCanceled(OrderCanceled) => "order_canceled";
    OrderExpired(OrderExpired) => "order_expired";
    PositionUpdated(PositionUpdated) => "position_updated";
    FundingPaid(FundingPaid) => "funding_paid";
    EquityUpdated(EquityUpdated) => "equity_updated";
    ForceClose(ForceClose) => "force_close";
    KillSwitchEngaged(KillSwitchEngaged) => "kill_switch_engaged";
    KillSwitchReleased(KillSwitchReleased) => "kill_switch_released";
    EntriesPaused(EntriesPaused) => "entries_paused";
    EntriesResumed(EntriesResumed) => "entries_resumed";
    RiskWarning(RiskWarning) => "risk_warning";
    Alert(Alert) => "alert";
    BotStateChanged(BotStateChanged) => "bot_state_changed";
    OperatorCommand(OperatorCommand) => "operator_command";
    DecisionRequested(DecisionRequested) => "decision_requested";
    DecisionMade(DecisionMade) => "decision_made";
    NewsItem(NewsItem) => "news_item";
    ConnectionChanged(ConnectionChanged) => "connection_changed";
    MarketDataGap(MarketDataGap) => "market_data_gap";
    ApiError(ApiError) => "api_error";
    ClockTick(ClockTick) => "clock_tick";
    RunManifest(RunManifest) => "run_manifest";
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
