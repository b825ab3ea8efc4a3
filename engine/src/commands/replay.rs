//! `charon replay verify|run|diff`: re-derive a run from its inputs and compare (exit 1 at the
//! first difference), run a what-if over exactly its inputs, or diff two runs (docs/REPLAY.md).

use std::path::Path;

use charon_events::payload::manifest::RunManifest;
use charon_replay::diff::{compare, inputs_of, render, same_file};
use charon_replay::run::run_log::{cited_data_path, manifest_of};
use charon_replay::verify::{describe, verify, Verdict};
use charon_replay::what_if;

use crate::cli::{DiffArgs, ReplayCommand, VerifyArgs, WhatIfArgs};
use crate::config_files::run_spec;
use crate::error::CommandError;
use crate::open_log::open_existing;
use crate::report_output::{report, with_progress};

pub fn run(command: ReplayCommand) -> Result<(), CommandError> {
    match command {
        ReplayCommand::Verify(args) => verify_cmd(args),
        ReplayCommand::Run(args) => what_if_cmd(args),
        ReplayCommand::Diff(args) => diff_cmd(args),
    }
}

fn verify_cmd(args: VerifyArgs) -> Result<(), CommandError> {
    let _command = tracing::info_span!("replay_verify", run = %args.run.display()).entered();
    let run = open_existing(&args.run)?;
    let manifest = manifest_of(&run)?;
    warn_of_another_version(&args.run, &manifest);
    let data = match cited_data_path(&args.run, &manifest, args.data.as_deref())? {
        Some(path) => Some(open_existing(&path)?),
        None => None,
    };
    match verify(&run, &manifest, data.as_ref())? {
        Verdict::Identical { inputs, derived } => {
            outln!(
                "{}: verified: {derived} derived events re-derived identically from {inputs} inputs",
                args.run.display()
            );
            Ok(())
        }
        Verdict::Diverged(divergence) => {
            out!("{}", describe(&divergence));
            let event = divergence
                .recorded
                .as_ref()
                .or(divergence.rederived.as_ref());
            Err(CommandError::Diverged {
                run: args.run.clone(),
                seq: divergence.seq,
                bot: event.and_then(|event| event.bot),
                pair: event.and_then(|event| event.pair),
            })
        }
    }
}

/// A manifest written by another `charon` version is verified anyway: a difference may then be
/// the code's, not the log's.
fn warn_of_another_version(run: &Path, manifest: &RunManifest) {
    let this = env!("CARGO_PKG_VERSION");
    if manifest.binary_version != this {
        tracing::warn!(
            run = %run.display(),
            written_by = %manifest.binary_version,
            "{} was written by charon {}, this is {this}; a difference may be the code's",
            run.display(),
            manifest.binary_version
        );
    }
}

/// `replay run`: the configuration at `--config` over exactly the inputs `RUN` cites or
/// recorded.
fn what_if_cmd(args: WhatIfArgs) -> Result<(), CommandError> {
    let _command = tracing::info_span!(
        "replay_run",
        run = %args.run.display(),
        config = %args.config.display(),
        out = %args.out.display()
    )
    .entered();
    let run = open_existing(&args.run)?;
    let manifest = manifest_of(&run)?;
    let settings = args.report.risk_free_rate;
    let outcome = match manifest.data {
        None => {
            what_if::check_recorded(&args.run, &manifest, args.data.is_some())?;
            let spec = run_spec(&args.config)?;
            with_progress(run.last_seq().saturating_sub(1), |progress| {
                what_if::over_recorded(&spec, &run, &args.out, &settings, progress)
            })?
        }
        Some(range) => {
            drop(run);
            let path = cited_data_path(&args.run, &manifest, args.data.as_deref())?
                .expect("a backtest cites a data log");
            let data = open_existing(&path)?;
            what_if::check_data(&args.run, &range, &data)?;
            let spec = run_spec(&args.config)?;
            with_progress(range.last_seq + 1 - range.first_seq, |progress| {
                what_if::over_backtest(&spec, &range, &data, &args.out, &settings, progress)
            })?
        }
    };
    report(&outcome, &args.out, &args.report)
}

fn diff_cmd(args: DiffArgs) -> Result<(), CommandError> {
    let _command = tracing::info_span!(
        "replay_diff",
        run_a = %args.run_a.display(),
        run_b = %args.run_b.display()
    )
    .entered();
    let a = open_existing(&args.run_a)?;
    // A log cannot be opened twice at once: a run diffed with itself is read twice instead.
    let b = if same_file(&args.run_a, &args.run_b) {
        a.clone()
    } else {
        open_existing(&args.run_b)?
    };
    let comparison = compare(&args.run_a, &a, &args.run_b, &b)?;
    if comparison.inputs_differ() {
        tracing::warn!(
            "{} and {} cite different inputs ({} vs {}); their differences may be the inputs'",
            args.run_a.display(),
            args.run_b.display(),
            inputs_of(&comparison.manifest_a),
            inputs_of(&comparison.manifest_b)
        );
    }
    let names = [args.run_a.display(), args.run_b.display()].map(|n| n.to_string());
    out!("{}", render([&names[0], &names[1]], &comparison));
    match &comparison.diff.first {
        None => Ok(()),
        Some(divergence) => Err(CommandError::Differ {
            a: args.run_a.clone(),
            b: args.run_b.clone(),
            seq: divergence.seq,
        }),
    }
}
