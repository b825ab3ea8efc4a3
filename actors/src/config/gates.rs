//! The `gates` table of a pair: checks that block an entry after its signal (risk layer 2).
//! A blocked signal is still recorded, with the gate and its values; the `gates` module
//! ([`crate::gates`]) and docs/RISK.md give each gate's exact semantics, and docs/CONFIG.md
//! every key.
//!
//! Every subtable is optional; a gate that is absent never blocks. Each configured gate must be
//! able to block something (a bound, a side rule, a regime left out), so a subtable that could
//! not is refused rather than silently ignored.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::invalid::Invalid;
use crate::gates::VolatilityRegime;

/// The largest `volatility_regime.lookback`: the percentile keeps that many values in a sorted
/// window, with an O(lookback) memory move per bar.
pub const MAX_LOOKBACK: u32 = 10_000;

#[derive(serde::Serialize, Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatesConfig {
    /// Block on the latest funding rate (perpetuals).
    #[serde(default)]
    pub funding: Option<FundingGateConfig>,
    /// Block when the ATR, as a percentage of price, is outside a band.
    #[serde(default)]
    pub atr: Option<AtrGateConfig>,
    /// Block on a volume spike or a thin bar, relative to the average volume.
    #[serde(default)]
    pub volume_spike: Option<VolumeSpikeGateConfig>,
    /// Enter only in the allowed regimes of realized volatility.
    #[serde(default)]
    pub volatility_regime: Option<VolatilityRegimeGateConfig>,
}

/// `funding = { max_abs_rate_pct = 0.05, block_against_side = true }`.
#[derive(serde::Serialize, Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingGateConfig {
    /// Block when the latest rate's magnitude, in percent, is above this.
    #[serde(default)]
    pub max_abs_rate_pct: Option<Decimal>,
    /// Block an entry that would pay funding at the latest rate (a long when it is positive, a
    /// short when it is negative).
    #[serde(default)]
    pub block_against_side: bool,
}

/// `atr = { period = 14, min_pct = 0.1, max_pct = 5 }`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtrGateConfig {
    /// Wilder's ATR over this many bars.
    #[serde(default = "default_atr_period")]
    pub period: u32,
    /// Block when ATR / price · 100 is below this.
    #[serde(default)]
    pub min_pct: Option<Decimal>,
    /// Block when ATR / price · 100 is above this.
    #[serde(default)]
    pub max_pct: Option<Decimal>,
}

/// `volume_spike = { period = 20, max_ratio = 3, min_ratio = 0.5 }`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeSpikeGateConfig {
    /// The average is over this many bars before the current one.
    #[serde(default = "default_volume_period")]
    pub period: u32,
    /// Block when volume / average is above this (a spike).
    #[serde(default)]
    pub max_ratio: Option<Decimal>,
    /// Block when volume / average is below this (a thin market).
    #[serde(default)]
    pub min_ratio: Option<Decimal>,
}

/// `volatility_regime = { period = 20, lookback = 500, low_pct = 25, high_pct = 75,
/// allow = ["low", "normal"] }`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolatilityRegimeGateConfig {
    /// Realized volatility is over this many log returns of closes.
    #[serde(default = "default_volatility_period")]
    pub period: u32,
    /// The percentile ranks the current realized volatility among this many latest values.
    #[serde(default = "default_lookback")]
    pub lookback: u32,
    /// Below this percentile: `low`.
    #[serde(default = "default_low_pct")]
    pub low_pct: Decimal,
    /// Above this percentile: `high`.
    #[serde(default = "default_high_pct")]
    pub high_pct: Decimal,
    /// The regimes entries are allowed in.
    pub allow: Vec<VolatilityRegime>,
}

fn default_atr_period() -> u32 {
    14
}

fn default_volume_period() -> u32 {
    20
}

fn default_volatility_period() -> u32 {
    20
}

fn default_lookback() -> u32 {
    500
}

fn default_low_pct() -> Decimal {
    Decimal::from(25)
}

fn default_high_pct() -> Decimal {
    Decimal::from(75)
}

impl GatesConfig {
    /// No gate is configured.
    pub fn is_empty(&self) -> bool {
        self.funding.is_none()
            && self.atr.is_none()
            && self.volume_spike.is_none()
            && self.volatility_regime.is_none()
    }

