//! `charon bench backtest`: backtest throughput on the real data that ships in `data/`, with
//! an EMA-cross strategy, the RiskSupervisor on and the simulated exchange filling.
//!
//! - **Engine loop**: the actors under the direct Journal over inputs already in memory, with
//!   a sink that only numbers events: what the deterministic core costs per event, one thread.
//! - **Whole process**: `charon backtest`'s own path over a data log on disk: the data-log
//!   scan, the actors, the run log written to sled, the report.
//! - **Report**: the run report alone (`ReportBuilder` fed every input and derived event of
//!   one engine-loop pass, in order, then finished) over events already in memory; and the
//!   engine loop with a sink that feeds the report as `charon backtest`'s does, against the
//!   loop without it, passes interleaved: what the report adds, in percent of the loop and of
//!   the whole process's run.
//!
//! Ticks are the Binance spot recordings (trades and best bid/ask of BTCUSDT and ETHUSDT),
//! repeated and shifted in time to `--events`; bars are the 45,031 BTC perpetual 1-minute bars,
//! run with the risk limits alone (layer 3 and the hard stop and target) and again with every
//! exit rule and gate of layers 1 and 2 as well.
//!
//! - **Sweep** (`sweep_bench.rs`): points per second of a `--sweep` grid over the bars, on one
//!   thread and on two.

use std::path::Path;
use std::time::Instant;

use charon_actors::journal::{EventSink, SinkError};
use charon_events::{Envelope, Seq};
use charon_replay::html::report::{render as render_html, RunDescription};
use charon_replay::report::ReportBuilder;
use charon_replay::run::{Numbering, ReportingSink, Run, RunSpec, VenueSide};

use super::figure::{failed, median, report};
use super::fixtures::work_dir;
use super::fixtures::{
    bar_events, spec, tick_events, whole_process, write_spec, BARS_ALL_RULES_CONFIG, BARS_CONFIG,
    SPEC_NAME, TICKS_CONFIG,
};
use crate::cli::BenchBacktestArgs;
use crate::error::CommandError;

const BENCH: &str = "backtest";

pub fn run(args: BenchBacktestArgs) -> Result<(), CommandError> {
    let workdir = work_dir(args.dir.as_deref())?;
    let work = workdir.path();

    let ticks = tick_events(&args.data.join("hftbacktest"), args.events)?;
    let ticks_spec = spec(&work.join("ticks-config"), TICKS_CONFIG)?;
    tracing::info!("bench backtest: {} tick events", ticks.len());
    let figures = engine_loop(&ticks_spec, &ticks, args.tick_passes)?;
    report("backtest_ticks_engine", figures.median, "events/s");
    report("backtest_ticks_engine_best", figures.best, "events/s");
    report("backtest_ticks_derived", figures.derived as f64, "events");
    let alone = report_time(&ticks_spec, &ticks, args.tick_passes)?;
    let in_loop = loop_with_report(&ticks_spec, &ticks, args.tick_passes)?;
    let rate = whole_process(
        &ticks_spec,
        &ticks,
        &work.join("ticks"),
        args.process_passes,
    )?;
    report("backtest_ticks_process", rate, "events/s");
    report_cost("ticks", alone, in_loop, ticks.len() as f64, rate);

    let bars = bar_events(&args.data.join("nautilus_trader"))?;
    let bars_spec = write_spec(&work.join("bars-config"), BARS_CONFIG)?;
    tracing::info!("bench backtest: {} bars", bars.len());
    let figures = engine_loop(&bars_spec, &bars, args.bar_passes)?;
    report("backtest_bars_engine", figures.median, "bars/s");
    report(
        "backtest_bars_engine_run",
        bars.len() as f64 / figures.median * 1e3,
        "ms",
    );
    report("backtest_bars_engine_best", figures.best, "bars/s");
    report("backtest_bars_derived", figures.derived as f64, "events");
    let alone = report_time(&bars_spec, &bars, args.bar_passes)?;
    let in_loop = loop_with_report(&bars_spec, &bars, args.bar_passes)?;
    let all_spec = spec(&work.join("bars-all-config"), BARS_ALL_RULES_CONFIG)?;
    let all = engine_loop(&all_spec, &bars, args.bar_passes)?;
    report("backtest_bars_engine_all_rules", all.median, "bars/s");
    report(
        "backtest_bars_engine_all_rules_run",
        bars.len() as f64 / all.median * 1e3,
        "ms",
    );
    report(
        "backtest_bars_all_rules_derived",
        all.derived as f64,
        "events",
    );
    // How much slower every rule and gate makes the loop than the risk limits alone.
    report(
        "backtest_bars_all_rules_cost",
        (figures.median / all.median - 1.0) * 100.0,
        "%",
    );
    let rate = whole_process(&bars_spec, &bars, &work.join("bars"), args.process_passes)?;
    report("backtest_bars_process", rate, "bars/s");
    report(
        "backtest_bars_process_run",
        bars.len() as f64 / rate * 1e3,
        "ms",
    );
    report_cost("bars", alone, in_loop, bars.len() as f64, rate);
    let html = html_cost(
        &bars_spec,
        &bars,
        args.bar_passes,
        bars.len() as f64 / rate,
        alone,
    )?;
    command_cost(work, args.process_passes, alone + html)?;
    super::sweep_bench::run(&bars, work, args.sweep_passes)
}

