//! The Journal over small test actors: cascade order, routing, runaway cascades, both sinks,
//! async pacing, and the actix shells writing the direct driver's log byte for byte.

use charon_events::payload::control::{Alert, AlertKind, Severity};
use charon_events::payload::market::{Aggressor, Trade};
use charon_events::payload::risk::{Signal, SignalAction, SignalSource};
use charon_events::{EventKind, EventLog, LogKind, Origin, Quantity};

use super::*;

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn bot() -> BotId {
    BotId::new("b").unwrap()
}

fn trade(pair: Symbol, n: u64) -> Envelope {
    Envelope::input(
        Timestamp::from_millis(1_723_161_255_342 + n as i64),
        Event::Trade(Trade {
            trade_id: n,
            price: charon_events::Price::new(6_183_763 + n as i64, 2),
            qty: Quantity::new(2, 2),
            aggressor: Aggressor::Seller,
        }),
    )
    .with_pair(pair)
}

fn alert(message: &str) -> Event {
    Event::Alert(Alert {
        severity: Severity::Info,
        category: AlertKind::LimitHit,
        message: message.into(),
    })
}

/// Sees every trade of its bot's pairs and notes it.
/// These test actors are never snapshotted: their state is not kept.
macro_rules! stateless_snapshot {
    () => {
        fn snapshot(&self) -> Result<Vec<u8>, super::SnapshotError> {
            Ok(Vec::new())
        }
        fn restore(&mut self, _: &[u8]) -> Result<(), super::SnapshotError> {
            Ok(())
        }
    };
}

struct Watcher;
impl Actor for Watcher {
    stateless_snapshot!();
    fn id(&self) -> ActorId {
        ActorId::Bot(bot())
    }
    fn concerns(&self, event: &Envelope) -> bool {
        event.payload.kind() == EventKind::Trade
    }
    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
        out.emit(alert(&format!("bot saw {}", event.seq)), Some(bot()), None);
    }
}

/// Signals on every second trade of its pair.
struct Strategy {
    pair: Symbol,
    seen: u64,
}
impl Actor for Strategy {
    stateless_snapshot!();
    fn id(&self) -> ActorId {
        ActorId::Pair(self.pair)
    }
    fn concerns(&self, event: &Envelope) -> bool {
        event.payload.kind() == EventKind::Trade && event.pair == Some(self.pair)
    }
    fn handle(&mut self, _: &Envelope, out: &mut Derived<'_>) {
        self.seen += 1;
        if self.seen % 2 == 0 {
            let signal = Signal {
                action: SignalAction::EnterLong,
                source: SignalSource::Strategy,
                rule: "every second".into(),
            };
            out.emit(Event::Signal(signal), Some(bot()), Some(self.pair));
        }
    }
}

/// Answers every signal.
struct Supervisor;
impl Actor for Supervisor {
    stateless_snapshot!();
    fn id(&self) -> ActorId {
        ActorId::RiskSupervisor(bot())
    }
    fn concerns(&self, event: &Envelope) -> bool {
        event.payload.kind() == EventKind::Signal
    }
    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
        out.emit(
            alert(&format!("risk saw {}", event.seq)),
            Some(bot()),
            event.pair,
        );
    }
}

fn actors() -> Vec<Box<dyn Actor>> {
    // Deliberately out of order: the Journal sorts by actor id.
    vec![
        Box::new(Supervisor),
        Box::new(Strategy {
            pair: btc(),
            seen: 0,
        }),
        Box::new(Watcher),
    ]
}

fn run(inputs: &[Envelope]) -> Vec<Envelope> {
    let mut journal = Journal::new(actors(), MemorySink::new(InputMode::Recorded)).unwrap();
    for input in inputs {
        journal.process(input.clone()).unwrap();
    }
    journal.into_sink().events
}

fn describe(events: &[Envelope]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let who = match e.origin {
                Origin::Input => "input".to_string(),
                Origin::Derived(actor) => actor.to_string(),
            };
            format!("{} {} {} cause={:?}", e.seq, who, e.payload.kind(), e.cause)
        })
        .collect()
}