    /// Problems beyond what serde checks, with paths under `at` (e.g. `bot[0].pair[1].gates`).
    pub(super) fn problems(&self, at: &str) -> Vec<Invalid> {
        let mut problems = Problems(Vec::new());
        if let Some(funding) = &self.funding {
            funding.check(&mut problems, &format!("{at}.funding"));
        }
        if let Some(atr) = &self.atr {
            atr.check(&mut problems, &format!("{at}.atr"));
        }
        if let Some(volume) = &self.volume_spike {
            volume.check(&mut problems, &format!("{at}.volume_spike"));
        }
        if let Some(regime) = &self.volatility_regime {
            regime.check(&mut problems, &format!("{at}.volatility_regime"));
        }
        problems.0
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Problems(Vec<Invalid>);

impl Problems {
    fn fail(&mut self, path: String, message: impl Into<String>) {
        self.0.push(Invalid {
            path,
            message: message.into(),
        });
    }

    fn positive(&mut self, path: String, value: Option<Decimal>) {
        if let Some(value) = value.filter(|value| *value <= Decimal::ZERO) {
            self.fail(path, format!("{value} must be greater than 0"));
        }
    }

    fn at_least(&mut self, path: String, value: u32, min: u32) {
        if value < min {
            self.fail(path, format!("{value} is below {min}"));
        }
    }

    /// `low < high` when both are set, reported at `high_path`.
    fn ordered(&mut self, high_path: String, low: Option<Decimal>, high: Option<Decimal>) {
        if let (Some(low), Some(high)) = (low, high) {
            if low >= high {
                self.fail(
                    high_path,
                    format!(
                        "{high} is not above the lower bound {low}: every entry would be blocked"
                    ),
                );
            }
        }
    }
}

impl FundingGateConfig {
    fn check(&self, problems: &mut Problems, at: &str) {
        match self.max_abs_rate_pct {
            Some(max) if max < Decimal::ZERO => problems.fail(
                format!("{at}.max_abs_rate_pct"),
                format!("{max} is negative"),
            ),
            None if !self.block_against_side => problems.fail(
                at.to_string(),
                "blocks nothing: set max_abs_rate_pct and/or block_against_side = true",
            ),
            _ => {}
        }
    }
}

impl AtrGateConfig {
    fn check(&self, problems: &mut Problems, at: &str) {
        problems.at_least(format!("{at}.period"), self.period, 1);
        if self.min_pct.is_none() && self.max_pct.is_none() {
            problems.fail(at.to_string(), "blocks nothing: set min_pct and/or max_pct");
        }
        problems.positive(format!("{at}.min_pct"), self.min_pct);
        problems.positive(format!("{at}.max_pct"), self.max_pct);
        problems.ordered(format!("{at}.max_pct"), self.min_pct, self.max_pct);
    }
}

impl VolumeSpikeGateConfig {
    fn check(&self, problems: &mut Problems, at: &str) {
        problems.at_least(format!("{at}.period"), self.period, 1);
        if self.min_ratio.is_none() && self.max_ratio.is_none() {
            problems.fail(
                at.to_string(),
                "blocks nothing: set max_ratio and/or min_ratio",
            );
        }
        problems.positive(format!("{at}.max_ratio"), self.max_ratio);
        problems.positive(format!("{at}.min_ratio"), self.min_ratio);
        problems.ordered(format!("{at}.max_ratio"), self.min_ratio, self.max_ratio);
    }
}

impl VolatilityRegimeGateConfig {
    fn check(&self, problems: &mut Problems, at: &str) {
        // One return has a standard deviation of 0, whatever the market.
        problems.at_least(format!("{at}.period"), self.period, 2);
        if self.lookback < 2 || self.lookback > MAX_LOOKBACK {
            problems.fail(
                format!("{at}.lookback"),
                format!("{} is outside [2, {MAX_LOOKBACK}]", self.lookback),
            );
        }
        let hundred = Decimal::ONE_HUNDRED;
        for (key, pct) in [("low_pct", self.low_pct), ("high_pct", self.high_pct)] {
            if pct < Decimal::ZERO || pct > hundred {
                problems.fail(format!("{at}.{key}"), format!("{pct} is outside [0, 100]"));
            }
        }
        if self.low_pct >= self.high_pct {
            problems.fail(
                format!("{at}.high_pct"),
                format!(
                    "{} is not above low_pct ({}): the normal regime would be empty",
                    self.high_pct, self.low_pct
                ),
            );
        }
        let allow = format!("{at}.allow");
        if self.allow.is_empty() {
            problems.fail(allow, "allows no regime: every entry would be blocked");
            return;
        }
        for (i, regime) in self.allow.iter().enumerate() {
            if self.allow[..i].contains(regime) {
                problems.fail(allow.clone(), format!("lists `{regime}` twice"));
            }
        }
        if VolatilityRegime::ALL
            .iter()
            .all(|regime| self.allow.contains(regime))
        {
            problems.fail(
                allow,
                "allows every regime: the gate would block nothing (remove it instead)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gates(text: &str) -> GatesConfig {
        toml::from_str(text).expect("a gates table")
    }

    fn problems(text: &str) -> Vec<(String, String)> {
        gates(text)
            .problems("g")
            .into_iter()
            .map(|i| (i.path, i.message))
            .collect()
    }

    fn paths_of(text: &str) -> Vec<String> {
        problems(text).into_iter().map(|(path, _)| path).collect()
    }

    fn pair_with_gates(gates: &str) -> crate::config::Config {
        let text = format!(
            "[[bot]]\nname = \"a\"\nquote = \"USDT\"\ninitial_capital = 1000\n\n\
             [[bot.pair]]\nsymbol = \"BTCUSDT\"\nstrategy = \"s.toml\"\n\
             sizing = {{ per_trade = {{ quote = 100 }} }}\n\n[bot.pair.gates]\n{gates}\n"
        );
        toml::from_str(&text).expect("a valid test config")
    }

    #[test]
    fn the_documented_example_is_valid_and_problems_carry_the_pair_path() {
        // docs/CONFIG.md's example, as written there.
        let config = pair_with_gates(
            r#"funding = { max_abs_rate_pct = 0.05, block_against_side = true }
atr = { period = 14, min_pct = 0.1, max_pct = 5 }
volume_spike = { period = 20, max_ratio = 3, min_ratio = 0.5 }
volatility_regime = { period = 20, lookback = 500, low_pct = 25, high_pct = 75, allow = ["low", "normal"] }"#,
        );
        let gates = &config.bot[0].pair[0].gates;
        assert!(gates.funding.is_some() && gates.atr.is_some());
        assert!(gates.volume_spike.is_some() && gates.volatility_regime.is_some());
        assert_eq!(crate::config::validate(&config), []);

        let config = pair_with_gates("atr = { min_pct = 2, max_pct = 1 }");
        let found = crate::config::validate(&config);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "bot[0].pair[0].gates.atr.max_pct");
    }

    #[test]
    fn an_empty_table_configures_no_gate() {
        let config = gates("");
        assert!(config.is_empty());
        assert_eq!(config, GatesConfig::default());
        assert_eq!(problems(""), []);
    }

    #[test]
    fn a_full_table_reads_every_key_and_is_valid() {
        let config = gates(
            r#"
            funding = { max_abs_rate_pct = 0.05, block_against_side = true }
            atr = { period = 10, min_pct = 0.1, max_pct = 5 }
            volume_spike = { period = 30, max_ratio = 3, min_ratio = "0.5" }
            volatility_regime = { period = 15, lookback = 200, low_pct = 20, high_pct = 80, allow = ["low", "normal"] }
            "#,
        );
        assert!(!config.is_empty());
        let funding = config.funding.clone().unwrap();
        assert_eq!(funding.max_abs_rate_pct, Some(Decimal::new(5, 2)));
        assert!(funding.block_against_side);
        let atr = config.atr.clone().unwrap();
        assert_eq!(
            (atr.period, atr.min_pct, atr.max_pct),
            (10, Some(Decimal::new(1, 1)), Some(Decimal::from(5)))
        );
        let volume = config.volume_spike.clone().unwrap();
        assert_eq!(
            (volume.period, volume.max_ratio, volume.min_ratio),
            (30, Some(Decimal::from(3)), Some(Decimal::new(5, 1)))
        );
        let regime = config.volatility_regime.clone().unwrap();
        assert_eq!(
            (
                regime.period,
                regime.lookback,
                regime.low_pct,
                regime.high_pct
            ),
            (15, 200, Decimal::from(20), Decimal::from(80))
        );
        assert_eq!(
            regime.allow,
            [VolatilityRegime::Low, VolatilityRegime::Normal]
        );
        assert_eq!(config.problems("g"), []);
    }

    #[test]
    fn defaults_fill_the_periods_and_bounds() {
        let config = gates(
            r#"
            funding = { block_against_side = true }
            atr = { max_pct = 5 }
            volume_spike = { max_ratio = 3 }
            volatility_regime = { allow = ["high"] }
            "#,
        );
        let funding = config.funding.clone().unwrap();
        assert_eq!(funding.max_abs_rate_pct, None);
        assert_eq!(config.atr.clone().unwrap().period, 14);
        assert_eq!(config.atr.clone().unwrap().min_pct, None);
        assert_eq!(config.volume_spike.clone().unwrap().period, 20);
        assert_eq!(config.volume_spike.clone().unwrap().min_ratio, None);
        let regime = config.volatility_regime.clone().unwrap();
        assert_eq!(
            (
                regime.period,
                regime.lookback,
                regime.low_pct,
                regime.high_pct
            ),
            (20, 500, Decimal::from(25), Decimal::from(75))
        );
        assert_eq!(config.problems("g"), []);
    }

    #[test]
    fn unknown_keys_and_regimes_are_refused_by_serde() {
        for text in [
            "atr = { max_pct = 5, maxpct = 4 }",
            "funding = { max_rate = 1 }",
            "volume_spike = { max_ratio = 3, ratio = 2 }",
            "volatility_regime = { allow = [\"extreme\"] }",
            "volatility = { allow = [\"low\"] }",
        ] {
            assert!(toml::from_str::<GatesConfig>(text).is_err(), "{text}");
        }
        // `allow` has no default.
        assert!(toml::from_str::<GatesConfig>("volatility_regime = { period = 5 }").is_err());
    }

    #[test]
    fn a_gate_that_blocks_nothing_is_refused() {
        assert_eq!(
            paths_of("funding = {}\natr = { period = 3 }\nvolume_spike = { period = 3 }"),
            ["g.funding", "g.atr", "g.volume_spike"]
        );
        assert_eq!(
            paths_of("funding = { block_against_side = false }"),
            ["g.funding"]
        );
        // Either half of the funding gate is enough.
        assert_eq!(
            paths_of("funding = { max_abs_rate_pct = 0 }"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn bounds_are_positive_and_ordered() {
        let found = problems(
            r#"
            funding = { max_abs_rate_pct = -0.01 }
            atr = { period = 0, min_pct = 0, max_pct = -1 }
            volume_spike = { period = 0, max_ratio = 0.5, min_ratio = 0.5 }
            "#,
        );
        let paths: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "g.funding.max_abs_rate_pct",
                "g.atr.period",
                "g.atr.min_pct",
                "g.atr.max_pct",
                "g.atr.max_pct",
                "g.volume_spike.period",
                "g.volume_spike.max_ratio",
            ],
            "{found:?}"
        );
        assert_eq!(found[0].1, "-0.01 is negative");
        assert_eq!(found[2].1, "0 must be greater than 0");
        assert!(
            found[4].1.contains("not above the lower bound 0"),
            "{found:?}"
        );
        assert!(found[6].1.contains("0.5 is not above the lower bound 0.5"));
        // Just ordered: valid.
        assert_eq!(
            paths_of("atr = { min_pct = 0.1, max_pct = 0.10000001 }"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_regime_gate_checks_its_window_percentiles_and_regimes() {
        let found = problems(
            r#"volatility_regime = { period = 1, lookback = 10001, low_pct = -1, high_pct = 101, allow = [] }"#,
        );
        let paths: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "g.volatility_regime.period",
                "g.volatility_regime.lookback",
                "g.volatility_regime.low_pct",
                "g.volatility_regime.high_pct",
                "g.volatility_regime.allow",
            ],
            "{found:?}"
        );
        assert_eq!(found[1].1, "10001 is outside [2, 10000]");
        assert!(found[4].1.contains("allows no regime"));

        let found = problems(
            r#"volatility_regime = { lookback = 1, low_pct = 50, high_pct = 50, allow = ["low", "high", "low", "normal"] }"#,
        );
        let paths: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "g.volatility_regime.lookback",
                "g.volatility_regime.high_pct",
                "g.volatility_regime.allow",
                "g.volatility_regime.allow",
            ],
            "{found:?}"
        );
        assert!(found[1].1.contains("normal regime would be empty"));
        assert_eq!(found[2].1, "lists `low` twice");
        assert!(found[3].1.contains("allows every regime"));

        // The edges of the valid ranges.
        assert_eq!(
            paths_of(
                r#"volatility_regime = { period = 2, lookback = 10000, low_pct = 0, high_pct = 100, allow = ["normal"] }"#
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            paths_of(r#"volatility_regime = { lookback = 2, allow = ["low", "high"] }"#),
            Vec::<String>::new()
        );
    }
}
