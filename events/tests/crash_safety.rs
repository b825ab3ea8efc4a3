//! Crash safety under SIGKILL: a child process appends and syncs in a loop, the parent kills it
//! at random moments and checks that the log reopens intact — every record passes its CRC,
//! seqs run contiguously from 1, nothing a returned `sync_through` covered is missing, and
//! every event holds exactly what was appended at its seq.
//!
//! The child is this test binary run again with `--exact child_writer --ignored`. The moment of
//! each kill is random because the child keeps running while the parent reads its output; the
//! number of syncs to wait for comes from a seeded RNG. The seed is printed; rerun a failure
//! with `CHARON_CRASH_SEED=<seed>`. `CHARON_CRASH_KILLS` sets the kills per log kind (default 50;
//! `scripts/crash-soak.sh` runs 1,000).

use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use charon_events::payload::market::{Aggressor, Trade};
use charon_events::{Envelope, Event, EventLog, LogKind, Price, Quantity, Seq, Symbol, Timestamp};

type TestResult = Result<(), Box<dyn Error>>;

/// The log the child writes to; set only in the child.
const CHILD_ENV: &str = "CHARON_CRASH_CHILD";
/// `run` or `data`.
const KIND_ENV: &str = "CHARON_CRASH_KIND";
/// Seeds the child's choice of single appends and batch sizes.
const CHILD_SEED_ENV: &str = "CHARON_CRASH_CHILD_SEED";
const SEED_ENV: &str = "CHARON_CRASH_SEED";
const KILLS_ENV: &str = "CHARON_CRASH_KILLS";
const DEFAULT_KILLS: u64 = 50;
/// A fresh log every this many kills, so that a long soak does not spend its time re-reading
/// one ever-growing log (the default run keeps a single log throughout).
const KILLS_PER_LOG: u64 = 100;
/// The child's progress report, one line per returned `sync_through`.
const SYNCED: &str = "synced ";

/// splitmix64: small, seedable, good enough to pick kill moments and batch sizes.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `low..=high` for a test.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }
}

/// The event the child appends at `seq`: its content is a function of the seq alone, so the
/// parent can check every event it reads back.
fn event_at(seq: Seq) -> Envelope {
    let trade = Trade {
        trade_id: seq,
        price: Price::new(6_000_000 + (seq % 1000) as i64, 2), // 60000.00 + seq%1000 cents
        qty: Quantity::new(1 + (seq.wrapping_mul(7919) % 2_000_000) as i64, 6),
        aggressor: match seq % 3 {
            0 => Aggressor::Buyer,
            1 => Aggressor::Seller,
            _ => Aggressor::Unknown,
        },
    };
    let ts = Timestamp::from_nanos(1_722_470_400_000_000_000 + seq as i64 * 1_000_003);
    let pair = Symbol::new("BTCUSDT").expect("BTCUSDT is a valid symbol");
    let mut env = Envelope::input(ts, Event::Trade(trade)).with_pair(pair);
    env.seq = seq;
    env
}

/// Run only as the child of the crash tests: opens (or creates) the log named by
/// `CHARON_CRASH_CHILD` and appends and syncs until it is killed, printing `synced <seq>` after
/// every returned `sync_through`.
#[test]
#[ignore = "child process of the crash-safety tests; loops until killed"]
fn child_writer() -> TestResult {
    let Some(path) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        eprintln!("child_writer: {CHILD_ENV} is not set; nothing to do");
        return Ok(());
    };
    let kind: LogKind = std::env::var(KIND_ENV)?.parse()?;
    let seed = std::env::var(CHILD_SEED_ENV).map_or(Ok(0), |s| s.parse::<u64>())?;
    let mut rng = SplitMix64(seed);
    let log = if path.exists() {
        // The parent verified it just before spawning this child, and the other log kind's
        // test, on a parallel thread, may have forked a child of its own while that log was
        // open: such a child shares sled's locked file until it execs.
        EventLog::open_within(&path, Duration::from_secs(30))?
    } else {
        EventLog::create(&path, kind)?
    };
    if log.kind() != kind {
        return Err(format!("{}: a {} log, expected {kind}", path.display(), log.kind()).into());
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // End the harness's `test child_writer ... ` line, so that every report starts a line.
    writeln!(out)?;
    out.flush()?;
    loop {
        let mut last = log.last_seq();
        for _ in 0..rng.between(1, 4) {
            let next = last + 1;
            last = if rng.next_u64() % 2 == 0 {
                log.append(&mut event_at(next))?
            } else {
                let size = rng.between(1, 300);
                let mut batch: Vec<Envelope> = (next..next + size).map(event_at).collect();
                log.append_batch(&mut batch)?
            };
        }
        log.sync_through(last)?;
        writeln!(out, "{SYNCED}{last}")?;
        out.flush()?;
    }
}

fn seed() -> Result<u64, Box<dyn Error>> {
    match std::env::var(SEED_ENV) {
        Ok(seed) => Ok(seed.parse()?),
        Err(_) => Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64),
    }
}

