//! The durability barrier end to end on real sled databases: `sync_through` issues one
//! fdatasync per barrier, concurrent callers share syncs (group commit), the fdatasync reaches
//! the log's data file (checked under strace), and a cleanly dropped log reopens whole.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Barrier, Mutex};

use charon_events::payload::market::{Aggressor, Trade};
use charon_events::{
    Envelope, Event, EventLog, LogError, LogKind, Price, Quantity, Seq, Symbol, Timestamp,
};

type TestResult = Result<(), Box<dyn Error>>;

/// Set (to a directory) only in the child that `fdatasync_reaches_the_data_file_under_strace`
/// runs under strace.
const STRACE_CHILD_ENV: &str = "CHARON_STRACE_CHILD";
/// How the strace child reports its log's `sync_count()`.
const SYNC_COUNT: &str = "sync_count ";

/// Held by a test that spawns a process and by one that counts on no other process sharing
/// its log's lock: a child forked while a log is open holds a copy of sled's locked file until
/// it execs, and would make a reopen in that moment find the log locked.
static FORKS: Mutex<()> = Mutex::new(());

/// A trade whose content is a function of `n`, so a reader can check what it got back.
fn trade(n: u64) -> Result<Envelope, Box<dyn Error>> {
    let payload = Trade {
        trade_id: n,
        price: Price::new(6_000_000 + (n % 1000) as i64, 2),
        qty: Quantity::new(1 + (n % 5000) as i64, 4),
        aggressor: if n % 2 == 0 {
            Aggressor::Buyer
        } else {
            Aggressor::Seller
        },
    };
    let ts = Timestamp::from_millis(1_722_470_400_000 + n as i64);
    Ok(Envelope::input(ts, Event::Trade(payload)).with_pair(Symbol::new("BTCUSDT")?))
}

/// `trade(n)` as the log returns it, with its seq.
fn stored(seq: Seq, n: u64) -> Result<Envelope, Box<dyn Error>> {
    let mut env = trade(n)?;
    env.seq = seq;
    Ok(env)
}

fn all_events(log: &EventLog) -> Result<Vec<Envelope>, LogError> {
    log.iter().collect()
}

#[test]
fn sync_through_issues_an_fdatasync_per_barrier() -> TestResult {
    for kind in [LogKind::Run, LogKind::Data, LogKind::Live] {
        let dir = tempfile::tempdir()?;
        let log = EventLog::create(dir.path().join("log"), kind)?;
        assert_eq!(
            (log.last_seq(), log.durable_seq()),
            (0, 0),
            "{kind}: a new log is empty"
        );
        // create synced the log's files before it opened the log: this handle has not synced.
        let base = log.sync_count();
        assert_eq!(base, 0, "{kind}: no barrier yet");

        let first = log.append(&mut trade(1)?)?;
        assert_eq!(first, 1);
        assert_eq!(
            log.durable_seq(),
            0,
            "{kind}: an append alone is not durable"
        );
        log.sync_through(first)?;
        assert_eq!(
            log.sync_count(),
            base + 1,
            "{kind}: one barrier, one fdatasync"
        );
        assert_eq!(log.durable_seq(), 1, "{kind}");

        // Already durable: no new sync, for the same seq or a lower one.
        log.sync_through(first)?;
        log.sync_through(0)?;
        assert_eq!(
            log.sync_count(),
            base + 1,
            "{kind}: a durable seq needs no sync"
        );

        let mut batch = vec![trade(2)?, trade(3)?, trade(4)?];
        let last = log.append_batch(&mut batch)?;
        assert_eq!(last, 4);
        assert_eq!(
            log.durable_seq(),
            1,
            "{kind}: appends do not advance durable_seq"
        );
        log.sync_through(first)?;
        assert_eq!(
            log.sync_count(),
            base + 1,
            "{kind}: seq 1 was already durable"
        );

        // A barrier for one seq covers everything appended before it.
        log.sync_through(2)?;
        assert_eq!(log.sync_count(), base + 2, "{kind}");
        assert_eq!(
            log.durable_seq(),
            last,
            "{kind}: the sync covered the whole batch"
        );
        log.sync_through(last)?;
        assert_eq!(
            log.sync_count(),
            base + 2,
            "{kind}: seq {last} was covered by the sync for 2"
        );

        match log.sync_through(last + 1) {
            Err(LogError::NotAppended {
                seq, last: found, ..
            }) => {
                assert_eq!((seq, found), (last + 1, last), "{kind}");
            }
            other => panic!("{kind}: sync_through beyond the last seq gave {other:?}"),
        }
        assert_eq!(
            log.sync_count(),
            base + 2,
            "{kind}: a refused barrier issues no sync"
        );
        assert_eq!(log.durable_seq(), last, "{kind}");
    }
    Ok(())
}

