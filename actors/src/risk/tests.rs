//! The RiskSupervisor run alone under the direct Journal, fed the bot's state changes, its
//! pairs' intents and the Exchange's position updates as inputs.

use charon_events::payload::control::BotStateChanged;
use charon_events::payload::order::{OrderType, Side, TimeInForce};
use charon_events::{ClientOrderId, EventKind, Origin, Price, Rate, Seq, Timestamp};

use super::*;
use crate::config::{validate, Config};
use crate::journal::{InputMode, Journal, MemorySink};
use crate::testkit::{btc, d, eth};

fn bot() -> BotId {
    BotId::new("a").unwrap()
}

/// Bot `a` (capital 10000) trades BTCUSDT on spot (capped at 1000) and ETHUSDT as a 3x
/// perpetual with a 5% max drawdown; bot `z` trades SOLUSDT.
const CONFIG: &str = "\
[[bot]]
name = \"a\"
quote = \"USDT\"
initial_capital = 10000

[[bot.pair]]
symbol = \"BTCUSDT\"
strategy = \"t.toml\"
sizing = { per_trade = { quote = 500 }, max_position_quote = 1000 }

[[bot.pair]]
symbol = \"ETHUSDT\"
market = \"perpetual\"
leverage = 3
strategy = \"t.toml\"
sizing = { per_trade = { quote = 500 } }
max_drawdown_pct = 5

[[bot]]
name = \"z\"
quote = \"USDT\"
initial_capital = 10000

[[bot.pair]]
symbol = \"SOLUSDT\"
strategy = \"t.toml\"
sizing = { per_trade = { quote = 500 } }
";

struct Harness {
    journal: Journal<MemorySink>,
    now: i64,
}

impl Harness {
    fn new() -> Self {
        let config: Config = toml::from_str(CONFIG).unwrap();
        assert_eq!(validate(&config), [], "the test configuration is valid");
        let risk = RiskSupervisor::new(&config.bot[0]);
        let journal =
            Journal::new(vec![Box::new(risk)], MemorySink::new(InputMode::Recorded)).unwrap();
        Self {
            journal,
            now: 1_700_000_000_000,
        }
    }

    fn next_seq(&self) -> Seq {
        self.journal.sink().events.len() as Seq + 1
    }

    fn input(&mut self, payload: Event, pair: Option<Symbol>) -> Vec<Envelope> {
        self.now += 1;
        let mut input = Envelope::input(Timestamp::from_millis(self.now), payload).with_bot(bot());
        input.pair = pair;
        let before = self.journal.sink().events.len();
        self.journal.process(input).unwrap();
        self.journal.sink().events[before + 1..].to_vec()
    }

    fn state(&mut self, state: BotState) {
        let changed = BotStateChanged {
            state,
            reason: "test".into(),
        };
        assert_eq!(self.input(Event::BotStateChanged(changed), None), []);
    }

    /// The decision on `intent` for `pair`: approved (`Ok`) or the veto's check.
    fn decide(&mut self, pair: Symbol, intent: OrderIntent) -> Result<Quantity, RiskCheck> {
        let id = intent.order_id;
        let derived = self.input(Event::OrderIntent(intent), Some(pair));
        assert_eq!(derived.len(), 1, "{derived:#?}");
        let event = &derived[0];
        assert_eq!(
            event.origin,
            Origin::Derived(ActorId::RiskSupervisor(bot()))
        );
        assert_eq!((event.bot, event.pair), (Some(bot()), Some(pair)));
        match &event.payload {
            Event::OrderApproved(approved) => {
                assert_eq!(approved.order_id, id);
                Ok(approved.qty)
            }
            Event::OrderVetoed(vetoed) => {
                assert_eq!(vetoed.order_id, id);
                Err(vetoed.check.clone())
            }
            other => panic!("expected a decision, got {other:?}"),
        }
    }

    fn position(&mut self, pair: Symbol, update: PositionUpdated) -> Vec<Envelope> {
        self.input(Event::PositionUpdated(update), Some(pair))
    }
}

fn entry(pair: Symbol, qty: &str, price: &str, leverage: &str) -> OrderIntent {
    OrderIntent {
        order_id: ClientOrderId {
            pair,
            cause: 1,
            leg: 0,
        },
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Gtc,
        qty: Quantity(d(qty)),
        expected_price: Price(d(price)),
        leverage: Rate(d(leverage)),
        reduce_only: false,
        purpose: OrderPurpose::Entry,
        reason: "entry".into(),
    }
}

