//! The grammar of `charon run` (a paper run) and `charon feed` (the market feed it reads).

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The bot configuration (only for a new run: a restart runs the configuration recorded in
    /// its log, and refuses a different one).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The market feed to read (`charon feed` on a data log).
    #[arg(long)]
    pub feed: String,
    /// The run log: created on the first start, continued on every later one.
    #[arg(long)]
    pub log: PathBuf,
    /// Snapshot every actor's state after this many events (inputs and derived); 0: never.
    #[arg(long, default_value_t = 50_000)]
    pub snapshot_every: u64,
    /// Print `progress INPUTS` after every this many inputs (0: never).
    #[arg(long, default_value_t = 0)]
    pub progress_every: u64,
}

#[derive(Debug, Args)]
pub struct FeedArgs {
    /// The data log to serve.
    pub data: PathBuf,
    /// Where to listen, e.g. `127.0.0.1:7400` (port 0: any free port). The address is printed
    /// as `listening on ADDR` once the feed accepts connections.
    #[arg(long, default_value = "127.0.0.1:7400")]
    pub listen: String,
    /// Serve this many connections, then exit (default: until stopped).
    #[arg(long)]
    pub connections: Option<u64>,
}
