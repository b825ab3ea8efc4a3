//! Signals, strategy gates and the RiskSupervisor's decisions. Each decision carries the rule,
//! its threshold and the value observed, so a replay shows exactly why.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::ids::Timestamp;
use crate::money::{Money, Num};
use crate::payload::side::PositionSide;

/// Every rule that can block, close, pause or warn, across the three risk layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskRule {
    // Layer 1: strategy exit rules.
    StopLoss,
    TakeProfit,
    TrailingStop,
    BreakEven,
    Chandelier,
    VolatilityExit,
    TimeStop,
    SignalFlip,
    // Layer 2: strategy risk gates.
    FundingRateGate,
    AtrGate,
    VolumeSpikeGate,
    VolatilityRegimeGate,
    // Layer 3: bot risk limits.
    PositionSizeCap,
    PairMaxDrawdown,
    PairOwnership,
    MaxPositionsPerAsset,
    MaxPositionsTotal,
    PerTradeLoss,
    DailyLoss,
    ConsecutiveLosses,
    MaxLeverage,
    MaxSlippage,
    ApiErrors,
    BotTakeProfit,
    BotStopLoss,
    Liquidation,
    Operator,
    BotNotRunning,
}

/// A rule's verdict with its numbers: `observed` compared with `threshold`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct RiskCheck {
    pub rule: RiskRule,
    pub threshold: Num,
    pub observed: Num,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalAction {
    EnterLong,
    EnterShort,
    ExitLong,
    ExitShort,
}

/// Where a signal came from: a strategy rule, an AI decision or a news item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalSource {
    Strategy,
    Ai,
    News,
}

/// A pair's strategy produced a signal at bar close (or on a decision/news input).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Signal {
    pub action: SignalAction,
    pub source: SignalSource,
    /// The template rule that fired, e.g. `long_entry`.
    pub rule: String,
}

/// A strategy gate blocked an entry signal; the signal is recorded before this.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SignalBlocked {
    pub action: SignalAction,
    pub check: RiskCheck,
}

/// A position closed because a rule fired (exit rule or bot limit).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ForceClose {
    pub side: PositionSide,
    pub check: RiskCheck,
}

/// The daily-loss kill switch closed everything and halts entries until `until`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct KillSwitchEngaged {
    pub check: RiskCheck,
    pub until: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct KillSwitchReleased {
    pub start_of_day_equity: Money,
}

/// Entries paused (exits keep running), until a time or an operator's resume.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct EntriesPaused {
    pub check: RiskCheck,
    pub until: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct EntriesResumed {
    pub rule: RiskRule,
    pub reason: String,
}

/// A limit observed but not enforced (e.g. slippage beyond its bound).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct RiskWarning {
    pub check: RiskCheck,
}