fn exit(pair: Symbol, purpose: OrderPurpose) -> OrderIntent {
    OrderIntent {
        side: Side::Sell,
        reduce_only: true,
        purpose,
        ..entry(pair, "100", "100", "50")
    }
}

/// A long of `qty` whose P&L (realized + unrealized − fees + funding) is `pnl`, made of
/// unrealized P&L and fees of 1.
fn long(qty: &str, pnl: &str) -> PositionUpdated {
    PositionUpdated {
        side: Some(PositionSide::Long),
        qty: Quantity(d(qty)),
        avg_entry: Price(d("100")),
        mark: Price(d("100")),
        leverage: Rate(Decimal::ONE),
        liquidation_price: None,
        realized_pnl: Money::ZERO,
        unrealized_pnl: Money(d(pnl) + Decimal::ONE),
        fees: Money(Decimal::ONE),
        funding: Money::ZERO,
    }
}

#[test]
fn exits_are_approved_whatever_the_bots_state() {
    let mut h = Harness::new();
    // Created (not yet running), then stopped: exits and force closes still pass, even with
    // leverage and sizes no entry could have, and for a pair the bot does not own.
    for state in [None, Some(BotState::Stopped)] {
        if let Some(state) = state {
            h.state(state);
        }
        for purpose in [OrderPurpose::Exit, OrderPurpose::ForceClose] {
            assert_eq!(
                h.decide(btc(), exit(btc(), purpose)),
                Ok(Quantity(d("100")))
            );
        }
        let sol = Symbol::new("SOLUSDT").unwrap();
        assert!(h.decide(sol, exit(sol, OrderPurpose::Exit)).is_ok());
    }
    // reduce_only alone marks an exit.
    let reduce = OrderIntent {
        reduce_only: true,
        ..entry(btc(), "100", "100", "50")
    };
    assert!(h.decide(btc(), reduce).is_ok());
}

#[test]
fn entries_need_a_running_bot() {
    let mut h = Harness::new();
    let check = h.decide(btc(), entry(btc(), "1", "100", "1")).unwrap_err();
    assert_eq!(check.rule, RiskRule::BotNotRunning);
    assert_eq!(check.message, "bot a is Created: entries are refused");
    h.state(BotState::Running);
    assert_eq!(
        h.decide(btc(), entry(btc(), "1", "100", "1")),
        Ok(Quantity(d("1")))
    );
    for state in [BotState::Paused, BotState::Stopping, BotState::Stopped] {
        h.state(state);
        let add_on = OrderIntent {
            purpose: OrderPurpose::AddOn,
            ..entry(btc(), "1", "100", "1")
        };
        assert_eq!(
            h.decide(btc(), add_on).unwrap_err().rule,
            RiskRule::BotNotRunning,
            "{state:?}"
        );
    }
}

#[test]
fn a_state_change_routed_to_a_pair_is_not_the_bots() {
    let mut h = Harness::new();
    let changed = BotStateChanged {
        state: BotState::Running,
        reason: "misrouted".into(),
    };
    h.input(Event::BotStateChanged(changed), Some(btc()));
    let check = h.decide(btc(), entry(btc(), "1", "100", "1")).unwrap_err();
    assert_eq!(check.rule, RiskRule::BotNotRunning);
}

#[test]
fn leverage_is_capped_at_the_pairs() {
    let mut h = Harness::new();
    h.state(BotState::Running);
    // Spot trades at 1.
    let check = h.decide(btc(), entry(btc(), "1", "100", "2")).unwrap_err();
    assert_eq!(
        (check.rule, check.threshold, check.observed),
        (RiskRule::MaxLeverage, Num(d("1")), Num(d("2")))
    );
    // The perpetual is configured at 3: 3 passes, 3.5 does not.
    assert!(h.decide(eth(), entry(eth(), "1", "100", "3")).is_ok());
    let check = h
        .decide(eth(), entry(eth(), "1", "100", "3.5"))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.threshold, check.observed),
        (RiskRule::MaxLeverage, Num(d("3")), Num(d("3.5")))
    );
}

