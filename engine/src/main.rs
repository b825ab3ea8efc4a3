//! `charon`: the command line. Parses the arguments, sets up diagnostics, runs the command, and
//! turns its failure into one line on standard error and the exit code (0 ok, 1 failure, 2 bad
//! input).

#[macro_use]
mod output;

mod cli;
mod commands;
mod config_files;
mod error;
mod feed;
mod follow;
mod logging;
mod open_log;
mod paper;
mod report_output;

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
    logging::init(cli.log_format);
    let result = match cli.command {
        cli::Command::Log(cmd) => commands::log::run(cmd),
        cli::Command::Import(args) => commands::import::run(args),
        cli::Command::Config(cmd) => commands::config::run(cmd),
        cli::Command::Backtest(args) => commands::backtest::run(args),
        cli::Command::Demo(args) => commands::demo::run(args),
        cli::Command::Replay(cmd) => commands::replay::run(cmd),
        cli::Command::Run(args) => commands::run::run(args),
        cli::Command::Feed(args) => commands::feed::run(args),
        cli::Command::Bench(cmd) => commands::bench::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = error.exit_code();
            let (seq, bot, pair) = error.located();
            tracing::error!(
                exit_code = code,
                seq,
                bot = bot.as_ref().map(tracing::field::display),
                pair = pair.as_ref().map(tracing::field::display),
                "{error}"
            );
            ExitCode::from(code)
        }
    }
}