#[test]
fn concurrent_callers_share_syncs() -> TestResult {
    const THREADS: usize = 4;
    const ROUNDS: usize = 200;
    let dir = tempfile::tempdir()?;
    let log = EventLog::create(dir.path().join("log"), LogKind::Live)?;
    let base = log.sync_count();
    let barrier = Barrier::new(THREADS);
    // sync_count() after each round, read while no thread can be syncing.
    let counts = Mutex::new(Vec::with_capacity(ROUNDS));

    // Every round: each thread appends one event; once all four have appended, all four call
    // sync_through for their own seq at the same moment. The first to take the lock syncs
    // everything appended so far — all four events — so the other three must find their seq
    // durable and return without a sync. Exactly one fdatasync per round follows from the
    // happens-before edges alone (appends, then barrier, then syncs), so this cannot flake;
    // without group commit every caller would sync and each round would count four.
    // A worker never leaves the loop early (that would strand the others at the barrier): it
    // records what went wrong and keeps going.
    let failures = Mutex::new(Vec::<String>::new());
    let fail = |what: String| {
        failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what)
    };
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (log, barrier, counts, fail) = (&log, &barrier, &counts, &fail);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let n = (round * THREADS + thread) as u64;
                    let appended = trade(n)
                        .map_err(|e| e.to_string())
                        .and_then(|mut env| log.append(&mut env).map_err(|e| e.to_string()));
                    barrier.wait();
                    match appended.and_then(|seq| {
                        log.sync_through(seq)
                            .map(|()| seq)
                            .map_err(|e| e.to_string())
                    }) {
                        Ok(seq) if log.durable_seq() < seq => {
                            fail(format!(
                                "sync_through({seq}) returned before seq {seq} was durable"
                            ));
                        }
                        Ok(_) => {}
                        Err(e) => fail(format!("thread {thread}, round {round}: {e}")),
                    }
                    // Nobody syncs again until every thread has passed the next round's first
                    // barrier, so the leader reads a settled count.
                    if barrier.wait().is_leader() {
                        counts
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(log.sync_count());
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    assert!(failures.is_empty(), "{failures:#?}");

    let total_calls = (THREADS * ROUNDS) as u64;
    assert_eq!(log.last_seq(), total_calls);
    assert_eq!(
        log.durable_seq(),
        log.last_seq(),
        "every appended event is durable"
    );
    let counts = counts.into_inner().unwrap_or_else(|p| p.into_inner());
    assert_eq!(counts.len(), ROUNDS);
    let mut previous = base;
    for (round, &count) in counts.iter().enumerate() {
        let syncs = count - previous;
        assert_eq!(
            syncs, 1,
            "round {round}: {THREADS} concurrent barriers over 4 appended events issued {syncs} \
             fdatasyncs; the first sync covers all of them, so the others must share it"
        );
        previous = count;
    }
    let syncs = log.sync_count() - base;
    assert!(
        syncs < total_calls,
        "{syncs} syncs for {total_calls} sync_through calls: no sharing"
    );

    // The events themselves came through intact and in seq order.
    let events = all_events(&log)?;
    assert_eq!(events.len() as u64, total_calls);
    for (i, env) in events.iter().enumerate() {
        assert_eq!(env.seq, i as u64 + 1);
    }
    Ok(())
}