#[test]
fn the_position_may_not_outgrow_the_cap() {
    let mut h = Harness::new();
    h.state(BotState::Running);
    // Flat: 10 at 100 is exactly the cap of 1000.
    assert!(h.decide(btc(), entry(btc(), "10", "100", "1")).is_ok());
    let check = h
        .decide(btc(), entry(btc(), "10.01", "100", "1"))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.threshold, check.observed),
        (RiskRule::PositionSizeCap, Num(d("1000")), Num(d("1001")))
    );
    // Holding 6: an add of 4 at 100 reaches 1000, of 5 it is worth (6 + 5)·100 = 1100.
    h.position(btc(), long("6", "0"));
    assert!(h.decide(btc(), entry(btc(), "4", "100", "1")).is_ok());
    let check = h.decide(btc(), entry(btc(), "5", "100", "1")).unwrap_err();
    assert_eq!(
        (check.rule, check.observed),
        (RiskRule::PositionSizeCap, Num(d("1100")))
    );
    // ETHUSDT has no cap.
    assert!(h.decide(eth(), entry(eth(), "1000", "100", "1")).is_ok());
}

#[test]
fn entries_for_pairs_the_bot_does_not_own_are_vetoed() {
    let mut h = Harness::new();
    h.state(BotState::Running);
    // SOLUSDT is bot z's pair.
    let sol = Symbol::new("SOLUSDT").unwrap();
    let check = h.decide(sol, entry(sol, "1", "100", "1")).unwrap_err();
    assert_eq!(check.rule, RiskRule::PairOwnership);
    assert_eq!(check.message, "SOLUSDT is not a pair of bot a");
    // The rule is checked before the bot's state.
    h.state(BotState::Paused);
    let check = h.decide(sol, entry(sol, "1", "100", "1")).unwrap_err();
    assert_eq!(check.rule, RiskRule::PairOwnership);
}

#[test]
fn the_pairs_max_drawdown_closes_it_once_and_blocks_its_entries() {
    let mut h = Harness::new();
    h.state(BotState::Running);
    // ETHUSDT's limit: 5% of the bot's 10000, a fall of 500 from the P&L's peak.
    assert_eq!(h.position(eth(), long("2", "200")), []);
    // Peak 200; −250 is 450 below it, 4.5%.
    assert_eq!(h.position(eth(), long("2", "-250")), []);
    assert!(h.decide(eth(), entry(eth(), "1", "100", "1")).is_ok());
    // −300 is 500 below the peak: 5%.
    let seq = h.next_seq();
    let derived = h.position(eth(), long("2", "-300"));
    assert_eq!(
        derived.iter().map(|e| e.payload.kind()).collect::<Vec<_>>(),
        [EventKind::ForceClose]
    );
    assert_eq!(derived[0].cause, Some(seq));
    assert_eq!(
        (derived[0].bot, derived[0].pair),
        (Some(bot()), Some(eth()))
    );
    let Event::ForceClose(close) = &derived[0].payload else {
        unreachable!()
    };
    assert_eq!(close.side, PositionSide::Long);
    assert_eq!(
        (
            close.check.rule,
            close.check.threshold,
            close.check.observed
        ),
        (RiskRule::PairMaxDrawdown, Num(d("5")), Num(d("5")))
    );
    // Once: a deeper loss does not ask again.
    assert_eq!(h.position(eth(), long("2", "-400")), []);
    // Entries stay blocked, even after the position is flat and the P&L recovers.
    let flat = PositionUpdated {
        side: None,
        qty: Quantity::ZERO,
        ..long("0", "600")
    };
    assert_eq!(h.position(eth(), flat), []);
    let check = h.decide(eth(), entry(eth(), "1", "100", "1")).unwrap_err();
    assert_eq!(check.rule, RiskRule::PairMaxDrawdown);
    // Exits still pass, and the other pair trades on.
    assert!(h.decide(eth(), exit(eth(), OrderPurpose::Exit)).is_ok());
    assert!(h.decide(btc(), entry(btc(), "1", "100", "1")).is_ok());
}

#[test]
fn a_drawdown_reached_when_flat_blocks_without_a_force_close() {
    let mut h = Harness::new();
    h.state(BotState::Running);
    h.position(eth(), long("2", "100"));
    // Closed at a loss: P&L 100 → −450, 5.5% below the peak, with nothing left to close.
    let flat = PositionUpdated {
        side: None,
        qty: Quantity::ZERO,
        realized_pnl: Money(d("-449")),
        unrealized_pnl: Money::ZERO,
        ..long("0", "0")
    };
    assert_eq!(h.position(eth(), flat), []);
    let check = h.decide(eth(), entry(eth(), "1", "100", "1")).unwrap_err();
    assert_eq!(check.rule, RiskRule::PairMaxDrawdown);
}
