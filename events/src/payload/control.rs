//! Bot lifecycle, operator commands and alerts.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BotState {
    Created,
    Running,
    Paused,
    Stopping,
    Stopped,
}

/// A bot moved to a new lifecycle state.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct BotStateChanged {
    pub state: BotState,
    pub reason: String,
}

/// What an operator can ask of a bot. Configs travel as TOML text so the log alone is enough
/// to rebuild the bot.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    CreateBot {
        config_toml: String,
    },
    EditBot {
        config_toml: String,
    },
    StartBot,
    /// No new entries; positions kept and their exits still run.
    PauseBot,
    ResumeBot,
    /// No new entries; `close_positions` also flattens every pair.
    StopBot {
        close_positions: bool,
    },
}

/// An operator's command, recorded as an input so replay needs no operator.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct OperatorCommand {
    pub command: Command,
    /// Who issued it (a user name or `cli`); never a credential.
    pub operator: String,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    OutsizedLoss,
    OrderFailed,
    LimitHit,
    Slippage,
    Connectivity,
    BotStateChange,
}

/// Something a person should hear about; notification channels deliver these.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Alert {
    pub severity: Severity,
    /// Not `kind`: that name is the event's own tag in JSON.
    pub category: AlertKind,
    pub message: String,
}
