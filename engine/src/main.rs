//! `charon`: the command line. Parses arguments, runs the command, maps failures to exit codes
//! (0 ok, 1 failure, 2 bad input) with a one-line message.

/// `print!` for the commands' output: standard output closed by its reader (`charon demo |
/// head`) is not a failure of the command, so what cannot be written is dropped instead of
/// panicking as `print!` does; a long run keeps running.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// `println!`, as [`out!`].
macro_rules! outln {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

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
mod open_log;
mod paper;
mod replay_cmd;
mod replay_diff;

use std::process::ExitCode;

/// Writes to standard output, ignoring a reader that has gone away (and any other error: there
/// is nowhere left to report it).
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_fmt(args);
}

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
