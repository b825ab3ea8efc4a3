//! What serde cannot check: ranges, consistency between fields, and the rule that a pair
//! belongs to one bot. Every problem is reported (not just the first), each with the path of
//! the field it concerns.

use std::collections::BTreeMap;

use charon_events::payload::market::Interval;
use rust_decimal::Decimal;

use super::bot::{BotConfig, Config, MarketKind, PairConfig, PerTrade};
use super::invalid::Invalid;
use super::simulation::SimulationConfig;
use crate::exchange::{GapFill, TrailingUpdate};

#[derive(serde::Serialize, serde::Deserialize)]
struct Checker {
    problems: Vec<Invalid>,
}

impl Checker {
    fn fail(&mut self, path: String, message: impl Into<String>) {
        self.problems.push(Invalid {
            path,
            message: message.into(),
        });
    }

    /// A percentage in (0, max].
    fn pct(&mut self, path: String, value: Option<Decimal>, max: Decimal) {
        if let Some(value) = value {
            if value <= Decimal::ZERO || value > max {
                self.fail(path, format!("{value} is outside (0, {max}]"));
            }
        }
    }

    fn positive(&mut self, path: String, value: Decimal) {
        if value <= Decimal::ZERO {
            self.fail(path, format!("{value} must be greater than 0"));
        }
    }
}

/// A fee of 2% of notional or more a fill is no venue's: such a value is in another unit.
const MOST_FEE_PCT: Decimal = Decimal::from_parts(2, 0, 0, false, 0);
/// Up to a thousandth of a percent (0.1 basis point), a non-zero `_pct` fee is no venue's: it
/// is a ratio written where a percent belongs (Freqtrade's `fee = 0.001`, 0.1%).
const LEAST_FEE_PCT: Decimal = Decimal::from_parts(1, 0, 0, false, 3);

/// A fee given as a percent or as a ratio (not both), in its own unit, no rebate, and of a size
/// some venue charges: a value that can only be the other unit is refused, naming the right key.
fn check_fee(check: &mut Checker, side: &str, pct: Option<Decimal>, rate: Option<Decimal>) {
    let (pct_key, rate_key) = (
        format!("simulation.{side}_fee_pct"),
        format!("simulation.{side}_fee_rate"),
    );
    if let (Some(_), Some(_)) = (pct, rate) {
        check.fail(
            rate_key.clone(),
            format!(
                "give the {side} fee once: {side}_fee_pct (percent) or {side}_fee_rate (ratio)"
            ),
        );
        return;
    }
    if let Some(pct) = pct {
        if pct < Decimal::ZERO || pct >= Decimal::ONE_HUNDRED {
            check.fail(
                pct_key,
                format!("{pct} is outside [0, 100) (maker rebates are not modelled)"),
            );
        } else if pct >= MOST_FEE_PCT {
            check.fail(
                pct_key,
                format!(
                    "{pct}% a fill is no venue's fee: {side}_fee_pct is a percent (0.05 for \
                     0.05%), not basis points"
                ),
            );
        } else if pct > Decimal::ZERO && pct <= LEAST_FEE_PCT {
            check.fail(
                pct_key,
                format!(
                    "{pct}% is a ratio written as a percent: write {side}_fee_rate = {pct} \
                     (that is {}%) or {side}_fee_pct = {}",
                    (pct * Decimal::ONE_HUNDRED).normalize(),
                    (pct * Decimal::ONE_HUNDRED).normalize()
                ),
            );
        }
    }
    if let Some(rate) = rate {
        if rate < Decimal::ZERO || rate >= Decimal::ONE {
            check.fail(
                rate_key,
                format!("{rate} is outside [0, 1) (maker rebates are not modelled)"),
            );
        } else if rate * Decimal::ONE_HUNDRED >= MOST_FEE_PCT {
            check.fail(
                rate_key,
                format!(
                    "{rate} is {}% a fill, no venue's fee: {side}_fee_rate is a ratio \
                     (0.0005 for 0.05%); did you mean {side}_fee_pct = {rate}?",
                    (rate * Decimal::ONE_HUNDRED).normalize()
                ),
            );
        }
    }
}

