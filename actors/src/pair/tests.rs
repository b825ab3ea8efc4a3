//! The Pair run alone under the direct Journal: its inputs are market data and, standing in for
//! the Bot, the RiskSupervisor and the Exchange, hand-made state changes, fills, refusals,
//! position updates and force closes routed to its bot and symbol.

use std::cell::RefCell;
use std::rc::Rc;

use charon_events::payload::control::{BotState, BotStateChanged};
use charon_events::payload::market::{Aggressor, Bar, Interval, Trade};
use charon_events::payload::order::{
    Fill, Liquidity, OrderFilled, OrderIntent, OrderPurpose, OrderRejected, OrderType, OrderVetoed,
    PositionSide, PositionUpdated, Side, TimeInForce,
};
use charon_events::payload::risk::{ForceClose, RiskCheck, RiskRule, SignalAction, SignalSource};
use charon_events::{
    ActorId, BotId, ClientOrderId, Envelope, Event, EventKind, Money, Num, Origin, Rate, Seq,
    Timestamp,
};

use rust_decimal::Decimal;

use super::*;
use crate::config::{validate, Config, StrategyTemplate};
use crate::exchange::{GapFill, TakeProfitAt};
use crate::journal::{InputMode, Journal, MemorySink};
use crate::testkit::{btc, d, p, q};

/// A minute boundary that is also a five-minute boundary (epoch ms).
const BASE_MS: i64 = 1_700_000_100_000;
const MINUTE_MS: i64 = 60_000;

fn bot() -> BotId {
    BotId::new("b").unwrap()
}

/// Long when the close is above 100, out when it is below 90; short below 95 (perpetuals).
const TEMPLATE: &str = "name = \"t\"\n[long]\nentry = \"close > 100\"\nexit = \"close < 90\"\n\
                        [short]\nentry = \"close < 95\"\n";

/// Lets a test read the actor's state while the Journal owns it.
struct Shared(Rc<RefCell<Pair>>);

impl Actor for Shared {
    fn id(&self) -> ActorId {
        self.0.borrow().id()
    }
    fn concerns(&self, event: &Envelope) -> bool {
        self.0.borrow().concerns(event)
    }
    fn handle(&mut self, event: &Envelope, out: &mut Derived<'_>) {
        self.0.borrow_mut().handle(event, out)
    }
    fn snapshot(&self) -> Result<Vec<u8>, crate::journal::SnapshotError> {
        self.0.borrow().snapshot()
    }
    fn restore(&mut self, state: &[u8]) -> Result<(), crate::journal::SnapshotError> {
        self.0.borrow_mut().restore(state)
    }
}

struct Harness {
    journal: Journal<MemorySink>,
    pair: Rc<RefCell<Pair>>,
    /// Minutes of bars fed so far (the next 1m bar opens at BASE + minute).
    minute: i64,
    /// Time of the latest input (ms).
    now: i64,
}

impl Harness {
    /// A pair of bot `b` (capital 10000) configured by `pair` (TOML keys after the symbol).
    fn new(pair: &str, fill_at: FillAt) -> Self {
        match fill_at {
            // The default: `pair` may bring its own `[simulation]` table.
            FillAt::NextBarOpen => Self::simulating(pair, ""),
            FillAt::SameBarClose => Self::simulating(pair, "fill = \"same_bar_close\""),
        }
    }

    /// The same, with the `[simulation]` table's keys `simulation` (none when empty).
    fn simulating(pair: &str, simulation: &str) -> Self {
        let table = if simulation.is_empty() {
            String::new()
        } else {
            format!("\n[simulation]\n{simulation}\n")
        };
        let text = format!(
            "[[bot]]\nname = \"b\"\nquote = \"USDT\"\ninitial_capital = 10000\n\n\
             [[bot.pair]]\nsymbol = \"BTCUSDT\"\nstrategy = \"t.toml\"\n{pair}\n{table}"
        );
        let config: Config = toml::from_str(&text).unwrap();
        assert_eq!(validate(&config), [], "the test configuration is valid");
        let pair = config.bot[0].pair[0].clone();
        let template: StrategyTemplate = toml::from_str(TEMPLATE).unwrap();
        let setup = PairSetup {
            bot: bot(),
            timeframe: pair.timeframe_text().parse().unwrap(),
            timeframe_from_data: pair.timeframe.is_none(),
            rules: StrategyRules::new(&template).unwrap(),
            config: pair,
            initial_equity: Money(d("10000")),
            fill_at: config.simulation.fill,
            taker_fee: config.simulation.taker_fee(),
            intrabar: config.simulation.intrabar(),
            entry_on_exit_bar: config.simulation.entry_on_exit_bar(),
        };
        let shared = Rc::new(RefCell::new(Pair::new(setup).unwrap()));
        let journal = Journal::new(
            vec![Box::new(Shared(shared.clone()))],
            MemorySink::new(InputMode::Recorded),
        )
        .unwrap();
        Self {
            journal,
            pair: shared,
            minute: 0,
            now: BASE_MS,
        }
    }

    fn state(&self) -> PositionState {
        self.pair.borrow().state()
    }

    /// The seq the next input will get.
    fn next_seq(&self) -> Seq {
        self.journal.sink().events.len() as Seq + 1
    }

    /// Processes `input` and returns what it derived.
    fn input(&mut self, input: Envelope) -> Vec<Envelope> {
        let before = self.journal.sink().events.len();
        self.journal.process(input).unwrap();
        let events = &self.journal.sink().events;
        assert_eq!(events[before].origin, Origin::Input);
        events[before + 1..].to_vec()
    }

    /// A hand-made input at a fresh time (1 ms after the previous one).
    fn routed(&mut self, payload: Event) -> Vec<Envelope> {
        self.now += 1;
        let input = Envelope::input(Timestamp::from_millis(self.now), payload)
            .with_bot(bot())
            .with_pair(btc());
        self.input(input)
    }

    fn running(&mut self) -> Vec<Envelope> {
        self.now += 1;
        let changed = BotStateChanged {
            state: BotState::Running,
            reason: "test".into(),
        };
        let input = Envelope::input(
            Timestamp::from_millis(self.now),
            Event::BotStateChanged(changed),
        )
        .with_bot(bot());
        self.input(input)
    }

    /// The next 1-minute input bar, stamped at its close.
    fn bar(&mut self, open: &str, high: &str, low: &str, close: &str) -> Vec<Envelope> {
        let open_ms = BASE_MS + self.minute * MINUTE_MS;
        self.minute += 1;
        self.now = open_ms + MINUTE_MS;
        let bar = Bar {
            interval: Interval(60),
            open_time: Timestamp::from_millis(open_ms),
            open: p(open),
            high: p(high),
            low: p(low),
            close: p(close),
            volume: q("2"),
            trades: Some(3),
            closed: true,
        };
        let input =
            Envelope::input(Timestamp::from_millis(self.now), Event::Bar(bar)).with_pair(btc());
        self.input(input)
    }

    /// A flat 1-minute bar at `close`.
    fn close_at(&mut self, close: &str) -> Vec<Envelope> {
        self.bar(close, close, close, close)
    }

    fn trade(&mut self, at_ms: i64, price: &str, qty: &str) -> Vec<Envelope> {
        self.now = BASE_MS + at_ms;
        let trade = Trade {
            trade_id: at_ms as u64,
            price: p(price),
            qty: q(qty),
            aggressor: Aggressor::Buyer,
        };
        let input =
            Envelope::input(Timestamp::from_millis(self.now), Event::Trade(trade)).with_pair(btc());
        self.input(input)
    }

    fn filled(&mut self, order_id: ClientOrderId, side: Side, price: &str, qty: &str) {
        let filled = OrderFilled {
            fill: Fill {
                order_id,
                venue_trade_id: None,
                side,
                price: p(price),
                qty: q(qty),
                fee: Money::ZERO,
                liquidity: Liquidity::Taker,
            },
            cum_qty: q(qty),
            avg_price: p(price),
        };
        let derived = self.routed(Event::OrderFilled(filled));
        assert_eq!(derived, [], "a fill alone derives nothing");
    }

    fn position(&mut self, side: Option<PositionSide>, qty: &str, avg: &str) -> Vec<Envelope> {
        let update = PositionUpdated {
            side,
            qty: q(qty),
            avg_entry: p(avg),
            mark: p(avg),
            leverage: Rate(Decimal::ONE),
            liquidation_price: None,
            realized_pnl: Money::ZERO,
            unrealized_pnl: Money::ZERO,
            fees: Money::ZERO,
            funding: Money::ZERO,
        };
        self.routed(Event::PositionUpdated(update))
    }

