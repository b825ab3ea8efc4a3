//! `charon bench replay`: how fast `replay verify` re-derives and compares a run, on the same
//! runs `charon bench backtest` measures: the 2M recorded spot ticks, and the 45k BTC
//! perpetual bars with every exit rule, gate and bot limit on. Each run is first written by
//! `charon backtest`'s own path (untimed); the figure times `verify` over it: opening the run
//! and its manifest, rebuilding the actors from the bundle, scanning the cited inputs,
//! re-deriving and comparing every derived record.

use std::path::PathBuf;
use std::time::Instant;

use charon_events::EventLog;
use clap::Args;

use super::backtest_bench::{
    bar_events, spec, tick_events, whole_process, BARS_ALL_RULES_CONFIG, TICKS_CONFIG,
};
use super::report;
use crate::failure::Failure;
use crate::replay_cmd::{manifest_of, verify, Verdict};

#[derive(Debug, Args)]
pub struct BenchReplayArgs {
    /// The repo's data directory.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../data"))]
    pub data: PathBuf,
    /// Tick events in the tick run (the recordings repeated).
    #[arg(long, default_value_t = 2_000_000)]
    pub events: usize,
    /// Where the benchmark's logs go (a temporary directory under it; removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub fn run(args: BenchReplayArgs) -> Result<(), Failure> {
    let workdir = match &args.dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .map_err(|e| Failure::Failed(format!("cannot create a temporary directory: {e}")))?;
    let work = workdir.path();

    let ticks = tick_events(&args.data.join("hftbacktest"), args.events)?;
    let ticks_spec = spec(&work.join("ticks-config"), TICKS_CONFIG)?;
    whole_process(&ticks_spec, &ticks, &work.join("ticks"))?;
    drop(ticks);
    verify_figures("ticks", &work.join("ticks"))?;

    let bars = bar_events(&args.data.join("nautilus_trader"))?;
    let bars_spec = spec(&work.join("bars-config"), BARS_ALL_RULES_CONFIG)?;
    whole_process(&bars_spec, &bars, &work.join("bars"))?;
    verify_figures("bars_all_rules", &work.join("bars"))
}

/// Times `verify` of the run in `dir` (`run`, citing `data`).
fn verify_figures(name: &str, dir: &std::path::Path) -> Result<(), Failure> {
    let start = Instant::now();
    let run = EventLog::open(dir.join("run"))?;
    let data = EventLog::open(dir.join("data"))?;
    let manifest = manifest_of(&run)?;
    let verdict = verify(&run, &manifest, Some(&data))?;
    let elapsed = start.elapsed().as_secs_f64();
    let Verdict::Identical { inputs, derived } = verdict else {
        return Err(Failure::Failed(format!(
            "bench replay: the {name} run did not verify"
        )));
    };
    report(
        &format!("replay_verify_{name}"),
        (inputs + derived) as f64 / elapsed,
        "events/s",
    );
    report(&format!("replay_verify_{name}_run"), elapsed * 1e3, "ms");
    report(
        &format!("replay_verify_{name}_events"),
        (inputs + derived) as f64,
        "events",
    );
    Ok(())
}
