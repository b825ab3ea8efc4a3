//! The paper run's driver (`charon run`): the one run of `charon_replay::run`, the same actors
//! as a backtest (the simulated exchange fills), fed input by input from a live source in
//! another process ([`crate::feed`]) and recording every input in its run log. It is built to
//! be killed: at any moment, `kill -9` included, a restart opens the log as a run whose sink
//! resumes (`run::resume`: the newest snapshot restored, the tail after it re-derived and
//! compared with the record, a cascade the kill cut short completed), and asks the feed to
//! resume after the last input it holds. The log it ends with is the one an uninterrupted run writes:
//! nothing lost, nothing twice.
//!
//! Every frame of the feed becomes exactly one recorded input (a malformed frame is recorded
//! as a `market_data_gap`), so the count of inputs in the log is the feed position to resume
//! from.

use std::time::{Duration, Instant};

use charon_events::payload::external::MarketDataGap;
use charon_events::{Envelope, Event, Seq, Timestamp, Venue};
use charon_replay::run::resume::{open_paper_log, resume, snapshot};

use crate::cli::RunArgs;
use crate::config_files::run_spec;
use crate::error::CommandError;
use crate::feed::{FeedClient, FeedItem};
use crate::follow::FollowService;
use crate::open_log::open_within;
use crate::output::flush_stdout;

/// The venue a feed's gaps are recorded against.
const FEED_VENUE: &str = "feed";

/// How long a restart waits for a log that another process has open: a follower
/// (`charon log inspect --follow`) opens a log that no run serves, to read what it holds, and
/// may be doing so just as the run restarts. A second run on the same log waits, then fails.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

/// How a paper run ended: its feed said it was over.
#[derive(Debug)]
pub struct Ended {
    pub inputs: u64,
    pub derived: u64,
    /// Feed frames that could not be read, each recorded as a gap.
    pub malformed: u64,
    /// The log's last seq.
    pub last_seq: Seq,
}

/// Runs (or continues) the paper run of `args` until its feed ends.
pub fn run(args: &RunArgs) -> Result<Ended, CommandError> {
    let started = Instant::now();
    let given = args.config.as_deref().map(run_spec).transpose()?;
    let (log, spec) = open_paper_log(&args.log, given, |path| {
        open_within(path, LOCK_PATIENCE, "charon run")
    })?;
    let mut opened = resume(log, &spec)?;
    let followers = FollowService::start(opened.run.sink().log())?;
    let resumed = opened.run.stats();
    // The time from here to ready: opening the log, restoring, re-deriving the tail.
    outln!(
        "charon run: {} at seq {} ({} inputs); snapshot through seq {}, {} events re-derived; \
         ready in {:.3} s",
        if resumed.inputs == 0 {
            "started"
        } else {
            "resumed"
        },
        opened.run.sink().next_seq() - 1,
        resumed.inputs,
        opened.snapshot_seq,
        opened.rederived,
        started.elapsed().as_secs_f64()
    );
    flush_stdout()?;

    let run = &mut opened.run;
    let mut feed = FeedClient::connect(&args.feed, resumed.inputs)?;
    let mut malformed = 0u64;
    let mut last_snapshot = opened.snapshot_seq;
    let mut last_ts = opened.last_ts;
    loop {
        let input = match feed.next_item()? {
            FeedItem::End => break,
            FeedItem::Event(event) => {
                let mut event = *event;
                event.seq = 0;
                event
            }
            FeedItem::Malformed(reason) => {
                malformed += 1;
                let position = run.stats().inputs;
                tracing::warn!(
                    seq = run.sink().next_seq(),
                    feed_position = position + 1,
                    %reason,
                    "skipped a malformed feed frame, recorded as a gap: {reason}"
                );
                gap(last_ts, position)
            }
        };
        last_ts = input.ts;
        run.process(input).map_err(|source| CommandError::Process {
            log: args.log.clone(),
            source,
        })?;
        let stats = run.stats();
        if args.progress_every > 0 && stats.inputs % args.progress_every == 0 {
            outln!("progress {}", stats.inputs);
            flush_stdout()?;
        }
        let at = run.sink().next_seq() - 1;
        if args.snapshot_every > 0 && at - last_snapshot >= args.snapshot_every {
            snapshot(run, at)?;
            last_snapshot = at;
        }
    }
    let log = run.sink().log();
    log.sync_through(log.last_seq())?;
    followers.stop();
    let stats = run.stats();
    Ok(Ended {
        inputs: stats.inputs,
        derived: stats.derived,
        malformed,
        last_seq: log.last_seq(),
    })
}

/// A frame the run could not read, as the input it stands for.
fn gap(ts: Timestamp, position: u64) -> Envelope {
    Envelope::input(
        ts,
        Event::MarketDataGap(MarketDataGap {
            venue: Venue::new(FEED_VENUE).expect("a valid venue name"),
            last_seen_id: position,
            next_id: position + 2,
        }),
    )
}