    /// Running, entered long at the close of a bar at `decision` and filled at `price`: the
    /// position is open with `qty` at `price` (no stop or target reached on the way).
    fn open_long(&mut self, decision: &str, price: &str, qty: &str) -> ClientOrderId {
        self.open(PositionSide::Long, decision, price, qty)
    }

    /// As [`Harness::open_long`], on either side (a short needs a perpetual and a decision
    /// below 95).
    fn open(
        &mut self,
        side: PositionSide,
        decision: &str,
        price: &str,
        qty: &str,
    ) -> ClientOrderId {
        self.running();
        let derived = self.close_at(decision);
        let entry = intent(&derived[1]);
        let id = entry.order_id;
        let order_side = match side {
            PositionSide::Long => Side::Buy,
            PositionSide::Short => Side::Sell,
        };
        assert_eq!(entry.side, order_side);
        self.filled(id, order_side, price, qty);
        let derived = self.position(Some(side), qty, price);
        assert_eq!(derived, [], "nothing reached at the entry");
        assert_eq!(self.state(), PositionState::Open);
        id
    }

    /// The effective stop the pair checks, with the rule it belongs to.
    fn stop(&self) -> Option<(Price, RiskRule)> {
        let pair = self.pair.borrow();
        let held = pair.held.expect("a position");
        held.stop.map(|stop| (stop, held.stop_rule))
    }

    /// The take-profit target the pair checks.
    fn target(&self) -> Option<Price> {
        self.pair.borrow().held.expect("a position").target
    }

    /// The exit fills completely and the position is flat.
    fn closed(&mut self, exit: &OrderIntent, price: &str) {
        let qty = exit.qty.to_string();
        self.filled(exit.order_id, exit.side, price, &qty);
        assert_eq!(self.position(None, "0", "0"), []);
        assert_eq!(self.state(), PositionState::Flat);
    }
}

fn intent(event: &Envelope) -> &OrderIntent {
    match &event.payload {
        Event::OrderIntent(intent) => intent,
        other => panic!("expected an order intent, got {other:?}"),
    }
}

/// The exit intent of a layer-1 rule, after the signal naming the rule.
fn exit_intent<'a>(derived: &'a [Envelope], action: SignalAction, rule: &str) -> &'a OrderIntent {
    assert_eq!(
        kinds(derived),
        [EventKind::Signal, EventKind::OrderIntent],
        "{derived:#?}"
    );
    let Event::Signal(signal) = &derived[0].payload else {
        unreachable!()
    };
    assert_eq!(
        (signal.action, signal.source, signal.rule.as_str()),
        (action, SignalSource::Strategy, rule)
    );
    let exit = intent(&derived[1]);
    assert!(exit.reduce_only && exit.purpose == OrderPurpose::Exit);
    exit
}

fn kinds(events: &[Envelope]) -> Vec<EventKind> {
    events.iter().map(|event| event.payload.kind()).collect()
}

fn check(message: &str) -> RiskCheck {
    RiskCheck {
        rule: RiskRule::BotTakeProfit,
        threshold: Num(d("10")),
        observed: Num(d("10")),
        message: message.into(),
    }
}

fn force_close(message: &str) -> Event {
    Event::ForceClose(ForceClose {
        side: PositionSide::Long,
        check: check(message),
    })
}

fn order_id(cause: Seq, leg: u16) -> ClientOrderId {
    ClientOrderId {
        pair: btc(),
        cause,
        leg,
    }
}

#[test]
fn enters_long_only_while_the_bot_runs() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    // The entry rule holds (101 > 100), but the bot has not started.
    assert_eq!(h.close_at("101"), []);
    // A state change routed to a pair is not the bot's state.
    h.now += 1;
    let misrouted = Envelope::input(
        Timestamp::from_millis(h.now),
        Event::BotStateChanged(BotStateChanged {
            state: BotState::Running,
            reason: "misrouted".into(),
        }),
    )
    .with_bot(bot())
    .with_pair(btc());
    assert_eq!(h.input(misrouted), []);
    assert_eq!(h.close_at("101"), []);

    h.running();
    let seq = h.next_seq();
    let derived = h.close_at("101");
    assert_eq!(
        kinds(&derived),
        [EventKind::Signal, EventKind::OrderIntent],
        "{derived:#?}"
    );
    for event in &derived {
        assert_eq!(event.origin, Origin::Derived(ActorId::Pair(btc())));
        assert_eq!(event.cause, Some(seq));
        assert_eq!((event.bot, event.pair), (Some(bot()), Some(btc())));
    }
    let Event::Signal(signal) = &derived[0].payload else {
        unreachable!()
    };
    assert_eq!(signal.action, SignalAction::EnterLong);
    assert_eq!(signal.source, SignalSource::Strategy);
    assert_eq!(signal.rule, "long.entry");
    // 1000 USDT at 101: 9.900990099… rounded down to 8 places.
    let expected = OrderIntent {
        order_id: order_id(seq, 0),
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Gtc,
        qty: q("9.90099009"),
        expected_price: p("101"),
        leverage: Rate(Decimal::ONE),
        reduce_only: false,
        purpose: OrderPurpose::Entry,
        reason: "entry: t long.entry".into(),
    };
    assert_eq!(intent(&derived[1]), &expected);
    assert_eq!(h.state(), PositionState::Entering(order_id(seq, 0)));
}

#[test]
fn equity_pct_sizing_follows_the_bots_equity() {
    let mut h = Harness::new(
        "sizing = { per_trade = { equity_pct = 10 } }",
        FillAt::NextBarOpen,
    );
    h.running();
    h.now += 1;
    let equity = charon_events::payload::order::EquityUpdated {
        cash: Money(d("12000")),
        equity: Money(d("12000")),
        realized_pnl: Money(d("2000")),
        unrealized_pnl: Money::ZERO,
        fees: Money::ZERO,
        funding: Money::ZERO,
        peak_equity: Money(d("12000")),
        drawdown: Rate(Decimal::ZERO),
    };
    // The bot's equity update carries no pair.
    let input = Envelope::input(Timestamp::from_millis(h.now), Event::EquityUpdated(equity))
        .with_bot(bot());
    assert_eq!(h.input(input), []);
    let derived = h.close_at("150");
    // 10% of 12000 is 1200 USDT; at 150 that is exactly 8 (the initial 10000 would give 6.666…).
    assert_eq!(intent(&derived[1]).qty, q("8"));
}

#[test]
fn no_second_entry_while_entering_and_refusals_go_back_to_flat() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    h.running();
    let first = h.next_seq();
    let derived = h.close_at("101");
    let id = intent(&derived[1]).order_id;
    assert_eq!(id, order_id(first, 0));
    // The rule still holds, but an order is in flight.
    assert_eq!(h.close_at("102"), []);
    assert_eq!(h.state(), PositionState::Entering(id));

    // A refusal of some other order changes nothing.
    let other = order_id(first + 100, 0);
    let veto = |order_id| {
        Event::OrderVetoed(OrderVetoed {
            order_id,
            check: RiskCheck {
                rule: RiskRule::BotNotRunning,
                threshold: Num::ZERO,
                observed: Num::ZERO,
                message: "no".into(),
            },
        })
    };
    assert_eq!(h.routed(veto(other)), []);
    assert_eq!(h.state(), PositionState::Entering(id));

    // Vetoed: flat again, and the next bar enters anew with its own id.
    assert_eq!(h.routed(veto(id)), []);
    assert_eq!(h.state(), PositionState::Flat);
    let second = h.next_seq();
    let derived = h.close_at("103");
    assert_eq!(kinds(&derived), [EventKind::Signal, EventKind::OrderIntent]);
    let id = intent(&derived[1]).order_id;
    assert_eq!(id, order_id(second, 0));

    // Rejected by the exchange: flat again too.
    let rejected = OrderRejected {
        order_id: id,
        code: None,
        reason: "insufficient cash".into(),
    };
    assert_eq!(h.routed(Event::OrderRejected(rejected)), []);
    assert_eq!(h.state(), PositionState::Flat);
    let derived = h.close_at("104");
    assert_eq!(kinds(&derived), [EventKind::Signal, EventKind::OrderIntent]);
}

