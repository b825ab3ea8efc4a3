//! The `exits` table of a pair: the strategy's exit rules (risk layer 1). Any rule that fires
//! closes the position, and the exit records which. What each rule does, and when its level
//! moves, is documented with the state machine that runs them (`actors/src/pair/exits.rs`),
//! in docs/CONFIG.md and in docs/RISK.md.

use charon_events::payload::market::Interval;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::invalid::Invalid;

/// The chandelier exit's ATR period when `chandelier_atr_period` is not given.
pub const DEFAULT_CHANDELIER_ATR_PERIOD: usize = 22;
/// The volatility exit's ATR period when `volatility_atr_period` is not given.
pub const DEFAULT_VOLATILITY_ATR_PERIOD: usize = 14;

#[derive(serde::Serialize, Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitConfig {
    /// Hard stop: this many percent against the average entry.
    #[serde(default)]
    pub stop_loss_pct: Option<Decimal>,
    /// Target: this many percent in favour of the average entry.
    #[serde(default)]
    pub take_profit_pct: Option<Decimal>,
    /// Trailing stop: this many percent behind the best price since entry.
    #[serde(default)]
    pub trailing_stop_pct: Option<Decimal>,
    /// The trailing stop starts only once the position has been this many percent in profit.
    #[serde(default)]
    pub trailing_activation_pct: Option<Decimal>,
    /// Once the position has been this many percent in profit, the stop moves to the entry
    /// plus the round trip's taker fees.
    #[serde(default)]
    pub break_even_after_pct: Option<Decimal>,
    /// Chandelier exit: the best price since entry minus this many ATRs.
    #[serde(default)]
    pub chandelier_atr_mult: Option<Decimal>,
    /// The chandelier exit's ATR period (default [`DEFAULT_CHANDELIER_ATR_PERIOD`]).
    #[serde(default)]
    pub chandelier_atr_period: Option<usize>,
    /// Volatility exit: an adverse move of this many ATRs from the average entry.
    #[serde(default)]
    pub volatility_atr_mult: Option<Decimal>,
    /// The volatility exit's ATR period (default [`DEFAULT_VOLATILITY_ATR_PERIOD`]).
    #[serde(default)]
    pub volatility_atr_period: Option<usize>,
    /// Time stop: close after this many bars of the timeframe held.
    #[serde(default)]
    pub max_bars: Option<u32>,
    /// Time stop: close once the position has been held this long (`30m`, `4h`, `2d`).
    #[serde(default)]
    pub max_duration: Option<String>,
    /// Close when the opposite side's entry rule fires.
    #[serde(default)]
    pub signal_flip: bool,
}

impl ExitConfig {
    /// The chandelier exit's ATR period, the default filled in.
    pub fn chandelier_period(&self) -> usize {
        self.chandelier_atr_period
            .unwrap_or(DEFAULT_CHANDELIER_ATR_PERIOD)
    }

    /// The volatility exit's ATR period, the default filled in.
    pub fn volatility_period(&self) -> usize {
        self.volatility_atr_period
            .unwrap_or(DEFAULT_VOLATILITY_ATR_PERIOD)
    }

    /// `max_duration` as a length, when given and valid.
    pub fn max_duration(&self) -> Option<Interval> {
        self.max_duration.as_deref()?.parse().ok()
    }

