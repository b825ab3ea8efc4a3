//! A template's rules ready to run on one pair: the four conditions (long entry and exit,
//! short entry and exit) compiled into one [`Evaluator`], so indicators the rules share are
//! computed once, and the index of each rule in it. Every market compiles the `[short]` rules:
//! a spot pair never enters short, but its short entry closes a long when the pair's
//! `signal_flip` exit is on.

use crate::config::StrategyTemplate;

use super::eval::{EvalError, Evaluator};
use super::expr::{parse_rules_with, ExprError};

/// Which of a template's rules fired on a bar.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
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
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct StrategyRules {
    name: String,
    evaluator: Evaluator,
    long_entry: Option<usize>,
    long_exit: Option<usize>,
    short_entry: Option<usize>,
    short_exit: Option<usize>,
}

impl StrategyRules {
    /// Compiles `template`'s rules, `[short]` ones included whatever the market: a spot pair
    /// never enters short, but its short entry can close a long (the `signal_flip` exit).
    pub fn new(template: &StrategyTemplate) -> Result<Self, RulesError> {
        let mut texts: Vec<(&'static str, &str)> = Vec::new();
        let sides = [
            (&template.long, "long.entry", "long.exit"),
            (&template.short, "short.entry", "short.exit"),
        ];
        for (rules, entry, exit) in sides {
            let Some(rules) = rules else { continue };
            texts.push((entry, &rules.entry));
            if let Some(text) = &rules.exit {
                texts.push((exit, text));
            }
        }
        let conditions: Vec<&str> = texts.iter().map(|(_, text)| *text).collect();
        let compiled =
            parse_rules_with(&conditions, &template.params).map_err(|(index, error)| {
                RulesError::Condition {
                    template: template.name.clone(),
                    rule: texts[index].0,
                    error,
                }
            })?;
        let evaluator =
            Evaluator::with_settings(compiled, template.indicators).map_err(|error| {
                RulesError::Eval {
                    template: template.name.clone(),
                    error,
                }
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
    fn rules_map_to_their_sides() {
        let t = template(
            "name = \"t\"\n[long]\nentry = \"close > 10\"\nexit = \"close < 5\"\n[short]\nentry = \"close < 5\"\n",
        );
        let mut rules = StrategyRules::new(&t).unwrap();
        assert_eq!(
            rules.on_bar(&candle(11.0)),
            Fired {
                long_entry: true,
                ..Fired::default()
            }
        );
        // The short entry is evaluated whatever market the pair trades (a spot pair uses it
        // for the signal flip only).
        assert_eq!(
            rules.on_bar(&candle(4.0)),
            Fired {
                long_exit: true,
                short_entry: true,
                ..Fired::default()
            }
        );
        assert_eq!(rules.on_bar(&candle(7.0)), Fired::default());
        // A template without [short] never fires a short rule.
        let long_only = template("name = \"t\"\n[long]\nentry = \"close < 5\"\n");
        let mut rules = StrategyRules::new(&long_only).unwrap();
        assert_eq!(
            rules.on_bar(&candle(4.0)),
            Fired {
                long_entry: true,
                ..Fired::default()
            }
        );
    }

    #[test]
    fn a_bad_short_condition_fails_on_any_market() {
        let t = template(
            "name = \"t\"\n[long]\nentry = \"close > 10\"\n[short]\nentry = \"nope(close) > 1\"\n",
        );
        let error = StrategyRules::new(&t).unwrap_err();
        assert!(error.to_string().contains("short.entry"), "{error}");
    }

    #[test]
    fn a_bad_condition_names_its_rule() {
        let t =
            template("name = \"t\"\n[long]\nentry = \"close > 10\"\nexit = \"nope(close) > 1\"\n");
        let error = StrategyRules::new(&t).unwrap_err();
        assert!(error.to_string().contains("long.exit"), "{error}");
    }
}
