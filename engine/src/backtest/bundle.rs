//! What a run was configured with, kept whole in its manifest: the configuration file's text
//! and the text of every strategy template it names, as one TOML document. A run log alone is
//! then enough to re-derive the run (`replay verify`, what-if), even after the files changed.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use charon_actors::config::{Config, StrategyTemplate};
use charon_events::{BotId, Money, Symbol};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config_file::{load_resolving, Loaded};
use crate::failure::Failure;

/// The configuration and templates of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The configuration file's text.
    pub config: String,
    /// Each template's text, by the `strategy` value the pairs name it with.
    pub templates: BTreeMap<String, String>,
}

/// A configuration ready to run: parsed, checked, with each pair's template.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub config: Config,
    pub templates: BTreeMap<Symbol, StrategyTemplate>,
    pub bundle: Bundle,
}

impl Bundle {
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("strings and maps always serialize")
    }

    /// Reads a manifest's bundle back (replay rebuilds a run from it).
    pub fn from_toml(text: &str) -> Result<Bundle, String> {
        toml::from_str(text).map_err(|e| format!("the run's configuration bundle: {e}"))
    }

    /// Where [`RunSpec::from_bundle`] writes the configuration file when it materializes the
    /// bundle in `dir`: deep enough that every `..` of a template path stays inside `dir`.
    pub fn config_dir_in(&self, dir: &Path) -> PathBuf {
        let depth = self
            .templates
            .keys()
            .map(|strategy| {
                Path::new(strategy)
                    .components()
                    .filter(|c| matches!(c, Component::ParentDir))
                    .count()
            })
            .max()
            .unwrap_or(0);
        let mut config_dir = dir.to_path_buf();
        for level in 0..depth {
            config_dir.push(format!("d{level}"));
        }
        config_dir
    }

    /// SHA-256 of [`Bundle::to_toml`], in hex: the manifest's `config_hash`.
    pub fn hash(&self) -> String {
        Sha256::digest(self.to_toml().as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

impl RunSpec {
    /// Each bot with its initial capital, in configuration order: what a run's report needs.
    pub fn capitals(&self) -> Vec<(BotId, Money)> {
        self.config
            .bot
            .iter()
            .map(|bot| (bot.name, bot.initial_capital))
            .collect()
    }

    /// Loads and checks a configuration file and its templates; a problem is bad input that
    /// names its file, line and field.
    pub fn from_file(path: &Path) -> Result<RunSpec, Failure> {
        RunSpec::from_file_resolving(path, |strategy| Loaded::template_path(path, strategy))
    }

    /// [`RunSpec::from_file`], reading each template from where `resolve` puts its `strategy`.
    fn from_file_resolving(
        path: &Path,
        resolve: impl Fn(&str) -> PathBuf,
    ) -> Result<RunSpec, Failure> {
        let loaded = load_resolving(path, &resolve)
            .map_err(|errors| Failure::BadInput(errors.to_string()))?;
        let read = |file: &Path| {
            std::fs::read_to_string(file)
                .map_err(|e| Failure::BadInput(format!("{}: {e}", file.display())))
        };
        let mut bundle = Bundle {
            config: read(path)?,
            templates: BTreeMap::new(),
        };
        let mut templates = BTreeMap::new();
        for pair in loaded.config.bot.iter().flat_map(|bot| &bot.pair) {
            let file = resolve(&pair.strategy);
            let strategy = loaded.strategies.get(&file).ok_or_else(|| {
                Failure::BadInput(format!("{}: template not loaded", file.display()))
            })?;
            templates.insert(pair.symbol, strategy.template.clone());
            if !bundle.templates.contains_key(&pair.strategy) {
                bundle.templates.insert(pair.strategy.clone(), read(&file)?);
            }
        }
        Ok(RunSpec {
            config: loaded.config,
            templates,
            bundle,
        })
    }

    /// Writes a bundle's files into `dir` and loads them as [`RunSpec::from_file`] would, so
    /// an embedded or recorded configuration gets the same checks as a file on disk. Template
    /// paths keep their layout (`../strategies/x.toml` stays beside the configuration's
    /// directory) but may not leave `dir`. A template named by an absolute path is written
    /// under `dir/rooted/` instead and read from there: the run needs the text it recorded,
    /// not whatever that path holds now.
    pub fn from_bundle(bundle: &Bundle, dir: &Path, name: &str) -> Result<RunSpec, Failure> {
        let write = |file: &Path, text: &str| {
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Failure::Failed(format!("{}: {e}", parent.display())))?;
            }
            std::fs::write(file, text)
                .map_err(|e| Failure::Failed(format!("{}: {e}", file.display())))
        };
        let config_dir = bundle.config_dir_in(dir);
        std::fs::create_dir_all(&config_dir)
            .map_err(|e| Failure::Failed(format!("{}: {e}", config_dir.display())))?;
        let config_path = config_dir.join(name);
        write(&config_path, &bundle.config)?;
        let place = |strategy: &str| -> Option<PathBuf> {
            let named = Path::new(strategy);
            let file = if named.is_absolute() {
                let inside: PathBuf = named
                    .components()
                    .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
                    .collect();
                dir.join(ROOTED).join(inside)
            } else {
                config_dir.join(named)
            };
            lexically_normal(&file).filter(|f| f.starts_with(dir))
        };
        let mut written: BTreeMap<PathBuf, &str> = BTreeMap::new();
        for (strategy, text) in &bundle.templates {
            let Some(file) = place(strategy) else {
                return Err(Failure::BadInput(format!(
                    "template path {strategy:?} leaves the bundle's directory"
                )));
            };
            if let Some(other) = written.insert(file.clone(), strategy) {
                return Err(Failure::BadInput(format!(
                    "template paths {other:?} and {strategy:?} both land on {}",
                    file.display()
                )));
            }
            write(&file, text)?;
        }
        RunSpec::from_file_resolving(&config_path, |strategy| {
            place(strategy).unwrap_or_else(|| Loaded::template_path(&config_path, strategy))
        })
    }
}