/// What writing the HTML report (`--html`) adds to a run over `inputs` whose whole process
/// takes `process_seconds`: the page rendered from the run's report, the median of `passes`.
///
/// - `backtest_bars_html_run`: rendering the page, ms;
/// - `backtest_bars_html_bytes`: its size;
/// - `backtest_bars_html_process_share`: rendering in % of the whole process's run;
/// - `backtest_bars_report_html_share`: the report alone (`report_seconds`, an upper bound of
///   what it adds) and the page together, in % of the whole process's run.
///
/// Returns the page's time, in seconds.
fn html_cost(
    spec: &RunSpec,
    inputs: &[Envelope],
    passes: usize,
    process_seconds: f64,
    report_seconds: f64,
) -> Result<f64, CommandError> {
    let sink = ReportingSink {
        inner: counting(inputs),
        report: ReportBuilder::new(&spec.capitals()),
    };
    let mut report_of_run = None;
    timed_pass(spec, inputs, sink, |sink| {
        report_of_run = Some(sink.report.finish());
    })?;
    let report_of_run = report_of_run.expect("the pass finished its report");
    let about = RunDescription {
        title: "charon backtest report".into(),
        lines: vec![("run".into(), "bench".into())],
        split: None,
    };
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..passes.max(1) {
        let start = Instant::now();
        let page = render_html(&report_of_run, &about);
        times.push(start.elapsed().as_secs_f64());
        bytes = page.len();
    }
    let seconds = median(times);
    report("backtest_bars_html_run", seconds * 1e3, "ms");
    report("backtest_bars_html_bytes", bytes as f64, "bytes");
    report(
        "backtest_bars_html_process_share",
        seconds / process_seconds * 100.0,
        "%",
    );
    report(
        "backtest_bars_report_html_share",
        (report_seconds + seconds) / process_seconds * 100.0,
        "%",
    );
    Ok(seconds)
}

/// The bars' backtest as users run it, `charon backtest --html F` in a process of its own over
/// the data log and configuration the figures above used, `passes` times: its wall time, and
/// what the report and the page (`report_html_seconds`) take of it.
///
/// - `backtest_bars_command_run`: the median wall time of the command, ms;
/// - `backtest_bars_report_html_command_share`: the report alone and the page in % of it.
fn command_cost(work: &Path, passes: usize, report_html_seconds: f64) -> Result<(), CommandError> {
    let exe = std::env::current_exe().map_err(|e| failed(BENCH, format!("the binary: {e}")))?;
    let out = work.join("bars-command");
    std::fs::create_dir_all(&out).map_err(|source| CommandError::Write {
        path: out.clone(),
        source,
    })?;
    let mut times = Vec::with_capacity(passes);
    for pass in 0..passes.max(1) {
        let start = Instant::now();
        let status = std::process::Command::new(&exe)
            .arg("backtest")
            .arg("--config")
            .arg(work.join("bars-config").join(SPEC_NAME))
            .arg("--data")
            .arg(work.join("bars").join("data"))
            .arg("--out")
            .arg(out.join(format!("run-{pass}")))
            .arg("--html")
            .arg(out.join(format!("report-{pass}.html")))
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| failed(BENCH, e))?;
        times.push(start.elapsed().as_secs_f64());
        if !status.success() {
            return Err(failed(
                BENCH,
                format!("charon backtest --html failed ({status})"),
            ));
        }
    }
    let seconds = median(times);
    report("backtest_bars_command_run", seconds * 1e3, "ms");
    report(
        "backtest_bars_report_html_command_share",
        report_html_seconds / seconds * 100.0,
        "%",
    );
    Ok(())
}

/// Rates of the engine loop over `inputs`, `passes` times with fresh actors.
struct LoopFigures {
    /// Inputs per second of the median pass.
    median: f64,
    /// Inputs per second of the fastest pass.
    best: f64,
    /// Events one pass derived.
    derived: u64,
}

/// The engine loop over `inputs`, `passes` times with fresh actors. The median pass is the
/// figure: a virtual machine's steal time makes single passes vary by tens of percent.
fn engine_loop(
    spec: &RunSpec,
    inputs: &[Envelope],
    passes: usize,
) -> Result<LoopFigures, CommandError> {
    let mut rates = Vec::with_capacity(passes);
    let mut derived = 0;
    for _ in 0..passes.max(1) {
        let (seconds, count) = timed_pass(spec, inputs, counting(inputs), drop)?;
        rates.push(inputs.len() as f64 / seconds);
        derived = count;
    }
    rates.sort_by(f64::total_cmp);
    Ok(LoopFigures {
        median: rates[rates.len() / 2],
        best: rates[rates.len() - 1],
        derived,
    })
}

