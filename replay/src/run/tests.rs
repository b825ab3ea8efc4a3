//! The one run over real recorded bars (freqtrade's XRP/USDT perpetual 5-minute file, in
//! `data/`): every input source feeds it the same way, a configuration whose actors cannot be
//! built leaves no run log behind, a run log is never overwritten, and a backtest's data log
//! is found where its manifest recorded it, or named, and never mistaken for another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use charon_actors::journal::{InputMode, LogSink, MemorySink};
use charon_adapters::import::{import_file, Format, Options};
use charon_events::payload::manifest::DataRange;
use charon_events::{Envelope, EventLog, LogId, LogKind, Origin, Seq, Symbol};

use super::reported::run_reported;
use super::run_log::{cited_data_path, create, manifest_of, paper_opening};
use super::*;
use crate::statistics::Settings;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The 1,999 recorded XRPUSDT bars, numbered from 1 as a data log numbers them.
fn xrp_bars() -> Vec<Envelope> {
    let options = Options {
        symbol: Some(Symbol::new("XRPUSDT").unwrap()),
        interval: None,
        skip_bad: false,
    };
    let mut bars = import_file(
        Format::OhlcvCsv,
        &repo("data/freqtrade/XRP_USDT_USDT-5m-futures.csv"),
        &options,
    )
    .unwrap()
    .events;
    for (i, bar) in bars.iter_mut().enumerate() {
        bar.seq = i as Seq + 1;
    }
    bars
}

fn spec() -> RunSpec {
    let bundle = Bundle {
        config: r#"[[bot]]
name = "xrp"
quote = "USDT"
initial_capital = 5000

[[bot.pair]]
symbol = "XRPUSDT"
market = "perpetual"
leverage = 2
strategy = "ema_cross.toml"
timeframe = "5m"
sizing = { per_trade = { quote = 1000 } }
exits = { stop_loss_pct = 2 }
"#
        .into(),
        templates: BTreeMap::from([(
            "ema_cross.toml".to_string(),
            std::fs::read_to_string(repo("examples/strategies/ema_cross.toml")).unwrap(),
        )]),
    };
    RunSpec::from_bundle(&bundle, Path::new(""), "xrp.toml").unwrap()
}

fn data_log(dir: &Path, bars: &[Envelope]) -> EventLog {
    let log = EventLog::create(dir.join("xrp.data"), LogKind::Data).unwrap();
    let mut inputs = bars.to_vec();
    log.append_batch(&mut inputs).unwrap();
    log
}

/// The events a run derives from `inputs`, kept in memory.
fn derived_from(inputs: Inputs<'_>) -> Vec<Envelope> {
    let mode = match inputs {
        Inputs::DataSpan { .. } | Inputs::Memory(_) => InputMode::ByReference,
        Inputs::Recorded { .. } => InputMode::Recorded,
    };
    let mut run = Run::new(&spec(), VenueSide::Simulated, || Ok(MemorySink::new(mode))).unwrap();
    run.feed(inputs, &mut |_| {}).unwrap();
    run.into_sink()
        .events
        .into_iter()
        .filter(|event| event.origin != Origin::Input)
        .collect()
}

#[test]
fn every_input_source_feeds_the_run_alike() {
    let dir = tempfile::tempdir().unwrap();
    let bars = xrp_bars();
    let data = data_log(dir.path(), &bars);
    let last = data.last_seq();
    let from_log = derived_from(Inputs::DataSpan {
        data: &data,
        first: 1,
        last,
    });
    assert!(
        from_log
            .iter()
            .any(|e| e.payload.kind().name() == "order_filled"),
        "the run trades"
    );
    assert_eq!(derived_from(Inputs::Memory(&bars)), from_log);

    // The same inputs recorded in a run log, as a paper run keeps them, replayed from it: the
    // same decisions at the same times (their order ids cite each input's own seq, which the
    // log numbers differently).
    let recorded = create(&dir.path().join("paper.run"), paper_opening(&spec().bundle)).unwrap();
    let mut paper = Run::new(&spec(), VenueSide::Simulated, || {
        Ok(LogSink::new(recorded, InputMode::Recorded))
    })
    .unwrap();
    paper.feed(Inputs::Memory(&bars), &mut |_| {}).unwrap();
    let log = paper.into_sink().log().clone();
    let replayed = derived_from(Inputs::Recorded {
        log: &log,
        after: 1,
    });
    let payloads = |events: &[Envelope]| -> Vec<_> {
        events
            .iter()
            .map(|e| (e.ts, e.payload.kind(), e.bot, e.pair))
            .collect()
    };
    assert_eq!(payloads(&replayed), payloads(&from_log));
    let stored: Vec<Envelope> = log
        .iter_from(2)
        .map(Result::unwrap)
        .filter(|e| e.origin != Origin::Input)
        .collect();
    assert_eq!(payloads(&stored), payloads(&from_log));
}

#[test]
fn actors_that_cannot_be_built_leave_no_run_log() {
    let dir = tempfile::tempdir().unwrap();
    let bars = xrp_bars();
    let data = data_log(dir.path(), &bars);
    let mut spec = spec();
    spec.templates.clear();
    let out = dir.path().join("never.run");
    let opening = paper_opening(&spec.bundle);
    let inputs = Inputs::DataSpan {
        data: &data,
        first: 1,
        last: 10,
    };
    let result = run_reported(
        &spec,
        inputs,
        opening,
        &out,
        &Settings::default(),
        &mut |_| {},
    );
    assert!(matches!(result, Err(RunError::Setup(_))), "{result:?}");
    assert!(!out.exists());
}

#[test]
fn a_run_log_opens_with_its_manifest_and_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("once.run");
    let log = create(&out, paper_opening(&spec().bundle)).unwrap();
    assert_eq!(manifest_of(&log).unwrap().config_hash, spec().bundle.hash());
    drop(log);
    let again = create(&out, paper_opening(&spec().bundle));
    assert!(matches!(again, Err(RunError::Exists(path)) if path == out));
}

#[test]
fn a_backtests_data_log_is_found_where_it_was_or_where_it_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_log(dir.path(), &xrp_bars());
    let range = DataRange {
        log_id: data.meta().log_id,
        first_seq: 1,
        last_seq: 10,
    };
    let run = Path::new("bt.run");
    let mut manifest = run_log::backtest_manifest(&spec(), range, data.path());
    let recorded = manifest.data_path.clone().map(PathBuf::from);
    assert_eq!(recorded, Some(data.path().canonicalize().unwrap()));
    assert_eq!(cited_data_path(run, &manifest, None).unwrap(), recorded);
    let named = Path::new("elsewhere.data");
    assert_eq!(
        cited_data_path(run, &manifest, Some(named)).unwrap(),
        Some(named.to_path_buf())
    );
    run_log::check_cited(&data, &range).unwrap();
    let other = DataRange {
        log_id: LogId(uuid_like(7)),
        ..range
    };
    assert!(matches!(
        run_log::check_cited(&data, &other),
        Err(RunError::WrongDataLog { .. })
    ));

    manifest.data_path = Some(dir.path().join("moved").display().to_string());
    assert!(matches!(
        cited_data_path(run, &manifest, None),
        Err(RunError::DataMoved { .. })
    ));
    manifest.data_path = None;
    assert!(matches!(
        cited_data_path(run, &manifest, None),
        Err(RunError::DataNotGiven { .. })
    ));
    manifest.data = None;
    assert_eq!(cited_data_path(run, &manifest, None).unwrap(), None);
}

fn uuid_like(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}
