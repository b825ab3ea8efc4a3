//! What the benchmarks share: the recorded inputs they run over (the spot tick recordings
//! repeated to any length, the 45k BTC perpetual 1-minute bars), the configurations they run,
//! and a backtest written the way `charon backtest` writes one.

use std::path::Path;
use std::time::Instant;

use charon_adapters::import::{import_file, Format, Options};
use charon_adapters::recording::read_recording;
use charon_events::payload::market::Interval;
use charon_events::{Envelope, EventLog, LogKind, Seq, Symbol, Timestamp};
use charon_replay::backtest::backtest;
use charon_replay::run::{Bundle, RunSpec};
use charon_replay::statistics::Settings;

use super::figure::median;
use crate::error::CommandError;

const EMA_CROSS: &str = include_str!("../../../../examples/strategies/ema_cross.toml");

pub(super) const TICKS_CONFIG: &str = r#"
[[bot]]
name = "bench-ticks"
quote = "USDT"
initial_capital = 100000

[[bot.pair]]
symbol = "BTCUSDT"
strategy = "ema_cross.toml"
timeframe = "10s"
sizing = { per_trade = { quote = 5000 }, max_position_quote = 10000 }
exits = { stop_loss_pct = 0.05, take_profit_pct = 0.1 }
add_on = { max_adds = 1, trigger_move_pct = 0.02, size_pct = 50 }

[[bot.pair]]
symbol = "ETHUSDT"
strategy = "ema_cross.toml"
timeframe = "10s"
sizing = { per_trade = { quote = 5000 } }
exits = { stop_loss_pct = 0.05 }
"#;

/// The risk-limits-alone configuration as a literal, so the every-rule one can extend it: it
/// ends inside the pair's `exits` table, which the extension continues.
macro_rules! bars_limits {
    () => {
        r#"
[[bot]]
name = "bench-bars"
quote = "USDT"
initial_capital = 10000

[bot.risk]
max_positions_per_asset = 1
max_positions_total = 2
max_trade_loss_pct = 5
daily_loss_pct = 10
consecutive_losses = 8
loss_cooldown = "1h"
max_leverage = 3
max_slippage_bps = 20
api_error_threshold = 3

[[bot.pair]]
symbol = "BTCUSDT"
market = "perpetual"
leverage = 2
strategy = "ema_cross.toml"
timeframe = "1m"
sizing = { per_trade = { equity_pct = 20 }, max_position_quote = 6000 }
max_drawdown_pct = 50
add_on = { max_adds = 1, trigger_move_pct = 0.5, size_pct = 50 }

[bot.pair.exits]
stop_loss_pct = 1
take_profit_pct = 2
"#
    };
}

/// Risk limits alone: every bot limit of layer 3, with the hard stop and target.
pub(super) const BARS_CONFIG: &str = bars_limits!();

/// Every rule and gate: the limits above plus each exit rule of layer 1 and each gate of
/// layer 2.
pub(super) const BARS_ALL_RULES_CONFIG: &str = concat!(
    bars_limits!(),
    r#"trailing_stop_pct = 0.8
trailing_activation_pct = 0.4
break_even_after_pct = 0.5
chandelier_atr_mult = 3
volatility_atr_mult = 2
max_bars = 240
max_duration = "6h"
signal_flip = true

[bot.pair.gates]
funding = { max_abs_rate_pct = 0.1, block_against_side = false }
atr = { period = 14, min_pct = 0.01, max_pct = 2 }
volume_spike = { period = 20, max_ratio = 8, min_ratio = 0.05 }
volatility_regime = { period = 20, lookback = 500, low_pct = 5, high_pct = 95, allow = ["low", "normal"] }
"#
);

pub(super) fn bundle(config: &str) -> Bundle {
    Bundle {
        config: config.to_string(),
        templates: [("ema_cross.toml".to_string(), EMA_CROSS.to_string())].into(),
    }
}

/// The bars' risk-limits configuration with its template, for the sweep.
pub(super) fn bars_bundle() -> Bundle {
    bundle(BARS_CONFIG)
}

/// The configuration `config` with the EMA-cross template, known as `dir/bench.toml` (where
/// [`write_spec`] puts it).
pub(super) fn spec(dir: &Path, config: &str) -> Result<RunSpec, CommandError> {
    Ok(RunSpec::from_bundle(&bundle(config), dir, SPEC_NAME)?)
}