#[test]
fn the_entry_bar_is_checked_for_the_stop_once_the_fill_is_known() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2 }",
        FillAt::NextBarOpen,
    );
    h.running();
    let derived = h.close_at("101");
    let entry = intent(&derived[1]).clone();
    // The next bar opens at 100 (where the exchange fills the entry) and dips to 97.5.
    assert_eq!(h.bar("100", "101", "97.5", "99"), []);
    h.filled(entry.order_id, Side::Buy, "100", "9.90099009");
    let seq = h.next_seq();
    let derived = h.position(Some(PositionSide::Long), "9.90099009", "100");
    // Stop at 100·(1 − 2/100) = 98; the bar's low 97.5 reached it after an open above it, so
    // the exit fills at the stop itself.
    let exit = exit_intent(&derived, SignalAction::ExitLong, "stop_loss");

    assert_eq!(
        exit,
        &OrderIntent {
            order_id: order_id(seq, 0),
            side: Side::Sell,
            order_type: OrderType::StopMarket { trigger: p("98") },
            time_in_force: TimeInForce::Gtc,
            qty: q("9.90099009"),
            expected_price: p("98"),
            leverage: Rate(Decimal::ONE),
            reduce_only: true,
            purpose: OrderPurpose::Exit,
            reason: "exit: stop_loss 2% at 98".into(),
        }
    );
    assert_eq!(h.state(), PositionState::Exiting(exit.order_id));

    // The exit fills and the position is flat: the pair can enter again.
    h.filled(exit.order_id, Side::Sell, "98", "9.90099009");
    assert_eq!(h.state(), PositionState::Open);
    assert_eq!(h.position(None, "0", "0"), []);
    assert_eq!(h.state(), PositionState::Flat);
    let derived = h.close_at("101");
    assert_eq!(kinds(&derived), [EventKind::Signal, EventKind::OrderIntent]);
}

#[test]
fn same_bar_close_fills_do_not_check_the_bar_before_them() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2 }",
        FillAt::SameBarClose,
    );
    h.running();
    // The deciding bar dipped to 97 before closing at 101, where the entry fills.
    let derived = h.bar("100", "101.5", "97", "101");
    let entry = intent(&derived[1]).clone();
    h.filled(entry.order_id, Side::Buy, "101", "9.90099009");
    // Stop at 101·0.98 = 98.98, below the bar's low 97 — but that range lies before the fill.
    assert_eq!(
        h.position(Some(PositionSide::Long), "9.90099009", "101"),
        []
    );
    assert_eq!(h.state(), PositionState::Open);
    // The next bar that reaches it does stop the position.
    let derived = h.bar("100", "100", "98.5", "99");
    assert_eq!(
        exit_intent(&derived, SignalAction::ExitLong, "stop_loss").order_type,
        OrderType::StopMarket {
            trigger: p("98.98")
        }
    );
}

#[test]
fn a_gap_through_the_stop_exits_at_the_open() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2 }",
        FillAt::NextBarOpen,
    );
    h.open_long("101", "100", "10");
    // Stop 98: a bar between 98.5 and 101 leaves it alone.
    assert_eq!(h.bar("100", "101", "98.5", "99"), []);
    // The next bar opens at 96, through the stop: the exit expects the open, not the stop.
    let seq = h.next_seq();
    let derived = h.bar("96", "97", "95", "96.5");
    let exit = exit_intent(&derived, SignalAction::ExitLong, "stop_loss");

    assert_eq!(exit.order_id, order_id(seq, 0));
    assert_eq!(exit.order_type, OrderType::StopMarket { trigger: p("98") });
    assert_eq!(exit.expected_price, p("96"));
    assert_eq!((exit.side, exit.qty), (Side::Sell, q("10")));
    assert!(exit.reduce_only);
}

#[test]
fn take_profit_inside_a_bar() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2, take_profit_pct = 5 }",
        FillAt::NextBarOpen,
    );
    h.open_long("101", "100", "10");
    // Target 100·1.05 = 105: 104.99 is not it.
    assert_eq!(h.bar("101", "104.99", "99", "104"), []);
    let derived = h.bar("104", "105.5", "103", "104.5");
    let exit = exit_intent(&derived, SignalAction::ExitLong, "take_profit");

    assert_eq!(
        exit.order_type,
        OrderType::TakeProfitMarket { trigger: p("105") }
    );
    assert_eq!(exit.expected_price, p("105"));
    assert_eq!(exit.purpose, OrderPurpose::Exit);
    assert_eq!(exit.reason, "exit: take_profit 5% at 105");
    assert!(exit.reduce_only);
}

#[test]
fn an_exit_rule_closes_with_a_reduce_only_market_order() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    h.open_long("101", "100", "10");
    // 95 is neither an entry nor an exit (exit below 90).
    assert_eq!(h.close_at("95"), []);
    let seq = h.next_seq();
    let derived = h.close_at("89");
    assert_eq!(kinds(&derived), [EventKind::Signal, EventKind::OrderIntent]);
    let Event::Signal(signal) = &derived[0].payload else {
        unreachable!()
    };
    assert_eq!(
        (signal.action, signal.rule.as_str()),
        (SignalAction::ExitLong, "long.exit")
    );
    assert_eq!(
        intent(&derived[1]),
        &OrderIntent {
            order_id: order_id(seq, 0),
            side: Side::Sell,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Gtc,
            qty: q("10"),
            expected_price: p("89"),
            leverage: Rate(Decimal::ONE),
            reduce_only: true,
            purpose: OrderPurpose::Exit,
            reason: "exit: t long.exit".into(),
        }
    );
    // Nothing more is asked while the exit is in flight.
    assert_eq!(h.close_at("88"), []);
}

#[test]
fn add_ons_follow_the_trigger_move_and_respect_the_cap() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 }, max_position_quote = 1600 }\n\
         add_on = { max_adds = 3, trigger_move_pct = 1, size_pct = 50 }",
        FillAt::NextBarOpen,
    );
    // Filled with 10 at 100.
    h.open_long("100.5", "100", "10");
    // The first add needs 100·1.01 = 101.
    assert_eq!(h.close_at("100.5"), []);
    let seq = h.next_seq();
    let derived = h.close_at("101");
    assert_eq!(kinds(&derived), [EventKind::OrderIntent]);
    // 50% of the first entry's 10 is 5; the cap leaves 1600 − 10·101 = 590, 5.84 at 101.
    let add = intent(&derived[0]).clone();
    assert_eq!(
        add,
        OrderIntent {
            order_id: order_id(seq, 0),
            side: Side::Buy,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Gtc,
            qty: q("5"),
            expected_price: p("101"),
            leverage: Rate(Decimal::ONE),
            reduce_only: false,
            purpose: OrderPurpose::AddOn,
            reason: "add-on 1 of 3".into(),
        }
    );
    assert_eq!(h.state(), PositionState::Adding(add.order_id));
    assert_eq!(h.close_at("103"), [], "one order in flight at a time");

    // Filled at 101.2: the next add needs a further 1% from there, 101.2·1.01 = 102.212.
    h.filled(add.order_id, Side::Buy, "101.2", "5");
    // (1000 + 506) / 15 = 100.4.
    assert_eq!(h.position(Some(PositionSide::Long), "15", "100.4"), []);
    assert_eq!(h.close_at("102.2"), []);
    let derived = h.close_at("102.212");
    // 5 again before the cap; the cap leaves 1600 − 15·102.212 = 66.82, which at 102.212 is
    // 0.653739286972…, rounded down to 8 places.
    let add = intent(&derived[0]).clone();
    assert_eq!(add.qty, q("0.65373928"));
    assert_eq!(add.reason, "add-on 2 of 3");
    h.filled(add.order_id, Side::Buy, "102.212", "0.65373928");
    h.position(Some(PositionSide::Long), "15.65373928", "100.5");
    // A third add is allowed by max_adds, but the cap is full: 15.65…·104 > 1600.
    assert_eq!(h.close_at("104"), []);
    assert_eq!(h.state(), PositionState::Open);
}

#[test]
fn add_ons_stop_at_max_adds() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quantity = 2 } }\n\
         add_on = { max_adds = 1, trigger_move_pct = 1, size_pct = 25 }",
        FillAt::NextBarOpen,
    );
    h.open_long("101", "100", "2");
    let derived = h.close_at("101");
    // 25% of 2.
    let add = intent(&derived[0]).clone();
    assert_eq!(add.qty, q("0.5"));
    h.filled(add.order_id, Side::Buy, "101", "0.5");
    h.position(Some(PositionSide::Long), "2.5", "100.2");
    // Far past the next trigger (102.01), but one add was all.
    assert_eq!(h.close_at("120"), []);
}

#[test]
fn a_force_close_exits_an_open_position() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    h.open_long("101", "100", "10");
    assert_eq!(h.close_at("99"), []);
    let seq = h.next_seq();
    let derived = h.routed(force_close("equity target"));
    assert_eq!(kinds(&derived), [EventKind::OrderIntent]);
    let exit = intent(&derived[0]);
    assert_eq!(
        exit,
        &OrderIntent {
            order_id: order_id(seq, 0),
            side: Side::Sell,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Gtc,
            qty: q("10"),
            // The latest bar's close.
            expected_price: p("99"),
            leverage: Rate(Decimal::ONE),
            reduce_only: true,
            purpose: OrderPurpose::ForceClose,
            reason: "force close: equity target".into(),
        }
    );
    // A second force close while the first is in flight asks for nothing more.
    assert_eq!(h.routed(force_close("again")), []);
}

