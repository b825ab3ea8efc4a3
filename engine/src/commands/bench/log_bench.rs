//! `charon bench log`: codec speed, append throughput, sync latency, scan speed and space, on
//! events parsed from the real Binance recordings that ship in `data/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use charon_adapters::recording::read_recording;
use charon_events::codec::{decode_body, encode_body};
use charon_events::{Envelope, Event, EventLog, LogKind, Timestamp};

use super::figure::{failed, report};
use super::fixtures::work_dir;
use crate::cli::BenchLogArgs;
use crate::error::CommandError;

const BENCH: &str = "log";

const SINGLE_APPENDS: usize = 200_000;
const RUN_BATCH_EVENTS: usize = 1_000_000;
const BATCH_SIZE: usize = 1_000;
const SYNC_APPENDERS: usize = 2;
const SYNCS_PER_APPENDER: usize = 500;
const EVENTS_PER_SYNC: usize = 10;

pub fn run(args: BenchLogArgs) -> Result<(), CommandError> {
    let base = load_events(&args.data)?;
    tracing::info!(
        events = base.len(),
        "bench log: {} events from {}",
        base.len(),
        args.data.display()
    );
    let workdir = work_dir(args.dir.as_deref())?;

    codec_figures(&base);
    let events = repeat_to(&base, args.events);
    run_log_figures(workdir.path(), &events)?;
    sled_baselines(workdir.path(), &events)?;
    sync_figures(workdir.path(), &base)?;
    data_log_figures(workdir.path(), &events)?;
    Ok(())
}

