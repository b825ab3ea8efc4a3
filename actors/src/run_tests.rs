//! A whole run: the actors `setup::build_actors` makes from a configuration, under the direct
//! Journal, over hand-made input bars and trades; the assertions are on the derived event
//! sequence.

use std::collections::BTreeMap;

use charon_events::payload::control::{BotState, Command, OperatorCommand};
use charon_events::payload::market::{Aggressor, Bar, Interval, Trade};
use charon_events::payload::order::{OrderPurpose, OrderType, Side};
use charon_events::payload::risk::RiskRule;
use charon_events::{
    ActorId, BotId, ClientOrderId, Envelope, Event, Origin, Quantity, Seq, Timestamp, Venue,
};

use crate::config::{validate, Config, StrategyTemplate};
use crate::journal::{ActixJournal, InputMode, Journal, MemorySink};
use crate::setup::{build_actors, SIMULATED_VENUE};
use crate::testkit::{btc, m, p, q};

/// A minute boundary (epoch ms).
const BASE_MS: i64 = 1_700_000_100_000;
const MINUTE_MS: i64 = 60_000;

const TEMPLATE: &str = "\
name = \"ema-cross\"
[long]
entry = \"ema(close, 3) crosses_above ema(close, 5)\"
";

fn bot() -> BotId {
    BotId::new("b").unwrap()
}

/// Bot `b` with 10000 (and `bot` keys) trading BTCUSDT on 1m bars (with `pair` keys), filled at
/// the next bar's open without slippage and with a taker fee of 0.1%.
fn config(bot: &str, pair: &str) -> Config {
    let text = format!(
        "[[bot]]\nname = \"b\"\nquote = \"USDT\"\ninitial_capital = 10000\n{bot}\n\n\
         [[bot.pair]]\nsymbol = \"BTCUSDT\"\nstrategy = \"ema.toml\"\ntimeframe = \"1m\"\n{pair}\n\n\
         [simulation]\ntaker_fee_pct = 0.1\n"
    );
    let config: Config = toml::from_str(&text).unwrap();
    assert_eq!(validate(&config), [], "the test configuration is valid");
    config
}

fn journal(config: &Config) -> Journal<MemorySink> {
    journal_with(config, TEMPLATE)
}

fn journal_with(config: &Config, template: &str) -> Journal<MemorySink> {
    let template: StrategyTemplate = toml::from_str(template).unwrap();
    let templates = BTreeMap::from([(btc(), template)]);
    let actors = build_actors(config, &templates).unwrap();
    Journal::new(actors, MemorySink::new(InputMode::Recorded)).unwrap()
}

/// The `n`-th 1m bar of BTCUSDT (from 0), stamped at its close.
fn bar(n: i64, ohlc: [&str; 4]) -> Envelope {
    let open_ms = BASE_MS + n * MINUTE_MS;
    let bar = Bar {
        interval: Interval(60),
        open_time: Timestamp::from_millis(open_ms),
        open: p(ohlc[0]),
        high: p(ohlc[1]),
        low: p(ohlc[2]),
        close: p(ohlc[3]),
        volume: q("10"),
        trades: None,
        closed: true,
    };
    Envelope::input(Timestamp::from_millis(open_ms + MINUTE_MS), Event::Bar(bar)).with_pair(btc())
}

fn flat(n: i64, price: &str) -> Envelope {
    bar(n, [price; 4])
}

/// Five falling closes, then a bar closing at 104 on which EMA(3) crosses above EMA(5).
///
/// EMA(3) (α = 1/2) is seeded at bar 2 with (100 + 99 + 98)/3 = 99, then 98 (97), 97 (96);
/// EMA(5) (α = 1/3) is seeded at bar 4 with (100 + … + 96)/5 = 98. At bar 4, 97 ≤ 98; at bar
/// 5 (104), EMA(3) = 97 + (104 − 97)/2 = 100.5 and EMA(5) = 98 + (104 − 98)/3 = 100: crossed.
fn into_the_cross() -> Vec<Envelope> {
    let mut bars: Vec<Envelope> = ["100", "99", "98", "97", "96"]
        .iter()
        .enumerate()
        .map(|(n, close)| flat(n as i64, close))
        .collect();
    bars.push(bar(5, ["96", "104", "96", "104"]));
    bars
}

