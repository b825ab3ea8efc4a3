//! A configuration ready to run: parsed and checked by the one loader every configuration
//! goes through (`charon_actors::config::load`), each pair with its strategy template, and the
//! [`Bundle`] of texts it came from, which its run's manifest records.

use std::collections::BTreeMap;
use std::path::Path;

use charon_actors::config::{
    load, template_file, Config, ConfigErrors, Source, StrategyTemplate, Unreadable,
};
use charon_events::{BotId, Money, Symbol};

use super::bundle::Bundle;

/// A configuration ready to run: parsed, checked, with each pair's template.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub config: Config,
    pub templates: BTreeMap<Symbol, StrategyTemplate>,
    pub bundle: Bundle,
}

impl RunSpec {
    /// Loads the configuration in `config`, each template's text found by `template` from the
    /// `strategy` value that names it; the bundle records every text the loader read.
    pub fn load(
        config: &Source,
        mut template: impl FnMut(&str) -> Result<Source, Unreadable>,
    ) -> Result<RunSpec, ConfigErrors> {
        let mut read = BTreeMap::new();
        let loaded = load(config, |strategy| {
            let source = template(strategy)?;
            read.insert(strategy.to_string(), source.text.clone());
            Ok(source)
        })?;
        let templates = loaded
            .config
            .bot
            .iter()
            .flat_map(|bot| &bot.pair)
            .filter_map(|pair| {
                let strategy = loaded.strategies.get(&pair.strategy)?;
                Some((pair.symbol, strategy.template.clone()))
            })
            .collect();
        Ok(RunSpec {
            config: loaded.config,
            templates,
            bundle: Bundle {
                config: config.text.clone(),
                templates: read,
            },
        })
    }

    /// Loads a bundle as [`Bundle::write_to`]`(dir, name)` would lay it out, with the same
    /// checks as a file on disk; problems name the files where it is (or would be) written.
    /// Nothing is read from or written to `dir`.
    pub fn from_bundle(bundle: &Bundle, dir: &Path, name: &str) -> Result<RunSpec, ConfigErrors> {
        let config_file = bundle.config_dir_in(dir).join(name);
        let config = Source::new(&config_file, bundle.config.clone());
        RunSpec::load(&config, |strategy| {
            let file = bundle
                .template_in(dir, strategy)
                .unwrap_or_else(|| template_file(&config_file, strategy));
            match bundle.templates.get(strategy) {
                Some(text) => Ok(Source::new(file, text.clone())),
                None => Err(Unreadable {
                    file,
                    error: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "not in the run's configuration bundle",
                    ),
                }),
            }
        })
    }

    /// Each bot with its initial capital, in configuration order: what a run's report needs.
    pub fn capitals(&self) -> Vec<(BotId, Money)> {
        self.config
            .bot
            .iter()
            .map(|bot| (bot.name, bot.initial_capital))
            .collect()
    }
}
