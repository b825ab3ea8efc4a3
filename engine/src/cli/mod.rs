//! The command-line grammar (see DESIGN.md "Command line"): every command's arguments, one file
//! a command, and the options every command takes (`--log-format`). Commands read their
//! arguments from here; nothing here runs anything.

mod backtest;
mod bench;
mod config;
mod demo;
mod import;
mod log;
mod parse;
mod replay;
mod run;

use clap::{Parser, Subcommand, ValueEnum};

pub use backtest::{BacktestArgs, ReportArgs};
pub use bench::{BenchBacktestArgs, BenchCommand, BenchLogArgs, BenchReplayArgs};
pub use config::ConfigCommand;
pub use demo::DemoArgs;
pub use import::ImportArgs;
pub use log::{EventFilterArgs, ExportArgs, InspectArgs, LogCommand};
pub use replay::{DiffArgs, ReplayCommand, VerifyArgs, WhatIfArgs};
pub use run::{FeedArgs, RunArgs};

#[derive(Debug, Parser)]
#[command(
    name = "charon",
    version,
    about = "Actor-based, event-sourced crypto trading engine"
)]
pub struct Cli {
    /// How diagnostics on standard error are written: `text` (one line each, for people) or
    /// `json` (one JSON object each, with its level, time, fields and spans). Levels come
    /// from `RUST_LOG` (`warn`, `debug`, `charon_replay=debug,info`; default `info`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// How diagnostics are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read event logs.
    #[command(subcommand)]
    Log(LogCommand),
    /// Load market data files into a data log.
    Import(ImportArgs),
    /// Check configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run a bot configuration over recorded market data and report.
    Backtest(BacktestArgs),
    /// The embedded default: a multi-pair backtest on real data shipped in the repo.
    Demo(DemoArgs),
    /// Replay recorded runs: verify them against their inputs, run what-ifs, diff two runs.
    #[command(subcommand)]
    Replay(ReplayCommand),
    /// A paper-trading run fed by `charon feed`; continues its log after a crash or a stop.
    Run(RunArgs),
    /// Serve a data log as a market feed to paper runs in other processes.
    Feed(FeedArgs),
    /// Benchmarks; one line per figure: `BENCH <name> <value> <unit>`.
    #[command(subcommand)]
    Bench(BenchCommand),
}