/// `(seq, kind)` of each event, and the cause of the derived ones.
fn shape(events: &[Envelope]) -> Vec<(Seq, &'static str, Option<Seq>)> {
    events
        .iter()
        .map(|event| (event.seq, event.payload.kind().name(), event.cause))
        .collect()
}

fn event(events: &[Envelope], seq: Seq) -> &Envelope {
    let event = &events[seq as usize - 1];
    assert_eq!(event.seq, seq);
    event
}

fn exchange() -> ActorId {
    ActorId::Exchange(Venue::new(SIMULATED_VENUE).unwrap())
}

#[test]
fn an_ema_cross_enters_and_is_stopped_inside_its_entry_bar() {
    let config = config(
        "",
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2 }",
    );
    let mut journal = journal(&config);
    for input in into_the_cross() {
        journal.process(input).unwrap();
    }
    // Opens at 105, dips to 102, closes at 103.
    journal
        .process(bar(6, ["105", "106", "102", "103"]))
        .unwrap();
    // Flat: nothing to revalue, and no new crossing (EMA(3) was already above).
    journal.process(flat(7, "103")).unwrap();
    let events = &journal.sink().events;
    assert_eq!(
        shape(events),
        [
            (1, "bar", None),
            (2, "bot_state_changed", Some(1)),
            (3, "bar", None),
            (4, "bar", None),
            (5, "bar", None),
            (6, "bar", None),
            (7, "bar", None),
            (8, "signal", Some(7)),
            (9, "order_intent", Some(7)),
            (10, "order_approved", Some(7)),
            (11, "bar", None),
            // The entry fills at the open, then the close revalues it...
            (12, "order_filled", Some(11)),
            (13, "position_updated", Some(11)),
            (14, "equity_updated", Some(11)),
            (15, "position_updated", Some(11)),
            (16, "equity_updated", Some(11)),
            // ...and the pair, learning of its fill, finds the stop inside this bar.
            (17, "signal", Some(11)),
            (18, "order_intent", Some(11)),
            (19, "order_approved", Some(11)),
            (20, "order_filled", Some(11)),
            (21, "position_updated", Some(11)),
            (22, "equity_updated", Some(11)),
            (23, "bar", None),
        ]
    );
    let origins: Vec<_> = events.iter().map(|event| event.origin).collect();
    let pair = Origin::Derived(ActorId::Pair(btc()));
    let risk = Origin::Derived(ActorId::RiskSupervisor(bot()));
    let exchange = Origin::Derived(exchange());
    assert_eq!(origins[1], Origin::Derived(ActorId::Bot(bot())));
    assert_eq!(origins[7..10], [pair, pair, risk]);
    assert_eq!(origins[11..16], [exchange; 5]);
    assert_eq!(
        origins[16..22],
        [pair, pair, risk, exchange, exchange, exchange]
    );

    // 1000 at the close of 104: 9.615384615… rounded down to 9.61538461.
    let Event::OrderIntent(entry) = &event(events, 9).payload else {
        unreachable!()
    };
    let entry_id = ClientOrderId {
        pair: btc(),
        cause: 7,
        leg: 0,
    };
    assert_eq!(entry.order_id, entry_id);
    assert_eq!(
        (entry.side, entry.order_type),
        (Side::Buy, OrderType::Market)
    );
    assert_eq!(
        (entry.qty, entry.expected_price),
        (q("9.61538461"), p("104"))
    );

    // Filled at 105: 1009.61538405, fee 1.00961538405 booked (rounded up) at 1.00961539;
    // cash 10000 − 1009.61538405 − 1.00961539 = 8989.37500056.
    let Event::OrderFilled(filled) = &event(events, 12).payload else {
        unreachable!()
    };
    assert_eq!(filled.fill.order_id, entry_id);
    assert_eq!(filled.fill.price, p("105"));
    assert_eq!(filled.fill.fee, m("1.00961539"));
    let Event::EquityUpdated(equity) = &event(events, 16).payload else {
        unreachable!()
    };
    // At the close of 103: 8989.37500056 + 103·9.61538461 (990.38461483).
    assert_eq!(equity.cash, m("8989.37500056"));
    assert_eq!(equity.equity, m("9979.75961539"));

    // The stop: 105·(1 − 2/100) = 102.9, above the bar's low of 102, below its open.
    let Event::OrderIntent(stop) = &event(events, 18).payload else {
        unreachable!()
    };
    let stop_id = ClientOrderId {
        pair: btc(),
        cause: 11,
        leg: 0,
    };
    assert_eq!(stop.order_id, stop_id);
    assert_eq!(
        stop.order_type,
        OrderType::StopMarket {
            trigger: p("102.9")
        }
    );
    assert_eq!((stop.side, stop.qty), (Side::Sell, q("9.61538461")));
    assert!(stop.reduce_only);
    // Filled at the stop itself: 989.423076369, fee 0.989423076369 booked at 0.98942308, a
    // loss of 989.423076369 − 1009.61538405 = −20.192307681.
    let Event::OrderFilled(filled) = &event(events, 20).payload else {
        unreachable!()
    };
    assert_eq!(filled.fill.order_id, stop_id);
    assert_eq!(filled.fill.price, p("102.9"));
    let Event::PositionUpdated(position) = &event(events, 21).payload else {
        unreachable!()
    };
    assert_eq!((position.side, position.qty), (None, Quantity::ZERO));
    assert_eq!(position.realized_pnl, m("-20.192307681"));
    assert_eq!(position.fees, m("1.99903847"));
    let Event::EquityUpdated(equity) = &event(events, 22).payload else {
        unreachable!()
    };
    // 8989.37500056 + 989.423076369 − 0.98942308.
    assert_eq!(equity.cash, m("9977.808653849"));
    assert_eq!(equity.equity, equity.cash);
}