#[test]
fn a_cascade_runs_to_completion_in_actor_order() {
    let events = run(&[trade(btc(), 1), trade(btc(), 2)]);
    assert_eq!(
        describe(&events),
        [
            "1 input trade cause=None",
            "2 bot:b alert cause=Some(1)",
            "3 input trade cause=None",
            // bot before pair: actor order, whatever order they were registered in
            "4 bot:b alert cause=Some(3)",
            "5 pair:BTCUSDT signal cause=Some(3)",
            // the signal's own cascade comes after everything derived before it
            "6 risk:b alert cause=Some(3)",
        ]
    );
    assert!(
        events.iter().all(|e| e.ts
            == events
                .iter()
                .rfind(|i| i.seq <= e.seq && i.origin == Origin::Input)
                .unwrap()
                .ts),
        "derived events carry their input's time"
    );
}

#[test]
fn events_go_only_to_the_actors_they_concern() {
    let eth = Symbol::new("ETHUSDT").unwrap();
    let events = run(&[trade(eth, 1), trade(eth, 2)]);
    assert!(
        events.iter().all(|e| e.payload.kind() != EventKind::Signal),
        "the BTCUSDT strategy saw no ETHUSDT trade"
    );
    assert_eq!(events.len(), 4, "inputs and the bot's notes only");
}

#[test]
fn the_same_inputs_give_the_same_log() {
    let inputs: Vec<Envelope> = (1..=50).map(|n| trade(btc(), n)).collect();
    assert_eq!(run(&inputs), run(&inputs));
}

struct Echo;
impl Actor for Echo {
    stateless_snapshot!();
    fn id(&self) -> ActorId {
        ActorId::Journal
    }
    fn concerns(&self, _: &Envelope) -> bool {
        true
    }
    fn handle(&mut self, _: &Envelope, out: &mut Derived<'_>) {
        out.emit(alert("again"), None, None);
    }
}

#[test]
fn a_runaway_cascade_is_stopped_and_named() {
    let mut journal =
        Journal::new(vec![Box::new(Echo)], MemorySink::new(InputMode::Recorded)).unwrap();
    let error = journal.process(trade(btc(), 1)).unwrap_err();
    assert!(
        matches!(error, JournalError::RunawayCascade { input: 1 }),
        "{error}"
    );
}

#[test]
fn actor_ids_are_unique() {
    let twice: Vec<Box<dyn Actor>> = vec![Box::new(Watcher), Box::new(Watcher)];
    assert!(matches!(
        Journal::new(twice, MemorySink::new(InputMode::Recorded)),
        Err(JournalError::DuplicateActor(_))
    ));
}

#[test]
fn a_backtest_cites_its_inputs_in_the_data_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = EventLog::create(dir.path().join("data"), LogKind::Data).unwrap();
    let mut inputs: Vec<Envelope> = (1..=6).map(|n| trade(btc(), n)).collect();
    data.append_batch(&mut inputs).unwrap();
    let run_log = EventLog::create(dir.path().join("run"), LogKind::Run).unwrap();
    let mut journal =
        Journal::new(actors(), LogSink::new(run_log, InputMode::ByReference)).unwrap();
    for input in data.iter() {
        journal.process(input.unwrap()).unwrap();
    }
    assert_eq!(
        journal.stats(),
        JournalStats {
            inputs: 6,
            derived: 6 + 3 + 3
        }
    );
    let derived: Vec<Envelope> = journal.sink().log().iter().map(Result::unwrap).collect();
    assert_eq!(derived.len(), 12, "only derived events are in the run log");
    assert!(derived
        .iter()
        .enumerate()
        .all(|(i, e)| e.seq == i as u64 + 1 && e.origin != Origin::Input));
    let causes: Vec<u64> = derived
        .iter()
        .filter(|e| e.payload.kind() == EventKind::Signal)
        .map(|e| e.cause.unwrap())
        .collect();
    assert_eq!(
        causes,
        [2, 4, 6],
        "signals cite the data-log seqs of the trades that caused them"
    );

    let unsequenced = Journal::new(actors(), MemorySink::new(InputMode::ByReference))
        .unwrap()
        .process(trade(btc(), 9));
    assert!(matches!(
        unsequenced,
        Err(JournalError::Sink(SinkError::UnsequencedInput))
    ));
}

