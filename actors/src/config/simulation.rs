//! The `[simulation]` table: how the simulated exchange of paper and backtest runs fills
//! orders (timing, slippage, fees, and the intrabar conventions where engines differ), and the
//! `conventions` profiles that set those conventions at once. Optional; the defaults are
//! those of [`FillModel::default`](crate::exchange::FillModel).
//!
//! A profile sets every option it names ([`Profile::settings`]); an option also set in the
//! file must agree with the profile, or `validate` reports it at the option's path. Without a
//! profile each option takes its own default.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::exchange::{
    FillModel, FillModelError, FillTiming, GapFill, Intrabar, IntrabarOrder, TakeProfitAt,
    TrailingUpdate,
};
use charon_events::Rate;

/// When a market order decided at a bar's close fills (docs/BACKTESTING.md).
#[derive(serde::Serialize, Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillAt {
    /// The next market input after the decision: the next bar's open, trade or quote.
    #[default]
    NextBarOpen,
    /// The deciding bar's close (optimistic; for comparison with tools that assume it).
    SameBarClose,
}

/// A named set of conventions (docs/BACKTESTING.md).
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// charon's own defaults.
    Charon,
    /// Freqtrade's documented backtesting assumptions, as far as charon can express them.
    Freqtrade,
}

/// What a profile sets: the value of every option it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileSettings {
    pub fill: FillAt,
    /// `None`: the profile leaves slippage to the file.
    pub slippage_bps: Option<Decimal>,
    pub intrabar: Intrabar,
    pub entry_on_exit_bar: bool,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Charon => "charon",
            Profile::Freqtrade => "freqtrade",
        }
    }

    /// The options this profile sets.
    pub fn settings(self) -> ProfileSettings {
        match self {
            Profile::Charon => ProfileSettings {
                fill: FillAt::NextBarOpen,
                slippage_bps: None,
                intrabar: Intrabar::default(),
                entry_on_exit_bar: false,
            },
            // Entries and exit signals at the next candle's open; no slippage; a stop at its
            // price whenever the candle reaches it; stoploss → ROI → trailing; ROI after
            // fees; trailing moved by the high first; a closed trade frees its pair for the
            // signal of the candle it closed on.
            Profile::Freqtrade => ProfileSettings {
                fill: FillAt::NextBarOpen,
                slippage_bps: Some(Decimal::ZERO),
                intrabar: Intrabar {
                    gap_fill: GapFill::Level,
                    order: IntrabarOrder::StopLossFirst,
                    take_profit: TakeProfitAt::Roi,
                    trailing: TrailingUpdate::HighFirst,
                },
                entry_on_exit_bar: true,
            },
        }
    }
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationConfig {
    /// A profile setting the options below at once; none: each option's own default.
    #[serde(default)]
    pub conventions: Option<Profile>,
    #[serde(default)]
    pub fill: FillAt,
    /// Against the taker, in basis points of the reference price.
    #[serde(default)]
    pub slippage_bps: Decimal,
    /// Fee of a maker fill, percent of its notional (`0.02` is 0.02%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maker_fee_pct: Option<Decimal>,
    /// Fee of a taker fill (every market, stop and take-profit order), percent of notional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taker_fee_pct: Option<Decimal>,
    /// The maker fee as a ratio of notional (`0.0002` is 0.02%), instead of `maker_fee_pct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maker_fee_rate: Option<Decimal>,
    /// The taker fee as a ratio of notional (`0.0005` is 0.05%; Freqtrade's `fee`), instead of
    /// `taker_fee_pct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taker_fee_rate: Option<Decimal>,
    /// Where a stop or target fills when the bar opens beyond it.
    #[serde(default)]
    pub gap_fill: Option<GapFill>,
    /// Which level wins a bar whose range holds both.
    #[serde(default)]
    pub intrabar_order: Option<IntrabarOrder>,
    /// What `take_profit_pct` means.
    #[serde(default)]
    pub take_profit: Option<TakeProfitAt>,
    /// When trailing levels move.
    #[serde(default)]
    pub trailing: Option<TrailingUpdate>,
    /// Whether an entry signal at the close of the bar whose input closed the position enters
    /// once the exit has filled.
    #[serde(default)]
    pub entry_on_exit_bar: Option<bool>,
}