#[test]
fn the_bots_take_profit_closes_the_pair_and_stops_the_bot() {
    let config = config(
        "take_profit_pct = 0.5",
        "sizing = { per_trade = { quote = 5000 } }",
    );
    let mut journal = journal(&config);
    for input in into_the_cross() {
        journal.process(input).unwrap();
    }
    // 5000 at 104: 48.07692307. Filled at 105 (5048.07692235, fee 5.04807692235 booked at
    // 5.04807693: cash 4946.87500072), and worth 107·48.07692307 = 5144.23076849 at the
    // close: equity 10091.10576921, above 10000·1.005 = 10050.
    journal
        .process(bar(6, ["105", "107", "104.5", "107"]))
        .unwrap();
    journal
        .process(bar(7, ["108", "108", "106", "107"]))
        .unwrap();
    // Stopped: no entries, nothing held, nothing derived.
    journal
        .process(bar(8, ["107", "120", "107", "120"]))
        .unwrap();
    let events = &journal.sink().events;
    assert_eq!(
        shape(&events[10..]),
        [
            (11, "bar", None),
            (12, "order_filled", Some(11)),
            (13, "position_updated", Some(11)),
            (14, "equity_updated", Some(11)),
            (15, "position_updated", Some(11)),
            (16, "equity_updated", Some(11)),
            (17, "bot_state_changed", Some(11)),
            (18, "force_close", Some(11)),
            (19, "alert", Some(11)),
            (20, "order_intent", Some(11)),
            (21, "order_approved", Some(11)),
            (22, "bar", None),
            (23, "order_filled", Some(22)),
            (24, "position_updated", Some(22)),
            (25, "equity_updated", Some(22)),
            (26, "bot_state_changed", Some(22)),
            (27, "bar", None),
        ]
    );
    let Event::EquityUpdated(equity) = &event(events, 16).payload else {
        unreachable!()
    };
    assert_eq!(equity.equity, m("10091.10576921"));
    let Event::BotStateChanged(changed) = &event(events, 17).payload else {
        unreachable!()
    };
    assert_eq!(changed.state, BotState::Stopping);
    let Event::ForceClose(close) = &event(events, 18).payload else {
        unreachable!()
    };
    assert_eq!(close.check.rule, RiskRule::BotTakeProfit);
    assert_eq!(event(events, 18).pair, Some(btc()));
    let Event::OrderIntent(exit) = &event(events, 20).payload else {
        unreachable!()
    };
    assert_eq!(exit.purpose, OrderPurpose::ForceClose);
    assert_eq!((exit.side, exit.qty), (Side::Sell, q("48.07692307")));
    assert_eq!(exit.expected_price, p("107"));
    // Filled at the next open, 108: realized 48.07692307·(108 − 105) = 144.23076921.
    let Event::OrderFilled(filled) = &event(events, 23).payload else {
        unreachable!()
    };
    assert_eq!(filled.fill.price, p("108"));
    let Event::PositionUpdated(position) = &event(events, 24).payload else {
        unreachable!()
    };
    assert_eq!(position.realized_pnl, m("144.23076921"));
    let Event::BotStateChanged(changed) = &event(events, 26).payload else {
        unreachable!()
    };
    assert_eq!(changed.state, BotState::Stopped);
    assert_eq!(changed.reason, "every position is closed");
}