#[test]
fn a_live_log_records_inputs_and_derived_events_alike() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::create(dir.path().join("live"), LogKind::Live).unwrap();
    let mut journal = Journal::new(actors(), LogSink::new(log, InputMode::Recorded)).unwrap();
    let inputs: Vec<Envelope> = (1..=10).map(|n| trade(btc(), n)).collect();
    for input in &inputs {
        journal.process(input.clone()).unwrap();
    }
    let written: Vec<Envelope> = journal.sink().log().iter().map(Result::unwrap).collect();
    assert_eq!(
        written,
        run(&inputs),
        "the same log as the in-memory run, seq for seq"
    );
}

#[test]
fn inputs_paced_by_an_async_task_give_the_direct_log() {
    let inputs: Vec<Envelope> = (1..=200).map(|n| trade(btc(), n)).collect();
    let direct = run(&inputs);
    for seed in [1u64, 7, 42] {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let paced = runtime.block_on(async {
            let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
            let feed = inputs.clone();
            let producer = tokio::spawn(async move {
                let mut state = seed;
                for input in feed {
                    // xorshift: a seeded, reproducible number of yields between inputs.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    for _ in 0..state % 5 {
                        tokio::task::yield_now().await;
                    }
                    sender.send(input).await.expect("the journal is listening");
                }
            });
            let mut journal = Journal::new(actors(), MemorySink::new(InputMode::Recorded)).unwrap();
            journal.run(&mut receiver).await.unwrap();
            producer.await.unwrap();
            journal.into_sink().events
        });
        assert_eq!(paced, direct, "seed {seed}");
    }
}

#[test]
fn the_actix_shells_derive_what_the_direct_driver_derives() {
    let inputs: Vec<Envelope> = (1..=100).map(|n| trade(btc(), n)).collect();
    let direct = run(&inputs);
    let via_actix = actix::System::new().block_on(async {
        let mut journal =
            ActixJournal::start(actors(), MemorySink::new(InputMode::Recorded)).unwrap();
        for input in &inputs {
            journal.process(input.clone()).await.unwrap();
        }
        assert_eq!(
            journal.stats(),
            JournalStats {
                inputs: 100,
                derived: 100 + 50 + 50
            }
        );
        journal.into_sink().events
    });
    assert_eq!(via_actix, direct);
}

/// Runs a backtest-shaped journal (inputs by reference from a real data log) with either
/// driver and returns the run log's records as stored bytes.
fn run_log_bytes(dir: &std::path::Path, name: &str, actix: bool) -> Vec<Vec<u8>> {
    let data = EventLog::open(dir.join("data")).unwrap();
    let run_log = EventLog::create(dir.join(name), LogKind::Run).unwrap();
    let sink = LogSink::new(run_log.clone(), InputMode::ByReference);
    let inputs: Vec<Envelope> = data.iter().map(Result::unwrap).collect();
    drop(data);
    if actix {
        actix::System::new().block_on(async {
            let mut journal = ActixJournal::start(actors(), sink).unwrap();
            for input in inputs {
                journal.process(input).await.unwrap();
            }
        });
    } else {
        let mut journal = Journal::new(actors(), sink).unwrap();
        for input in inputs {
            journal.process(input).unwrap();
        }
    }
    run_log
        .iter()
        .map(|e| charon_events::codec::encode_record(&e.unwrap()).unwrap())
        .collect()
}

#[test]
fn actix_and_direct_write_byte_identical_run_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = EventLog::create(dir.path().join("data"), LogKind::Data).unwrap();
    let eth = Symbol::new("ETHUSDT").unwrap();
    let mut inputs: Vec<Envelope> = (1..=300)
        .map(|n| trade(if n % 3 == 0 { eth } else { btc() }, n))
        .collect();
    data.append_batch(&mut inputs).unwrap();
    data.sync_through(data.last_seq()).unwrap();
    drop(data);
    let direct = run_log_bytes(dir.path(), "direct", false);
    let actix = run_log_bytes(dir.path(), "actix", true);
    assert!(!direct.is_empty());
    assert_eq!(actix, direct);
}