/// [`spec`], written to disk too, for a benchmark that runs the `charon` binary on it.
pub(super) fn write_spec(dir: &Path, config: &str) -> Result<RunSpec, CommandError> {
    bundle(config)
        .write_to(dir, SPEC_NAME)
        .map_err(charon_replay::run::RunError::from)?;
    spec(dir, config)
}

/// The name of a benchmark's configuration file.
pub(super) const SPEC_NAME: &str = "bench.toml";

/// `charon backtest`'s path: inputs written to a data log first (not timed), then the run,
/// `passes` times into a fresh run log: the median rate.
pub(super) fn whole_process(
    spec: &RunSpec,
    inputs: &[Envelope],
    dir: &Path,
    passes: usize,
) -> Result<f64, CommandError> {
    let data_path = dir.join("data");
    {
        let data = EventLog::create(&data_path, LogKind::Data)?;
        let mut batch: Vec<Envelope> = Vec::with_capacity(10_000);
        for chunk in inputs.chunks(10_000) {
            batch.clear();
            batch.extend(chunk.iter().cloned());
            data.append_batch(&mut batch)?;
        }
        data.sync_through(data.last_seq())?;
    }
    let run_path = dir.join("run");
    let mut rates = Vec::with_capacity(passes);
    for pass in 0..passes.max(1) {
        if pass > 0 {
            std::fs::remove_dir_all(&run_path).map_err(|source| CommandError::Write {
                path: run_path.clone(),
                source,
            })?;
        }
        let start = Instant::now();
        let data = EventLog::open(&data_path)?;
        let outcome = backtest(
            spec,
            &data,
            1,
            data.last_seq(),
            &run_path,
            &Settings::default(),
            &mut |_| {},
        )?;
        drop(data);
        rates.push(outcome.inputs as f64 / start.elapsed().as_secs_f64());
    }
    Ok(median(rates))
}

/// The tick recordings in time order, repeated to `count` events, each pass shifted later.
pub(super) fn tick_events(dir: &Path, count: usize) -> Result<Vec<Envelope>, CommandError> {
    let source = TickSource::read(dir)?;
    Ok((0..count).map(|i| source.at(i)).collect())
}

/// The spot recordings (trades and best bid/ask of BTCUSDT and ETHUSDT), repeated as often as
/// a figure needs, each pass shifted in time after the one before.
pub(super) struct TickSource {
    base: Vec<Envelope>,
    /// How far each pass is shifted: a whole number of minutes, so bar windows line up.
    span: i64,
}

impl TickSource {
    pub(super) fn read(dir: &Path) -> Result<TickSource, CommandError> {
        let mut base = Vec::new();
        for name in [
            "btcusdt_20240808.gz",
            "btcusdt_20240809.gz",
            "ethusdt_20240808.gz",
        ] {
            let path = dir.join(name);
            base.extend(read_recording(&path)?);
        }
        base.sort_by_key(|event| event.ts);
        if base.is_empty() {
            return Err(CommandError::BenchData(format!(
                "{}: no ticks",
                dir.display()
            )));
        }
        let minute = 60_000_000_000;
        let span =
            (base[base.len() - 1].ts.nanos() - base[0].ts.nanos()) / minute * minute + minute;
        Ok(TickSource { base, span })
    }

    /// The `i`-th event (from 0), numbered `i + 1` as a data log would.
    pub(super) fn at(&self, i: usize) -> Envelope {
        let mut event = self.base[i % self.base.len()].clone();
        let pass = (i / self.base.len()) as i64;
        event.ts = Timestamp::from_nanos(event.ts.nanos() + self.span * pass);
        event.seq = i as Seq + 1;
        event
    }
}

pub(super) fn bar_events(dir: &Path) -> Result<Vec<Envelope>, CommandError> {
    let path = dir.join("btc-perp-20211231-20220201_1m.csv.gz");
    let options = Options {
        symbol: Some(Symbol::new("BTCUSDT").expect("a valid symbol")),
        interval: Some(Interval(60)),
        skip_bad: false,
    };
    let mut events = import_file(Format::OhlcvCsv, &path, &options)?.events;
    for (i, event) in events.iter_mut().enumerate() {
        event.seq = i as Seq + 1;
    }
    Ok(events)
}

/// A temporary directory for a benchmark's logs, under `dir` when given; removed when dropped.
pub(super) fn work_dir(dir: Option<&Path>) -> Result<tempfile::TempDir, CommandError> {
    match dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .map_err(|source| CommandError::Io {
        what: "a temporary directory",
        source,
    })
}
