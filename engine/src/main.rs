//! `charon`: the command line. Parses arguments, runs the command, maps failures to exit codes
//! (0 ok, 1 failure, 2 bad input) with a one-line message.

mod backtest;
mod bench;
mod cli;
mod config_cmd;
mod config_file;
mod demo;
mod failure;
mod feed;
mod follow;
mod import_cmd;
mod log_cmd;
mod paper;
mod replay_cmd;
mod replay_diff;

use std::process::ExitCode;

use clap::Parser;

/// sled allocates a fresh buffer for every page it reads or writes. glibc's malloc hands large
/// freed blocks back to the kernel, so a scan after a big import page-faulted and zeroed fresh
/// memory for each one: cold scans ran at 2.8-8.4M events/s, erratically. mimalloc keeps and
/// reuses freed memory: 9.7-11.6M events/s on the same runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Log(cmd) => log_cmd::run(cmd),
        cli::Command::Import(args) => import_cmd::run(args),
        cli::Command::Config(cmd) => config_cmd::run(cmd),
        cli::Command::Backtest(args) => backtest::run(args),
        cli::Command::Demo(args) => demo::run(args),
        cli::Command::Replay(cmd) => replay_cmd::run(cmd),
        cli::Command::Run(args) => paper::run(args),
        cli::Command::Feed(args) => feed::run(args),
        cli::Command::Bench(cmd) => bench::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("charon: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
