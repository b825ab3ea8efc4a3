//! `charon import`: read market-data files, merge their events in time order, and add them to a
//! data log (created, appended to, or rebuilt as a merge: `charon_adapters::import::data_log`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use charon_adapters::import::data_log::{add_to_data_log, Added, Series, Span};
use charon_adapters::import::{import_file, Options};

use crate::cli::ImportArgs;
use crate::error::CommandError;
use crate::open_log::open_existing;

pub fn run(args: ImportArgs) -> Result<(), CommandError> {
    let _command = tracing::info_span!("import", data = %args.data.display()).entered();
    let options = Options {
        symbol: args.symbol,
        interval: args.interval,
        skip_bad: args.skip_bad,
    };
    let mut events = Vec::new();
    let (mut skipped, mut first_skipped) = (0u64, None);
    for file in &args.files {
        let imported = import_file(args.format, file, &options)?;
        events.extend(imported.events);
        skipped += imported.skipped;
        first_skipped = first_skipped.or(imported.first_skipped);
    }
    if events.is_empty() {
        return Err(CommandError::NoMarketEvents {
            files: describe_files(&args.files),
            format: args.format.to_string(),
        });
    }
    let (added, spans) = add_to_data_log(&args.data, events, open_existing)?;
    report(&args, &spans, &added, skipped, first_skipped);
    Ok(())
}

fn describe_files(files: &[PathBuf]) -> String {
    match files {
        [one] => one.display().to_string(),
        many => format!("{} files", many.len()),
    }
}

fn report(
    args: &ImportArgs,
    spans: &BTreeMap<Series, Span>,
    added: &Added,
    skipped: u64,
    first: Option<String>,
) {
    let imported: u64 = spans.values().map(|span| span.count).sum();
    outln!(
        "imported {imported} events from {} into {} (data log {}, {} events in all)",
        describe_files(&args.files),
        args.data.display(),
        added.log_id,
        added.total
    );
    let width = spans
        .keys()
        .map(|series| series.to_string().len())
        .max()
        .unwrap_or(0);
    for (series, span) in spans {
        outln!(
            "  {:<width$}  {:>10}  {} .. {}",
            series.to_string(),
            span.count,
            span.first,
            span.last
        );
    }
    if let Some(old) = &added.replaced {
        outln!("the new events interleave with the old: the data log was rebuilt as a merge (it was {old})");
    }
    if skipped > 0 {
        outln!(
            "skipped {skipped} bad rows; the first: {}",
            first.unwrap_or_default()
        );
    }
}
