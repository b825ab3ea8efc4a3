//! What a command prints as its result goes to standard output through `out!` and
//! `outln!`; diagnostics go to standard error as `tracing` events ([`crate::logging`]).

/// `print!` for the commands' output: standard output closed by its reader (`charon demo |
/// head`) is not a failure of the command, so what cannot be written is dropped instead of
/// panicking as `print!` does; a long run keeps running.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// `println!`, as `out!`.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes to standard output, ignoring a reader that has gone away (and any other error: there
/// is nowhere left to report it).
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_fmt(args);
}

/// Flushes standard output, for a line another process waits for (`listening on ADDR`, a
/// paper run's `progress N`).
pub fn flush_stdout() -> Result<(), crate::error::CommandError> {
    use std::io::Write;
    std::io::stdout()
        .flush()
        .map_err(|source| crate::error::CommandError::Io {
            what: "stdout",
            source,
        })
}