#[test]
fn a_force_close_while_entering_waits_for_the_fill() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2 }",
        FillAt::NextBarOpen,
    );
    h.running();
    let derived = h.close_at("101");
    let entry = intent(&derived[1]).clone();
    assert_eq!(h.routed(force_close("stop the bot")), []);
    assert_eq!(h.state(), PositionState::Entering(entry.order_id));
    // The entry fills at the open of a bar that also reaches the stop (98): the force close
    // comes first, as a market order.
    assert_eq!(h.bar("100", "100", "97", "98.5"), []);
    h.filled(entry.order_id, Side::Buy, "100", "9.90099009");
    let seq = h.next_seq();
    let derived = h.position(Some(PositionSide::Long), "9.90099009", "100");
    assert_eq!(kinds(&derived), [EventKind::OrderIntent], "{derived:#?}");
    let exit = intent(&derived[0]);
    assert_eq!(exit.order_id, order_id(seq, 0));
    assert_eq!(exit.order_type, OrderType::Market);
    assert_eq!(exit.purpose, OrderPurpose::ForceClose);
    assert_eq!(exit.reason, "force close: stop the bot");
    assert_eq!((exit.side, exit.qty), (Side::Sell, q("9.90099009")));
    assert_eq!(exit.expected_price, p("98.5"));
    assert_eq!(h.state(), PositionState::Exiting(exit.order_id));
}

#[test]
fn a_force_close_is_dropped_when_the_entry_is_refused() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    h.running();
    let derived = h.close_at("101");
    let entry = intent(&derived[1]).clone();
    h.routed(force_close("stop the bot"));
    let rejected = OrderRejected {
        order_id: entry.order_id,
        code: None,
        reason: "no".into(),
    };
    h.routed(Event::OrderRejected(rejected));
    assert_eq!(h.state(), PositionState::Flat);
    // A later entry that fills is not closed by the stale request.
    let derived = h.close_at("102");
    let entry = intent(&derived[1]).clone();
    h.filled(entry.order_id, Side::Buy, "102", "9.80392156");
    assert_eq!(
        h.position(Some(PositionSide::Long), "9.80392156", "102"),
        []
    );
    assert_eq!(h.state(), PositionState::Open);
}

#[test]
fn trades_are_aggregated_into_bars_of_the_timeframe() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    h.running();
    for (at_ms, price) in [(0, "100"), (20_000, "102"), (40_000, "99"), (59_999, "101")] {
        assert_eq!(h.trade(at_ms, price, "0.5"), [], "the minute is not over");
    }
    // The first trade of the next minute completes the bar of the first.
    let seq = h.next_seq();
    let derived = h.trade(60_000, "101.5", "0.5");
    assert_eq!(
        kinds(&derived),
        [EventKind::Bar, EventKind::Signal, EventKind::OrderIntent],
        "{derived:#?}"
    );
    assert_eq!(derived[0].origin, Origin::Derived(ActorId::Pair(btc())));
    assert_eq!(derived[0].cause, Some(seq));
    assert_eq!(
        derived[0].payload,
        Event::Bar(Bar {
            interval: Interval(60),
            open_time: Timestamp::from_millis(BASE_MS),
            open: p("100"),
            high: p("102"),
            low: p("99"),
            close: p("101"),
            volume: q("2.0"),
            trades: Some(4),
            closed: true,
        })
    );
    // Evaluated at the bar's close (101 > 100), not at the trade that revealed it.
    assert_eq!(intent(&derived[2]).expected_price, p("101"));
}

#[test]
fn one_minute_bars_are_resampled_to_the_timeframe() {
    let mut h = Harness::new(
        "timeframe = \"5m\"\nsizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    h.running();
    // Every close is above 100, but the rules run on 5m bars only.
    assert_eq!(h.bar("101", "103", "100.5", "102"), []);
    assert_eq!(h.bar("102", "106", "101", "105"), []);
    assert_eq!(h.bar("105", "105", "98", "99"), []);
    assert_eq!(h.bar("99", "104", "99", "103"), []);
    let derived = h.bar("103", "104", "102", "104");
    assert_eq!(
        kinds(&derived),
        [EventKind::Bar, EventKind::Signal, EventKind::OrderIntent],
        "{derived:#?}"
    );
    // Open of the first, high and low over all five, close of the last, volumes summed.
    assert_eq!(
        derived[0].payload,
        Event::Bar(Bar {
            interval: Interval(300),
            open_time: Timestamp::from_millis(BASE_MS),
            open: p("101"),
            high: p("106"),
            low: p("98"),
            close: p("104"),
            volume: q("10"),
            trades: Some(15),
            closed: true,
        })
    );
    assert_eq!(intent(&derived[2]).expected_price, p("104"));
}

#[test]
fn unusable_bars_are_reported_once() {
    let mut h = Harness::new(
        "timeframe = \"30s\"\nsizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    // 1m bars cannot make 30s bars.
    let derived = h.close_at("101");
    assert_eq!(kinds(&derived), [EventKind::Alert], "{derived:#?}");
    assert_eq!(h.close_at("101"), []);
}

#[test]
fn input_bars_stop_trade_aggregation() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    h.close_at("95");
    // The same trades that make a bar without input bars (see above) make none now.
    for (at_ms, price) in [(60_001, "100"), (90_000, "102"), (120_000, "101")] {
        assert_eq!(h.trade(at_ms, price, "0.5"), []);
    }
}

#[test]
fn trades_move_stops_even_with_bar_data() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2 }",
        FillAt::NextBarOpen,
    );
    h.open_long("101", "100", "10");
    assert_eq!(h.trade(2 * MINUTE_MS, "98.01", "1"), []);
    let derived = h.trade(2 * MINUTE_MS + 1, "97.9", "1");
    let exit = exit_intent(&derived, SignalAction::ExitLong, "stop_loss");
    // A trade through the stop is a gap: it exits at the trade's price.
    assert_eq!(exit.order_type, OrderType::StopMarket { trigger: p("98") });
    assert_eq!(exit.expected_price, p("97.9"));
}

#[test]
fn short_entries_only_on_perpetuals() {
    let mut spot = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }",
        FillAt::NextBarOpen,
    );
    spot.running();
    assert_eq!(spot.close_at("94"), []);

    let mut perp = Harness::new(
        "market = \"perpetual\"\nleverage = 3\nsizing = { per_trade = { quote = 940 } }\n\
         exits = { stop_loss_pct = 2, take_profit_pct = 4 }",
        FillAt::NextBarOpen,
    );
    perp.running();
    let derived = perp.close_at("94");
    assert_eq!(kinds(&derived), [EventKind::Signal, EventKind::OrderIntent]);
    let entry = intent(&derived[1]).clone();
    assert_eq!(entry.side, Side::Sell);
    assert_eq!(entry.qty, q("10"));
    assert_eq!(entry.leverage, Rate(d("3")));
    assert!(!entry.reduce_only);
    // A short's stop is above (100·1.02 = 102) and its target below (100·0.96 = 96); the bar
    // whose open fills the entry reaches neither.
    assert_eq!(perp.bar("100", "100.5", "99.5", "100"), []);
    perp.filled(entry.order_id, Side::Sell, "100", "10");
    assert_eq!(perp.position(Some(PositionSide::Short), "10", "100"), []);
    let derived = perp.bar("99", "101", "95.5", "96");
    let exit = exit_intent(&derived, SignalAction::ExitShort, "take_profit");
    assert_eq!(
        exit.order_type,
        OrderType::TakeProfitMarket { trigger: p("96") }
    );
    assert_eq!((exit.side, exit.reduce_only), (Side::Buy, true));
}

