//! A strategy template loaded from its text: parsed, checked, and its conditions compiled, with
//! every problem located in the template's file.

use super::error::ConfigError;
use super::source::{offset_in_string, value_span, Source};
use crate::config::template::StrategyTemplate;
use crate::strategy::expr::{parse_condition_with, Condition};

/// A template with its conditions compiled.
#[derive(Debug, Clone)]
pub struct Strategy {
    pub template: StrategyTemplate,
    pub long_entry: Option<Condition>,
    pub long_exit: Option<Condition>,
    pub short_entry: Option<Condition>,
    pub short_exit: Option<Condition>,
}

impl Strategy {
    /// `long entry/exit, short entry: 3 indicators`, for reports.
    pub fn summary(&self) -> String {
        let rules = [
            ("long entry", &self.long_entry),
            ("long exit", &self.long_exit),
            ("short entry", &self.short_entry),
            ("short exit", &self.short_exit),
        ];
        let present: Vec<&str> = rules
            .iter()
            .filter(|(_, rule)| rule.is_some())
            .map(|(name, _)| *name)
            .collect();
        let indicators: usize = rules
            .iter()
            .filter_map(|(_, rule)| rule.as_ref())
            .map(|c| c.indicators.len())
            .sum();
        format!("{}: {indicators} indicator(s)", present.join(", "))
    }
}

/// The template in `source`, or every problem with it.
pub(super) fn load_template(source: &Source) -> Result<Strategy, Vec<ConfigError>> {
    let template: StrategyTemplate =
        toml::from_str(&source.text).map_err(|e| vec![source.locate_toml_error(&e)])?;
    let mut errors = Vec::new();
    if template.long.is_none() && template.short.is_none() {
        errors.push(source.at_path(
            "name",
            "the template has neither [long] nor [short] rules".into(),
        ));
    }
    let mut compile = |field: &str, text: Option<&String>| -> Option<Condition> {
        let text = text?;
        match parse_condition_with(text, &template.params) {
            Ok(condition) => Some(condition),
            Err(e) => {
                let offset = source
                    .tree()
                    .and_then(|tree| value_span(tree.get_ref(), field))
                    .map_or(0, |span| {
                        offset_in_string(&source.text, span, e.pos.line, e.pos.column)
                    });
                errors.push(source.error_at(offset, field.to_string(), e.message));
                None
            }
        }
    };
    let long_entry = compile(
        "long.entry",
        template.long.as_ref().map(|rules| &rules.entry),
    );
    let long_exit = compile(
        "long.exit",
        template.long.as_ref().and_then(|rules| rules.exit.as_ref()),
    );
    let short_entry = compile(
        "short.entry",
        template.short.as_ref().map(|rules| &rules.entry),
    );
    let short_exit = compile(
        "short.exit",
        template
            .short
            .as_ref()
            .and_then(|rules| rules.exit.as_ref()),
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Strategy {
        template,
        long_entry,
        long_exit,
        short_entry,
        short_exit,
    })
}