#[test]
fn an_operator_stop_closes_an_entry_that_was_in_flight() {
    let config = config("", "sizing = { per_trade = { quote = 1000 } }");
    let mut journal = journal(&config);
    for input in into_the_cross() {
        journal.process(input).unwrap();
    }
    // The entry was approved at seq 10 and waits for the next bar; the operator stops the
    // bot, closing every position, before it comes.
    let stop = OperatorCommand {
        command: Command::StopBot {
            close_positions: true,
        },
        operator: "ann".into(),
    };
    let ts = Timestamp::from_millis(BASE_MS + 6 * MINUTE_MS + 1);
    journal
        .process(Envelope::input(ts, Event::OperatorCommand(stop)).with_bot(bot()))
        .unwrap();
    journal
        .process(bar(6, ["105", "106", "104", "105"]))
        .unwrap();
    journal
        .process(bar(7, ["106", "106", "106", "106"]))
        .unwrap();
    let events = &journal.sink().events;
    assert_eq!(
        shape(&events[10..]),
        [
            (11, "operator_command", None),
            // Nothing is open yet: stopped at once.
            (12, "bot_state_changed", Some(11)),
            (13, "alert", Some(11)),
            (14, "bar", None),
            // The approved entry still fills at the open...
            (15, "order_filled", Some(14)),
            (16, "position_updated", Some(14)),
            (17, "equity_updated", Some(14)),
            (18, "position_updated", Some(14)),
            (19, "equity_updated", Some(14)),
            // ...and the stop that was asked for closes what it opened.
            (20, "bot_state_changed", Some(14)),
            (21, "force_close", Some(14)),
            (22, "order_intent", Some(14)),
            (23, "order_approved", Some(14)),
            (24, "bar", None),
            (25, "order_filled", Some(24)),
            (26, "position_updated", Some(24)),
            (27, "equity_updated", Some(24)),
            (28, "bot_state_changed", Some(24)),
        ]
    );
    let states: Vec<(Seq, BotState)> = events
        .iter()
        .filter_map(|event| match &event.payload {
            Event::BotStateChanged(changed) => Some((event.seq, changed.state)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            (2, BotState::Running),
            (12, BotState::Stopped),
            (20, BotState::Stopping),
            (28, BotState::Stopped),
        ]
    );
    let Event::ForceClose(close) = &event(events, 21).payload else {
        unreachable!()
    };
    assert_eq!(close.check.rule, RiskRule::Operator);
    assert_eq!(event(events, 21).pair, Some(btc()));
    let Event::OrderIntent(exit) = &event(events, 22).payload else {
        unreachable!()
    };
    assert_eq!(exit.purpose, OrderPurpose::ForceClose);
    assert_eq!((exit.side, exit.qty), (Side::Sell, q("9.61538461")));
    let Event::PositionUpdated(position) = &event(events, 26).payload else {
        unreachable!()
    };
    assert_eq!(position.side, None, "the position was closed");
    // Bought at 105, sold at 106.
    assert_eq!(position.realized_pnl, m("9.61538461"));
}

fn trade(at_ms: i64, price: &str) -> Envelope {
    let trade = Trade {
        trade_id: at_ms as u64,
        price: p(price),
        qty: q("0.5"),
        aggressor: Aggressor::Buyer,
    };
    Envelope::input(Timestamp::from_millis(BASE_MS + at_ms), Event::Trade(trade)).with_pair(btc())
}

#[test]
fn trades_become_bars_and_the_next_trade_fills() {
    let config = config("", "sizing = { per_trade = { quote = 1000 } }");
    let mut journal = journal_with(
        &config,
        "name = \"above\"\n[long]\nentry = \"close > 100\"\n",
    );
    for (at_ms, price) in [
        (0, "100"),
        (30_000, "101"),
        (60_000, "101.5"),
        (70_000, "102"),
    ] {
        journal.process(trade(at_ms, price)).unwrap();
    }
    journal.process(trade(120_000, "100")).unwrap();
    let events = &journal.sink().events;
    assert_eq!(
        shape(events),
        [
            (1, "trade", None),
            (2, "bot_state_changed", Some(1)),
            (3, "trade", None),
            // The first trade of the second minute completes the first minute's bar.
            (4, "trade", None),
            (5, "bar", Some(4)),
            (6, "signal", Some(4)),
            (7, "order_intent", Some(4)),
            (8, "order_approved", Some(4)),
            // The next trade fills it: no revaluation at a trade.
            (9, "trade", None),
            (10, "order_filled", Some(9)),
            (11, "position_updated", Some(9)),
            (12, "equity_updated", Some(9)),
            // The second minute's bar samples the position at the latest trade.
            (13, "trade", None),
            (14, "bar", Some(13)),
            (15, "position_updated", Some(13)),
            (16, "equity_updated", Some(13)),
        ]
    );
    assert_eq!(
        event(events, 5).origin,
        Origin::Derived(ActorId::Pair(btc()))
    );
    let Event::Bar(first) = &event(events, 5).payload else {
        unreachable!()
    };
    assert_eq!(
        (first.open, first.high, first.low, first.close),
        (p("100"), p("101"), p("100"), p("101"))
    );
    // Decided at that bar's close, 101: 1000/101 = 9.90099009…
    let Event::OrderIntent(entry) = &event(events, 7).payload else {
        unreachable!()
    };
    assert_eq!(
        (entry.qty, entry.expected_price),
        (q("9.90099009"), p("101"))
    );
    // ...and filled at the next trade's 102: 1009.90098918, fee 1.00990098918 rounded up.
    let Event::OrderFilled(filled) = &event(events, 10).payload else {
        unreachable!()
    };
    assert_eq!(filled.fill.price, p("102"));
    assert_eq!(filled.fill.fee, m("1.00990099"));
    let Event::Bar(second) = &event(events, 14).payload else {
        unreachable!()
    };
    assert_eq!((second.open, second.close), (p("101.5"), p("102")));
    let Event::PositionUpdated(position) = &event(events, 15).payload else {
        unreachable!()
    };
    // Marked at the latest trade (100, the one that completed the bar), not the bar's older
    // close (102).
    assert_eq!(position.mark, p("100"));
}

#[test]
fn a_run_is_a_function_of_its_inputs() {
    let config = config(
        "",
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2 }",
    );
    let mut inputs = into_the_cross();
    inputs.push(bar(6, ["105", "106", "102", "103"]));
    inputs.push(bar(7, ["103", "104", "101", "104"]));
    let run = || {
        let mut journal = journal(&config);
        for input in &inputs {
            journal.process(input.clone()).unwrap();
        }
        journal.into_sink().events
    };
    let direct = run();
    assert_eq!(direct, run());
    // The actix shells derive the same log.
    let via_actix = actix::System::new().block_on(async {
        let template: StrategyTemplate = toml::from_str(TEMPLATE).unwrap();
        let actors = build_actors(&config, &BTreeMap::from([(btc(), template)])).unwrap();
        let mut journal =
            ActixJournal::start(actors, MemorySink::new(InputMode::Recorded)).unwrap();
        for input in &inputs {
            journal.process(input.clone()).await.unwrap();
        }
        journal.into_sink().events
    });
    assert_eq!(via_actix, direct);
    assert!(direct.len() > 20);
}

