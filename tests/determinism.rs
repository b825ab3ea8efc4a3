//! Determinism of a real backtest (DESIGN.md, "Determinism"): the actors of a real
//! configuration over real recorded market data write the very same run log, byte for byte,
//! whether driven by the direct Journal, by the actix shells, or by the Journal fed from a
//! tokio task at random (seeded) pacing. Real sled logs in temporary directories.

use std::collections::BTreeMap;
use std::path::Path;

use charon_actors::config::{Config, StrategyTemplate};
use charon_actors::journal::{ActixJournal, InputMode, Journal, LogSink};
use charon_actors::setup::build_actors;
use charon_adapters::import::{import_file, Format, Options};
use charon_events::payload::market::Interval;
use charon_events::{Envelope, EventLog, LogKind, Symbol};

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The demo's configuration (two perpetual pairs) with its templates, by symbol.
fn demo() -> (Config, BTreeMap<Symbol, StrategyTemplate>) {
    let config: Config =
        toml::from_str(&std::fs::read_to_string(repo("examples/bots/demo.toml")).unwrap()).unwrap();
    let templates = config
        .bot
        .iter()
        .flat_map(|bot| &bot.pair)
        .map(|pair| {
            let path = repo("examples/bots").join(&pair.strategy);
            let template = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            (pair.symbol, template)
        })
        .collect();
    (config, templates)
}

/// A data log of real XRPUSDT 5m bars and funding rates plus the first days of the BTC 1m
/// bars, merged in time order; returns its inputs with their seqs.
fn data_log(path: &Path) -> Vec<Envelope> {
    let mut events = Vec::new();
    for (format, file, symbol, interval) in [
        (
            Format::OhlcvCsv,
            "data/freqtrade/XRP_USDT_USDT-5m-futures.csv",
            "XRPUSDT",
            Some(300),
        ),
        (
            Format::FundingCsv,
            "data/freqtrade/XRP_USDT_USDT-8h-funding_rate.csv",
            "XRPUSDT",
            None,
        ),
        (
            Format::OhlcvCsv,
            "data/nautilus_trader/btc-perp-20211231-20220201_1m.csv.gz",
            "BTCUSDT",
            Some(60),
        ),
    ] {
        let options = Options {
            symbol: Some(Symbol::new(symbol).unwrap()),
            interval: interval.map(Interval),
            skip_bad: false,
        };
        let mut imported = import_file(format, &repo(file), &options).unwrap().events;
        if symbol == "BTCUSDT" {
            imported.truncate(6_000);
        }
        events.extend(imported);
    }
    events.sort_by_key(|event| event.ts);
    let log = EventLog::create(path, LogKind::Data).unwrap();
    log.append_batch(&mut events).unwrap();
    log.sync_through(log.last_seq()).unwrap();
    events
}

enum Driver {
    Direct,
    Actix,
    Paced(u64),
}

/// Runs the demo's actors over `inputs` with `driver` into a new run log; returns its
/// records as encoded bytes.
fn run(dir: &Path, name: &str, inputs: &[Envelope], driver: Driver) -> Vec<Vec<u8>> {
    let (config, templates) = demo();
    let actors = build_actors(&config, &templates).unwrap();
    let log = EventLog::create(dir.join(name), LogKind::Run).unwrap();
    let sink = LogSink::new(log.clone(), InputMode::ByReference);
    match driver {
        Driver::Direct => {
            let mut journal = Journal::new(actors, sink).unwrap();
            for input in inputs {
                journal.process(input.clone()).unwrap();
            }
        }
        Driver::Actix => actix::System::new().block_on(async {
            let mut journal = ActixJournal::start(actors, sink).unwrap();
            for input in inputs {
                journal.process(input.clone()).await.unwrap();
            }
        }),
        Driver::Paced(seed) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (sender, mut receiver) = tokio::sync::mpsc::channel(8);
                let feed = inputs.to_vec();
                let producer = tokio::spawn(async move {
                    let mut state = seed;
                    for input in feed {
                        // xorshift: a seeded number of yields between inputs.
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        for _ in 0..state % 4 {
                            tokio::task::yield_now().await;
                        }
                        sender.send(input).await.expect("the journal listens");
                    }
                });
                let mut journal = Journal::new(actors, sink).unwrap();
                journal.run(&mut receiver).await.unwrap();
                producer.await.unwrap();
            });
        }
    }
    log.iter()
        .map(|event| charon_events::codec::encode_record(&event.unwrap()).unwrap())
        .collect()
}

#[test]
fn direct_actix_and_paced_drivers_write_byte_identical_run_logs() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = data_log(&dir.path().join("data"));
    let direct = run(dir.path(), "direct", &inputs, Driver::Direct);
    let fills = direct
        .iter()
        .enumerate()
        .filter(|(index, record)| {
            let event = charon_events::codec::decode_record(*index as u64 + 1, record);
            matches!(
                event.map(|e| e.payload),
                Ok(charon_events::Event::OrderFilled(_))
            )
        })
        .count();
    assert!(fills >= 10, "a real backtest trades: {fills} fills");
    assert_eq!(
        run(dir.path(), "again", &inputs, Driver::Direct),
        direct,
        "the same inputs twice"
    );
    assert_eq!(run(dir.path(), "actix", &inputs, Driver::Actix), direct);
    for seed in [3, 11] {
        let paced = run(
            dir.path(),
            &format!("paced{seed}"),
            &inputs,
            Driver::Paced(seed),
        );
        assert_eq!(paced, direct, "seed {seed}");
    }
}