#[test]
fn a_refused_add_on_hands_its_bar_back_to_the_stop_check() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\nexits = { stop_loss_pct = 2 }\n\
         add_on = { max_adds = 1, trigger_move_pct = 1, size_pct = 50 }",
        FillAt::NextBarOpen,
    );
    // Long 10 at 100: the stop is at 98.
    h.open_long("100.5", "100", "10");
    let derived = h.close_at("101");
    let add = intent(&derived[0]).clone();
    assert_eq!(add.purpose, OrderPurpose::AddOn);
    // While the add is in flight a bar trades through the stop: nothing is asked yet.
    assert_eq!(h.bar("100", "100", "97", "99"), []);
    // The add is rejected at its fill: that bar's range is checked now.
    let rejected = OrderRejected {
        order_id: add.order_id,
        code: None,
        reason: "insufficient margin".into(),
    };
    let derived = h.routed(Event::OrderRejected(rejected));
    let exit = exit_intent(&derived, SignalAction::ExitLong, "stop_loss");

    assert_eq!(exit.order_type, OrderType::StopMarket { trigger: p("98") });
    assert_eq!(
        (exit.side, exit.qty, exit.reduce_only),
        (Side::Sell, q("10"), true)
    );
    assert_eq!(h.state(), PositionState::Exiting(exit.order_id));
}

// Risk layer 1: the exit rules (`exits` table, `super::exits`).

/// Long 10 at 100 (decided at the close of a flat bar at 101) with the `exits` keys given, on
/// `market`, default fees (taker 0.05%).
fn long_on(market: &str, exits: &str) -> Harness {
    let mut h = Harness::new(
        &format!(
            "market = \"{market}\"\nsizing = {{ per_trade = {{ quote = 1000 }} }}\n\
             exits = {{ {exits} }}"
        ),
        FillAt::NextBarOpen,
    );
    h.open_long("101", "100", "10");
    h
}

fn long_with(exits: &str) -> Harness {
    long_on("spot", exits)
}

/// Short 10 at 100 on a perpetual (decided at the close of a flat bar at 94).
fn short_with(exits: &str) -> Harness {
    let mut h = Harness::new(
        &format!(
            "market = \"perpetual\"\nsizing = {{ per_trade = {{ quote = 1000 }} }}\n\
             exits = {{ {exits} }}"
        ),
        FillAt::NextBarOpen,
    );
    h.open(PositionSide::Short, "94", "100", "10");
    h
}

impl Harness {
    /// A small trade 1 ms after the latest input: a market input that reaches no level in
    /// these tests, so the bar closed before it is folded into the levels.
    fn nudge(&mut self, price: &str) {
        let at = self.now + 1 - BASE_MS;
        assert_eq!(
            self.trade(at, price, "0.001"),
            [],
            "the nudge at {price} exits"
        );
    }
}

/// A stop-type exit: the signal names `rule`, the order triggers at `level` and is expected
/// to fill at `fill`.
fn assert_stopped(derived: &[Envelope], side: PositionSide, rule: &str, level: &str, fill: &str) {
    let action = match side {
        PositionSide::Long => SignalAction::ExitLong,
        PositionSide::Short => SignalAction::ExitShort,
    };
    let exit = exit_intent(derived, action, rule);
    let order_type = match rule {
        "take_profit" => OrderType::TakeProfitMarket { trigger: p(level) },
        _ => OrderType::StopMarket { trigger: p(level) },
    };
    assert_eq!(exit.order_type, order_type);
    assert_eq!(exit.expected_price, p(fill));
    let closing = match side {
        PositionSide::Long => Side::Sell,
        PositionSide::Short => Side::Buy,
    };
    assert_eq!((exit.side, exit.qty), (closing, q("10")));
    if !matches!(rule, "stop_loss" | "take_profit") {
        assert_eq!(exit.reason, format!("exit: {rule} at {level}"));
    }
}

#[test]
fn stop_loss_and_take_profit_at_their_boundaries() {
    // Long at 100: stop 100·0.98 = 98, target 100·1.05 = 105.
    let long = || long_with("stop_loss_pct = 2, take_profit_pct = 5");
    let h = long();
    assert_eq!(h.stop(), Some((p("98"), RiskRule::StopLoss)));
    assert_eq!(h.target(), Some(p("105")));
    assert_eq!(long().bar("100", "104.99", "98.01", "100"), []);
    let derived = long().bar("100", "101", "98", "99");
    assert_stopped(&derived, PositionSide::Long, "stop_loss", "98", "98");
    assert_eq!(intent(&derived[1]).reason, "exit: stop_loss 2% at 98");
    assert_stopped(
        &long().bar("100", "101", "97.99", "99"),
        PositionSide::Long,
        "stop_loss",
        "98",
        "98",
    );
    let derived = long().bar("100", "105", "99", "104");
    assert_stopped(&derived, PositionSide::Long, "take_profit", "105", "105");
    assert_eq!(intent(&derived[1]).reason, "exit: take_profit 5% at 105");
    assert_stopped(
        &long().bar("100", "105.01", "99", "104"),
        PositionSide::Long,
        "take_profit",
        "105",
        "105",
    );

    // Short at 100: stop 100·1.02 = 102, target 100·0.9 = 90.
    let short = || short_with("stop_loss_pct = 2, take_profit_pct = 10");
    let h = short();
    assert_eq!(h.stop(), Some((p("102"), RiskRule::StopLoss)));
    assert_eq!(h.target(), Some(p("90")));
    assert_eq!(short().bar("100", "101.99", "90.01", "100"), []);
    for high in ["102", "102.01"] {
        let derived = short().bar("100", high, "99", "101");
        assert_stopped(&derived, PositionSide::Short, "stop_loss", "102", "102");
    }
    for low in ["90", "89.99"] {
        let derived = short().bar("100", "101", low, "95");
        assert_stopped(&derived, PositionSide::Short, "take_profit", "90", "90");
    }
}

#[test]
fn trailing_stop_follows_the_best_price_and_never_loosens() {
    let ratcheted = || {
        let mut h = long_with("trailing_stop_pct = 1");
        // Without activation it trails from the entry: 100·0.99 = 99.
        assert_eq!(h.stop(), Some((p("99"), RiskRule::TrailingStop)));
        // A high of 102 moves it to 102·0.99 = 100.98, but only from the next input on: this
        // bar's own low (99.5, after or before its high: unknown) is checked against 99.
        assert_eq!(h.bar("100", "102", "99.5", "101.5"), []);
        assert_eq!(h.stop(), Some((p("99"), RiskRule::TrailingStop)));
        // A lower high does not pull it back (the best price stays 102).
        assert_eq!(h.bar("101.5", "101.5", "101", "101"), []);
        assert_eq!(h.stop(), Some((p("100.98"), RiskRule::TrailingStop)));
        h.nudge("101");
        assert_eq!(h.stop(), Some((p("100.98"), RiskRule::TrailingStop)));
        h
    };
    assert_eq!(ratcheted().bar("101", "101", "100.99", "101"), []);
    for low in ["100.98", "100.97"] {
        let derived = ratcheted().bar("101", "101", low, "101");
        assert_stopped(
            &derived,
            PositionSide::Long,
            "trailing_stop",
            "100.98",
            "100.98",
        );
    }
    // A gap through it exits at the open.
    let derived = ratcheted().bar("100", "100.5", "99", "100");
    assert_stopped(
        &derived,
        PositionSide::Long,
        "trailing_stop",
        "100.98",
        "100",
    );

    // Short: from 100·1.01 = 101, then a low of 98 brings it to 98·1.01 = 98.98.
    let ratcheted = || {
        let mut h = short_with("trailing_stop_pct = 1");
        assert_eq!(h.stop(), Some((p("101"), RiskRule::TrailingStop)));
        assert_eq!(h.bar("100", "100.5", "98", "98.5"), []);
        assert_eq!(h.bar("98.5", "98.9", "98.5", "98.8"), []);
        assert_eq!(h.stop(), Some((p("98.98"), RiskRule::TrailingStop)));
        h
    };
    assert_eq!(ratcheted().bar("98.8", "98.97", "98.5", "98.9"), []);
    for high in ["98.98", "98.99"] {
        let derived = ratcheted().bar("98.8", high, "98.5", "98.9");
        assert_stopped(
            &derived,
            PositionSide::Short,
            "trailing_stop",
            "98.98",
            "98.98",
        );
    }
}

#[test]
fn trailing_starts_at_its_activation_profit() {
    // Long at 100, active once a high reaches 100·1.02 = 102, then 1% behind the best high.
    let trailing = |high: &str| {
        let mut h = long_with("trailing_stop_pct = 1, trailing_activation_pct = 2");
        assert_eq!(h.stop(), None);
        assert_eq!(h.bar("100", high, "100", "101.5"), []);
        h.nudge("101.5");
        h.stop()
    };
    assert_eq!(trailing("101.99"), None);
    // 102·0.99 = 100.98; 102.01·0.99 = 100.9899.
    assert_eq!(trailing("102"), Some((p("100.98"), RiskRule::TrailingStop)));
    assert_eq!(
        trailing("102.01"),
        Some((p("100.9899"), RiskRule::TrailingStop))
    );

    // Short: active at a low of 98; 98·1.01 = 98.98, 97.99·1.01 = 98.9699.
    let trailing = |low: &str| {
        let mut h = short_with("trailing_stop_pct = 1, trailing_activation_pct = 2");
        assert_eq!(h.bar("100", "100", low, "98.5"), []);
        h.nudge("98.5");
        h.stop()
    };
    assert_eq!(trailing("98.01"), None);
    assert_eq!(trailing("98"), Some((p("98.98"), RiskRule::TrailingStop)));
    assert_eq!(
        trailing("97.99"),
        Some((p("98.9699"), RiskRule::TrailingStop))
    );
}