#[test]
fn every_actor_lists_the_kinds_it_can_be_concerned_with() {
    let config = config(
        "",
        "market = \"perpetual\"\nsizing = { per_trade = { quote = 1000 } }",
    );
    let template: StrategyTemplate = toml::from_str(TEMPLATE).unwrap();
    let actors = build_actors(&config, &BTreeMap::from([(btc(), template)])).unwrap();
    let listed = actors
        .iter()
        .filter(|actor| actor.kinds().is_some())
        .count();
    // The Pair, the RiskSupervisor and the Exchange narrow their kinds; the Bot starts on
    // any input.
    assert_eq!(listed, 3);
    for actor in &actors {
        crate::testkit::assert_kinds_agree(actor.as_ref(), bot(), btc());
    }
}

mod snapshots {
    //! Snapshot + tail = the whole run: a journal snapshotted at a random cut, restored into
    //! actors freshly built from the same configuration, continues with exactly the events
    //! and the final state of the uninterrupted run.

    use proptest::prelude::*;

    use charon_events::{EventLog, LogKind};

    use super::*;
    use crate::journal::{JournalError, JournalSnapshot, ResumingSink, SinkError};

    const BOTH_WAYS: &str = "\
name = \"ema-cross-both-ways\"
[long]
entry = \"ema(close, 3) crosses_above ema(close, 5)\"
[short]
entry = \"ema(close, 3) crosses_below ema(close, 5)\"
";

