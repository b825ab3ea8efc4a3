//! `charon demo`: the embedded default. Imports real recorded market data that ships in the
//! repo's `data/` into a temporary data log, runs the sample multi-pair bot of
//! `examples/bots/demo.toml` (compiled in, with its templates) over it, and prints the report.
//!
//! The data files are read from `data/` at run time rather than compiled in: they keep their
//! own licenses (LGPL-3.0 and GPL-3.0, see `data/README.md`), which an MIT binary should not
//! absorb.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use charon_adapters::import::{import_file, Format, Options};
use charon_events::payload::market::Interval;
use charon_events::{Envelope, EventLog, LogKind, Symbol};
use charon_replay::backtest::backtest;
use charon_replay::run::{Bundle, RunSpec};

use crate::cli::DemoArgs;
use crate::error::CommandError;
use crate::report_output::{report, with_progress};

/// One data file and how to import it.
struct DataFile {
    /// Under the data directory.
    path: &'static str,
    format: Format,
    symbol: &'static str,
    interval: Option<u32>,
}

const DATA: &[DataFile] = &[
    DataFile {
        path: "nautilus_trader/btc-perp-20211231-20220201_1m.csv.gz",
        format: Format::OhlcvCsv,
        symbol: "BTCUSDT",
        interval: Some(60),
    },
    DataFile {
        path: "freqtrade/XRP_USDT_USDT-5m-futures.csv",
        format: Format::OhlcvCsv,
        symbol: "XRPUSDT",
        interval: Some(300),
    },
    DataFile {
        path: "freqtrade/XRP_USDT_USDT-8h-funding_rate.csv",
        format: Format::FundingCsv,
        symbol: "XRPUSDT",
        interval: None,
    },
];

const CONFIG_NAME: &str = "demo.toml";
/// Where the demo writes its HTML report unless told otherwise.
const DEFAULT_HTML: &str = "demo-report.html";
const CONFIG: &str = include_str!("../../../examples/bots/demo.toml");
const TEMPLATES: &[(&str, &str)] = &[
    (
        "../strategies/ema_cross.toml",
        include_str!("../../../examples/strategies/ema_cross.toml"),
    ),
    (
        "../strategies/bollinger_reversion.toml",
        include_str!("../../../examples/strategies/bollinger_reversion.toml"),
    ),
];

/// The demo's configuration and templates.
fn bundle() -> Bundle {
    Bundle {
        config: CONFIG.to_string(),
        templates: TEMPLATES
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// Imports the demo's data from `data_dir` into a new data log at `path`, merged in time
/// order. A missing or unreadable file is bad input naming it.
fn write_data_log(data_dir: &Path, path: &Path) -> Result<EventLog, CommandError> {
    let mut events: Vec<Envelope> = Vec::new();
    for file in DATA {
        let on_disk = data_dir.join(file.path);
        let options = Options {
            symbol: Some(Symbol::new(file.symbol).expect("a valid symbol")),
            interval: file.interval.map(Interval),
            skip_bad: false,
        };
        let imported =
            import_file(file.format, &on_disk, &options).map_err(CommandError::DemoData)?;
        events.extend(imported.events);
    }
    // Stable: events at the same time keep file order.
    events.sort_by_key(|event| event.ts);
    let log = EventLog::create(path, LogKind::Data)?;
    for chunk in events.chunks_mut(10_000) {
        log.append_batch(chunk)?;
    }
    log.sync_through(log.last_seq())?;
    Ok(log)
}

pub fn run(args: DemoArgs) -> Result<(), CommandError> {
    let _command = tracing::info_span!("demo").entered();
    let work = tempfile::tempdir().map_err(|source| CommandError::Io {
        what: "a temporary directory",
        source,
    })?;
    let spec = RunSpec::from_bundle(&bundle(), &work.path().join("config"), CONFIG_NAME)?;
    let data_path = args
        .data_log
        .clone()
        .unwrap_or_else(|| work.path().join("data"));
    if data_path.exists() {
        return Err(CommandError::DemoDataExists(data_path));
    }
    let data = write_data_log(&args.data_dir, &data_path)?;
    let out = args.out.clone().unwrap_or_else(|| work.path().join("run"));
    outln!(
        "charon demo: bot `demo` on {} market events of real Binance data (BTCUSDT 1m bars, \
         Jan 2022; XRPUSDT 5m bars and funding, Nov 2021)",
        data.last_seq()
    );
    let settings = args.report.risk_free_rate;
    let last = data.last_seq();
    let outcome = with_progress(last, |progress| {
        backtest(&spec, &data, 1, last, &out, &settings, progress)
    })?;
    let mut report_args = args.report;
    if report_args.html.is_none() && !args.no_html {
        report_args.html = Some(PathBuf::from(DEFAULT_HTML));
    }
    report(&outcome, &out, &report_args)
}