#[test]
fn break_even_covers_the_round_trips_fees() {
    // Long at 100, armed by a high of 100·1.01 = 101; the stop is the entry plus two taker
    // fees of 0.05%: 100·(1 + 2·0.0005) = 100.1.
    let armed = |high: &str| {
        let mut h = long_with("break_even_after_pct = 1");
        assert_eq!(h.bar("100", high, "100.2", "100.5"), []);
        h.nudge("100.5");
        (h.stop(), h)
    };
    assert_eq!(armed("100.99").0, None);
    let be = Some((p("100.1"), RiskRule::BreakEven));
    assert_eq!(armed("101.01").0, be);
    let (stop, mut h) = armed("101");
    assert_eq!(stop, be);
    assert_eq!(h.bar("100.5", "100.5", "100.11", "100.3"), []);
    let derived = h.bar("100.3", "100.3", "100.1", "100.2");
    assert_stopped(&derived, PositionSide::Long, "break_even", "100.1", "100.1");
    assert_eq!(intent(&derived[1]).reason, "exit: break_even at 100.1");

    // With a taker fee of 0.1%: 100·1.002 = 100.2.
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\nexits = { break_even_after_pct = 1 }\n\
         [simulation]\ntaker_fee_pct = 0.1",
        FillAt::NextBarOpen,
    );
    h.open_long("101", "100", "10");
    assert_eq!(h.bar("100", "101", "100.3", "100.5"), []);
    h.nudge("100.5");
    assert_eq!(h.stop(), Some((p("100.2"), RiskRule::BreakEven)));

    // Short at 100: armed by a low of 99; the stop 100·(1 − 0.001) = 99.9.
    let armed = |low: &str| {
        let mut h = short_with("break_even_after_pct = 1");
        assert_eq!(h.bar("100", "100", low, "99.5"), []);
        h.nudge("99.5");
        h.stop()
    };
    assert_eq!(armed("99.01"), None);
    assert_eq!(armed("99"), Some((p("99.9"), RiskRule::BreakEven)));
    assert_eq!(armed("98.99"), Some((p("99.9"), RiskRule::BreakEven)));
}

/// Two bars of true range 3 before the entry (at 101 for a long, 94 for a short), whose flat
/// deciding bar has a true range of 3 too: ATR(3) = (3 + 3 + 3)/3 = 3 once that bar is folded
/// in, at the first input after the entry.
fn after_an_atr_of_3(side: PositionSide, exits: &str) -> Harness {
    let market = match side {
        PositionSide::Long => "spot",
        PositionSide::Short => "perpetual",
    };
    let mut h = Harness::new(
        &format!(
            "market = \"{market}\"\nsizing = {{ per_trade = {{ quote = 1000 }} }}\n\
             exits = {{ {exits} }}"
        ),
        FillAt::NextBarOpen,
    );
    match side {
        PositionSide::Long => {
            // TR 101 − 98 = 3; then max(3, |101 − 99|, |98 − 99|) = 3; then the flat bar at
            // 101 after a close of 98: max(0, 3, 3) = 3.
            h.bar("99", "101", "98", "99");
            h.bar("99", "101", "98", "98");
            h.open_long("101", "101", "10");
        }
        PositionSide::Short => {
            // TR 97 − 94 = 3; max(3, |97 − 96|, |94 − 96|) = 3; flat 94 after 97: 3.
            h.bar("96", "97", "94", "96");
            h.bar("96", "97", "94", "97");
            h.open(PositionSide::Short, "94", "94", "10");
        }
    }
    // The ATR has seen two bars only: no ATR level yet.
    assert_eq!(h.stop(), None);
    h
}

#[test]
fn chandelier_exit_trails_the_best_price_by_k_atr() {
    let exits = "chandelier_atr_mult = 2, chandelier_atr_period = 3";
    let ratcheted = || {
        let mut h = after_an_atr_of_3(PositionSide::Long, exits);
        // At this bar's input: ATR 3, best 101 (the entry), 101 − 2·3 = 95.
        assert_eq!(h.bar("101", "104", "101", "103"), []);
        assert_eq!(h.stop(), Some((p("95"), RiskRule::Chandelier)));
        // Its TR max(3, |104 − 101|, |101 − 101|) = 3 keeps the ATR at 3; best 104: 98.
        h.nudge("103");
        assert_eq!(h.stop(), Some((p("98"), RiskRule::Chandelier)));
        h
    };
    let mut h = ratcheted();
    assert_eq!(h.bar("103", "103.5", "98.01", "99"), []);
    // That bar's TR max(5.49, 0.5, 4.99) = 5.49 raises the ATR to (2·3 + 5.49)/3 = 3.83:
    // 104 − 7.66 = 96.34, looser than 98, which stays.
    h.nudge("99");
    assert_eq!(h.stop(), Some((p("98"), RiskRule::Chandelier)));
    for low in ["98", "97.99"] {
        let derived = ratcheted().bar("103", "103", low, "99");
        assert_stopped(&derived, PositionSide::Long, "chandelier", "98", "98");
        assert_eq!(intent(&derived[1]).reason, "exit: chandelier at 98");
    }

    // Short at 94: 94 + 2·3 = 100; a low of 91 (TR max(3, 0, 3) = 3): 91 + 6 = 97.
    let ratcheted = || {
        let mut h = after_an_atr_of_3(PositionSide::Short, exits);
        assert_eq!(h.bar("94", "94", "91", "92"), []);
        assert_eq!(h.stop(), Some((p("100"), RiskRule::Chandelier)));
        h.nudge("92");
        assert_eq!(h.stop(), Some((p("97"), RiskRule::Chandelier)));
        h
    };
    assert_eq!(ratcheted().bar("92", "96.99", "92", "95"), []);
    for high in ["97", "97.01"] {
        let derived = ratcheted().bar("92", high, "92", "95");
        assert_stopped(&derived, PositionSide::Short, "chandelier", "97", "97");
    }
}

#[test]
fn volatility_exit_is_k_atr_against_the_entry() {
    let exits = "volatility_atr_mult = 2, volatility_atr_period = 3";
    // Long at 101 with an ATR of 3: 101 − 2·3 = 95, from the first input after the entry.
    let mut h = after_an_atr_of_3(PositionSide::Long, exits);
    assert_eq!(h.bar("101", "106", "95.01", "100"), []);
    assert_eq!(h.stop(), Some((p("95"), RiskRule::VolatilityExit)));
    // TR max(10.99, 5, 5.99) = 10.99: ATR (6 + 10.99)/3 = 5.6633…, 101 − 11.3266… = 89.67…:
    // the level does not loosen.
    h.nudge("100");
    assert_eq!(h.stop(), Some((p("95"), RiskRule::VolatilityExit)));
    for low in ["95", "94.99"] {
        let mut h = after_an_atr_of_3(PositionSide::Long, exits);
        let derived = h.bar("101", "102", low, "100");
        assert_stopped(&derived, PositionSide::Long, "volatility_exit", "95", "95");
        assert_eq!(intent(&derived[1]).reason, "exit: volatility_exit at 95");
    }

    // Short at 94: 94 + 6 = 100.
    let mut h = after_an_atr_of_3(PositionSide::Short, exits);
    assert_eq!(h.bar("94", "99.99", "93", "96"), []);
    for high in ["100", "100.01"] {
        let mut h = after_an_atr_of_3(PositionSide::Short, exits);
        let derived = h.bar("94", high, "93", "96");
        assert_stopped(
            &derived,
            PositionSide::Short,
            "volatility_exit",
            "100",
            "100",
        );
    }
}

/// A market exit of a rule evaluated at a bar's close, expected at that close.
fn assert_closed_at_market(
    derived: &[Envelope],
    action: SignalAction,
    rule: &str,
    close: &str,
    reason: &str,
) {
    let exit = exit_intent(derived, action, rule);
    assert_eq!(exit.order_type, OrderType::Market);
    assert_eq!(exit.expected_price, p(close));
    assert_eq!(exit.qty, q("10"));
    assert_eq!(exit.reason, reason);
}

