//! The grammar of `charon config check`.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load a bot configuration and its strategy templates; report every problem with its file,
    /// line and field.
    Check { config: PathBuf },
}
