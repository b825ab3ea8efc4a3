//! Crash recovery, end to end over the real binary: `charon feed` serves the demo's real market
//! data from its own process; a paper run (`charon run`) reading it is killed with SIGKILL at
//! random moments (mid-stream, and straight after starting, while it restores and re-derives
//! its tail) and restarted, again and again. Its final log must equal, event for event, the
//! log of an uninterrupted run over the same feed: nothing lost, nothing duplicated, no order
//! intent issued twice; and it must replay-verify.
//!
//! The paper runs' logs also feed the what-if over recorded inputs (`replay run` of a paper
//! run), which must reproduce the run with its own configuration and differ with another.
//!
//! `CHARON_PAPER_KILLS` sets how many kills (20 by default; `scripts/paper-crash-soak.sh` runs
//! 1,000) and `CHARON_PAPER_SEED` the seed of the kill points (printed, to rerun a failure).

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use charon_events::{Envelope, Event};
use support::{arg, charon, repo, stdout, Feed};

/// A deterministic pseudo-random sequence (the test picks its kill points from a fixed seed,
/// so a failure can be rerun; the moments the kills land at still vary with the machine).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Starts `charon run` on `log`; its stderr goes to `LOG.stderr`, which a failure shows.
fn paper_run(feed: &Feed, log: &Path, progress_every: u64) -> Child {
    let stderr = std::fs::File::create(stderr_file(log)).expect("a file for the run's stderr");
    Command::new(env!("CARGO_BIN_EXE_charon"))
        .args([
            "run",
            "--config",
            arg(&repo("examples/bots/demo.toml")),
            "--feed",
            &feed.address,
            "--log",
            arg(log),
            "--snapshot-every",
            "4000",
            "--progress-every",
            &progress_every.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the paper run starts")
}

fn stderr_file(log: &Path) -> std::path::PathBuf {
    log.with_extension("stderr")
}

/// What the last run on `log` wrote to stderr.
fn last_stderr(log: &Path) -> String {
    std::fs::read_to_string(stderr_file(log)).unwrap_or_default()
}

/// Reads the run's output until it reports `target` inputs or more; `false` if it finished
/// (its output ended) first.
fn until_progress(lines: &mut Lines<BufReader<ChildStdout>>, target: u64) -> bool {
    for line in lines.by_ref() {
        let line = line.expect("utf-8 output");
        if let Some(count) = line.strip_prefix("progress ") {
            if count.parse::<u64>().unwrap() >= target {
                return true;
            }
        }
    }
    false
}

fn events(path: &Path) -> Vec<Envelope> {
    let log = support::open_log(path);
    log.iter_from(1).map(Result::unwrap).collect()
}

#[test]
fn a_paper_run_killed_again_and_again_writes_the_uninterrupted_log() {
    let setting = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let kills = setting("CHARON_PAPER_KILLS", 20);
    let seed = setting("CHARON_PAPER_SEED", 0x5eed_cafe);
    println!("{kills} kills, CHARON_PAPER_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = charon(&["demo", "--data-log", arg(&data)]);
    assert!(demo.status.success(), "{}", stdout(&demo));
    let feed_events = support::open_log(&data).last_seq();
    let feed = Feed::start(&data);

    let whole = dir.path().join("uninterrupted");
    let out = paper_run(&feed, &whole, 0).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", last_stderr(&whole));

    // Kill points spread over the feed: on average two per stretch of feed / kills inputs.
    let progress_every = (feed_events / (kills * 4)).max(1);
    let stride = (feed_events / kills).max(progress_every);
    let mut random = Lcg(seed);
    let killed_log = dir.path().join("killed");
    let (mut done, mut killed, mut at_start) = (0u64, 0u64, 0u64);
    while killed < kills {
        let mut child = paper_run(&feed, &killed_log, progress_every);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        if random.below(4) == 0 {
            // Straight away: during start-up, snapshot restore and the tail's re-derivation.
            at_start += 1;
        } else {
            let target = done + 1 + random.below(stride);
            if !until_progress(&mut lines, target) {
                let status = child.wait().unwrap();
                assert!(
                    status.success(),
                    "a restart failed ({status}):\n{}",
                    last_stderr(&killed_log)
                );
                break; // the run finished before this kill point
            }
            done = target;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        killed += 1;
    }
    assert!(
        killed >= kills,
        "only {killed} kills landed before the run finished"
    );
    assert!(at_start > 0);
    // The last start runs to the end of the feed.
    let out = paper_run(&feed, &killed_log, 0).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", last_stderr(&killed_log));
    assert!(stdout(&out).contains("resumed at seq"), "{}", stdout(&out));

    let (expected, recovered) = (events(&whole), events(&killed_log));
    assert_eq!(recovered.len(), expected.len(), "events lost or duplicated");
    for (a, b) in recovered.iter().zip(&expected) {
        assert_eq!(a, b, "the recovered log differs at seq {}", b.seq);
    }
    let intents: Vec<_> = recovered
        .iter()
        .filter_map(|event| match &event.payload {
            Event::OrderIntent(intent) => Some(intent.order_id),
            _ => None,
        })
        .collect();
    assert!(
        intents.len() > 10,
        "the demo trades: {} intents",
        intents.len()
    );
    let unique: BTreeSet<_> = intents.iter().collect();
    assert_eq!(
        unique.len(),
        intents.len(),
        "an order intent was issued twice"
    );

    let verify = charon(&["replay", "verify", arg(&killed_log)]);
    assert!(verify.status.success(), "{}", stdout(&verify));
}

/// A feed server in the test's own process speaking the protocol: it sends `frames` (each a
/// record, or raw bytes), then the end frame.
fn serve_once(frames: Vec<Vec<u8>>) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while stream.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            request.push(byte[0]);
        }
        for frame in frames.iter().chain([&Vec::new()]) {
            stream
                .write_all(&(frame.len() as u32).to_le_bytes())
                .unwrap();
            stream.write_all(frame).unwrap();
        }
        String::from_utf8(request).unwrap()
    });
    (address, server)
}

