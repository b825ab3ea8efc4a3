//! A run's manifest: everything needed to re-derive the run from its inputs.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::ids::{LogId, Seq};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionMode {
    Backtest,
    Paper,
    Live,
}

/// Inputs held by reference: a span of a data log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct DataRange {
    pub log_id: LogId,
    pub first_seq: Seq,
    pub last_seq: Seq,
}

/// The first event of a run log.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct RunManifest {
    pub mode: ExecutionMode,
    /// `charon` version that wrote the run.
    pub binary_version: String,
    /// SHA-256 of `config_toml`, hex.
    pub config_hash: String,
    pub config_toml: String,
    /// Inputs by reference (backtests); `None` when inputs are recorded in the run log itself.
    pub data: Option<DataRange>,
    pub seed: u64,
    /// Where the data log of `data` was when the run was written (an absolute path), so that
    /// replay finds it without being told; its id is still checked. `None` for runs that record
    /// their inputs, for a path that is not UTF-8, and in manifests of format version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_path: Option<String>,
}