/// A fee given as a ratio, or as a percent, or the default percent: as a fraction.
fn fee(rate: Option<Decimal>, pct: Option<Decimal>, default_pct: Decimal) -> Rate {
    Rate(rate.unwrap_or_else(|| pct.unwrap_or(default_pct) / Decimal::ONE_HUNDRED))
}

/// Binance USD-M futures' base tier, as [`FillModel::default`].
fn default_maker_fee_pct() -> Decimal {
    Decimal::new(2, 2)
}

fn default_taker_fee_pct() -> Decimal {
    Decimal::new(5, 2)
}

impl Default for SimulationConfig {
    fn default() -> Self {
        Self {
            fill: FillAt::default(),
            slippage_bps: Decimal::ZERO,
            maker_fee_pct: None,
            taker_fee_pct: None,
            maker_fee_rate: None,
            taker_fee_rate: None,
            conventions: None,
            gap_fill: None,
            intrabar_order: None,
            take_profit: None,
            trailing: None,
            entry_on_exit_bar: None,
        }
    }
}

/// A unit variant as the file spells it: `StopLossFirst` → `"stop_loss_first"`.
fn quoted(value: impl std::fmt::Debug) -> String {
    let mut text = String::from('"');
    for (i, c) in format!("{value:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            text.push('_');
        }
        text.push(c.to_ascii_lowercase());
    }
    text.push('"');
    text
}

/// An option set in the file that its profile sets to another value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileConflict {
    /// The option's key in `[simulation]`.
    pub key: &'static str,
    pub profile: Profile,
    /// The profile's value, as it would be written in the file.
    pub expected: String,
}

impl SimulationConfig {
    /// The intrabar conventions: each option as set, else as the profile sets it, else its
    /// default.
    pub fn intrabar(&self) -> Intrabar {
        let base = self
            .conventions
            .map_or_else(Intrabar::default, |profile| profile.settings().intrabar);
        Intrabar {
            gap_fill: self.gap_fill.unwrap_or(base.gap_fill),
            order: self.intrabar_order.unwrap_or(base.order),
            take_profit: self.take_profit.unwrap_or(base.take_profit),
            trailing: self.trailing.unwrap_or(base.trailing),
        }
    }

    /// Whether a pair acts on an entry signal of the bar its exit filled on: as set, else as
    /// the profile sets it, else not.
    pub fn entry_on_exit_bar(&self) -> bool {
        self.entry_on_exit_bar.unwrap_or_else(|| {
            self.conventions
                .is_some_and(|profile| profile.settings().entry_on_exit_bar)
        })
    }

