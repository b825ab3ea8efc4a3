//! `charon log inspect --follow`, end to end over the real binary: a paper run (`charon run`)
//! writes its log from the demo's real market data while another process follows it. The feed
//! is served here, speaking the feed protocol, so the test decides when the run has input: the
//! first connection serves part of the data and then holds, the follower must print what the
//! run derived from it while the run is alive (the run holds the log, so those lines can only
//! come from the run's follow socket), the run is then killed with SIGKILL and restarted, and
//! the follower carries on through the restart. What it printed must be exactly what `log
//! inspect` prints of an uninterrupted run's log: every event once, in order.

#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use charon_events::codec::encode_record;
use charon_events::{EventLog, LogError};
use support::{arg, charon, repo, stderr, stdout, Feed};

/// Inputs the first connection serves before it holds.
const FIRST_CONNECTION_INPUTS: usize = 20_000;
/// How long any one wait may take before the test fails (a hang is a failure, not a pass).
const PATIENCE: Duration = Duration::from_secs(120);
/// What the follower prints.
const KINDS: &str = "signal,order_filled,position_updated";

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn paper_run(address: &str, log: &Path, config: bool) -> Running {
    let mut args = vec!["run", "--feed", address, "--log", arg(log)];
    let demo = repo("examples/bots/demo.toml");
    if config {
        args.extend(["--config", arg(&demo)]);
    }
    Running(
        Command::new(env!("CARGO_BIN_EXE_charon"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the paper run starts"),
    )
}

/// Reads the child's first output line: the run is open (and serving followers) once printed.
fn ready_line(child: &mut Running) -> String {
    let mut line = String::new();
    BufReader::new(child.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

/// Serves `records` (the feed's frames, in order) over the feed protocol: the first
/// connection gets the first [`FIRST_CONNECTION_INPUTS`] and then nothing more (until its
/// client dies); every later one gets everything after what its client holds, and the end.
fn staged_feed(records: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for (connection, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let held: usize = line
                .trim()
                .strip_prefix("RESUME ")
                .unwrap()
                .parse()
                .unwrap();
            let end = if connection == 0 {
                FIRST_CONNECTION_INPUTS
            } else {
                records.len()
            };
            let mut frames = Vec::new();
            for record in &records[held.min(end)..end] {
                frames.extend_from_slice(&(record.len() as u32).to_le_bytes());
                frames.extend_from_slice(record);
            }
            if connection > 0 {
                frames.extend_from_slice(&0u32.to_le_bytes());
            }
            if stream.write_all(&frames).is_err() {
                continue;
            }
            // Hold the first connection open until its client is gone.
            let _ = stream.read_to_end(&mut Vec::new());
        }
    });
    address
}

/// The follower's output lines, as they come.
fn follower(log: &Path) -> (Running, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_charon"))
        .args([
            "log",
            "inspect",
            arg(log),
            "--follow",
            "--json",
            "--kind",
            KINDS,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the follower starts");
    let (sender, lines) = channel();
    let output = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            if sender.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    (Running(child), lines)
}

fn next_line(lines: &Receiver<String>, deadline: Instant) -> String {
    match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => panic!("the follower printed nothing for too long"),
        Err(RecvTimeoutError::Disconnected) => panic!("the follower stopped"),
    }
}

#[test]
fn a_follower_sees_every_event_once_while_the_run_writes_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = charon(&["demo", "--data-log", arg(&data)]);
    assert!(demo.status.success(), "{}", stderr(&demo));

    // The reference: an uninterrupted run over the real feed, inspected once it is over.
    let reference = dir.path().join("reference.run");
    {
        let feed = Feed::start(&data);
        let mut run = paper_run(&feed.address, &reference, true);
        assert!(run.0.wait().unwrap().success());
    }
    let expected: Vec<String> = stdout(&charon(&[
        "log",
        "inspect",
        arg(&reference),
        "--json",
        "--kind",
        KINDS,
    ]))
    .lines()
    .map(str::to_string)
    .collect();

    let records: Vec<Vec<u8>> = support::open_log(&data)
        .iter()
        .map(|event| encode_record(&event.unwrap()).unwrap())
        .collect();
    assert!(records.len() > FIRST_CONNECTION_INPUTS * 2);
    let address = staged_feed(records);

    let log = dir.path().join("followed.run");
    let mut first = paper_run(&address, &log, true);
    assert!(ready_line(&mut first).starts_with("charon run: started"));
    let (follower, lines) = follower(&log);
    let deadline = Instant::now() + PATIENCE;
    let mut seen = vec![next_line(&lines, deadline)];
    // The run holds its log, so these lines came through its follow socket.
    assert!(matches!(
        EventLog::open(&log).err(),
        Some(LogError::Locked { .. })
    ));
    let before_kill = seen.len();
    drop(first); // SIGKILL

    let mut second = paper_run(&address, &log, false);
    let ready = ready_line(&mut second);
    assert!(ready.starts_with("charon run: resumed"), "{ready:?}");
    while seen.len() < expected.len() {
        seen.push(next_line(&lines, deadline));
    }
    assert!(second.0.wait().unwrap().success());
    drop(follower);

    assert!(
        before_kill > 0 && expected.len() > 1000,
        "{}",
        expected.len()
    );
    assert_eq!(seen.len(), expected.len());
    for (index, (got, want)) in seen.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "line {index} of the followed output");
    }
    // Nothing more arrives: the follower printed each event once.
    assert!(matches!(
        lines.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected)
    ));
}

#[test]
fn following_a_log_no_one_writes_prints_it_and_stops_at_to() {
    let dir = tempfile::tempdir().unwrap();
    let (run, data) = (dir.path().join("demo.run"), dir.path().join("demo.data"));
    let demo = charon(&["demo", "--out", arg(&run), "--data-log", arg(&data)]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let plain = charon(&["log", "inspect", arg(&run), "--to", "5000", "--kind", KINDS]);
    let followed = charon(&[
        "log",
        "inspect",
        arg(&run),
        "--to",
        "5000",
        "--kind",
        KINDS,
        "--follow",
    ]);
    assert!(followed.status.success(), "{}", stderr(&followed));
    assert!(stdout(&plain).lines().count() > 10);
    assert_eq!(stdout(&followed), stdout(&plain));

    // A reader that stops early (`| head -1`) ends the following, and is no failure: the
    // follower is still printing the log's 92k events when its output closes.
    let mut early = Command::new(env!("CARGO_BIN_EXE_charon"))
        .args(["log", "inspect", arg(&run), "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(early.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("run_manifest"), "{first}");
    let ended = early.wait_with_output().unwrap();
    assert!(ended.status.success(), "{}", stderr(&ended));
    assert!(stderr(&ended).is_empty(), "{}", stderr(&ended));

    let missing = charon(&["log", "inspect", arg(&dir.path().join("nope")), "--follow"]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("no such log"));
}

#[test]
fn the_follow_socket_is_gone_when_the_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(charon(&["demo", "--data-log", arg(&data)]).status.success());
    let log = dir.path().join("paper.run");
    let feed = Feed::start(&data);
    let mut run = paper_run(&feed.address, &log, true);
    assert!(run.0.wait().unwrap().success());
    assert!(log.join("db").is_file());
    assert!(!log.join("charon.follow").exists());
}
