//! `charon bench`: figures printed as `BENCH <name> <value> <unit>`, one per line, so scripts
//! and BENCHMARKS.md can quote them.

mod backtest_bench;
mod figure;
mod fixtures;
mod log_bench;
mod replay_bench;
mod sweep_bench;

use crate::cli::BenchCommand;
use crate::error::CommandError;

pub fn run(command: BenchCommand) -> Result<(), CommandError> {
    match command {
        BenchCommand::Log(args) => log_bench::run(args),
        BenchCommand::Backtest(args) => backtest_bench::run(args),
        BenchCommand::Replay(args) => replay_bench::run(args),
    }
}