    /// Every layer: bot limits, a leveraged perpetual with add-ons, every exit rule and gate.
    fn every_layer() -> Config {
        let bot = "[bot.risk]\nmax_trade_loss_pct = 3\ndaily_loss_pct = 8\n\
                   consecutive_losses = 3\nloss_cooldown = \"30m\"\nmax_leverage = 3\n";
        let pair = "market = \"perpetual\"\nleverage = 2\n\
            sizing = { per_trade = { equity_pct = 20 }, max_position_quote = 6000 }\n\
            max_drawdown_pct = 30\n\
            add_on = { max_adds = 1, trigger_move_pct = 0.5, size_pct = 50 }\n\
            exits = { stop_loss_pct = 2, take_profit_pct = 4, trailing_stop_pct = 1.5, \
            trailing_activation_pct = 0.5, break_even_after_pct = 1, chandelier_atr_mult = 3, \
            volatility_atr_mult = 2, max_bars = 40, signal_flip = true }\n\
            [bot.pair.gates]\n\
            atr = { period = 5, min_pct = 0.01, max_pct = 20 }\n\
            volume_spike = { period = 5, max_ratio = 8 }\n\
            volatility_regime = { period = 5, lookback = 40, low_pct = 5, high_pct = 95, \
            allow = [\"low\", \"normal\"] }";
        config(bot, pair)
    }

