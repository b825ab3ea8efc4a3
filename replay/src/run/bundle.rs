//! What a run was configured with, kept whole in its manifest: the configuration file's text
//! and the text of every strategy template it names, as one TOML document. A run log alone is
//! then enough to re-derive the run (`replay verify`, what-if), even after the files changed.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The configuration and templates of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The configuration file's text.
    pub config: String,
    /// Each template's text, by the `strategy` value the pairs name it with.
    pub templates: BTreeMap<String, String>,
}

/// Why a bundle could not be read or written out.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the run's configuration bundle: {0}")]
    Unreadable(#[from] toml::de::Error),
    #[error("template path {strategy:?} leaves the bundle's directory")]
    LeavesDirectory { strategy: String },
    #[error("template paths {first:?} and {second:?} both land on {}", file.display())]
    SameFile {
        first: String,
        second: String,
        file: PathBuf,
    },
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where a bundle written into `dir` keeps templates that were named by absolute paths.
const ROOTED: &str = "rooted";

impl Bundle {
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("strings and maps always serialize")
    }

    /// Reads a manifest's bundle back (replay rebuilds a run from it).
    pub fn from_toml(text: &str) -> Result<Bundle, BundleError> {
        Ok(toml::from_str(text)?)
    }

    /// SHA-256 of [`Bundle::to_toml`], in hex: the manifest's `config_hash`.
    pub fn hash(&self) -> String {
        Sha256::digest(self.to_toml().as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Where [`Bundle::write_to`] puts the configuration file in `dir`: deep enough that every
    /// `..` of a template path stays inside `dir`.
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

    /// Where the template `strategy` lands when the bundle is written into `dir`: beside the
    /// configuration's directory as its path says (`../strategies/x.toml`), or under
    /// `dir/rooted/` when it was named by an absolute path (the run needs the text it
    /// recorded, not whatever that path holds now). `None` when the path would leave `dir`.
    pub fn template_in(&self, dir: &Path, strategy: &str) -> Option<PathBuf> {
        let named = Path::new(strategy);
        let file = if named.is_absolute() {
            let inside: PathBuf = named
                .components()
                .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
                .collect();
            dir.join(ROOTED).join(inside)
        } else {
            self.config_dir_in(dir).join(named)
        };
        lexically_normal(&file).filter(|f| f.starts_with(dir))
    }

    /// Writes the configuration (as `name`) and its templates into `dir`, laid out so that
    /// `charon backtest --config` on the returned configuration file reads the same texts.
    pub fn write_to(&self, dir: &Path, name: &str) -> Result<PathBuf, BundleError> {
        let write = |file: &Path, text: &str| {
            let failed = |path: &Path| {
                let path = path.to_path_buf();
                move |source| BundleError::Write { path, source }
            };
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(failed(parent))?;
            }
            std::fs::write(file, text).map_err(failed(file))
        };
        let config_path = self.config_dir_in(dir).join(name);
        write(&config_path, &self.config)?;
        let mut written: BTreeMap<PathBuf, &str> = BTreeMap::new();
        for (strategy, text) in &self.templates {
            let file =
                self.template_in(dir, strategy)
                    .ok_or_else(|| BundleError::LeavesDirectory {
                        strategy: strategy.clone(),
                    })?;
            if let Some(other) = written.insert(file.clone(), strategy) {
                return Err(BundleError::SameFile {
                    first: other.to_string(),
                    second: strategy.clone(),
                    file,
                });
            }
            write(&file, text)?;
        }
        Ok(config_path)
    }
}

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
        match bundle.write_to(dir.path(), "run.toml") {
            Err(why @ BundleError::SameFile { .. }) => {
                assert!(why.to_string().contains("both land on"), "{why}")
            }
            other => panic!("expected two templates on one file, got {other:?}"),
        }
    }
}
