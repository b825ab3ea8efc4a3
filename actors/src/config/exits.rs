//! The `exits` table of a pair: the strategy's exit rules (risk layer 1). Any rule that fires
//! closes the position; docs/RISK.md gives each rule's semantics.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::validate::Invalid;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitConfig {
    #[serde(default)]
    pub stop_loss_pct: Option<Decimal>,
    #[serde(default)]
    pub take_profit_pct: Option<Decimal>,
}

impl ExitConfig {
    /// Problems beyond what serde checks, with paths under `at` (e.g. `bot[0].pair[1].exits`).
    pub(super) fn problems(&self, at: &str) -> Vec<Invalid> {
        let _ = at;
        Vec::new()
    }
}