    /// A random walk of 1m bars around 100.00 (in cents), with varying volume.
    fn walk(steps: &[(i64, i64, i64)]) -> Vec<Envelope> {
        let mut price = 10_000i64;
        let cents = |x: i64| format!("{}.{:02}", x / 100, x % 100);
        steps
            .iter()
            .enumerate()
            .map(|(n, &(step, up, down))| {
                let open = price;
                let close = (price + step).max(1_000);
                let high = open.max(close) + up;
                let low = (open.min(close) - down).max(500);
                price = close;
                let mut input = bar(
                    n as i64,
                    [&cents(open), &cents(high), &cents(low), &cents(close)],
                );
                if let Event::Bar(bar) = &mut input.payload {
                    bar.volume = Quantity(rust_decimal::Decimal::from(5 + (up + down) % 17));
                }
                input
            })
            .collect()
    }

    fn run(config: &Config, inputs: &[Envelope], sink: MemorySink) -> Journal<MemorySink> {
        let template: StrategyTemplate = toml::from_str(BOTH_WAYS).unwrap();
        let actors = build_actors(config, &BTreeMap::from([(btc(), template)])).unwrap();
        let mut journal = Journal::new(actors, sink).unwrap();
        for input in inputs {
            journal.process(input.clone()).unwrap();
        }
        journal
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn a_snapshot_and_the_tail_continue_the_run_exactly(
            steps in prop::collection::vec((-250i64..=250, 0i64..150, 0i64..150), 60..240),
            cut in 0.0f64..=1.0,
        ) {
            let config = every_layer();
            let inputs = walk(&steps);
            let whole = run(&config, &inputs, MemorySink::new(InputMode::Recorded));
            let cut = ((inputs.len() as f64) * cut) as usize;

            let before = run(&config, &inputs[..cut], MemorySink::new(InputMode::Recorded));
            let stored = before.snapshot().unwrap().encode();
            let mut sink = MemorySink::new(InputMode::Recorded);
            sink.events = before.into_sink().events;

            let template: StrategyTemplate = toml::from_str(BOTH_WAYS).unwrap();
            let actors = build_actors(&config, &BTreeMap::from([(btc(), template)])).unwrap();
            let mut resumed = Journal::new(actors, sink).unwrap();
            resumed.restore(&JournalSnapshot::decode(&stored).unwrap()).unwrap();
            for input in &inputs[cut..] {
                resumed.process(input.clone()).unwrap();
            }
            prop_assert_eq!(resumed.stats(), whole.stats());
            prop_assert_eq!(resumed.snapshot().unwrap(), whole.snapshot().unwrap());
            let (resumed, whole) = (resumed.into_sink().events, whole.into_sink().events);
            prop_assert_eq!(resumed.len(), whole.len());
            for (a, b) in resumed.iter().zip(&whole) {
                prop_assert_eq!(a, b);
            }
        }
    }

    /// The walks above do trade, through every layer: a fixed one, checked once.
    #[test]
    fn the_walk_exercises_entries_exits_and_risk() {
        let steps: Vec<_> = (0..240i64)
            .map(|n| (((n * 7919) % 401) - 200, (n * 31) % 120, (n * 17) % 120))
            .collect();
        let events = run(
            &every_layer(),
            &walk(&steps),
            MemorySink::new(InputMode::Recorded),
        )
        .into_sink()
        .events;
        let count = |kind: &str| {
            events
                .iter()
                .filter(|e| e.payload.kind().name() == kind)
                .count()
        };
        assert!(
            count("order_filled") >= 4,
            "fills: {}",
            count("order_filled")
        );
        assert!(count("signal") >= 4, "signals: {}", count("signal"));
    }