/// Every problem in `config`; empty when it is valid.
pub fn validate(config: &Config) -> Vec<Invalid> {
    let hundred = Decimal::ONE_HUNDRED;
    let mut check = Checker {
        problems: Vec::new(),
    };
    if config.bot.is_empty() {
        check.fail("bot".into(), "no [[bot]] is configured");
    }
    let mut bot_names = BTreeMap::new();
    let mut pair_owner: BTreeMap<&str, String> = BTreeMap::new();
    for (b, bot) in config.bot.iter().enumerate() {
        let at = format!("bot[{b}]");
        if let Some(first) = bot_names.insert(bot.name.as_str(), b) {
            check.fail(
                format!("{at}.name"),
                format!("bot `{}` is already bot[{first}]", bot.name),
            );
        }
        check.positive(format!("{at}.initial_capital"), bot.initial_capital.0);
        check.pct(format!("{at}.stop_loss_pct"), bot.stop_loss_pct, hundred);
        check
            .problems
            .extend(bot.risk.problems(&format!("{at}.risk")));
        check.pct(
            format!("{at}.take_profit_pct"),
            bot.take_profit_pct,
            Decimal::MAX,
        );
        if bot.pair.is_empty() {
            check.fail(format!("{at}.pair"), "the bot has no [[bot.pair]]");
        }
        for (p, pair) in bot.pair.iter().enumerate() {
            let at = format!("{at}.pair[{p}]");
            if let Some(owner) = pair_owner.insert(pair.symbol.as_str(), at.clone()) {
                check.fail(
                    format!("{at}.symbol"),
                    format!(
                        "{} is already traded by {owner}; a pair belongs to one bot only",
                        pair.symbol
                    ),
                );
            }
            check_pair(&mut check, &at, bot, pair);
        }
    }
    check_simulation(&mut check, &config.simulation);
    check.problems
}

fn check_simulation(check: &mut Checker, simulation: &SimulationConfig) {
    let slippage = simulation.slippage_bps;
    if slippage < Decimal::ZERO || slippage >= Decimal::from(10_000) {
        check.fail(
            "simulation.slippage_bps".into(),
            format!("{slippage} is outside [0, 10000)"),
        );
    }
    for (side, pct, rate) in [
        ("maker", simulation.maker_fee_pct, simulation.maker_fee_rate),
        ("taker", simulation.taker_fee_pct, simulation.taker_fee_rate),
    ] {
        check_fee(check, side, pct, rate);
    }
    let conflicts = simulation.profile_conflicts();
    let conflicting = !conflicts.is_empty();
    for conflict in conflicts {
        let profile = conflict.profile.name();
        check.fail(
            format!("simulation.{}", conflict.key),
            format!(
                "conventions = \"{profile}\" sets {} = {}: remove the key, or the profile \
                 and set each option yourself",
                conflict.key, conflict.expected
            ),
        );
    }
    // A conflict is the cause of any mismatch the profile's values would show here.
    let intrabar = simulation.intrabar();
    if !conflicting
        && intrabar.trailing == TrailingUpdate::HighFirst
        && intrabar.gap_fill != GapFill::Level
    {
        check.fail(
            "simulation.trailing".into(),
            "\"high_first\" needs gap_fill = \"level\": a stop that a bar's high moved above \
             its open could not be told from a gap through it",
        );
    }
}

