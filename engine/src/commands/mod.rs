//! One file a command: each parses nothing itself (the grammar is `crate::cli`'s), calls the
//! crates that do the work, prints the result and returns a typed error for `main` to show.
//! No command imports another's file: what two commands share lives beside them
//! (`crate::report_output`, `crate::config_files`, `crate::open_log`).

pub mod backtest;
pub mod bench;
pub mod config;
pub mod demo;
pub mod feed;
pub mod import;
pub mod log;
pub mod replay;
pub mod run;
