//! The `gates` table of a pair: checks that block an entry after its signal (risk layer 2).
//! A blocked signal is still recorded, with the gate and its values; docs/RISK.md gives each
//! gate's semantics.

use serde::Deserialize;

use super::validate::Invalid;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatesConfig {}

impl GatesConfig {
    /// Problems beyond what serde checks, with paths under `at` (e.g. `bot[0].pair[1].gates`).
    pub(super) fn problems(&self, at: &str) -> Vec<Invalid> {
        let _ = at;
        Vec::new()
    }
}
