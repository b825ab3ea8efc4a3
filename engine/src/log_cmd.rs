//! `charon log stats` and `charon log inspect`.

use std::io::{BufWriter, ErrorKind, Write};

use charon_events::EventLog;
use charon_replay::inspect::{inspect, Filter, Format, InspectError};
use charon_replay::stats;

use crate::cli::{InspectArgs, LogCommand};
use crate::failure::Failure;

pub fn run(command: LogCommand) -> Result<(), Failure> {
    match command {
        LogCommand::Stats { log, json } => {
            let log = EventLog::open(&log)?;
            let stats = stats::collect(&log)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&stats).expect("stats serialize")
                );
            } else {
                print!("{}", stats.render_text());
            }
            Ok(())
        }
        LogCommand::Inspect(args) => run_inspect(args),
    }
}

fn run_inspect(args: InspectArgs) -> Result<(), Failure> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            return Err(Failure::BadInput(format!(
                "--from {from} is after --to {to}"
            )));
        }
    }
    let log = EventLog::open(&args.log)?;
    let filter = Filter {
        from: args.from,
        to: args.to,
        kinds: args.kind,
    };
    let format = if args.json {
        Format::JsonLines
    } else {
        Format::Text
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = inspect(&log, &filter, format, &mut out)
        .and_then(|_| out.flush().map_err(InspectError::Output));
    match result {
        // A reader that stopped early (`| head`) is not a failure.
        Err(InspectError::Output(e)) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other.map(|_| ()).map_err(Failure::from),
    }
}
