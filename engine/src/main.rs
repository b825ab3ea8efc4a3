//! `charon`: the command line. Parses arguments, runs the command, maps failures to exit codes
//! (0 ok, 1 failure, 2 bad input) with a one-line message.

mod bench;
mod cli;
mod failure;
mod log_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Log(cmd) => log_cmd::run(cmd),
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