#[test]
fn time_stop_after_max_bars() {
    let mut h = long_with("max_bars = 2");
    // The deciding bar closed before the fill: not held.
    assert_eq!(h.close_at("101"), []);
    let derived = h.close_at("102");
    let reason = "exit: time_stop max_bars 2";
    assert_closed_at_market(&derived, SignalAction::ExitLong, "time_stop", "102", reason);

    let mut h = short_with("max_bars = 2");
    assert_eq!(h.close_at("94"), []);
    let derived = h.close_at("93");
    assert_closed_at_market(&derived, SignalAction::ExitShort, "time_stop", "93", reason);
}

#[test]
fn time_stop_after_max_duration() {
    let config = "sizing = { per_trade = { quote = 1000 } }\nexits = { max_duration = \"3m\" }";
    // Filled exactly at the deciding bar's close (T): bars close at T + 1m, 2m, 3m.
    let mut h = Harness::new(config, FillAt::NextBarOpen);
    h.running();
    let derived = h.close_at("101");
    let entry = intent(&derived[1]).clone();
    h.now -= 1;
    h.filled(entry.order_id, Side::Buy, "100", "10");
    assert_eq!(h.position(Some(PositionSide::Long), "10", "100"), []);
    assert_eq!(h.close_at("101"), []);
    assert_eq!(h.close_at("101"), []);
    let derived = h.close_at("102");
    let reason = "exit: time_stop max_duration 3m";
    assert_closed_at_market(&derived, SignalAction::ExitLong, "time_stop", "102", reason);

    // Filled 1 ms after the close: 3m − 1ms held at the third bar, 4m − 1ms at the fourth.
    let mut h = Harness::new(config, FillAt::NextBarOpen);
    h.open_long("101", "100", "10");
    for _ in 0..3 {
        assert_eq!(h.close_at("101"), []);
    }
    let derived = h.close_at("103");
    assert_closed_at_market(&derived, SignalAction::ExitLong, "time_stop", "103", reason);

    // A short, filled exactly at the close.
    let mut h = Harness::new(
        &format!("market = \"perpetual\"\n{config}"),
        FillAt::NextBarOpen,
    );
    h.running();
    let derived = h.close_at("94");
    let entry = intent(&derived[1]).clone();
    h.now -= 1;
    h.filled(entry.order_id, Side::Sell, "94", "10");
    assert_eq!(h.position(Some(PositionSide::Short), "10", "94"), []);
    assert_eq!(h.close_at("94"), []);
    assert_eq!(h.close_at("94"), []);
    let derived = h.close_at("93");
    assert_closed_at_market(&derived, SignalAction::ExitShort, "time_stop", "93", reason);
}

#[test]
fn signal_flip_closes_on_the_opposite_entry_signal() {
    // Without signal_flip, a long ignores the short entry (94 < 95).
    let mut h = long_on("perpetual", "stop_loss_pct = 10");
    assert_eq!(h.close_at("94"), []);

    // With it, the short entry closes the long at market; it does not open the short.
    let mut h = long_on("perpetual", "signal_flip = true");
    let derived = h.close_at("94");
    let reason = "exit: signal_flip t short.entry";
    assert_closed_at_market(
        &derived,
        SignalAction::ExitLong,
        "signal_flip",
        "94",
        reason,
    );
    let exit = intent(&derived[1]).clone();
    assert_eq!(h.close_at("94"), [], "the exit is in flight");
    h.closed(&exit, "94");
    // A later short entry signal enters (a perpetual).
    let derived = h.close_at("94");
    assert_eq!(kinds(&derived), [EventKind::Signal, EventKind::OrderIntent]);
    assert_eq!(intent(&derived[1]).side, Side::Sell);
    assert_eq!(intent(&derived[1]).purpose, OrderPurpose::Entry);

    // The template's own exit rule comes first (89 < 90 is both long.exit and short.entry).
    let mut h = long_on("perpetual", "signal_flip = true");
    let derived = h.close_at("89");
    let exit = exit_intent(&derived, SignalAction::ExitLong, "long.exit");
    assert_eq!(exit.reason, "exit: t long.exit");

    // A short is closed by the long entry (101 > 100).
    let mut h = short_with("signal_flip = true");
    assert_eq!(h.close_at("99"), []);
    let derived = h.close_at("101");
    let reason = "exit: signal_flip t long.entry";
    assert_closed_at_market(
        &derived,
        SignalAction::ExitShort,
        "signal_flip",
        "101",
        reason,
    );

    // On spot, the short entry closes a long too, but never opens a short.
    let mut h = long_with("signal_flip = true");
    let derived = h.close_at("94");
    let reason = "exit: signal_flip t short.entry";
    assert_closed_at_market(
        &derived,
        SignalAction::ExitLong,
        "signal_flip",
        "94",
        reason,
    );
    let exit = intent(&derived[1]).clone();
    h.closed(&exit, "94");
    assert_eq!(h.close_at("94"), []);
    assert_eq!(h.state(), PositionState::Flat);
}

#[test]
fn the_tightest_stop_wins_and_the_exit_names_its_rule() {
    // Long at 100: stop-loss 98, trailing 100·0.97 = 97; the stop-loss is tighter.
    let mut h = long_with("stop_loss_pct = 2, trailing_stop_pct = 3, break_even_after_pct = 1");
    assert_eq!(h.stop(), Some((p("98"), RiskRule::StopLoss)));
    // A high of 101 arms the break-even stop (100.1) and trails to 101·0.97 = 97.97.
    assert_eq!(h.bar("100", "101", "99", "100.5"), []);
    h.nudge("100.5");
    assert_eq!(h.stop(), Some((p("100.1"), RiskRule::BreakEven)));
    // A high of 104 trails to 104·0.97 = 100.88, above the break-even stop.
    assert_eq!(h.bar("100.5", "104", "100.2", "103"), []);
    h.nudge("103");
    assert_eq!(h.stop(), Some((p("100.88"), RiskRule::TrailingStop)));
    let derived = h.bar("103", "103", "100", "101");
    assert_stopped(
        &derived,
        PositionSide::Long,
        "trailing_stop",
        "100.88",
        "100.88",
    );

    // Short at 94: stop-loss 94·1.02 = 95.88; volatility 94 + 0.5·3 = 95.5 is tighter once
    // the ATR is known.
    let exits = "stop_loss_pct = 2, volatility_atr_mult = 0.5, volatility_atr_period = 3";
    let mut h = Harness::new(
        &format!(
            "market = \"perpetual\"\nsizing = {{ per_trade = {{ quote = 1000 }} }}\n\
             exits = {{ {exits} }}"
        ),
        FillAt::NextBarOpen,
    );
    h.bar("96", "97", "94", "96");
    h.bar("96", "97", "94", "97");
    h.open(PositionSide::Short, "94", "94", "10");
    assert_eq!(h.stop(), Some((p("95.88"), RiskRule::StopLoss)));
    h.nudge("94");
    assert_eq!(h.stop(), Some((p("95.5"), RiskRule::VolatilityExit)));
    let derived = h.bar("94", "95.6", "94", "95");
    assert_stopped(
        &derived,
        PositionSide::Short,
        "volatility_exit",
        "95.5",
        "95.5",
    );
}

#[test]
fn exit_state_resets_when_the_position_is_flat() {
    let mut h = long_with("trailing_stop_pct = 1");
    assert_eq!(h.bar("100", "110", "100", "109"), []);
    h.nudge("109");
    // 110·0.99 = 108.9.
    assert_eq!(h.stop(), Some((p("108.9"), RiskRule::TrailingStop)));
    let derived = h.bar("109", "109", "108", "108.5");
    let exit = exit_intent(&derived, SignalAction::ExitLong, "trailing_stop").clone();
    h.closed(&exit, "108.9");
    // Re-entered at 100: the trail starts again from the new entry, 99.
    h.open_long("101", "100", "10");
    assert_eq!(h.stop(), Some((p("99"), RiskRule::TrailingStop)));
}

#[test]
fn add_ons_recompute_the_entry_relative_levels() {
    let mut h = Harness::new(
        "sizing = { per_trade = { quote = 1000 } }\n\
         exits = { stop_loss_pct = 2, break_even_after_pct = 0.5 }\n\
         add_on = { max_adds = 1, trigger_move_pct = 1, size_pct = 50 }",
        FillAt::NextBarOpen,
    );
    h.open_long("100.5", "100", "10");
    assert_eq!(h.stop(), Some((p("98"), RiskRule::StopLoss)));
    let derived = h.close_at("101");
    let add = intent(&derived[0]).clone();
    assert_eq!(add.purpose, OrderPurpose::AddOn);
    h.filled(add.order_id, Side::Buy, "101.2", "5");
    // (1000 + 506)/15 = 100.4: the stop-loss is 100.4·0.98 = 98.392.
    assert_eq!(h.position(Some(PositionSide::Long), "15", "100.4"), []);
    assert_eq!(h.stop(), Some((p("98.392"), RiskRule::StopLoss)));
    // The bar at 101 reaches the new threshold 100.4·1.005 = 100.902: break-even at
    // 100.4·1.001 = 100.5004.
    h.nudge("101");
    assert_eq!(h.stop(), Some((p("100.5004"), RiskRule::BreakEven)));
}

