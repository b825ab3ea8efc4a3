//! Loading a configuration from its TOML text: into [`Config`], the checks serde cannot make
//! ([`validate`]), and the strategy templates its pairs name, with their conditions compiled.
//! Every problem is reported as `file:line:column: field: message`, all of them at once.
//!
//! The loader reads no files: its caller hands it the configuration's text and finds each
//! template's text for it (from disk, from a run's manifest, from a sweep point), so that every
//! configuration, however it arrives, passes the very same checks.

mod error;
mod source;
mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, ConfigErrors};
pub use source::Source;
pub use template::Strategy;

use super::bot::Config;
use super::validate::validate;

/// A checked configuration and the strategies its pairs use, by the `strategy` value that
/// names each.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub strategies: BTreeMap<String, Strategy>,
}

/// A template that could not be found or read, with why.
#[derive(Debug)]
pub struct Unreadable {
    pub file: PathBuf,
    pub error: std::io::Error,
}

/// The template file a pair's `strategy` names: relative to the configuration's file.
pub fn template_file(config_file: &Path, strategy: &str) -> PathBuf {
    config_file.parent().unwrap_or(Path::new("")).join(strategy)
}

/// Loads the configuration in `config`, its checks and its templates, each template's text
/// found by `template` from the `strategy` value that names it; every problem found, or the
/// loaded whole.
pub fn load(
    config: &Source,
    mut template: impl FnMut(&str) -> Result<Source, Unreadable>,
) -> Result<Loaded, ConfigErrors> {
    let parsed: Config = toml::from_str(&config.text)
        .map_err(|e| ConfigErrors(vec![config.locate_toml_error(&e)]))?;
    let mut errors: Vec<ConfigError> = validate(&parsed)
        .into_iter()
        .map(|invalid| config.at_path(&invalid.path, invalid.message))
        .collect();

    let mut strategies = BTreeMap::new();
    for (b, bot) in parsed.bot.iter().enumerate() {
        for (p, pair) in bot.pair.iter().enumerate() {
            if strategies.contains_key(&pair.strategy) {
                continue;
            }
            match template(&pair.strategy) {
                Ok(source) => match template::load_template(&source) {
                    Ok(strategy) => {
                        strategies.insert(pair.strategy.clone(), strategy);
                    }
                    Err(found) => errors.extend(found),
                },
                Err(Unreadable { file, error }) => errors.push(config.at_path(
                    &format!("bot[{b}].pair[{p}].strategy"),
                    format!("cannot read the template {}: {error}", file.display()),
                )),
            }
        }
    }
    if errors.is_empty() {
        Ok(Loaded {
            config: parsed,
            strategies,
        })
    } else {
        Err(ConfigErrors(errors))
    }
}
