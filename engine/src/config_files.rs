//! Reading configuration files from disk: a bot configuration and the strategy templates it
//! names (each relative to the configuration's file), handed to the one loader every
//! configuration goes through (`charon_actors::config::load`), which locates every problem by
//! file, line and field.

use std::path::Path;

use charon_actors::config::{
    load, template_file, ConfigError, ConfigErrors, Loaded, Source, Unreadable,
};
use charon_replay::run::RunSpec;

/// Loads the configuration file at `path` and its templates; every problem found, or the
/// loaded whole.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigErrors> {
    load(&read_config(path)?, |strategy| {
        read_template(path, strategy)
    })
}

/// The configuration file at `path`, ready to run, with the bundle of texts its run's
/// manifest records.
pub fn run_spec(path: &Path) -> Result<RunSpec, ConfigErrors> {
    RunSpec::load(&read_config(path)?, |strategy| {
        read_template(path, strategy)
    })
}

fn read_config(path: &Path) -> Result<Source, ConfigErrors> {
    std::fs::read_to_string(path)
        .map(|text| Source::new(path, text))
        .map_err(|e| ConfigErrors(vec![ConfigError::unreadable(path.to_path_buf(), &e)]))
}

fn read_template(config: &Path, strategy: &str) -> Result<Source, Unreadable> {
    let file = template_file(config, strategy);
    match std::fs::read_to_string(&file) {
        Ok(text) => Ok(Source::new(file, text)),
        Err(error) => Err(Unreadable { file, error }),
    }
}