    /// The options set in the file that disagree with the profile.
    pub fn profile_conflicts(&self) -> Vec<ProfileConflict> {
        let Some(profile) = self.conventions else {
            return Vec::new();
        };
        let wanted = profile.settings();
        let mut conflicts = Vec::new();
        let mut differ = |key: &'static str, set: bool, expected: String| {
            if set {
                conflicts.push(ProfileConflict {
                    key,
                    profile,
                    expected,
                });
            }
        };
        differ("fill", self.fill != wanted.fill, quoted(wanted.fill));
        if let Some(slippage) = wanted.slippage_bps {
            differ(
                "slippage_bps",
                self.slippage_bps != slippage,
                slippage.to_string(),
            );
        }
        let intrabar = wanted.intrabar;
        differ(
            "gap_fill",
            self.gap_fill.is_some_and(|set| set != intrabar.gap_fill),
            quoted(intrabar.gap_fill),
        );
        differ(
            "intrabar_order",
            self.intrabar_order.is_some_and(|set| set != intrabar.order),
            quoted(intrabar.order),
        );
        differ(
            "take_profit",
            self.take_profit
                .is_some_and(|set| set != intrabar.take_profit),
            quoted(intrabar.take_profit),
        );
        differ(
            "trailing",
            self.trailing.is_some_and(|set| set != intrabar.trailing),
            quoted(intrabar.trailing),
        );
        differ(
            "entry_on_exit_bar",
            self.entry_on_exit_bar
                .is_some_and(|set| set != wanted.entry_on_exit_bar),
            wanted.entry_on_exit_bar.to_string(),
        );
        conflicts
    }

    /// The maker fee as a fraction of notional: `maker_fee_rate`, or `maker_fee_pct`/100, or
    /// the default.
    pub fn maker_fee(&self) -> Rate {
        fee(
            self.maker_fee_rate,
            self.maker_fee_pct,
            default_maker_fee_pct(),
        )
    }

    /// The taker fee as a fraction of notional: `taker_fee_rate`, or `taker_fee_pct`/100, or
    /// the default.
    pub fn taker_fee(&self) -> Rate {
        fee(
            self.taker_fee_rate,
            self.taker_fee_pct,
            default_taker_fee_pct(),
        )
    }

    /// The fill model these settings describe.
    pub fn fill_model(&self) -> Result<FillModel, FillModelError> {
        let timing = match self.fill {
            FillAt::NextBarOpen => FillTiming::NextBarOpen,
            FillAt::SameBarClose => FillTiming::SameBarClose,
        };
        FillModel::new(
            timing,
            self.slippage_bps,
            self.maker_fee(),
            self.taker_fee(),
        )
        .map(|model| model.with_intrabar(self.intrabar()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_fill_models_defaults() {
        assert_eq!(
            SimulationConfig::default().fill_model().unwrap(),
            FillModel::default()
        );
    }

    #[test]
    fn percentages_become_fractions() {
        let config: SimulationConfig = toml::from_str(
            "fill = \"same_bar_close\"\nslippage_bps = 2\nmaker_fee_pct = 0\ntaker_fee_pct = 0.1",
        )
        .unwrap();
        let model = config.fill_model().unwrap();
        assert_eq!(model.timing(), FillTiming::SameBarClose);
        assert_eq!(model.taker_fee(), Rate::new(1, 3));
        assert_eq!(model.maker_fee(), Rate::ZERO);
        assert_eq!(model.slippage_bps(), Decimal::TWO);
    }

    fn parse(text: &str) -> SimulationConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn without_keys_the_conventions_are_the_defaults() {
        let config = parse("");
        assert_eq!(config.conventions, None);
        assert_eq!(config.intrabar(), Intrabar::default());
        assert_eq!(config.profile_conflicts(), []);
        let defaults = Intrabar {
            gap_fill: GapFill::Open,
            order: IntrabarOrder::StopFirst,
            take_profit: TakeProfitAt::Price,
            trailing: TrailingUpdate::BarClose,
        };
        assert_eq!(Intrabar::default(), defaults);
        assert_eq!(parse("conventions = \"charon\"").intrabar(), defaults);
        assert_eq!(
            parse("conventions = \"charon\"").fill_model().unwrap(),
            FillModel::default()
        );
    }

    #[test]
    fn each_option_parses_alone() {
        let config = parse(
            "gap_fill = \"level\"\nintrabar_order = \"nearer_open\"\n\
             take_profit = \"roi\"\ntrailing = \"high_first\"",
        );
        let intrabar = Intrabar {
            gap_fill: GapFill::Level,
            order: IntrabarOrder::NearerOpen,
            take_profit: TakeProfitAt::Roi,
            trailing: TrailingUpdate::HighFirst,
        };
        assert_eq!(config.intrabar(), intrabar);
        assert_eq!(config.fill_model().unwrap().intrabar(), intrabar);
        for (text, order) in [
            ("stop_first", IntrabarOrder::StopFirst),
            ("target_first", IntrabarOrder::TargetFirst),
            ("stop_loss_first", IntrabarOrder::StopLossFirst),
        ] {
            assert_eq!(
                parse(&format!("intrabar_order = \"{text}\""))
                    .intrabar()
                    .order,
                order
            );
        }
        assert!(toml::from_str::<SimulationConfig>("gap_fill = \"close\"").is_err());
        assert!(toml::from_str::<SimulationConfig>("conventions = \"backtrader\"").is_err());
    }

    #[test]
    fn the_freqtrade_profile_sets_its_conventions() {
        let config = parse("conventions = \"freqtrade\"\ntaker_fee_pct = 0.1");
        assert_eq!(config.intrabar(), Profile::Freqtrade.settings().intrabar);
        assert_eq!(
            config.intrabar(),
            Intrabar {
                gap_fill: GapFill::Level,
                order: IntrabarOrder::StopLossFirst,
                take_profit: TakeProfitAt::Roi,
                trailing: TrailingUpdate::HighFirst,
            }
        );
        let model = config.fill_model().unwrap();
        assert_eq!(model.timing(), FillTiming::NextBarOpen);
        assert_eq!(model.slippage_bps(), Decimal::ZERO);
        // One fee for both sides: every simulated fill is a taker.
        assert_eq!(model.taker_fee(), Rate::new(1, 3));
        assert_eq!(config.profile_conflicts(), []);
        assert!(config.entry_on_exit_bar());
        assert!(!parse("").entry_on_exit_bar());
        assert!(!parse("conventions = \"charon\"").entry_on_exit_bar());
        assert!(parse("entry_on_exit_bar = true").entry_on_exit_bar());
        // Repeating a profile's own value is allowed.
        let config = parse(
            "conventions = \"freqtrade\"\ngap_fill = \"level\"\nfill = \"next_bar_open\"\n\
             slippage_bps = 0",
        );
        assert_eq!(config.profile_conflicts(), []);
    }

    #[test]
    fn an_option_the_profile_sets_otherwise_is_a_conflict() {
        let config = parse(
            "conventions = \"freqtrade\"\nfill = \"same_bar_close\"\nslippage_bps = 2\n\
             gap_fill = \"open\"\nintrabar_order = \"stop_first\"\ntake_profit = \"price\"\n\
             trailing = \"bar_close\"\nentry_on_exit_bar = false",
        );
        let found: Vec<(&str, String)> = config
            .profile_conflicts()
            .into_iter()
            .map(|conflict| (conflict.key, conflict.expected))
            .collect();
        assert_eq!(
            found,
            [
                ("fill", "\"next_bar_open\"".to_string()),
                ("slippage_bps", "0".into()),
                ("gap_fill", "\"level\"".into()),
                ("intrabar_order", "\"stop_loss_first\"".into()),
                ("take_profit", "\"roi\"".into()),
                ("trailing", "\"high_first\"".into()),
                ("entry_on_exit_bar", "true".into()),
            ]
        );
        // The explicit value still wins over the profile's (the run refuses to start anyway).
        assert_eq!(config.intrabar().gap_fill, GapFill::Open);
        let config = parse("conventions = \"charon\"\ntrailing = \"high_first\"\nslippage_bps = 3");
        let found: Vec<&str> = config
            .profile_conflicts()
            .iter()
            .map(|conflict| conflict.key)
            .collect();
        assert_eq!(found, ["trailing"], "charon leaves slippage to the file");
        // Without a profile every option is free.
        let config =
            parse("trailing = \"high_first\"\nslippage_bps = 3\nfill = \"same_bar_close\"");
        assert_eq!(config.profile_conflicts(), []);
    }
}
