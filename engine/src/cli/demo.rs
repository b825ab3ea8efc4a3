//! The grammar of `charon demo`.

use std::path::PathBuf;

use clap::Args;

use super::backtest::ReportArgs;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the run log here instead of in a temporary directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the data log (the imported market data) here, e.g. to `replay verify` the run.
    #[arg(long)]
    pub data_log: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Write no HTML report (by default the demo writes `demo-report.html` here, unless
    /// `--html` names another file).
    #[arg(long, conflicts_with = "html")]
    pub no_html: bool,
    /// The repo's data directory.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../data"))]
    pub data_dir: PathBuf,
}
