//! The `risk` table of a bot: the RiskSupervisor's limits (risk layer 3), which override the
//! strategy. Every key is optional: a limit that is not configured is not enforced. The
//! RiskSupervisor's module documentation (`actors/src/risk/mod.rs`) and docs/RISK.md give each
//! limit's semantics; docs/CONFIG.md lists the keys.

use charon_events::payload::market::Interval;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use super::invalid::Invalid;

#[derive(serde::Serialize, Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Most positions (open, or entries approved and not yet filled) on one base asset.
    #[serde(default)]
    pub max_positions_per_asset: Option<u32>,
    /// Most positions (open, or entries approved and not yet filled) across the bot.
    #[serde(default)]
    pub max_positions_total: Option<u32>,
    /// Force-close a position whose unrealized loss reaches this percent of the bot's equity.
    #[serde(default)]
    pub max_trade_loss_pct: Option<Decimal>,
    /// Kill switch: close everything and halt entries for the rest of the trading day once the
    /// day's loss reaches this percent of the start-of-day equity.
    #[serde(default)]
    pub daily_loss_pct: Option<Decimal>,
    /// The UTC hour (0–23) a trading day starts at; 0 when absent.
    #[serde(default)]
    pub day_start_hour_utc: Option<u32>,
    /// Pause entries after this many losing trades in a row (for `loss_cooldown`).
    #[serde(default)]
    pub consecutive_losses: Option<u32>,
    /// How long entries stay paused after `consecutive_losses` losing trades (`4h`, `1d`).
    #[serde(
        default,
        deserialize_with = "duration",
        serialize_with = "duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub loss_cooldown: Option<Interval>,
    /// Bot-wide leverage cap, on top of each pair's own `leverage`: orders above it are vetoed.
    #[serde(default)]
    pub max_leverage: Option<Decimal>,
    /// Adverse slippage of a fill against its intent's expected price, in basis points,
    /// beyond which a warning and an alert are derived (the fill stands).
    #[serde(default)]
    pub max_slippage_bps: Option<Decimal>,
    /// Pause entries after this many consecutive exchange API errors.
    #[serde(default)]
    pub api_error_threshold: Option<u32>,
    /// Resume entries this long after an API-error pause (`30m`); without it only an
    /// operator's resume lifts the pause.
    #[serde(
        default,
        deserialize_with = "duration",
        serialize_with = "duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_error_cooldown: Option<Interval>,
}

/// A duration written as a bar length (`30s`, `15m`, `4h`, `1d`, `1w`).
/// The form `duration` reads (snapshots write configs back).
fn duration_text<S: serde::Serializer>(
    interval: &Option<Interval>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match interval {
        Some(interval) => serializer.collect_str(interval),
        None => serializer.serialize_none(),
    }
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Interval>, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse::<Interval>().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "{text:?} is not a duration like 30s, 15m, 4h, 1d or 1w"
        ))
    })
}

impl RiskConfig {
    /// The hour (UTC) each trading day starts at.
    pub fn day_start_hour(&self) -> u32 {
        self.day_start_hour_utc.unwrap_or(0)
    }