/// Numbers derived events after the inputs, as a run log that recorded them would.
fn counting(inputs: &[Envelope]) -> Numbering {
    Numbering {
        next: inputs.len() as Seq + 1,
    }
}

/// One pass of the engine loop with fresh actors into `sink`, `end` given the sink after the
/// last input: its seconds, `end` included, and the events it derived.
fn timed_pass<S: EventSink>(
    spec: &RunSpec,
    inputs: &[Envelope],
    sink: S,
    end: impl FnOnce(S),
) -> Result<(f64, u64), CommandError> {
    let mut run =
        Run::new(spec, VenueSide::Simulated, || Ok(sink)).map_err(|e| failed(BENCH, e))?;
    // Owned inputs, as a data-log scan hands them over; copied before the clock starts.
    let batch = inputs.to_vec();
    let start = Instant::now();
    for input in batch {
        run.process(input).map_err(|e| failed(BENCH, e))?;
    }
    let derived = run.stats().derived;
    end(run.into_sink());
    Ok((start.elapsed().as_secs_f64(), derived))
}

/// The engine loop without and with the report (finished at the end), passes interleaved so
/// both see the same machine: the median seconds of each.
fn loop_with_report(
    spec: &RunSpec,
    inputs: &[Envelope],
    passes: usize,
) -> Result<(f64, f64), CommandError> {
    let bots = spec.capitals();
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..passes.max(1) {
        without.push(timed_pass(spec, inputs, counting(inputs), drop)?.0);
        // As a backtest's sink feeds the report, while the events are fresh.
        let sink = ReportingSink {
            inner: counting(inputs),
            report: ReportBuilder::new(&bots),
        };
        let finish = |sink: ReportingSink<Numbering>| {
            std::hint::black_box(sink.report.finish());
        };
        with.push(timed_pass(spec, inputs, sink, finish)?.0);
    }
    Ok((median(without), median(with)))
}

/// Keeps what one pass derives, each event with the number of inputs processed before it.
struct RecordingSink {
    counting: Numbering,
    inputs: usize,
    derived: Vec<(usize, Envelope)>,
}

impl EventSink for RecordingSink {
    fn input(&mut self, input: &mut Envelope) -> Result<Seq, SinkError> {
        self.inputs += 1;
        self.counting.input(input)
    }

    fn derived(&mut self, events: &mut [Envelope]) -> Result<(), SinkError> {
        self.counting.derived(events)?;
        let after = self.inputs;
        self.derived
            .extend(events.iter().map(|event| (after, event.clone())));
        Ok(())
    }
}

/// The report's own time over a run's events (inputs and derived, in the order a backtest's
/// sink sees them, then `finish`): the median of `passes`, in seconds.
fn report_time(spec: &RunSpec, inputs: &[Envelope], passes: usize) -> Result<f64, CommandError> {
    let sink = RecordingSink {
        counting: counting(inputs),
        inputs: 0,
        derived: Vec::new(),
    };
    let mut run =
        Run::new(spec, VenueSide::Simulated, || Ok(sink)).map_err(|e| failed(BENCH, e))?;
    for input in inputs {
        run.process(input.clone()).map_err(|e| failed(BENCH, e))?;
    }
    let derived = run.into_sink().derived;
    let bots = spec.capitals();
    let mut times = Vec::with_capacity(passes);
    for _ in 0..passes.max(1) {
        let start = Instant::now();
        let mut builder = ReportBuilder::new(&bots);
        let mut next = derived.iter().peekable();
        for (i, input) in inputs.iter().enumerate() {
            builder.observe(input);
            while let Some((_, event)) = next.next_if(|(after, _)| *after == i + 1) {
                builder.observe(event);
            }
        }
        std::hint::black_box(builder.finish());
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(median(times))
}

/// What the report costs a run over `inputs`, from the report alone over events in memory
/// (`seconds_alone`), the engine loop without and with it (`loop_seconds`, interleaved
/// passes) and the whole process's rate:
///
/// - `backtest_<name>_report_run`: the report alone, ms. Its events come cold from memory, so
///   this bounds the cost from above.
/// - `backtest_<name>_report_cost`: how much slower the loop runs with the report, in %.
/// - `backtest_<name>_report_process_share`: that difference in % of the whole process's run.
fn report_cost(
    name: &str,
    seconds_alone: f64,
    loop_seconds: (f64, f64),
    inputs: f64,
    process_rate: f64,
) {
    let (without, with) = loop_seconds;
    report(
        &format!("backtest_{name}_report_run"),
        seconds_alone * 1e3,
        "ms",
    );
    report(
        &format!("backtest_{name}_report_cost"),
        (with / without - 1.0) * 100.0,
        "%",
    );
    report(
        &format!("backtest_{name}_report_process_share"),
        (with - without) / (inputs / process_rate) * 100.0,
        "%",
    );
}
