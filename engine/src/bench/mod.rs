//! `charon bench`: figures printed as `BENCH <name> <value> <unit>`, one per line, so scripts
//! and BENCHMARKS.md can quote them.

mod backtest_bench;
mod log_bench;
mod replay_bench;
mod sweep_bench;

pub use backtest_bench::BenchBacktestArgs;
pub use replay_bench::BenchReplayArgs;

use crate::cli::BenchCommand;
use crate::failure::Failure;

pub fn run(command: BenchCommand) -> Result<(), Failure> {
    match command {
        BenchCommand::Log(args) => log_bench::run(args),
        BenchCommand::Backtest(args) => backtest_bench::run(args),
        BenchCommand::Replay(args) => replay_bench::run(args),
    }
}

/// Prints one figure in the contract's format.
pub(crate) fn report(name: &str, value: f64, unit: &str) {
    let value = if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    };
    outln!("BENCH {name} {value} {unit}");
}