fn check_pair(check: &mut Checker, at: &str, bot: &BotConfig, pair: &PairConfig) {
    let hundred = Decimal::ONE_HUNDRED;
    if !pair.symbol.as_str().ends_with(bot.quote.as_str()) {
        check.fail(
            format!("{at}.symbol"),
            format!(
                "{} is not quoted in the bot's quote currency {}",
                pair.symbol, bot.quote
            ),
        );
    }
    if let Some(Err(reason)) = pair.timeframe.as_deref().map(str::parse::<Interval>) {
        check.fail(format!("{at}.timeframe"), reason);
    }
    if pair.strategy.trim().is_empty() {
        check.fail(format!("{at}.strategy"), "names no template file");
    }
    match pair.market {
        MarketKind::Spot if pair.leverage != Decimal::ONE => {
            check.fail(
                format!("{at}.leverage"),
                format!(
                    "{} on a spot pair; spot trades without leverage (1)",
                    pair.leverage
                ),
            );
        }
        _ if pair.leverage < Decimal::ONE => {
            check.fail(
                format!("{at}.leverage"),
                format!("{} is below 1", pair.leverage),
            );
        }
        _ => {}
    }
    let sizing = format!("{at}.sizing");
    match pair.sizing.per_trade {
        PerTrade::Quantity(quantity) => {
            check.positive(format!("{sizing}.per_trade.quantity"), quantity.0)
        }
        PerTrade::Quote(amount) => {
            check.positive(format!("{sizing}.per_trade.quote"), amount.0);
            if let Some(cap) = pair
                .sizing
                .max_position_quote
                .filter(|cap| cap.0 < amount.0)
            {
                check.fail(
                    format!("{sizing}.max_position_quote"),
                    format!(
                        "{cap} is below one trade's size ({amount}): no entry could ever be made"
                    ),
                );
            }
        }
        PerTrade::EquityPct(pct) => {
            check.pct(format!("{sizing}.per_trade.equity_pct"), Some(pct), hundred)
        }
    }
    if let Some(cap) = pair.sizing.max_position_quote {
        check.positive(format!("{sizing}.max_position_quote"), cap.0);
    }
    check.pct(
        format!("{at}.exits.stop_loss_pct"),
        pair.exits.stop_loss_pct,
        hundred,
    );
    check.pct(
        format!("{at}.exits.take_profit_pct"),
        pair.exits.take_profit_pct,
        Decimal::MAX,
    );
    check
        .problems
        .extend(pair.exits.problems(&format!("{at}.exits")));
    check
        .problems
        .extend(pair.gates.problems(&format!("{at}.gates")));
    check.pct(
        format!("{at}.max_drawdown_pct"),
        pair.max_drawdown_pct,
        hundred,
    );
    if let Some(add_on) = &pair.add_on {
        if add_on.max_adds == 0 {
            check.fail(
                format!("{at}.add_on.max_adds"),
                "0 adds: remove [add_on] instead",
            );
        }
        check.pct(
            format!("{at}.add_on.trigger_move_pct"),
            Some(add_on.trigger_move_pct),
            hundred,
        );
        check.pct(
            format!("{at}.add_on.size_pct"),
            Some(add_on.size_pct),
            hundred,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pair: &str) -> Config {
        let text = format!(
            "[[bot]]\nname = \"a\"\nquote = \"USDT\"\ninitial_capital = 1000\n\n[[bot.pair]]\nstrategy = \"s.toml\"\n{pair}\n"
        );
        toml::from_str(&text).expect("a valid test config")
    }

    fn problems(pair: &str) -> Vec<(String, String)> {
        validate(&config(pair))
            .into_iter()
            .map(|i| (i.path, i.message))
            .collect()
    }

    #[test]
    fn a_valid_pair_has_no_problems() {
        assert_eq!(
            problems("symbol = \"BTCUSDT\"\nsizing = { per_trade = { quote = 100 } }"),
            []
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        let found = problems(
            "symbol = \"BTCEUR\"\ntimeframe = \"1M\"\nsizing = { per_trade = { quote = 100 }, max_position_quote = 50 }\nadd_on = { max_adds = 0, trigger_move_pct = 1, size_pct = 150 }",
        );
        let paths: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bot[0].pair[0].symbol",
                "bot[0].pair[0].timeframe",
                "bot[0].pair[0].sizing.max_position_quote",
                "bot[0].pair[0].add_on.max_adds",
                "bot[0].pair[0].add_on.size_pct",
            ],
            "{found:?}"
        );
        assert!(found[0]
            .1
            .contains("not quoted in the bot's quote currency USDT"));
        assert!(found[2].1.contains("below one trade's size"));
    }

    #[test]
    fn bot_names_and_pairs_are_unique() {
        let mut config = config("symbol = \"BTCUSDT\"\nsizing = { per_trade = { quote = 100 } }");
        config.bot.push(config.bot[0].clone());
        let found: Vec<String> = validate(&config).into_iter().map(|i| i.path).collect();
        assert_eq!(found, ["bot[1].name", "bot[1].pair[0].symbol"]);
    }

    #[test]
    fn simulation_settings_are_checked() {
        let mut config = config("symbol = \"BTCUSDT\"\nsizing = { per_trade = { quote = 100 } }");
        config.simulation.slippage_bps = Decimal::from(10_000);
        config.simulation.taker_fee_pct = Some(Decimal::NEGATIVE_ONE);
        let found: Vec<String> = validate(&config).into_iter().map(|i| i.path).collect();
        assert_eq!(
            found,
            ["simulation.slippage_bps", "simulation.taker_fee_pct"]
        );
    }

    #[test]
    fn profile_conflicts_and_trailing_high_first_are_checked() {
        let mut config = config("symbol = \"BTCUSDT\"\nsizing = { per_trade = { quote = 100 } }");
        config.simulation.conventions = Some(crate::config::Profile::Freqtrade);
        assert_eq!(validate(&config), []);
        config.simulation.gap_fill = Some(GapFill::Open);
        let found = validate(&config);
        let paths: Vec<&str> = found.iter().map(|invalid| invalid.path.as_str()).collect();
        assert_eq!(paths, ["simulation.gap_fill"], "{found:?}");
        assert_eq!(
            found[0].message,
            "conventions = \"freqtrade\" sets gap_fill = \"level\": remove the key, or the \
             profile and set each option yourself"
        );
        config.simulation.conventions = None;
        config.simulation.gap_fill = None;
        config.simulation.trailing = Some(TrailingUpdate::HighFirst);
        let found = validate(&config);
        let paths: Vec<&str> = found.iter().map(|invalid| invalid.path.as_str()).collect();
        assert_eq!(paths, ["simulation.trailing"]);
        assert!(found[0].message.contains("needs gap_fill = \"level\""));
        config.simulation.gap_fill = Some(GapFill::Level);
        assert_eq!(validate(&config), []);
    }

    #[test]
    fn a_fee_is_given_once_in_a_unit_its_name_says_and_of_a_size_a_venue_charges() {
        let mut config = config("symbol = \"BTCUSDT\"\nsizing = { per_trade = { quote = 100 } }");
        let problems = |config: &Config| -> Vec<(String, String)> {
            validate(config)
                .into_iter()
                .map(|i| (i.path, i.message))
                .collect()
        };
        let dec = |text: &str| Some(Decimal::from_str_exact(text).unwrap());
        // Plausible fees in either unit pass, and mean the same.
        config.simulation.taker_fee_pct = dec("0.05");
        config.simulation.maker_fee_rate = dec("0.0002");
        assert_eq!(problems(&config), []);
        assert_eq!(config.simulation.taker_fee().0, Decimal::new(5, 4));
        assert_eq!(config.simulation.maker_fee().0, Decimal::new(2, 4));
        // A ratio written as a percent, a percent written as a ratio, basis points, both keys.
        config.simulation.taker_fee_pct = dec("0.0005");
        config.simulation.maker_fee_rate = dec("0.05");
        let found = problems(&config);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "simulation.maker_fee_rate");
        assert!(
            found[0].1.contains("did you mean maker_fee_pct = 0.05"),
            "{}",
            found[0].1
        );
        assert_eq!(found[1].0, "simulation.taker_fee_pct");
        assert!(
            found[1].1.contains("write taker_fee_rate = 0.0005"),
            "{}",
            found[1].1
        );
        config.simulation.maker_fee_rate = None;
        config.simulation.taker_fee_pct = dec("5");
        let found = problems(&config);
        assert!(found[0].1.contains("not basis points"), "{found:?}");
        config.simulation.taker_fee_pct = dec("0.1");
        config.simulation.taker_fee_rate = dec("0.001");
        let found = problems(&config);
        assert_eq!(found[0].0, "simulation.taker_fee_rate");
        assert!(found[0].1.contains("give the taker fee once"), "{found:?}");
        // No fee at all is a fee a venue charges (a zero-fee promotion, a maker at tier 9).
        config.simulation.taker_fee_rate = None;
        config.simulation.taker_fee_pct = dec("0");
        assert_eq!(problems(&config), []);
    }
}