fn kills() -> Result<u64, Box<dyn Error>> {
    match std::env::var(KILLS_ENV) {
        Ok(kills) => Ok(kills.parse()?),
        Err(_) => Ok(DEFAULT_KILLS),
    }
}

/// Reads the child's stdout up to `want` sync reports (or to its end when `want` is `None`),
/// raising `highest_synced` to each. Returns how many it read. Lines the harness prints, and a
/// last line cut short by the kill, are ignored.
fn read_synced(
    lines: &mut impl BufRead,
    want: Option<u64>,
    highest_synced: &mut Seq,
) -> Result<u64, Box<dyn Error>> {
    let mut seen = 0;
    let mut line = String::new();
    while want.is_none_or(|want| seen < want) {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            break;
        }
        let Some(report) = line
            .strip_prefix(SYNCED)
            .and_then(|rest| rest.strip_suffix('\n'))
        else {
            continue;
        };
        let seq: Seq = report
            .parse()
            .map_err(|e| format!("bad report {line:?}: {e}"))?;
        if seq < *highest_synced {
            return Err(format!("the child reported synced {seq} after {highest_synced}").into());
        }
        *highest_synced = seq;
        seen += 1;
    }
    Ok(seen)
}

/// Reopens the log after a kill and checks it whole. Returns its last seq.
fn verify(path: &Path, kind: LogKind, must_hold: Seq) -> Result<Seq, String> {
    let log = EventLog::open(path).map_err(|e| format!("the log does not reopen: {e}"))?;
    if log.kind() != kind {
        return Err(format!("reopened as a {} log", log.kind()));
    }
    let last = log.last_seq();
    if last < must_hold {
        return Err(format!(
            "last_seq is {last}, but seq {must_hold} was synced or seen before"
        ));
    }
    if log.durable_seq() != last {
        return Err(format!(
            "durable_seq {} != last_seq {last} after reopening",
            log.durable_seq()
        ));
    }
    let mut expected: Seq = 1;
    for item in log.iter() {
        let env = item.map_err(|e| format!("reading seq {expected}: {e}"))?;
        if env.seq != expected {
            return Err(format!("seq {} where seq {expected} should be", env.seq));
        }
        if env != event_at(expected) {
            return Err(format!(
                "seq {expected} holds {env:?}, not {:?}",
                event_at(expected)
            ));
        }
        expected += 1;
    }
    if expected - 1 != last {
        return Err(format!(
            "iteration ended after seq {} but last_seq is {last}",
            expected - 1
        ));
    }
    if last > 0 && log.get(last).map_err(|e| format!("get({last}): {e}"))? != Some(event_at(last)) {
        return Err(format!("get({last}) disagrees with iter()"));
    }
    Ok(last)
}

fn crash_repeatedly(kind: LogKind) -> TestResult {
    let (seed, kills) = (seed()?, kills()?);
    let name = kind.name();
    eprintln!("crash_safety[{name}]: {kills} kills, seed {seed} (rerun with {SEED_ENV}={seed})");
    let mut rng = SplitMix64(seed ^ u64::from(kind == LogKind::Data));
    let exe = std::env::current_exe()?;
    let dir = tempfile::tempdir()?;
    let (mut path, mut highest_synced, mut last_seen) = (PathBuf::new(), 0, 0);
    let (mut total_synced_reports, mut max_last) = (0, 0);

    for kill in 0..kills {
        if kill % KILLS_PER_LOG == 0 {
            path = dir.path().join(format!("log-{}", kill / KILLS_PER_LOG));
            (highest_synced, last_seen) = (0, 0);
        }
        let want = rng.between(1, 40);
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "child_writer",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .env(KIND_ENV, name)
            .env(CHILD_SEED_ENV, rng.next_u64().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let seen = read_synced(&mut stdout, Some(want), &mut highest_synced);
        // Kill whatever happened: a child left running would hold the log's lock.
        child.kill()?;
        let seen = seen?;
        if seen < want {
            let status = child.wait()?;
            return Err(format!(
                "kill {kill} (seed {seed}): the child ended ({status}) after {seen} of {want} syncs"
            )
            .into());
        }
        // Reports the child wrote before it died count too: their syncs had returned.
        let drained = read_synced(&mut stdout, None, &mut highest_synced)?;
        total_synced_reports += seen + drained;
        child.wait()?;

        let must_hold = highest_synced.max(last_seen);
        last_seen = match verify(&path, kind, must_hold) {
            Ok(last) => last,
            Err(e) => {
                // Keep the broken log for a post-mortem.
                let kept = dir.keep();
                return Err(format!(
                    "{name} log, kill {kill} (seed {seed}): {}: {e} (logs kept in {})",
                    path.display(),
                    kept.display()
                )
                .into());
            }
        };
        max_last = max_last.max(last_seen);
    }
    eprintln!(
        "crash_safety[{name}]: {kills} kills survived, {total_synced_reports} syncs reported, \
         up to {max_last} events in a log"
    );
    Ok(())
}

#[test]
fn run_log_survives_sigkill() -> TestResult {
    crash_repeatedly(LogKind::Run)
}

#[test]
fn data_log_survives_sigkill() -> TestResult {
    crash_repeatedly(LogKind::Data)
}