    /// A snapshot restored into actors of another configuration is refused, not mixed in.
    #[test]
    fn a_snapshot_of_other_actors_is_refused() {
        let journal = run(&every_layer(), &[], MemorySink::new(InputMode::Recorded));
        let mut snapshot = journal.snapshot().unwrap();
        snapshot.actors.pop();
        let mut other = run(&every_layer(), &[], MemorySink::new(InputMode::Recorded));
        let error = other.restore(&snapshot).unwrap_err();
        assert!(
            error.to_string().contains("a different configuration"),
            "{error}"
        );
    }

    /// Runs `inputs` into the run log at `path` through a [`ResumingSink`] that continues it
    /// from its start, as a restart without a snapshot does.
    fn resume(path: &std::path::Path, inputs: &[Envelope]) -> Result<Vec<Envelope>, JournalError> {
        let log = EventLog::open(path).unwrap();
        let template: StrategyTemplate = toml::from_str(BOTH_WAYS).unwrap();
        let actors = build_actors(&every_layer(), &BTreeMap::from([(btc(), template)])).unwrap();
        let mut journal = Journal::new(actors, ResumingSink::new(log.clone(), 0)).unwrap();
        for input in inputs {
            journal.process(input.clone())?;
        }
        Ok(log.iter_from(1).map(Result::unwrap).collect())
    }

    /// A fixed walk's inputs and the log an uninterrupted run of them writes under `dir`.
    fn uninterrupted(dir: &std::path::Path) -> (Vec<Envelope>, Vec<Envelope>) {
        let steps: Vec<_> = (0..120i64)
            .map(|n| (((n * 7919) % 401) - 200, (n * 31) % 120, (n * 17) % 120))
            .collect();
        let inputs = walk(&steps);
        let path = dir.join("uninterrupted");
        EventLog::create(&path, LogKind::Run).unwrap();
        let events = resume(&path, &inputs).unwrap();
        (inputs, events)
    }

    /// A run log at `dir/name` holding `events`, as a crash may have left it.
    fn log_holding(dir: &std::path::Path, name: &str, events: &[Envelope]) -> std::path::PathBuf {
        let path = dir.join(name);
        let log = EventLog::create(&path, LogKind::Run).unwrap();
        log.append_batch(&mut events.to_vec()).unwrap();
        path
    }

    /// A log a crash cut in the middle of a cascade is completed, not repeated: the events it
    /// holds are compared, the missing ones appended, and the result is the uninterrupted log.
    #[test]
    fn a_cut_cascade_is_completed_not_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let (inputs, whole) = uninterrupted(dir.path());
        // Cut inside a cascade that derived events: just after an order intent.
        let cut = whole
            .iter()
            .position(|e| e.payload.kind().name() == "order_intent")
            .expect("the walk trades")
            + 1;
        assert_ne!(
            whole[cut].origin,
            Origin::Input,
            "the cut falls inside a cascade"
        );
        let cut_path = log_holding(dir.path(), "cut", &whole[..cut]);
        // The restart takes every input again, from the log's start: the recorded ones are
        // compared, the rest of the cut cascade and everything after appended once.
        let resumed = resume(&cut_path, &inputs).unwrap();
        assert_eq!(resumed, whole);
    }

    /// A recorded event that the actors do not derive again stops the restart at its seq.
    #[test]
    fn a_record_that_differs_stops_the_restart_at_its_seq() {
        let dir = tempfile::tempdir().unwrap();
        let (inputs, mut events) = uninterrupted(dir.path());
        let at = events
            .iter()
            .position(|e| e.payload.kind().name() == "order_filled")
            .expect("the walk trades");
        if let Event::OrderFilled(fill) = &mut events[at].payload {
            fill.avg_price = charon_events::Price(fill.avg_price.0 + rust_decimal::Decimal::ONE);
        }
        let altered = log_holding(dir.path(), "altered", &events[..=at]);
        let error = resume(&altered, &inputs).unwrap_err();
        let seq = events[at].seq;
        assert!(
            matches!(error, JournalError::Sink(SinkError::Diverged { seq: s }) if s == seq),
            "{error}"
        );
    }
}
