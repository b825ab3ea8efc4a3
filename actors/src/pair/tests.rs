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

use super::*;
use crate::config::{validate, Config, StrategyTemplate};
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
        let text = format!(
            "[[bot]]\nname = \"b\"\nquote = \"USDT\"\ninitial_capital = 10000\n\n\
             [[bot.pair]]\nsymbol = \"BTCUSDT\"\nstrategy = \"t.toml\"\n{pair}\n"
        );
        let config: Config = toml::from_str(&text).unwrap();
        assert_eq!(validate(&config), [], "the test configuration is valid");
        let pair = config.bot[0].pair[0].clone();
        let template: StrategyTemplate = toml::from_str(TEMPLATE).unwrap();
        let setup = PairSetup {
            bot: bot(),
            timeframe: pair.timeframe.parse().unwrap(),
            rules: StrategyRules::new(&template, pair.market).unwrap(),
            config: pair,
            initial_equity: Money(d("10000")),
            fill_at,
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
        self.running();
        let derived = self.close_at(decision);
        let id = intent(&derived[1]).order_id;
        self.filled(id, Side::Buy, price, qty);
        let derived = self.position(Some(PositionSide::Long), qty, price);
        assert_eq!(derived, [], "nothing reached at the entry");
        assert_eq!(self.state(), PositionState::Open);
        id
    }
}

fn intent(event: &Envelope) -> &OrderIntent {
    match &event.payload {
        Event::OrderIntent(intent) => intent,
        other => panic!("expected an order intent, got {other:?}"),
    }
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
    assert_eq!(kinds(&derived), [EventKind::OrderIntent], "{derived:#?}");
    let exit = intent(&derived[0]);
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
        intent(&derived[0]).order_type,
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
    assert_eq!(kinds(&derived), [EventKind::OrderIntent]);
    let exit = intent(&derived[0]);
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
    assert_eq!(kinds(&derived), [EventKind::OrderIntent]);
    let exit = intent(&derived[0]);
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
    let exit = intent(&derived[0]);
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
    let exit = intent(&derived[0]);
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
    assert_eq!(kinds(&derived), [EventKind::OrderIntent]);
    let exit = intent(&derived[0]);
    assert_eq!(exit.order_type, OrderType::StopMarket { trigger: p("98") });
    assert_eq!(
        (exit.side, exit.qty, exit.reduce_only),
        (Side::Sell, q("10"), true)
    );
    assert_eq!(h.state(), PositionState::Exiting(exit.order_id));
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
            let (below, above) = (f64::NEG_INFINITY, f64::INFINITY);
            let (stop_absent, target_absent) = if long { (below, above) } else { (above, below) };
            let held = Held {
                side,
                qty: Quantity::new(1, 0),
                avg_entry: avg,
                stop,
                target,
                levels_f64: Option::zip(
                    stop.map_or(Some(stop_absent), |l| crate::bars::nearest_f64(l.0)),
                    target.map_or(Some(target_absent), |l| crate::bars::nearest_f64(l.0)),
                ),
            };
            if held.clear_of(&bar) {
                prop_assert_eq!(bar_exit(side, &bar, stop, target), None);
            }
        }
    }
}
