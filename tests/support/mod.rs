//! What the end-to-end tests of the binary share: running `charon`, reading its output, the
//! repo's paths, and a real two-bot backtest to inspect and export. Each test target uses
//! part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use charon_events::{Envelope, EventLog};

/// Runs the binary to completion, in a scratch directory of its own, so that nothing it
/// writes by default (the demo's HTML report) lands in the source tree.
pub fn charon(args: &[&str]) -> Output {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    Command::new(env!("CARGO_BIN_EXE_charon"))
        .args(args)
        .current_dir(scratch.path())
        .output()
        .expect("the charon binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 output")
}

/// `charon backtest --config CONFIG --data DATA --out OUT` and `extra`.
pub fn backtest(config: &Path, data: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "backtest",
        "--config",
        arg(config),
        "--data",
        arg(data),
        "--out",
        arg(out),
    ];
    args.extend_from_slice(extra);
    charon(&args)
}

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

pub fn arg(path: &Path) -> &str {
    path.to_str().expect("a utf-8 path")
}

/// A data log of real recorded bars imported by the binary (BTCUSDT 1m of January 2022,
/// XRPUSDT 5m and its funding rates of November 2021), and a backtest of two bots over it:
/// `btc` trades BTCUSDT with the EMA cross, `xrp` trades XRPUSDT with Bollinger mean
/// reversion. Returns the data log, the run log and the run log's events as the library reads
/// them.
pub fn two_bot_run(dir: &Path) -> (PathBuf, PathBuf, Vec<Envelope>) {
    let data = dir.join("two.data");
    for (format, file, symbol) in [
        (
            "ohlcv-csv",
            "data/nautilus_trader/btc-perp-20211231-20220201_1m.csv.gz",
            "BTCUSDT",
        ),
        (
            "ohlcv-csv",
            "data/freqtrade/XRP_USDT_USDT-5m-futures.csv",
            "XRPUSDT",
        ),
        (
            "funding-csv",
            "data/freqtrade/XRP_USDT_USDT-8h-funding_rate.csv",
            "XRPUSDT",
        ),
    ] {
        let out = charon(&[
            "import",
            format,
            arg(&repo(file)),
            "--data",
            arg(&data),
            "--symbol",
            symbol,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let config = dir.join("two.toml");
    std::fs::write(
        &config,
        format!(
            r#"[[bot]]
name = "btc"
quote = "USDT"
initial_capital = 10000

[[bot.pair]]
symbol = "BTCUSDT"
market = "perpetual"
leverage = 2
strategy = "{}"
timeframe = "15m"
sizing = {{ per_trade = {{ equity_pct = 20 }} }}
exits = {{ stop_loss_pct = 2, take_profit_pct = 4 }}

[[bot]]
name = "xrp"
quote = "USDT"
initial_capital = 5000

[[bot.pair]]
symbol = "XRPUSDT"
market = "perpetual"
leverage = 3
strategy = "{}"
timeframe = "5m"
sizing = {{ per_trade = {{ quote = 1500 }}, max_position_quote = 3000 }}
exits = {{ stop_loss_pct = 1.5, take_profit_pct = 2 }}
add_on = {{ max_adds = 1, trigger_move_pct = 0.5, size_pct = 50 }}

[simulation]
slippage_bps = 2
"#,
            repo("examples/strategies/ema_cross.toml").display(),
            repo("examples/strategies/bollinger_reversion.toml").display()
        ),
    )
    .unwrap();
    let run = dir.join("two.run");
    let out = charon(&[
        "backtest",
        "--config",
        arg(&config),
        "--data",
        arg(&data),
        "--out",
        arg(&run),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = open_log(&run).iter().map(Result::unwrap).collect();
    (data, run, events)
}

/// A copy of the demo's configuration (`bots/demo.toml`, `edit` applied to its text) and its
/// templates (`strategies/`) under `dir/<name>/`, laid out as in `examples/`.
pub fn demo_config(dir: &Path, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("bots")).unwrap();
    std::fs::create_dir_all(root.join("strategies")).unwrap();
    for template in ["ema_cross.toml", "bollinger_reversion.toml"] {
        std::fs::copy(
            repo(&format!("examples/strategies/{template}")),
            root.join("strategies").join(template),
        )
        .unwrap();
    }
    let config = root.join("bots/demo.toml");
    let text = std::fs::read_to_string(repo("examples/bots/demo.toml")).unwrap();
    std::fs::write(&config, edit(&text)).unwrap();
    config
}

/// BTCUSDT's stop tightened from 2% to 1%.
const STOP_2: &str = "exits = { stop_loss_pct = 2, take_profit_pct = 4";
const STOP_1: &str = "exits = { stop_loss_pct = 1, take_profit_pct = 4";

pub fn tighter_stop(text: &str) -> String {
    assert_eq!(text.matches(STOP_2).count(), 1, "the demo's BTC stop moved");
    text.replace(STOP_2, STOP_1)
}

/// How long a test waits for a log its own process just closed.
const REOPEN_PATIENCE: Duration = Duration::from_secs(30);

/// Opens the log at `path`, which this test process may just have closed. The tests of one
/// target run on parallel threads that spawn `charon`: a child forked while this process had the
/// log open holds a copy of sled's locked file until it execs, so a reopen can find the lock
/// taken for a moment. Waits that out; a lock held for longer fails the test.
pub fn open_log(path: &Path) -> EventLog {
    EventLog::open_within(path, REOPEN_PATIENCE).unwrap()
}

/// The raw sled database of the log at `path`, waiting as [`open_log`] does.
pub fn open_store(path: &Path) -> sled::Db {
    let started = Instant::now();
    loop {
        match sled::open(path) {
            Err(sled::Error::Io(io))
                if io.to_string().starts_with("could not acquire lock")
                    && started.elapsed() < REOPEN_PATIENCE =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other.unwrap(),
        }
    }
}

/// The sled key and stored value (a block of events) holding `seq` in the log at `path`, which
/// no process may have open.
fn stored_block(tree: &sled::Tree, seq: u64) -> (sled::IVec, Vec<u8>) {
    let (key, value) = tree
        .range(..=seq.to_be_bytes())
        .next_back()
        .expect("a block at or before the seq")
        .unwrap();
    (key, value.to_vec())
}

/// Rewrites the stored body of event `seq` with `edit` and stores its block back with a valid
/// CRC, as a damaged disk never would but a forger could: what reads it must catch the change
/// by decoding or by comparing, not by its checksum.
pub fn edit_stored_body(path: &Path, seq: u64, edit: impl FnOnce(&mut Vec<u8>)) {
    use charon_events::codec::{frame, BlockReader};
    let db = open_store(path);
    let tree = db.open_tree(charon_events::log::EVENTS_TREE).unwrap();
    let (key, value) = stored_block(&tree, seq);
    let first = u64::from_be_bytes(key.as_ref().try_into().unwrap());
    let reader = BlockReader::open(first, &value).unwrap();
    let mut bodies: Vec<Vec<u8>> = reader
        .bodies()
        .map(|item| item.unwrap().1.to_vec())
        .collect();
    edit(&mut bodies[(seq - first) as usize]);
    let mut contents = Vec::new();
    let varint = |out: &mut Vec<u8>, mut value: u64| {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    };
    varint(&mut contents, bodies.len() as u64);
    for body in &bodies {
        varint(&mut contents, body.len() as u64);
        contents.extend_from_slice(body);
    }
    tree.insert(key, frame(first, &contents)).unwrap();
    db.flush().unwrap();
}

/// Flips the last bit of the stored block holding `seq`, so its CRC no longer matches.
pub fn damage_stored_block(path: &Path, seq: u64) {
    let db = open_store(path);
    let tree = db.open_tree(charon_events::log::EVENTS_TREE).unwrap();
    let (key, mut value) = stored_block(&tree, seq);
    let last = value.len() - 1;
    value[last] ^= 0x01;
    tree.insert(key, value).unwrap();
    db.flush().unwrap();
}

/// The feed in its own process, killed when the test ends.
pub struct Feed {
    pub child: Child,
    pub address: String,
}

impl Feed {
    pub fn start(data: &Path) -> Feed {
        let mut child = Command::new(env!("CARGO_BIN_EXE_charon"))
            .args(["feed", arg(data), "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the feed starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the feed prints its address").unwrap();
        let address = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected feed output {first:?}"))
            .to_string();
        Feed { child, address }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raises the price of the first fill of the run log at `path` by one unit, stored back with a
/// valid CRC (as `edit_stored_body` does), and returns its seq: a record only re-derivation can
/// tell from the original.
pub fn alter_first_fill(path: &Path) -> u64 {
    use charon_events::codec::{decode_body, encode_body};
    use charon_events::{Event, Price};
    let seq = open_log(path)
        .iter()
        .map(Result::unwrap)
        .find(|event| matches!(event.payload, Event::OrderFilled(_)))
        .expect("the run fills orders")
        .seq;
    edit_stored_body(path, seq, |body| {
        let mut event = decode_body(seq, body).unwrap();
        let Event::OrderFilled(filled) = &mut event.payload else {
            unreachable!("found above")
        };
        filled.fill.price = Price(filled.fill.price.0 + rust_decimal::Decimal::ONE);
        body.clear();
        encode_body(&event, body).unwrap();
    });
    seq
}