/// Run only as the child of `fdatasync_reaches_the_data_file_under_strace`: creates a log,
/// appends 10 events, syncs them and exits.
#[test]
#[ignore = "child process of fdatasync_reaches_the_data_file_under_strace"]
fn strace_child() -> TestResult {
    let Some(dir) = std::env::var_os(STRACE_CHILD_ENV) else {
        eprintln!("strace_child: {STRACE_CHILD_ENV} is not set; nothing to do");
        return Ok(());
    };
    let log = EventLog::create(PathBuf::from(dir).join("log"), LogKind::Run)?;
    let mut last = 0;
    for n in 1..=10 {
        last = log.append(&mut trade(n)?)?;
    }
    log.sync_through(last)?;
    assert_eq!(log.durable_seq(), 10);
    // The parent matches this against the fdatasyncs strace saw.
    // (The leading newline ends the harness's `test strace_child ... ` line.)
    println!("\n{SYNC_COUNT}{}", log.sync_count());
    Ok(())
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[test]
fn fdatasync_reaches_the_data_file_under_strace() -> TestResult {
    let Some(strace) = find_on_path("strace") else {
        panic!(
            "strace is not on PATH; this test needs it: install it with `apt-get install strace`"
        );
    };
    let dir = tempfile::tempdir()?;
    // strace -y prints the path the kernel resolves, so compare against the canonical one.
    let dir_path = dir
        .path()
        .canonicalize()
        .map_err(|e| format!("canonicalize {}: {e}", dir.path().display()))?;
    // One trace file per thread (`-ff`): with a shared file strace splits a syscall that
    // another thread interrupts into `<unfinished ...>` and `<... resumed>` lines.
    let trace = dir_path.join("strace");
    let this_test = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let _no_reopen_meanwhile = FORKS.lock().unwrap_or_else(|p| p.into_inner());
    let output = Command::new(&strace)
        .args(["-ff", "-y", "-e", "trace=fdatasync,fsync", "-o"])
        .arg(&trace)
        .arg(&this_test)
        .args([
            "--exact",
            "strace_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(STRACE_CHILD_ENV, &dir_path)
        .output()
        .map_err(|e| format!("running {} {}: {e}", strace.display(), this_test.display()))?;
    assert!(
        output.status.success(),
        "the child under strace failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    let child_stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        child_stdout.contains("test result: ok. 1 passed"),
        "the child did not run strace_child:\n{child_stdout}"
    );

    let mut text = String::new();
    for entry in std::fs::read_dir(&dir_path)? {
        let file = entry?.path();
        let is_trace = file
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| {
                name.strip_prefix("strace.")
                    .is_some_and(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
            });
        if is_trace {
            let thread = std::fs::read_to_string(&file)
                .map_err(|e| format!("reading {}: {e}", file.display()))?;
            text.push_str(&thread);
        }
    }
    let data_file = dir_path.join("log").join("db");
    let data_file_fd = format!("<{}>", data_file.display());
    // e.g. `fdatasync(9</tmp/.tmpAbCd/log/db>) = 0`. sled itself only ever calls
    // fsync (sync_all), so an fdatasync on `db` can only be the barrier's.
    let on_data_file: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("fdatasync(") && line.contains(&data_file_fd))
        .collect();
    assert!(
        !on_data_file.is_empty(),
        "no fdatasync on {} in the strace output:\n{text}",
        data_file.display()
    );
    for line in &on_data_file {
        assert!(line.trim_end().ends_with("= 0"), "fdatasync failed: {line}");
    }
    // Every sync the log counted (the barrier's) was an fdatasync of `db`. create synced the
    // database under its staging name, before the rename, so none of those is on `log/db`.
    let counted: usize = child_stdout
        .lines()
        .find_map(|line| line.strip_prefix(SYNC_COUNT))
        .ok_or_else(|| format!("the child reported no sync count:\n{child_stdout}"))?
        .trim()
        .parse()?;
    assert_eq!(counted, 1, "one barrier");
    assert_eq!(
        on_data_file.len(),
        counted,
        "the log counted {counted} syncs; strace saw these fdatasyncs on db:\n{}",
        on_data_file.join("\n")
    );
    assert!(Path::new(&data_file).is_file());
    Ok(())
}

#[test]
fn reopen_after_clean_drop_keeps_everything() -> TestResult {
    for kind in [LogKind::Run, LogKind::Data, LogKind::Live] {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("log");
        // Enough events that a data log closes several blocks and leaves one open.
        let mut n = 0;
        {
            let log = EventLog::create(&path, kind)?;
            for round in 0..20 {
                n += 1;
                log.append(&mut trade(n)?)?;
                let mut batch = Vec::new();
                for _ in 0..(round * 7 + 1) {
                    n += 1;
                    batch.push(trade(n)?);
                }
                log.append_batch(&mut batch)?;
            }
            // Half of it synced, the rest only appended: a clean drop must keep both.
            log.sync_through(n / 2)?;
            n += 1;
            log.append(&mut trade(n)?)?;
            assert_eq!(log.last_seq(), n);
        }
        let log = EventLog::open(&path)?;
        assert_eq!(log.kind(), kind);
        assert_eq!(
            log.last_seq(),
            n,
            "{kind}: events lost over a clean drop and reopen"
        );
        let events = all_events(&log)?;
        assert_eq!(events.len() as u64, n, "{kind}");
        for (i, env) in events.iter().enumerate() {
            let seq = i as u64 + 1;
            assert_eq!(*env, stored(seq, seq)?, "{kind}: seq {seq}");
        }
        assert_eq!(log.get(n)?, Some(stored(n, n)?), "{kind}");

        // The reopened log keeps appending where it stopped.
        let next = log.append(&mut trade(n + 1)?)?;
        assert_eq!(next, n + 1, "{kind}");
        log.sync_through(next)?;
        drop(log);
        let log = EventLog::open(&path)?;
        assert_eq!(log.last_seq(), n + 1, "{kind}");
        assert_eq!(all_events(&log)?.len() as u64, n + 1, "{kind}");
    }
    Ok(())
}

#[test]
fn reopen_right_after_drop_is_never_locked() -> TestResult {
    // sled's background threads hold its lock a moment after the last handle drops. Before the
    // log waited for them, about half of all runs of 1,000 drop-and-reopen rounds hit `Locked`
    // (for a stretch of consecutive reopens); the 1,000 rounds here (500 per kind) catch that
    // regression about half the time, and cannot fail while the wait is in place.
    let _no_fork_meanwhile = FORKS.lock().unwrap_or_else(|p| p.into_inner());
    for kind in [LogKind::Run, LogKind::Data] {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("log");
        drop(EventLog::create(&path, kind)?);
        let mut n = 0;
        for round in 0..500 {
            let log = match EventLog::open(&path) {
                Ok(log) => log,
                Err(e) => panic!("{kind}, round {round}: reopening right after a drop: {e}"),
            };
            assert_eq!(log.last_seq(), n, "{kind}, round {round}");
            for _ in 0..50 {
                n += 1;
                log.append(&mut trade(n)?)?;
            }
            if round % 2 == 0 {
                log.sync_through(n)?;
            }
        }
        // An iterator that outlives its log keeps sled open: dropping the log must not wait
        // for it (that would deadlock here).
        let log = EventLog::open(&path)?;
        let mut events = log.iter();
        drop(log);
        assert_eq!(events.next().transpose()?, Some(stored(1, 1)?), "{kind}");
        drop(events);
    }
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn tail_yields_events_appended_after_it_was_created() -> TestResult {
    for kind in [LogKind::Run, LogKind::Data] {
        let dir = tempfile::tempdir()?;
        let log = EventLog::create(dir.path().join("log"), kind)?;
        let mut batch = vec![trade(1)?, trade(2)?, trade(3)?];
        log.append_batch(&mut batch)?;

        // From 2: what is there already, then what comes later.
        let mut tail = log.tail(2);
        assert_eq!(tail.next().await?, stored(2, 2)?, "{kind}");
        assert_eq!(tail.next().await?, stored(3, 3)?, "{kind}");

        // Caught up: the next event does not exist yet, so next() must wait for it.
        let writer = log.clone();
        let appender = tokio::spawn(async move {
            let mut later = Vec::new();
            for n in 4..=6 {
                later.push(trade(n).map_err(|e| e.to_string())?);
            }
            writer.append(&mut later[0]).map_err(|e| e.to_string())?;
            writer
                .append_batch(&mut later[1..])
                .map_err(|e| e.to_string())
        });
        for seq in 4..=6 {
            assert_eq!(tail.next().await?, stored(seq, seq)?, "{kind}");
        }
        assert_eq!(appender.await??, 6, "{kind}");

        // A tail created at the end sees only what follows.
        let mut fresh = log.tail(log.last_seq() + 1);
        log.append(&mut trade(7)?)?;
        assert_eq!(fresh.next().await?, stored(7, 7)?, "{kind}");
    }
    Ok(())
}