/// Where [`RunSpec::from_bundle`] keeps templates that were named by absolute paths.
const ROOTED: &str = "rooted";

/// `path` with `.` and `..` resolved without touching the file system; `None` if a `..`
/// climbs above its start.
fn lexically_normal(path: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    return None;
                }
            }
            other => normal.push(other),
        }
    }
    Some(normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_round_trips_through_toml_and_hashes_stably() {
        let mut templates = BTreeMap::new();
        templates.insert(
            "s.toml".to_string(),
            "name = \"s\"\n[long]\nentry = \"close > 1\"\n".to_string(),
        );
        let bundle = Bundle {
            config: "[[bot]]\nname = \"a\" # \"\"\" quotes\n".to_string(),
            templates,
        };
        let text = bundle.to_toml();
        assert_eq!(Bundle::from_toml(&text).unwrap(), bundle);
        assert_eq!(bundle.hash().len(), 64);
        assert_eq!(bundle.hash(), bundle.clone().hash());
        let mut changed = bundle.clone();
        changed.config.push(' ');
        assert_ne!(changed.hash(), bundle.hash());
    }

    #[test]
    fn two_template_paths_that_would_share_a_file_are_refused() {
        let text = "name = \"s\"\n[long]\nentry = \"close > 1\"\n".to_string();
        let bundle = Bundle {
            config: String::new(),
            templates: BTreeMap::from([
                ("/charon/x.toml".to_string(), text.clone()),
                (format!("{ROOTED}/charon/x.toml"), text),
            ]),
        };
        let dir = tempfile::tempdir().unwrap();
        match RunSpec::from_bundle(&bundle, dir.path(), "run.toml") {
            Err(Failure::BadInput(why)) => assert!(why.contains("both land on"), "{why}"),
            other => panic!("expected bad input, got {:?}", other.map(|_| ())),
        }
    }
}
