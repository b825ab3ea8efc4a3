//! The `risk` table of a bot: the RiskSupervisor's limits (risk layer 3), which override the
//! strategy; docs/RISK.md gives each limit's semantics.

use serde::Deserialize;

use super::validate::Invalid;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {}

impl RiskConfig {
    /// Problems beyond what serde checks, with paths under `at` (e.g. `bot[0].risk`).
    pub(super) fn problems(&self, at: &str) -> Vec<Invalid> {
        let _ = at;
        Vec::new()
    }
}