    /// Problems beyond what serde checks, with paths under `at` (e.g. `bot[0].risk`).
    pub(super) fn problems(&self, at: &str) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let mut fail = |key: &str, message: String| {
            problems.push(Invalid {
                path: format!("{at}.{key}"),
                message,
            })
        };
        for (key, count) in [
            ("max_positions_per_asset", self.max_positions_per_asset),
            ("max_positions_total", self.max_positions_total),
            ("consecutive_losses", self.consecutive_losses),
            ("api_error_threshold", self.api_error_threshold),
        ] {
            if count == Some(0) {
                fail(
                    key,
                    "0 must be at least 1 (remove the key to disable)".into(),
                );
            }
        }
        let hundred = Decimal::ONE_HUNDRED;
        for (key, pct) in [
            ("max_trade_loss_pct", self.max_trade_loss_pct),
            ("daily_loss_pct", self.daily_loss_pct),
        ] {
            if let Some(pct) = pct.filter(|pct| *pct <= Decimal::ZERO || *pct > hundred) {
                fail(key, format!("{pct} is outside (0, {hundred}]"));
            }
        }
        if let Some(hour) = self.day_start_hour_utc {
            if hour > 23 {
                fail("day_start_hour_utc", format!("{hour} is outside 0..=23"));
            } else if self.daily_loss_pct.is_none() {
                fail(
                    "day_start_hour_utc",
                    "has no effect without daily_loss_pct".into(),
                );
            }
        }
        match (self.consecutive_losses, self.loss_cooldown) {
            (Some(_), None) => fail(
                "loss_cooldown",
                "consecutive_losses needs a loss_cooldown (e.g. \"4h\")".into(),
            ),
            (None, Some(_)) => fail(
                "loss_cooldown",
                "has no effect without consecutive_losses".into(),
            ),
            _ => {}
        }
        if let Some(leverage) = self
            .max_leverage
            .filter(|leverage| *leverage < Decimal::ONE)
        {
            fail("max_leverage", format!("{leverage} is below 1"));
        }
        if let Some(bps) = self.max_slippage_bps.filter(|bps| *bps < Decimal::ZERO) {
            fail("max_slippage_bps", format!("{bps} is negative"));
        }
        if self.api_error_cooldown.is_some() && self.api_error_threshold.is_none() {
            fail(
                "api_error_cooldown",
                "has no effect without api_error_threshold".into(),
            );
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(text: &str) -> Result<RiskConfig, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    fn problems(text: &str) -> Vec<(String, String)> {
        risk(text)
            .unwrap()
            .problems("bot[0].risk")
            .into_iter()
            .map(|invalid| (invalid.path, invalid.message))
            .collect()
    }

    #[test]
    fn every_key_is_optional_and_read() {
        assert_eq!(risk("").unwrap(), RiskConfig::default());
        assert_eq!(RiskConfig::default().day_start_hour(), 0);
        let config = risk(
            "max_positions_per_asset = 1\nmax_positions_total = 3\nmax_trade_loss_pct = 2.5\n\
             daily_loss_pct = 5\nday_start_hour_utc = 8\nconsecutive_losses = 3\n\
             loss_cooldown = \"4h\"\nmax_leverage = 5\nmax_slippage_bps = 25\n\
             api_error_threshold = 4\napi_error_cooldown = \"30m\"\n",
        )
        .unwrap();
        assert_eq!(
            config,
            RiskConfig {
                max_positions_per_asset: Some(1),
                max_positions_total: Some(3),
                max_trade_loss_pct: Some("2.5".parse().unwrap()),
                daily_loss_pct: Some(Decimal::from(5)),
                day_start_hour_utc: Some(8),
                consecutive_losses: Some(3),
                loss_cooldown: Some(Interval(4 * 3600)),
                max_leverage: Some(Decimal::from(5)),
                max_slippage_bps: Some(Decimal::from(25)),
                api_error_threshold: Some(4),
                api_error_cooldown: Some(Interval(1800)),
            }
        );
        assert_eq!(config.day_start_hour(), 8);
        assert_eq!(config.problems("bot[0].risk"), []);
    }

    #[test]
    fn unknown_keys_and_bad_durations_are_refused_by_serde() {
        let error = risk("daily_loss = 5").unwrap_err();
        assert!(error.contains("unknown field `daily_loss`"), "{error}");
        let error = risk("consecutive_losses = 2\nloss_cooldown = \"4 hours\"").unwrap_err();
        assert!(
            error.contains("\"4 hours\" is not a duration like 30s, 15m, 4h, 1d or 1w"),
            "{error}"
        );
        assert!(risk("api_error_cooldown = 30").is_err());
    }

    #[test]
    fn ranges_and_companions_are_checked_with_their_paths() {
        let found = problems(
            "max_positions_per_asset = 0\nmax_positions_total = 0\nmax_trade_loss_pct = 0\n\
             daily_loss_pct = 100.01\nday_start_hour_utc = 24\nconsecutive_losses = 0\n\
             loss_cooldown = \"1h\"\nmax_leverage = 0.5\nmax_slippage_bps = -1\n\
             api_error_threshold = 0\n",
        );
        let paths: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bot[0].risk.max_positions_per_asset",
                "bot[0].risk.max_positions_total",
                "bot[0].risk.consecutive_losses",
                "bot[0].risk.api_error_threshold",
                "bot[0].risk.max_trade_loss_pct",
                "bot[0].risk.daily_loss_pct",
                "bot[0].risk.day_start_hour_utc",
                "bot[0].risk.max_leverage",
                "bot[0].risk.max_slippage_bps",
            ],
            "{found:?}"
        );
        assert_eq!(found[4].1, "0 is outside (0, 100]");
        assert_eq!(found[5].1, "100.01 is outside (0, 100]");
        assert_eq!(found[6].1, "24 is outside 0..=23");
        assert_eq!(found[7].1, "0.5 is below 1");
        // The limits themselves: 100% and leverage 1 and 0 bps are allowed.
        assert_eq!(
            problems(
                "max_trade_loss_pct = 100\ndaily_loss_pct = 100\nday_start_hour_utc = 23\n\
                 max_leverage = 1\nmax_slippage_bps = 0\n"
            ),
            []
        );
    }

    #[test]
    fn a_key_without_the_one_it_qualifies_is_a_problem() {
        assert_eq!(
            problems("consecutive_losses = 3"),
            [(
                "bot[0].risk.loss_cooldown".to_string(),
                "consecutive_losses needs a loss_cooldown (e.g. \"4h\")".to_string()
            )]
        );
        let found =
            problems("loss_cooldown = \"1h\"\nday_start_hour_utc = 0\napi_error_cooldown = \"1h\"");
        assert_eq!(
            found,
            [
                (
                    "bot[0].risk.day_start_hour_utc".to_string(),
                    "has no effect without daily_loss_pct".to_string()
                ),
                (
                    "bot[0].risk.loss_cooldown".to_string(),
                    "has no effect without consecutive_losses".to_string()
                ),
                (
                    "bot[0].risk.api_error_cooldown".to_string(),
                    "has no effect without api_error_threshold".to_string()
                ),
            ]
        );
        // An API-error pause without a cooldown waits for an operator: valid.
        assert_eq!(problems("api_error_threshold = 3"), []);
    }
}
