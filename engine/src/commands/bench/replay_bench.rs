//! `charon bench replay`: how fast `replay verify` re-derives and compares a run, on the same
//! runs `charon bench backtest` measures: the 2M recorded spot ticks, and the 45k BTC
//! perpetual bars with every exit rule, gate and bot limit on. Each run is first written by
//! `charon backtest`'s own path (untimed); the figure times `verify` over it: opening the run
//! and its manifest, rebuilding the actors from the bundle, scanning the cited inputs,
//! re-deriving and comparing every derived record.
//!
//! Then snapshots and restarts: a paper run log of `--paper-events` recorded tick inputs
//! (10M by default) is written the way `charon run` writes one (the resuming sink, a snapshot
//! every `--snapshot-every` events), ending between two snapshots; the figures are the time to
//! write a snapshot and to restore one, and the time a restart takes to be ready for the next
//! input: opening the log, its manifest and actors, restoring the newest snapshot and
//! re-deriving the tail after it. Snapshot figures are also given for the 45k-bar run's state
//! with every rule and gate (the largest state the benchmarks have).

use std::path::Path;
use std::time::Instant;

use charon_actors::journal::{InputMode, JournalSnapshot, MemorySink, SnapshotError};
use charon_events::{Envelope, EventLog, LogKind};
use charon_replay::run::resume::{resume, snapshot, start_paper};
use charon_replay::run::run_log::manifest_of;
use charon_replay::run::{Run, RunSpec, VenueSide};
use charon_replay::verify::{verify, Verdict};

use super::figure::{failed, median_ms, report};
use super::fixtures::work_dir;
use super::fixtures::{
    bar_events, spec, tick_events, whole_process, TickSource, BARS_ALL_RULES_CONFIG, TICKS_CONFIG,
};
use crate::cli::BenchReplayArgs;
use crate::error::CommandError;

const BENCH: &str = "replay";

pub fn run(args: BenchReplayArgs) -> Result<(), CommandError> {
    let workdir = work_dir(args.dir.as_deref())?;
    let work = workdir.path();

    let ticks = tick_events(&args.data.join("hftbacktest"), args.events)?;
    let ticks_spec = spec(&work.join("ticks-config"), TICKS_CONFIG)?;
    whole_process(&ticks_spec, &ticks, &work.join("ticks"), 1)?;
    drop(ticks);
    verify_figures("ticks", &work.join("ticks"), args.verify_passes)?;

    let bars = bar_events(&args.data.join("nautilus_trader"))?;
    let bars_spec = spec(&work.join("bars-config"), BARS_ALL_RULES_CONFIG)?;
    whole_process(&bars_spec, &bars, &work.join("bars"), 1)?;
    verify_figures("bars_all_rules", &work.join("bars"), args.verify_passes)?;
    snapshot_figures("bars_all_rules", &bars_spec, &bars)?;

    let ticks = TickSource::read(&args.data.join("hftbacktest"))?;
    let paper_spec = spec(&work.join("paper-config"), TICKS_CONFIG)?;
    restart_figures(&args, &ticks, &paper_spec, &work.join("paper"))
}

fn io_failure(error: std::io::Error) -> CommandError {
    failed(BENCH, error)
}

/// The seq the newest snapshot of the log at `path` covers through.
fn log_snapshot_seq(path: &Path) -> Result<u64, CommandError> {
    let log = EventLog::open(path)?;
    Ok(log.snapshot_seqs()?.last().copied().unwrap_or(1))
}

/// A feed on a free local port that answers its one client with the end frame at once.
fn empty_feed() -> Result<(String, std::thread::JoinHandle<()>), CommandError> {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io_failure)?;
    let address = listener.local_addr().map_err(io_failure)?.to_string();
    let feed = std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            let mut line = String::new();
            let mut reader = std::io::BufReader::new(&stream);
            if reader.read_line(&mut line).is_ok() {
                let _ = (&stream).write_all(&0u32.to_le_bytes());
            }
        }
    });
    Ok((address, feed))
}

/// Times snapshotting and restoring the actors of `spec` after a run over `inputs`.
fn snapshot_figures(name: &str, spec: &RunSpec, inputs: &[Envelope]) -> Result<(), CommandError> {
    let build = || {
        Run::new(spec, VenueSide::Simulated, || {
            Ok(MemorySink::new(InputMode::ByReference))
        })
        .map_err(|e| failed(BENCH, e))
    };
    let mut journal = build()?;
    for input in inputs {
        journal
            .process(input.clone())
            .map_err(|e| failed(BENCH, e))?;
    }
    let failed = |e: SnapshotError| failed(BENCH, e);
    let (mut writes, mut restores) = (Vec::new(), Vec::new());
    let mut bytes = Vec::new();
    for _ in 0..21 {
        let start = Instant::now();
        bytes = journal.snapshot().map_err(failed)?.encode();
        writes.push(start.elapsed().as_secs_f64());
        let mut fresh = build()?;
        let start = Instant::now();
        fresh
            .restore(&JournalSnapshot::decode(&bytes).map_err(failed)?)
            .map_err(failed)?;
        restores.push(start.elapsed().as_secs_f64());
    }
    report(&format!("snapshot_encode_{name}"), median_ms(writes), "ms");
    report(
        &format!("snapshot_restore_{name}"),
        median_ms(restores),
        "ms",
    );
    report(
        &format!("snapshot_bytes_{name}"),
        bytes.len() as f64,
        "bytes",
    );
    Ok(())
}

