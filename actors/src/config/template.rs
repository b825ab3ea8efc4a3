//! Strategy templates: a name and the conditions of its long and short rules, in their own
//! file so that several pairs (and bots) can share one.

use serde::Deserialize;

use crate::indicators::EmaSeed;

#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyTemplate {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub long: Option<RuleSet>,
    /// Never entered on spot pairs, which cannot go short; read there only for the
    /// signal-flip exit.
    #[serde(default)]
    pub short: Option<RuleSet>,
    /// Numbers the rules use as `$name` (periods, thresholds), so a run or a sweep can vary
    /// them without editing the rules.
    #[serde(default)]
    pub params: crate::strategy::expr::TemplateParams,
    /// The conventions of the template's indicators where engines differ.
    #[serde(default)]
    pub indicators: IndicatorSettings,
}

/// Conventions of indicators where engines differ (docs/STRATEGIES.md, "Indicators").
#[derive(serde::Serialize, Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSettings {
    /// How `ema()` starts: `sma`, the average of its first `n` inputs (TA-Lib, the default), or
    /// `first`, its first input (pandas' `ewm(adjust=False)`).
    #[serde(default)]
    pub ema_seed: EmaSeed,
}

/// When to enter and (optionally, besides the pair's exits) when to leave.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub entry: String,
    #[serde(default)]
    pub exit: Option<String>,
}
