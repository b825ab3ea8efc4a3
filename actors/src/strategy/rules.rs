//! A template's rules ready to run on one pair: the four conditions (long entry and exit,
//! short entry and exit) compiled into one [`Evaluator`], so indicators the rules share are
//! computed once, and the index of each rule in it.

use crate::config::{MarketKind, StrategyTemplate};

use super::eval::{EvalError, Evaluator};
use super::expr::{parse_rules, ExprError};

/// Which of a template's rules fired on a bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fired {
    pub long_entry: bool,
    pub long_exit: bool,
    pub short_entry: bool,
    pub short_exit: bool,
}

/// Why a template could not be made ready for a pair.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("template {template:?}, {rule}: {error}")]
    Condition {
        template: String,
        rule: &'static str,
        error: ExprError,
    },
    #[error("template {template:?}: {error}")]
    Eval { template: String, error: EvalError },
}

/// A template's rules on one pair.
#[derive(Debug, Clone)]
pub struct StrategyRules {
    name: String,
    evaluator: Evaluator,
    long_entry: Option<usize>,
    long_exit: Option<usize>,
    short_entry: Option<usize>,
    short_exit: Option<usize>,
}

impl StrategyRules {
    /// Compiles `template` for a pair trading `market`: a spot pair leaves out the `[short]`
    /// rules (it cannot go short).
    pub fn new(template: &StrategyTemplate, market: MarketKind) -> Result<Self, RulesError> {
        let mut texts: Vec<(&'static str, &str)> = Vec::new();
        if let Some(long) = &template.long {
            texts.push(("long.entry", &long.entry));
            if let Some(exit) = &long.exit {
                texts.push(("long.exit", exit));
            }
        }
        if market == MarketKind::Perpetual {
            if let Some(short) = &template.short {
                texts.push(("short.entry", &short.entry));
                if let Some(exit) = &short.exit {
                    texts.push(("short.exit", exit));
                }
            }
        }
        let conditions: Vec<&str> = texts.iter().map(|(_, text)| *text).collect();
        let compiled =
            parse_rules(&conditions).map_err(|(index, error)| RulesError::Condition {
                template: template.name.clone(),
                rule: texts[index].0,
                error,
            })?;
        let evaluator = Evaluator::new(compiled).map_err(|error| RulesError::Eval {
            template: template.name.clone(),
            error,
        })?;
        let index_of = |rule: &str| texts.iter().position(|(name, _)| *name == rule);
        Ok(Self {
            name: template.name.clone(),
            long_entry: index_of("long.entry"),
            long_exit: index_of("long.exit"),
            short_entry: index_of("short.entry"),
            short_exit: index_of("short.exit"),
            evaluator,
        })
    }

    /// The template's name, for signal reasons.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the next closed bar of the pair's timeframe and says which rules fired on it.
    pub fn on_bar(&mut self, bar: &crate::indicators::Candle) -> Fired {
        let fired = self.evaluator.on_bar(bar);
        let at = |index: Option<usize>| index.is_some_and(|i| fired[i]);
        Fired {
            long_entry: at(self.long_entry),
            long_exit: at(self.long_exit),
            short_entry: at(self.short_entry),
            short_exit: at(self.short_exit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::Candle;

    fn template(text: &str) -> StrategyTemplate {
        toml::from_str(text).unwrap()
    }

    fn candle(close: f64) -> Candle {
        Candle {
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
        }
    }

    #[test]
    fn rules_map_to_their_sides_and_spot_drops_short() {
        let t = template(
            "name = \"t\"\n[long]\nentry = \"close > 10\"\nexit = \"close < 5\"\n[short]\nentry = \"close < 5\"\n",
        );
        let mut perp = StrategyRules::new(&t, MarketKind::Perpetual).unwrap();
        let mut spot = StrategyRules::new(&t, MarketKind::Spot).unwrap();
        assert_eq!(
            perp.on_bar(&candle(11.0)),
            Fired {
                long_entry: true,
                ..Fired::default()
            }
        );
        assert_eq!(
            perp.on_bar(&candle(4.0)),
            Fired {
                long_exit: true,
                short_entry: true,
                ..Fired::default()
            }
        );
        assert_eq!(
            spot.on_bar(&candle(4.0)),
            Fired {
                long_exit: true,
                ..Fired::default()
            }
        );
    }

    #[test]
    fn a_bad_condition_names_its_rule() {
        let t =
            template("name = \"t\"\n[long]\nentry = \"close > 10\"\nexit = \"nope(close) > 1\"\n");
        let error = StrategyRules::new(&t, MarketKind::Spot).unwrap_err();
        assert!(error.to_string().contains("long.exit"), "{error}");
    }
}