    /// Problems beyond what serde checks, with paths under `at` (e.g. `bot[0].pair[1].exits`).
    /// `stop_loss_pct` and `take_profit_pct` are checked by `validate` itself.
    pub(super) fn problems(&self, at: &str) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let mut fail = |key: &str, message: String| {
            problems.push(Invalid {
                path: format!("{at}.{key}"),
                message,
            })
        };
        if let Some(pct) = self.trailing_stop_pct {
            if pct <= Decimal::ZERO || pct > Decimal::ONE_HUNDRED {
                fail("trailing_stop_pct", format!("{pct} is outside (0, 100]"));
            }
        }
        for (key, value) in [
            ("trailing_activation_pct", self.trailing_activation_pct),
            ("break_even_after_pct", self.break_even_after_pct),
            ("chandelier_atr_mult", self.chandelier_atr_mult),
            ("volatility_atr_mult", self.volatility_atr_mult),
        ] {
            if let Some(value) = value.filter(|value| *value <= Decimal::ZERO) {
                fail(key, format!("{value} must be greater than 0"));
            }
        }
        if self.trailing_activation_pct.is_some() && self.trailing_stop_pct.is_none() {
            fail(
                "trailing_activation_pct",
                "has no effect without trailing_stop_pct".into(),
            );
        }
        for (key, period, mult, mult_key) in [
            (
                "chandelier_atr_period",
                self.chandelier_atr_period,
                self.chandelier_atr_mult,
                "chandelier_atr_mult",
            ),
            (
                "volatility_atr_period",
                self.volatility_atr_period,
                self.volatility_atr_mult,
                "volatility_atr_mult",
            ),
        ] {
            match period {
                Some(0) => fail(key, "0 bars: the period must be at least 1".into()),
                Some(_) if mult.is_none() => fail(key, format!("has no effect without {mult_key}")),
                _ => {}
            }
        }
        if self.max_bars == Some(0) {
            fail(
                "max_bars",
                "0 bars: the period must be at least 1 (remove it for no bar limit)".into(),
            );
        }
        if let Some(text) = &self.max_duration {
            if let Err(reason) = text.parse::<Interval>() {
                fail("max_duration", reason);
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exits(text: &str) -> ExitConfig {
        toml::from_str(text).expect("a valid exits table")
    }

    fn problems(text: &str) -> Vec<(String, String)> {
        exits(text)
            .problems("x")
            .into_iter()
            .map(|i| (i.path, i.message))
            .collect()
    }

    #[test]
    fn every_key_reads_and_defaults_apply() {
        let all = exits(
            "stop_loss_pct = 2\ntake_profit_pct = \"4.5\"\ntrailing_stop_pct = 1.5\n\
             trailing_activation_pct = 1\nbreak_even_after_pct = 0.8\nchandelier_atr_mult = 3\n\
             chandelier_atr_period = 10\nvolatility_atr_mult = 2.5\nvolatility_atr_period = 7\n\
             max_bars = 12\nmax_duration = \"4h\"\nsignal_flip = true\n",
        );
        assert_eq!(all.take_profit_pct, Some(Decimal::new(45, 1)));
        assert_eq!(all.trailing_stop_pct, Some(Decimal::new(15, 1)));
        assert_eq!((all.chandelier_period(), all.volatility_period()), (10, 7));
        assert_eq!(all.max_duration(), Some(Interval(4 * 3600)));
        assert_eq!(all.max_bars, Some(12));
        assert!(all.signal_flip);
        assert_eq!(all.problems("x"), []);

        let none = exits("");
        assert_eq!(none, ExitConfig::default());
        assert_eq!(
            (none.chandelier_period(), none.volatility_period()),
            (22, 14)
        );
        assert!(!none.signal_flip);
        assert!(toml::from_str::<ExitConfig>("trailing_pct = 1").is_err());
    }

    #[test]
    fn bad_values_name_their_key() {
        let found = problems(
            "trailing_stop_pct = 100.5\ntrailing_activation_pct = 0\nbreak_even_after_pct = -1\n\
             chandelier_atr_mult = 0\nchandelier_atr_period = 0\nvolatility_atr_period = 5\n\
             max_bars = 0\nmax_duration = \"4x\"\n",
        );
        let paths: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "x.trailing_stop_pct",
                "x.trailing_activation_pct",
                "x.break_even_after_pct",
                "x.chandelier_atr_mult",
                "x.chandelier_atr_period",
                "x.volatility_atr_period",
                "x.max_bars",
                "x.max_duration",
            ],
            "{found:#?}"
        );
        assert_eq!(found[0].1, "100.5 is outside (0, 100]");
        assert_eq!(found[2].1, "-1 must be greater than 0");
        assert_eq!(found[5].1, "has no effect without volatility_atr_mult");
        // The edges of the ranges are allowed.
        assert_eq!(
            problems("trailing_stop_pct = 100\nchandelier_atr_mult = 0.01\nchandelier_atr_period = 1\nmax_bars = 1\nmax_duration = \"1s\""),
            []
        );
        assert_eq!(
            problems("trailing_activation_pct = 2"),
            [(
                "x.trailing_activation_pct".to_string(),
                "has no effect without trailing_stop_pct".to_string()
            )]
        );
    }
}