fn load_events(dir: &Path) -> Result<Vec<Envelope>, CommandError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| CommandError::BenchData(format!("{}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "gz"))
        .collect();
    files.sort();
    let mut events = Vec::new();
    for file in &files {
        events.extend(read_recording(file)?);
    }
    if events.is_empty() {
        return Err(CommandError::BenchData(format!(
            "{}: no recorded events (*.gz)",
            dir.display()
        )));
    }
    events.sort_by_key(|env| env.ts);
    Ok(events)
}

/// `count` events: the recording over and over, each pass shifted later in time, with the
/// seqs a log would give them (1, 2, ...).
fn repeat_to(base: &[Envelope], count: usize) -> Vec<Envelope> {
    let span = base.last().map_or(0, |l| l.ts.nanos()) - base[0].ts.nanos() + 1;
    (0..count)
        .map(|i| {
            let mut env = base[i % base.len()].clone();
            env.ts = Timestamp::from_nanos(env.ts.nanos() + span * (i / base.len()) as i64);
            env.seq = i as u64 + 1;
            env
        })
        .collect()
}

fn body_of(env: &Envelope) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    encode_body(env, &mut body).expect("encoding into memory");
    body
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn codec_figures(base: &[Envelope]) {
    let rounds = (1_000_000 / base.len()).max(1);
    let mut buffer = Vec::with_capacity(256);
    let mut encoded_bytes = 0usize;
    let start = Instant::now();
    for _ in 0..rounds {
        for env in base {
            buffer.clear();
            encode_body(env, &mut buffer).expect("encoding into memory");
            encoded_bytes += buffer.len();
        }
    }
    let encode = start.elapsed();
    let n = rounds * base.len();
    report(
        "codec.encode",
        encode.as_nanos() as f64 / n as f64,
        "ns/event",
    );
    report(
        "codec.event_size",
        encoded_bytes as f64 / n as f64,
        "bytes/event",
    );

    let bodies: Vec<Vec<u8>> = base.iter().map(body_of).collect();
    let mut checksum = 0u64;
    let start = Instant::now();
    for _ in 0..rounds {
        for (i, body) in bodies.iter().enumerate() {
            let env = decode_body(i as u64, body).expect("decoding what was just encoded");
            checksum = checksum.wrapping_add(env.ts.nanos() as u64);
        }
    }
    let decode = start.elapsed();
    std::hint::black_box(checksum);
    report(
        "codec.decode",
        decode.as_nanos() as f64 / n as f64,
        "ns/event",
    );
}

fn create(dir: &Path, name: &str, kind: LogKind) -> Result<EventLog, CommandError> {
    Ok(EventLog::create(dir.join(name), kind)?)
}

fn run_log_figures(dir: &Path, events: &[Envelope]) -> Result<(), CommandError> {
    let log = create(dir, "run-single", LogKind::Run)?;
    let mut single: Vec<Envelope> = events
        .iter()
        .take(SINGLE_APPENDS.min(events.len()))
        .cloned()
        .collect();
    let start = Instant::now();
    for env in &mut single {
        log.append(env)?;
    }
    let elapsed = start.elapsed();
    log.sync_through(log.last_seq())?;
    report(
        "log.run.append",
        per_second(single.len(), elapsed),
        "events/s",
    );
    drop(log);

    let log = create(dir, "run-batch", LogKind::Run)?;
    let mut batch: Vec<Envelope> = events.iter().take(RUN_BATCH_EVENTS).cloned().collect();
    let start = Instant::now();
    for chunk in batch.chunks_mut(BATCH_SIZE) {
        log.append_batch(chunk)?;
    }
    let elapsed = start.elapsed();
    log.sync_through(log.last_seq())?;
    report(
        "log.run.append_batch",
        per_second(batch.len(), elapsed),
        "events/s",
    );
    Ok(())
}

/// The same work done on a bare sled tree, without charon: what the log's figures are bounded
/// by. Per-key inserts of the run log's records; the data log's blocks, their cold read and
/// their space.
fn sled_baselines(dir: &Path, events: &[Envelope]) -> Result<(), CommandError> {
    let sled_failed = |e: sled::Error| failed(BENCH, format!("sled baseline: {e}"));
    let records: Vec<Vec<u8>> = events
        .iter()
        .take(SINGLE_APPENDS)
        .map(|env| charon_events::codec::encode_record(env).expect("encoding into memory"))
        .collect();
    let db = sled::open(dir.join("sled-keys")).map_err(sled_failed)?;
    let start = Instant::now();
    for (record, env) in records.iter().zip(events) {
        db.insert(env.seq.to_be_bytes(), record.as_slice())
            .map_err(sled_failed)?;
    }
    report(
        "sled.insert",
        per_second(records.len(), start.elapsed()),
        "keys/s",
    );
    drop(db);

    let mut block = charon_events::codec::BlockWriter::new(1);
    let mut blocks = Vec::new();
    for env in events {
        block.push(env).expect("encoding into memory");
        if block.entries_len() >= charon_events::log::BLOCK_TARGET_BYTES {
            blocks.push((block.first_seq(), block.encode()));
            block = charon_events::codec::BlockWriter::new(env.seq + 1);
        }
    }
    let path = dir.join("sled-blocks");
    let db = sled::open(&path).map_err(sled_failed)?;
    let value_bytes: usize = blocks.iter().map(|(_, b)| b.len()).sum();
    for (first_seq, bytes) in &blocks {
        db.insert(first_seq.to_be_bytes(), bytes.as_slice())
            .map_err(sled_failed)?;
    }
    db.flush().map_err(sled_failed)?;
    drop(db);
    // Reopened, every value read once without decoding: what sled's page-in alone costs a
    // first scan, in events per second (each block holds many).
    let db = sled::open(&path).map_err(sled_failed)?;
    let start = Instant::now();
    let mut bytes_read = 0usize;
    for entry in db.iter() {
        bytes_read += entry.map_err(sled_failed)?.1.len();
    }
    let elapsed = start.elapsed();
    std::hint::black_box(bytes_read);
    let events_in_blocks: u64 = blocks.iter().map(|(first, _)| *first).max().unwrap_or(1) - 1;
    report(
        "sled.scan_cold",
        per_second(events_in_blocks as usize, elapsed),
        "events/s",
    );
    drop(db);
    let on_disk = charon_events::log::dir_size(&path)
        .map_err(|e| failed(BENCH, format!("sled baseline: {e}")))?;
    report(
        "sled.disk_per_value_byte",
        on_disk as f64 / value_bytes as f64,
        "ratio",
    );
    Ok(())
}

/// Appenders on their own threads, each syncing after every few appends: the latency of each
/// `sync_through` call, group commit included.
fn sync_figures(dir: &Path, base: &[Envelope]) -> Result<(), CommandError> {
    let log = Arc::new(create(dir, "run-sync", LogKind::Run)?);
    let workers: Vec<_> = (0..SYNC_APPENDERS)
        .map(|worker| {
            let log = Arc::clone(&log);
            let mut events: Vec<Envelope> = base
                .iter()
                .skip(worker)
                .step_by(SYNC_APPENDERS)
                .take(SYNCS_PER_APPENDER * EVENTS_PER_SYNC)
                .cloned()
                .collect();
            std::thread::spawn(move || -> Result<Vec<Duration>, CommandError> {
                let mut latencies = Vec::with_capacity(SYNCS_PER_APPENDER);
                for chunk in events.chunks_mut(EVENTS_PER_SYNC) {
                    let mut last = 0;
                    for env in chunk {
                        last = log.append(env)?;
                    }
                    let start = Instant::now();
                    log.sync_through(last)?;
                    latencies.push(start.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        let worker = worker
            .join()
            .map_err(|_| failed(BENCH, "a sync benchmark thread panicked"))?;
        latencies.extend(worker?);
    }
    latencies.sort();
    let quantile = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    report(
        "log.sync_through.p50",
        quantile(0.50).as_secs_f64() * 1e6,
        "us",
    );
    report(
        "log.sync_through.p99",
        quantile(0.99).as_secs_f64() * 1e6,
        "us",
    );
    report(
        "log.sync_through.calls_per_fdatasync",
        latencies.len() as f64 / log.sync_count().max(1) as f64,
        "ratio",
    );
    Ok(())
}

/// Reads and decodes every event of `log`; returns how many and how long it took.
fn scan(log: &EventLog) -> Result<(usize, Duration), CommandError> {
    let mut scanned = 0usize;
    let mut checksum = 0u64;
    let start = Instant::now();
    for env in log.iter() {
        let env = env?;
        if let Event::Trade(trade) = &env.payload {
            checksum = checksum.wrapping_add(trade.trade_id);
        }
        scanned += 1;
    }
    std::hint::black_box(checksum);
    Ok((scanned, start.elapsed()))
}

fn data_log_figures(dir: &Path, events: &[Envelope]) -> Result<(), CommandError> {
    let log = create(dir, "data", LogKind::Data)?;
    let mut events = events.to_vec();
    let encoded: usize = events.iter().map(|env| body_of(env).len()).sum();
    let start = Instant::now();
    for chunk in events.chunks_mut(BATCH_SIZE) {
        log.append_batch(chunk)?;
    }
    let elapsed = start.elapsed();
    log.sync_through(log.last_seq())?;
    report(
        "log.data.append_batch",
        per_second(events.len(), elapsed),
        "events/s",
    );
    let path = log.path().to_path_buf();
    drop(log);

    // Reopen so the first scan reads what is on disk, as a backtest starting up does; the
    // second finds sled's pages cached, as repeated runs over one data log (sweeps) do.
    let log = EventLog::open(&path)?;
    for name in ["log.data.scan_decode", "log.data.scan_decode_warm"] {
        let (scanned, elapsed) = scan(&log)?;
        if scanned != events.len() {
            return Err(failed(
                BENCH,
                format!("scan read {scanned} events, wrote {}", events.len()),
            ));
        }
        report(name, per_second(scanned, elapsed), "events/s");
    }
    let scanned = events.len();
    let bytes = log.bytes_on_disk()?;
    report(
        "log.data.disk_bytes_per_event",
        bytes as f64 / scanned as f64,
        "bytes/event",
    );
    report(
        "log.data.disk_per_encoded_byte",
        bytes as f64 / encoded as f64,
        "ratio",
    );
    Ok(())
}
