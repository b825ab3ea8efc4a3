//! `charon log stats`, `charon log inspect` and `charon log export`.

use std::fs::File;
use std::io::{BufWriter, ErrorKind, Write};
use std::path::Path;

use charon_replay::export::export;
use charon_replay::inspect::{inspect, Filter, Format, InspectError};
use charon_replay::stats;

use crate::cli::{EventFilterArgs, ExportArgs, InspectArgs, LogCommand};
use crate::error::CommandError;
use crate::follow::follow;
use crate::open_log::open_existing;

pub fn run(command: LogCommand) -> Result<(), CommandError> {
    match command {
        LogCommand::Stats { log, json } => {
            let log = open_existing(&log)?;
            let stats = stats::collect(&log)?;
            if json {
                outln!(
                    "{}",
                    serde_json::to_string(&stats).expect("stats serialize")
                );
            } else {
                out!("{}", stats.render_text());
            }
            Ok(())
        }
        LogCommand::Inspect(args) => run_inspect(args),
        LogCommand::Export(args) => run_export(args),
    }
}

/// The filter the arguments describe; an empty seq or time window is bad input.
fn filter(args: EventFilterArgs) -> Result<Filter, CommandError> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            return Err(CommandError::SeqWindow { from, to });
        }
    }
    if let (Some(from), Some(to)) = (args.from_ts, args.to_ts) {
        if from > to {
            return Err(CommandError::TimeWindow { from, to });
        }
    }
    Ok(Filter {
        from: args.from,
        to: args.to,
        kinds: args.kind,
        bots: args.bot,
        pairs: args.pair,
        from_ts: args.from_ts,
        to_ts: args.to_ts,
    })
}

fn run_inspect(args: InspectArgs) -> Result<(), CommandError> {
    let filter = filter(args.filter)?;
    let format = if args.json {
        Format::JsonLines
    } else {
        Format::Text
    };
    if args.follow {
        return follow(&args.log, &filter, format, &mut std::io::stdout().lock())
            .map(|_| ())
            .map_err(CommandError::from);
    }
    let log = open_existing(&args.log)?;
    to_stdout(|out| inspect(&log, &filter, format, out))
}

fn run_export(args: ExportArgs) -> Result<(), CommandError> {
    let filter = filter(args.filter)?;
    let log = open_existing(&args.log)?;
    let Some(path) = args.out else {
        return to_stdout(|out| export(&log, &filter, args.format, out));
    };
    let rows = to_file(&path, |out| export(&log, &filter, args.format, out))?;
    outln!(
        "{}: {rows} {} from {} ({})",
        path.display(),
        if rows == 1 { "row" } else { "rows" },
        args.log.display(),
        args.format
    );
    Ok(())
}

/// Runs `write` into a buffered standard output. A reader that stopped early (`| head`) is not
/// a failure.
fn to_stdout(
    write: impl FnOnce(&mut BufWriter<std::io::StdoutLock<'static>>) -> Result<u64, InspectError>,
) -> Result<(), CommandError> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let result = write(&mut out).and_then(|_| out.flush().map_err(InspectError::Output));
    match result {
        Err(InspectError::Output(e)) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other.map(|_| ()).map_err(CommandError::from),
    }
}

/// Runs `write` into a new file at `path` (replacing one that exists). On failure a partial
/// file is removed, so a file left behind is always a complete export.
fn to_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<u64, InspectError>,
) -> Result<u64, CommandError> {
    let file = File::create(path).map_err(|source| CommandError::Create {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = BufWriter::new(file);
    let result = write(&mut out).and_then(|rows| {
        out.flush().map_err(InspectError::Output)?;
        Ok(rows)
    });
    if result.is_err() {
        drop(out);
        // Only a regular file: never a device such as /dev/full.
        if path.metadata().is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(path);
        }
    }
    result.map_err(|error| match error {
        InspectError::Output(source) => CommandError::WriteFailed {
            path: path.to_path_buf(),
            source,
        },
        other => other.into(),
    })
}