/// A frame whose CRC fails is counted, reported and recorded as a gap in the feed; the events
/// around it are processed as usual, and the run ends cleanly.
#[test]
fn a_malformed_frame_is_recorded_as_a_gap_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(charon(&["demo", "--data-log", arg(&data)]).status.success());
    let recorded: Vec<Envelope> = support::open_log(&data)
        .range(1, 3)
        .map(Result::unwrap)
        .collect();
    let mut frames: Vec<Vec<u8>> = recorded
        .iter()
        .map(|event| charon_events::codec::encode_record(event).unwrap())
        .collect();
    let last = frames[1].len() - 1;
    frames[1][last] ^= 0x01; // the CRC no longer matches
    let (address, server) = serve_once(frames);

    let log = dir.path().join("run");
    let out = charon(&[
        "run",
        "--config",
        arg(&repo("examples/bots/demo.toml")),
        "--feed",
        &address,
        "--log",
        arg(&log),
    ]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert_eq!(server.join().unwrap(), "RESUME 0");
    assert!(stdout(&out).contains("3 inputs"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1 malformed frames"),
        "{}",
        stdout(&out)
    );
    assert!(
        support::stderr(&out).contains("feed event 2"),
        "{}",
        support::stderr(&out)
    );
    let inputs: Vec<_> = events(&log)
        .into_iter()
        .filter(|event| event.origin == charon_events::Origin::Input)
        .map(|event| event.payload.kind().name())
        .collect();
    assert_eq!(
        inputs,
        [
            "run_manifest",
            recorded[0].payload.kind().name(),
            "market_data_gap",
            recorded[2].payload.kind().name()
        ]
    );
}

/// A restart refuses a configuration other than the one its log records (exit 2), and a new
/// run needs one.
#[test]
fn a_restart_keeps_the_recorded_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("run");
    let (address, server) = serve_once(Vec::new());
    let demo = repo("examples/bots/demo.toml");
    let first = charon(&[
        "run",
        "--config",
        arg(&demo),
        "--feed",
        &address,
        "--log",
        arg(&log),
    ]);
    assert!(first.status.success(), "{}", support::stderr(&first));
    server.join().unwrap();

    let other = support::demo_config(dir.path(), "other", |text| format!("{text}\n# changed\n"));
    let refused = charon(&[
        "run",
        "--config",
        arg(&other),
        "--feed",
        &address,
        "--log",
        arg(&log),
    ]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        support::stderr(&refused)
    );
    assert!(
        support::stderr(&refused).contains("another configuration"),
        "{}",
        support::stderr(&refused)
    );

    let fresh = dir.path().join("fresh");
    let missing = charon(&["run", "--feed", &address, "--log", arg(&fresh)]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        support::stderr(&missing).contains("needs --config"),
        "{}",
        support::stderr(&missing)
    );
}

/// A what-if over a paper run: `replay run` replays the inputs its log recorded and records
/// them again in a paper run of its own. With the same configuration it is the run event for
/// event; with a tighter BTC stop it differs, verifies on its own, and `replay diff` names the
/// difference. A live run's log is refused.
#[test]
fn a_paper_runs_what_if_replays_its_recorded_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(charon(&["demo", "--data-log", arg(&data)]).status.success());
    let feed = Feed::start(&data);
    let paper = dir.path().join("paper");
    let out = paper_run(&feed, &paper, 0).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", last_stderr(&paper));
    drop(feed);

    let what_if = |config: &Path, name: &str| {
        let new = dir.path().join(name);
        let output = charon(&[
            "replay",
            "run",
            arg(&paper),
            "--config",
            arg(config),
            "--out",
            arg(&new),
        ]);
        assert!(output.status.success(), "{}", support::stderr(&output));
        (new, stdout(&output))
    };

    // The same configuration: the same log, inputs and derived events alike.
    let (same, printed) = what_if(&repo("examples/bots/demo.toml"), "same");
    assert!(
        printed.contains("inputs (recorded in the log)"),
        "{printed}"
    );
    let (expected, rerun) = (events(&paper), events(&same));
    assert_eq!(rerun.len(), expected.len());
    assert!(rerun == expected, "the rerun differs from the paper run");
    let identical = charon(&["replay", "diff", arg(&paper), arg(&same)]);
    assert_eq!(identical.status.code(), Some(0), "{}", stdout(&identical));

    // A tighter BTC stop over the same recorded inputs.
    let tight = support::demo_config(dir.path(), "tight-config", support::tighter_stop);
    let (tighter, _) = what_if(&tight, "tight");
    let inputs = |log: &[Envelope]| -> Vec<Envelope> {
        log.iter()
            .skip(1)
            .filter(|e| e.origin == charon_events::Origin::Input)
            .map(|e| Envelope {
                seq: 0,
                ..e.clone()
            })
            .collect()
    };
    let tight_events = events(&tighter);
    assert!(
        inputs(&tight_events) == inputs(&expected),
        "the what-if records the paper run's inputs, in order"
    );
    assert_ne!(tight_events.len(), expected.len());
    let verified = charon(&["replay", "verify", arg(&tighter)]);
    assert!(verified.status.success(), "{}", stdout(&verified));
    let differs = charon(&["replay", "diff", arg(&paper), arg(&tighter)]);
    assert_eq!(differs.status.code(), Some(1), "{}", stdout(&differs));
    assert!(
        stdout(&differs).contains("first divergence at seq"),
        "{}",
        stdout(&differs)
    );
}