mod effective_stop {
    use super::*;
    use crate::pair::exits::ExitRules;
    use proptest::prelude::*;

    fn bar(minute: i64, open: i64, high: i64, low: i64, close: i64) -> Bar {
        let cents = |x: i64| Price(Decimal::new(x, 2));
        Bar {
            interval: Interval(60),
            open_time: Timestamp::from_millis(BASE_MS + minute * MINUTE_MS),
            open: cents(open),
            high: cents(high),
            low: cents(low),
            close: cents(close),
            volume: Quantity::ZERO,
            trades: None,
            closed: true,
        }
    }

    fn pct() -> impl Strategy<Value = Option<i64>> {
        prop::option::of(1i64..1_000)
    }

    proptest! {
        /// Whatever the rules and the bars, the effective stop never loosens while the
        /// position is unchanged: a long's never goes down, a short's never up.
        #[test]
        fn never_loosens(
            long in any::<bool>(),
            stop_loss in pct(), trailing in pct(), activation in pct(), break_even in pct(),
            chandelier in pct(), chandelier_period in 1usize..6,
            volatility in pct(), volatility_period in 1usize..6,
            high_first in any::<bool>(),
            moves in prop::collection::vec((-300i64..=300, 0i64..200, 0i64..200), 1..60),
        ) {
            let hundredths = |x: Option<i64>| x.map(|x| Decimal::new(x, 2));
            let config = crate::config::ExitConfig {
                stop_loss_pct: hundredths(stop_loss),
                trailing_stop_pct: hundredths(trailing),
                trailing_activation_pct: hundredths(activation),
                break_even_after_pct: hundredths(break_even),
                chandelier_atr_mult: hundredths(chandelier),
                chandelier_atr_period: Some(chandelier_period),
                volatility_atr_mult: hundredths(volatility),
                volatility_atr_period: Some(volatility_period),
                ..Default::default()
            };
            let mut rules =
                ExitRules::new(&config, Rate(Decimal::new(5, 4)), TakeProfitAt::Price);
            let side = if long { PositionSide::Long } else { PositionSide::Short };
            // A random walk around 100.00 (in cents), the bar's extremes around its body.
            let mut price = 10_000i64;
            let mut bars = Vec::new();
            for (minute, (step, up, down)) in moves.into_iter().enumerate() {
                let open = price;
                let close = (price + step).max(100);
                let high = open.max(close) + up;
                let low = (open.min(close) - down).max(1);
                bars.push(bar(minute as i64, open, high, low, close));
                price = close;
            }
            // Some bars warm the ATRs up before the entry.
            let (before, after) = bars.split_at(bars.len() / 3);
            for bar in before {
                rules.bar_closed(bar, &Candle::from(bar));
                rules.on_input();
            }
            rules.opened(side, Price(Decimal::new(price_at(before), 2)), Timestamp::from_millis(0));
            let mut previous = rules.stop();
            for bar in after {
                // Trailing high first moves the levels with each input's favourable extreme.
                if high_first {
                    rules.favourable_first(if long { bar.high } else { bar.low });
                }
                rules.bar_closed(bar, &Candle::from(bar));
                rules.on_input();
                let stop = rules.stop();
                if let Some(before) = previous {
                    let Some(now) = stop else {
                        return Err(TestCaseError::fail(format!("the stop {before:?} vanished")));
                    };
                    match side {
                        PositionSide::Long => prop_assert!(now.price >= before.price, "{before:?} → {now:?}"),
                        PositionSide::Short => prop_assert!(now.price <= before.price, "{before:?} → {now:?}"),
                    }
                }
                previous = stop;
            }
        }
    }

    /// The last close of `bars` in cents (100.00 without any).
    fn price_at(bars: &[Bar]) -> i64 {
        bars.last().map_or(10_000, |bar| {
            (bar.close.0 * Decimal::ONE_HUNDRED).try_into().unwrap()
        })
    }
}

mod clear_of {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The f64 filter never hides an exit: whenever it says a bar is clear of both levels,
        /// the exact check finds no exit either. Bar extremes are drawn a few units of their
        /// last place away from the levels, where a careless filter would go wrong.
        #[test]
        fn a_clear_bar_has_no_exit(
            long in any::<bool>(),
            entry in 1_000i64..100_000_000, entry_scale in 0u32..9,
            stop_pct in prop::option::of(1i64..5_000),
            target_pct in prop::option::of(1i64..5_000),
            near in prop::array::uniform2(-3i64..=3),
            place in 0u32..12,
        ) {
            let avg = Price(Decimal::new(entry, entry_scale));
            let side = if long { PositionSide::Long } else { PositionSide::Short };
            let sign = if long { Decimal::ONE } else { Decimal::NEGATIVE_ONE };
            let level = |pct: i64, toward: Decimal| {
                moved_by_pct(avg, toward * Decimal::new(pct, 2)).unwrap()
            };
            let stop = stop_pct.map(|pct| level(pct, -sign));
            let target = target_pct.map(|pct| level(pct, sign));
            // The adverse extreme near the stop (or the entry), the favourable near the target.
            let unit = Decimal::new(1, place);
            let adverse = stop.unwrap_or(avg).0 + Decimal::from(near[0]) * unit;
            let favourable = target.unwrap_or(avg).0 + Decimal::from(near[1]) * unit;
            let (low, high) = if long { (adverse, favourable) } else { (favourable, adverse) };
            prop_assume!(low > Decimal::ZERO && low <= high);
            let bar = Bar {
                interval: Interval(60),
                open_time: Timestamp::from_millis(0),
                open: Price(low),
                high: Price(high),
                low: Price(low),
                close: Price(high),
                volume: Quantity::ZERO,
                trades: None,
                closed: true,
            };
            let held = Held::new(
                side,
                Quantity::new(1, 0),
                avg,
                stop.map(|price| Level { price, rule: RiskRule::StopLoss }),
                target,
            );
            if held.clear_of(&bar) {
                let levels = ExitLevels { stop, stop_moved: false, target };
                for gap_fill in [GapFill::Open, GapFill::Level] {
                    for take_profit in [TakeProfitAt::Price, TakeProfitAt::Roi] {
                        let rules = Intrabar { gap_fill, take_profit, ..Intrabar::default() };
                        prop_assert_eq!(rules.exit(side, &bar, levels), None);
                    }
                }
            }
        }
    }
}

#[test]
fn a_gate_blocks_the_entry_after_its_signal_and_funding_reaches_it() {
    let mut h = Harness::new(
        "market = \"perpetual\"\nsizing = { per_trade = { quote = 1000 } }\n\
         gates = { funding = { max_abs_rate_pct = 0.05 } }",
        FillAt::NextBarOpen,
    );
    h.running();
    // A funding rate of 0.06% (above the gate's 0.05%) arrives as market data.
    let funding = charon_events::payload::market::FundingRate {
        rate: Rate(d("0.0006")),
        funding_time: Timestamp::from_millis(BASE_MS),
    };
    let input = Envelope::input(
        Timestamp::from_millis(BASE_MS + 1),
        Event::FundingRate(funding),
    )
    .with_pair(btc());
    assert_eq!(h.input(input), []);
    // The long signal is recorded, then blocked: no order is asked.
    let derived = h.close_at("101");
    assert_eq!(
        kinds(&derived),
        [EventKind::Signal, EventKind::SignalBlocked]
    );
    let Event::SignalBlocked(blocked) = &derived[1].payload else {
        unreachable!()
    };
    assert_eq!(blocked.action, SignalAction::EnterLong);
    assert_eq!(blocked.check.rule, RiskRule::FundingRateGate);
    assert_eq!(h.state(), PositionState::Flat);
    // At 0.05% exactly the gate lets the next signal through.
    let funding = charon_events::payload::market::FundingRate {
        rate: Rate(d("0.0005")),
        funding_time: Timestamp::from_millis(BASE_MS),
    };
    h.routed(Event::FundingRate(funding));
    let derived = h.close_at("102");
    assert_eq!(kinds(&derived), [EventKind::Signal, EventKind::OrderIntent]);
}

#[path = "conventions_tests.rs"]
mod conventions;