/// Writes a paper run log of `args.paper_events` tick inputs as `charon run` does, then times
/// a restart of it.
fn restart_figures(
    args: &BenchReplayArgs,
    ticks: &TickSource,
    spec: &RunSpec,
    path: &Path,
) -> Result<(), CommandError> {
    let log = EventLog::create(path, LogKind::Run)?;
    start_paper(&log, spec)?;
    let mut run = resume(log, spec)?.run;
    // End half-way between two snapshots: a restart re-derives a typical tail.
    let inputs = args.paper_events;
    let mut last_snapshot = 1;
    let mut writes = Vec::new();
    let start = Instant::now();
    for i in 0..inputs {
        let mut input = ticks.at(i);
        input.seq = 0;
        run.process(input).map_err(|e| failed(BENCH, e))?;
        let at = run.sink().next_seq() - 1;
        let past_last = at - last_snapshot >= args.snapshot_every;
        let near_end = inputs - i <= (args.snapshot_every / 2) as usize;
        if args.snapshot_every > 0 && past_last && !near_end {
            let started = Instant::now();
            snapshot(&run, at)?;
            writes.push(started.elapsed().as_secs_f64());
            last_snapshot = at;
        }
    }
    let log = run.sink().log().clone();
    log.sync_through(log.last_seq())?;
    let written = start.elapsed().as_secs_f64();
    let events = log.last_seq();
    drop(run);
    drop(log);
    tracing::info!(
        events,
        "bench replay: paper run log of {events} events written in {written:.1} s"
    );
    report("paper_run_write", events as f64 / written, "events/s");
    if !writes.is_empty() {
        report("snapshot_write_paper_ticks", median_ms(writes), "ms");
    }

    // A restart is a new process: `charon run` on the log, fed by a feed that has nothing
    // more, so it opens, restores, re-derives its tail, connects and ends.
    let tail = events - log_snapshot_seq(path)?;
    let (address, feed) = empty_feed()?;
    let start = Instant::now();
    let out = std::process::Command::new(std::env::current_exe().map_err(io_failure)?)
        .args(["run", "--feed", &address, "--log"])
        .arg(path)
        .output()
        .map_err(io_failure)?;
    let process = start.elapsed().as_secs_f64();
    feed.join()
        .map_err(|_| failed(BENCH, "the feed thread failed"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(failed(
            BENCH,
            format!(
                "the restart failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        ));
    }
    let ready: f64 = text
        .split("ready in ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|seconds| seconds.parse().ok())
        .ok_or_else(|| failed(BENCH, format!("unexpected output {text:?}")))?;
    report("restart_log_events", events as f64, "events");
    report("restart_tail_events", tail as f64, "events");
    report("restart_ready", ready * 1e3, "ms");
    report("restart_process", process * 1e3, "ms");
    Ok(())
}

/// Times `verify` of the run in `dir` (`run`, citing `data`).
fn verify_figures(name: &str, dir: &std::path::Path, passes: usize) -> Result<(), CommandError> {
    let (mut whole, mut open) = (Vec::new(), Vec::new());
    let mut events = 0;
    for _ in 0..passes.max(1) {
        let start = Instant::now();
        let run = EventLog::open(dir.join("run"))?;
        let data = EventLog::open(dir.join("data"))?;
        let manifest = manifest_of(&run)?;
        open.push(start.elapsed().as_secs_f64());
        let verdict = verify(&run, &manifest, Some(&data))?;
        whole.push(start.elapsed().as_secs_f64());
        let Verdict::Identical { inputs, derived } = verdict else {
            return Err(failed(BENCH, format!("the {name} run did not verify")));
        };
        events = inputs + derived;
    }
    let elapsed = median_ms(whole) / 1e3;
    let opened = median_ms(open) / 1e3;
    report(
        &format!("replay_verify_{name}"),
        events as f64 / elapsed,
        "events/s",
    );
    report(&format!("replay_verify_{name}_run"), elapsed * 1e3, "ms");
    // Opening the two sled databases is a fixed cost, large beside a small run.
    report(&format!("replay_verify_{name}_open"), opened * 1e3, "ms");
    report(
        &format!("replay_verify_{name}_events"),
        events as f64,
        "events",
    );
    Ok(())
}
