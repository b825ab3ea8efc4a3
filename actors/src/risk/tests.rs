//! The RiskSupervisor run alone under the direct Journal, fed the bot's state changes, its
//! pairs' intents and the Exchange's reports (positions, equity, fills, rejections), API errors
//! and operator commands as inputs, at times the tests choose.

use charon_events::payload::control::{BotStateChanged, OperatorCommand};
use charon_events::payload::external::ApiError;
use charon_events::payload::order::{
    EquityUpdated, Fill, Liquidity, OrderFilled, OrderRejected, OrderType, Side, TimeInForce,
};
use charon_events::payload::risk::{EntriesPaused, KillSwitchEngaged};
use charon_events::{Origin, Rate, Seq, Venue};

use super::*;
use crate::config::{validate, Config};
use crate::journal::{InputMode, Journal, MemorySink};
use crate::testkit::{btc, d, eth};

pub(super) const HOUR_MS: i64 = 3_600_000;
/// 2023-11-15T00:00:00Z, in epoch ms: the start of a trading day at hour 0.
pub(super) const DAY_MS: i64 = 1_700_006_400_000;

pub(super) fn bot() -> BotId {
    BotId::new("a").unwrap()
}

fn other_bot() -> BotId {
    BotId::new("z").unwrap()
}

pub(super) fn bnb() -> Symbol {
    Symbol::new("BNBUSDT").unwrap()
}

/// Bot `a` (capital 10000, with the `[bot.risk]` keys `{risk}`) trades BTCUSDT on spot (capped
/// at 1000), ETHUSDT as a 3x perpetual with a 5% max drawdown and BNBUSDT as a 3x perpetual;
/// bot `z` trades SOLUSDT.
const CONFIG: &str = "\
[[bot]]
name = \"a\"
quote = \"USDT\"
initial_capital = 10000

[bot.risk]
{risk}

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

[[bot.pair]]
symbol = \"BNBUSDT\"
market = \"perpetual\"
leverage = 3
strategy = \"t.toml\"
sizing = { per_trade = { quote = 500 } }

[[bot]]
name = \"z\"
quote = \"USDT\"
initial_capital = 10000

[[bot.pair]]
symbol = \"SOLUSDT\"
strategy = \"t.toml\"
sizing = { per_trade = { quote = 500 } }
";

pub(super) struct Harness {
    journal: Journal<MemorySink>,
    /// The time (epoch ms) of the last input; each input is 1 ms after the one before
    /// unless [`Harness::at`] sets it.
    pub(super) now: i64,
}

impl Harness {
    pub(super) fn new() -> Self {
        Self::with_risk("")
    }

    /// Bot `a` with these `[bot.risk]` keys.
    pub(super) fn with_risk(risk: &str) -> Self {
        let config: Config = toml::from_str(&CONFIG.replace("{risk}", risk)).unwrap();
        assert_eq!(validate(&config), [], "the test configuration is valid");
        let risk = RiskSupervisor::new(&config.bot[0]);
        let journal =
            Journal::new(vec![Box::new(risk)], MemorySink::new(InputMode::Recorded)).unwrap();
        Self {
            journal,
            now: 1_700_000_000_000,
        }
    }

    /// The next input happens at `ms` (epoch ms).
    pub(super) fn at(&mut self, ms: i64) -> &mut Self {
        self.now = ms - 1;
        self
    }

    fn next_seq(&self) -> Seq {
        self.journal.sink().events.len() as Seq + 1
    }

    /// Processes an input routed to `bot` and `pair`; what the supervisor derived from it.
    pub(super) fn routed(
        &mut self,
        payload: Event,
        to: Option<BotId>,
        pair: Option<Symbol>,
    ) -> Vec<Envelope> {
        self.now += 1;
        let mut input = Envelope::input(Timestamp::from_millis(self.now), payload);
        input.bot = to;
        input.pair = pair;
        let before = self.journal.sink().events.len();
        self.journal.process(input).unwrap();
        let derived = self.journal.sink().events[before + 1..].to_vec();
        for event in &derived {
            assert_eq!(
                event.origin,
                Origin::Derived(ActorId::RiskSupervisor(bot()))
            );
            assert_eq!(event.ts, Timestamp::from_millis(self.now));
            assert_eq!(event.bot, Some(bot()));
        }
        derived
    }

    /// Processes an input routed to bot `a` and `pair`.
    pub(super) fn input(&mut self, payload: Event, pair: Option<Symbol>) -> Vec<Envelope> {
        self.routed(payload, Some(bot()), pair)
    }

    pub(super) fn state(&mut self, state: BotState) {
        let changed = BotStateChanged {
            state,
            reason: "test".into(),
        };
        assert_eq!(self.input(Event::BotStateChanged(changed), None), []);
    }

    /// What the supervisor derives from `intent` for `pair`.
    pub(super) fn intent(&mut self, pair: Symbol, intent: OrderIntent) -> Vec<Envelope> {
        self.input(Event::OrderIntent(intent), Some(pair))
    }

    /// The decision on `intent` for `pair`: approved (`Ok`) or the veto's check.
    pub(super) fn decide(
        &mut self,
        pair: Symbol,
        intent: OrderIntent,
    ) -> Result<Quantity, RiskCheck> {
        let derived = self.intent(pair, intent.clone());
        assert_eq!(derived.len(), 1, "{derived:#?}");
        decision(&derived[0], pair, &intent)
    }

    pub(super) fn position(&mut self, pair: Symbol, update: PositionUpdated) -> Vec<Envelope> {
        self.input(Event::PositionUpdated(update), Some(pair))
    }

    pub(super) fn equity(&mut self, equity: &str) -> Vec<Envelope> {
        let update = EquityUpdated {
            cash: Money(d(equity)),
            equity: Money(d(equity)),
            realized_pnl: Money::ZERO,
            unrealized_pnl: Money::ZERO,
            fees: Money::ZERO,
            funding: Money::ZERO,
            peak_equity: Money(d(equity)),
            drawdown: Rate(Decimal::ZERO),
        };
        self.input(Event::EquityUpdated(update), None)
    }

    /// The Exchange's report that `order_id` filled, all of it, at `price`.
    pub(super) fn filled(
        &mut self,
        order_id: ClientOrderId,
        side: Side,
        price: &str,
    ) -> Vec<Envelope> {
        let filled = OrderFilled {
            fill: Fill {
                order_id,
                venue_trade_id: None,
                side,
                price: Price(d(price)),
                qty: Quantity(Decimal::ONE),
                fee: Money::ZERO,
                liquidity: Liquidity::Taker,
            },
            cum_qty: Quantity(Decimal::ONE),
            avg_price: Price(d(price)),
        };
        self.input(Event::OrderFilled(filled), Some(order_id.pair))
    }

    pub(super) fn rejected(&mut self, order_id: ClientOrderId) -> Vec<Envelope> {
        let rejected = OrderRejected {
            order_id,
            code: Some(-2010),
            reason: "insufficient balance".into(),
        };
        self.input(Event::OrderRejected(rejected), Some(order_id.pair))
    }

    /// An API error input routed to `bot` (or to no bot).
    pub(super) fn api_error(&mut self, bot: Option<BotId>) -> Vec<Envelope> {
        let error = ApiError {
            venue: Venue::new("binance").unwrap(),
            endpoint: "/api/v3/order".into(),
            http_status: Some(503),
            code: None,
            message: "service unavailable".into(),
        };
        self.routed(Event::ApiError(error), bot, None)
    }

    pub(super) fn operator(&mut self, bot: BotId, command: Command) -> Vec<Envelope> {
        let command = OperatorCommand {
            command,
            operator: "ops".into(),
        };
        self.routed(Event::OperatorCommand(command), Some(bot), None)
    }
}

/// The decision in `event` on `intent` for `pair`: approved (`Ok`) or the veto's check.
pub(super) fn decision(
    event: &Envelope,
    pair: Symbol,
    intent: &OrderIntent,
) -> Result<Quantity, RiskCheck> {
    assert_eq!((event.bot, event.pair), (Some(bot()), Some(pair)));
    match &event.payload {
        Event::OrderApproved(approved) => {
            assert_eq!(approved.order_id, intent.order_id);
            Ok(approved.qty)
        }
        Event::OrderVetoed(vetoed) => {
            assert_eq!(vetoed.order_id, intent.order_id);
            Err(vetoed.check.clone())
        }
        other => panic!("expected a decision, got {other:?}"),
    }
}

pub(super) fn kinds(events: &[Envelope]) -> Vec<EventKind> {
    events.iter().map(|event| event.payload.kind()).collect()
}

/// The `ForceClose`s among `events`: (pair, side, rule).
pub(super) fn force_closes(events: &[Envelope]) -> Vec<(Symbol, PositionSide, RiskRule)> {
    events
        .iter()
        .filter_map(|event| match &event.payload {
            Event::ForceClose(close) => Some((event.pair?, close.side, close.check.rule)),
            _ => None,
        })
        .collect()
}

fn alert(event: &Envelope) -> &Alert {
    match &event.payload {
        Event::Alert(alert) => alert,
        other => panic!("expected an alert, got {other:?}"),
    }
}

fn rule_of(check: &Result<Quantity, RiskCheck>) -> Option<RiskRule> {
    check.as_ref().err().map(|check| check.rule)
}

/// The id of the `n`-th order of `pair`.
pub(super) fn order(pair: Symbol, n: u64) -> ClientOrderId {
    ClientOrderId {
        pair,
        cause: n,
        leg: 0,
    }
}

pub(super) fn entry(pair: Symbol, qty: &str, price: &str, leverage: &str) -> OrderIntent {
    OrderIntent {
        order_id: order(pair, 1),
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

/// The `n`-th order of `pair`: an entry of 1 at 100 without leverage, for `purpose`.
pub(super) fn nth(pair: Symbol, n: u64, purpose: OrderPurpose) -> OrderIntent {
    OrderIntent {
        order_id: order(pair, n),
        purpose,
        reduce_only: matches!(purpose, OrderPurpose::Exit | OrderPurpose::ForceClose),
        side: match purpose {
            OrderPurpose::Exit | OrderPurpose::ForceClose => Side::Sell,
            _ => Side::Buy,
        },
        ..entry(pair, "1", "100", "1")
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

/// A position of 1 on `side` (flat when `None`) with these cumulative amounts.
pub(super) fn pos(
    side: Option<PositionSide>,
    realized: &str,
    unrealized: &str,
    fees: &str,
) -> PositionUpdated {
    PositionUpdated {
        side,
        qty: if side.is_some() {
            Quantity(Decimal::ONE)
        } else {
            Quantity::ZERO
        },
        realized_pnl: Money(d(realized)),
        unrealized_pnl: Money(d(unrealized)),
        fees: Money(d(fees)),
        ..long("1", "0")
    }
}

/// An open position of 1 on `side` with only unrealized P&L.
pub(super) fn open(side: PositionSide, unrealized: &str) -> PositionUpdated {
    pos(Some(side), "0", unrealized, "0")
}

const LONG: Option<PositionSide> = Some(PositionSide::Long);
const SHORT: Option<PositionSide> = Some(PositionSide::Short);

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
        [EventKind::ForceClose, EventKind::Alert]
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

#[test]
fn the_supervisor_lists_the_kinds_it_handles() {
    let config: Config = toml::from_str(&CONFIG.replace("{risk}", "")).unwrap();
    let risk = RiskSupervisor::new(&config.bot[0]);
    crate::testkit::assert_kinds_agree(&risk, bot(), btc());
    // API errors for the bot or for no bot concern it; another bot's do not, nor derived ones.
    let error = |bot: Option<BotId>, origin: Origin| {
        let mut event = charon_events::samples::one_of(EventKind::ApiError);
        event.bot = bot;
        event.origin = origin;
        risk.concerns(&event)
    };
    assert!(error(Some(bot()), Origin::Input));
    assert!(error(None, Origin::Input));
    assert!(!error(Some(other_bot()), Origin::Input));
    assert!(!error(None, Origin::Derived(ActorId::Journal)));
    // Operator commands only when addressed to the bot.
    let mut command = charon_events::samples::one_of(EventKind::OperatorCommand);
    command.origin = Origin::Input;
    command.bot = Some(bot());
    assert!(risk.concerns(&command));
    command.bot = None;
    assert!(!risk.concerns(&command));
}

#[test]
fn entries_per_asset_are_blocked_at_the_cap_counting_pending_ones() {
    let mut h = Harness::with_risk("max_positions_per_asset = 2");
    h.state(BotState::Running);
    // Below the cap: 0, then 1 pending on BTC.
    assert!(h.decide(btc(), nth(btc(), 1, OrderPurpose::Entry)).is_ok());
    assert!(h.decide(btc(), nth(btc(), 2, OrderPurpose::Entry)).is_ok());
    // At the cap: 2 pending on BTC.
    let check = h
        .decide(btc(), nth(btc(), 3, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.threshold, check.observed),
        (RiskRule::MaxPositionsPerAsset, Num(d("2")), Num(d("2")))
    );
    assert_eq!(
        check.message,
        "2 positions on BTC open or pending; the cap per asset is 2"
    );
    // Another asset is not counted; add-ons and exits open no new position.
    assert!(h.decide(eth(), nth(eth(), 4, OrderPurpose::Entry)).is_ok());
    assert!(h.decide(btc(), nth(btc(), 5, OrderPurpose::AddOn)).is_ok());
    assert!(h.decide(btc(), nth(btc(), 6, OrderPurpose::Exit)).is_ok());
    // A rejected entry frees its place...
    assert_eq!(kinds(&h.rejected(order(btc(), 1))), [EventKind::Alert]);
    assert!(h.decide(btc(), nth(btc(), 7, OrderPurpose::Entry)).is_ok());
    // ...a filled one becomes the open position it made (still counted)...
    assert_eq!(h.filled(order(btc(), 2), Side::Buy, "100"), []);
    assert_eq!(h.position(btc(), open(PositionSide::Long, "0")), []);
    let check = h
        .decide(btc(), nth(btc(), 8, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.observed),
        (RiskRule::MaxPositionsPerAsset, Num(d("2")))
    );
    // ...until the position is closed: 1 pending (order 7) is below the cap again.
    assert_eq!(h.position(btc(), pos(None, "0", "0", "0")), []);
    assert!(h.decide(btc(), nth(btc(), 9, OrderPurpose::Entry)).is_ok());
}

#[test]
fn entries_in_total_are_blocked_at_the_cap() {
    let mut h = Harness::with_risk("max_positions_total = 2");
    h.state(BotState::Running);
    assert!(h.decide(btc(), nth(btc(), 1, OrderPurpose::Entry)).is_ok());
    assert!(h.decide(eth(), nth(eth(), 2, OrderPurpose::Entry)).is_ok());
    let check = h
        .decide(bnb(), nth(bnb(), 3, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.threshold, check.observed),
        (RiskRule::MaxPositionsTotal, Num(d("2")), Num(d("2")))
    );
    // The rejected ETH entry frees a place.
    h.rejected(order(eth(), 2));
    assert!(h.decide(bnb(), nth(bnb(), 4, OrderPurpose::Entry)).is_ok());
    // Both fill: two open positions are the cap.
    h.filled(order(btc(), 1), Side::Buy, "100");
    h.position(btc(), open(PositionSide::Long, "0"));
    h.filled(order(bnb(), 4), Side::Buy, "100");
    h.position(bnb(), open(PositionSide::Long, "0"));
    let check = h
        .decide(eth(), nth(eth(), 5, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.observed),
        (RiskRule::MaxPositionsTotal, Num(d("2")))
    );
    // Above the cap (three open, say after a restart with positions): still blocked.
    h.position(eth(), open(PositionSide::Short, "0"));
    let check = h
        .decide(eth(), nth(eth(), 6, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.observed),
        (RiskRule::MaxPositionsTotal, Num(d("3")))
    );
    // Two pairs close: one open position, below the cap.
    h.position(btc(), pos(None, "0", "0", "0"));
    h.position(eth(), pos(None, "0", "0", "0"));
    assert!(h.decide(eth(), nth(eth(), 7, OrderPurpose::Entry)).is_ok());
}

#[test]
fn the_per_asset_cap_is_checked_before_the_total() {
    let mut h = Harness::with_risk("max_positions_per_asset = 1\nmax_positions_total = 1");
    h.state(BotState::Running);
    assert!(h.decide(btc(), nth(btc(), 1, OrderPurpose::Entry)).is_ok());
    let both = h.decide(btc(), nth(btc(), 2, OrderPurpose::Entry));
    assert_eq!(rule_of(&both), Some(RiskRule::MaxPositionsPerAsset));
    let total = h.decide(eth(), nth(eth(), 3, OrderPurpose::Entry));
    assert_eq!(rule_of(&total), Some(RiskRule::MaxPositionsTotal));
}

#[test]
fn leverage_above_the_bots_cap_is_vetoed_not_reduced() {
    let mut h = Harness::with_risk("max_leverage = 2");
    h.state(BotState::Running);
    // ETHUSDT is configured at 3; the bot caps it at 2.
    assert_eq!(
        h.decide(eth(), entry(eth(), "1", "100", "1.99")),
        Ok(Quantity(d("1")))
    );
    assert_eq!(
        h.decide(eth(), entry(eth(), "1", "100", "2")),
        Ok(Quantity(d("1")))
    );
    let check = h
        .decide(eth(), entry(eth(), "1", "100", "2.01"))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.threshold, check.observed),
        (RiskRule::MaxLeverage, Num(d("2")), Num(d("2.01")))
    );
    assert_eq!(
        check.message,
        "leverage 2.01 above the bot's max_leverage 2"
    );
    // Above the pair's own leverage, the pair's rule answers first.
    let check = h
        .decide(eth(), entry(eth(), "1", "100", "3.5"))
        .unwrap_err();
    assert_eq!(check.threshold, Num(d("3")));
    // Add-ons too; exits never.
    let add_on = OrderIntent {
        purpose: OrderPurpose::AddOn,
        ..entry(eth(), "1", "100", "2.5")
    };
    assert_eq!(
        rule_of(&h.decide(eth(), add_on)),
        Some(RiskRule::MaxLeverage)
    );
    assert!(h.decide(eth(), exit(eth(), OrderPurpose::Exit)).is_ok());
}

#[test]
fn a_trade_losing_its_limit_of_equity_is_force_closed_once() {
    let mut h = Harness::with_risk("max_trade_loss_pct = 2");
    h.state(BotState::Running);
    // 2% of the initial 10000 (no equity update yet): a loss of 200.
    assert_eq!(h.position(bnb(), open(PositionSide::Long, "-199.99")), []);
    let seq = h.next_seq();
    let derived = h.position(bnb(), open(PositionSide::Long, "-200"));
    assert_eq!(kinds(&derived), [EventKind::ForceClose, EventKind::Alert]);
    assert_eq!(derived[0].cause, Some(seq));
    assert_eq!(
        (derived[0].pair, derived[1].pair),
        (Some(bnb()), Some(bnb()))
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
        (RiskRule::PerTradeLoss, Num(d("2")), Num(d("2")))
    );
    assert_eq!(
        close.check.message,
        "BNBUSDT long is losing 200 unrealized, 2% of the bot's equity 10000; limit 2%"
    );
    let alert = alert(&derived[1]);
    assert_eq!(
        (alert.severity, alert.category),
        (Severity::Critical, AlertKind::OutsizedLoss)
    );
    // Once per position: a deeper loss does not ask again.
    assert_eq!(h.position(bnb(), open(PositionSide::Long, "-500")), []);
    assert_eq!(h.position(bnb(), pos(None, "-500", "0", "0")), []);
    // The limit follows the latest equity: 2% of 5000 is 100. A new short position.
    assert_eq!(h.equity("5000"), []);
    assert_eq!(h.position(bnb(), pos(SHORT, "-500", "-99.99", "0")), []);
    let derived = h.position(bnb(), pos(SHORT, "-500", "-100.01", "0"));
    assert_eq!(
        force_closes(&derived),
        [(bnb(), PositionSide::Short, RiskRule::PerTradeLoss)]
    );
    let Event::ForceClose(close) = &derived[0].payload else {
        unreachable!()
    };
    assert_eq!(close.check.observed, Num(d("2.0002")));
    // A flip is a new position: it may be closed again.
    let derived = h.position(bnb(), pos(LONG, "-600", "-100", "0"));
    assert_eq!(
        force_closes(&derived),
        [(bnb(), PositionSide::Long, RiskRule::PerTradeLoss)]
    );
    // Profits and realized losses are not the rule's business.
    assert_eq!(h.position(btc(), pos(LONG, "-900", "50", "0")), []);
}

#[test]
fn the_per_trade_loss_closes_a_gap_past_the_stop_in_the_same_cascade() {
    let mut h = Harness::with_risk("max_trade_loss_pct = 1");
    h.state(BotState::Running);
    // Marked at −20 on one bar, a gap takes the next to −800: closed on that very update.
    assert_eq!(h.position(btc(), open(PositionSide::Long, "-20")), []);
    let derived = h.position(btc(), open(PositionSide::Long, "-800"));
    assert_eq!(
        force_closes(&derived),
        [(btc(), PositionSide::Long, RiskRule::PerTradeLoss)]
    );
    let Event::ForceClose(close) = &derived[0].payload else {
        unreachable!()
    };
    assert_eq!(close.check.observed, Num(d("8")));
}

fn engagement(event: &Envelope) -> &KillSwitchEngaged {
    match &event.payload {
        Event::KillSwitchEngaged(engaged) => engaged,
        other => panic!("expected the kill switch, got {other:?}"),
    }
}

#[test]
fn the_daily_loss_kill_switch_closes_everything_and_releases_the_next_day() {
    let mut h = Harness::with_risk("daily_loss_pct = 5");
    h.at(DAY_MS + 10 * HOUR_MS).state(BotState::Running);
    // 5% of the start-of-day equity (the initial 10000): 500, realized or unrealized.
    assert_eq!(h.position(btc(), open(PositionSide::Long, "-300")), []);
    assert_eq!(h.position(bnb(), open(PositionSide::Short, "-199.99")), []);
    let seq = h.next_seq();
    let derived = h.position(bnb(), open(PositionSide::Short, "-200"));
    assert_eq!(
        kinds(&derived),
        [
            EventKind::KillSwitchEngaged,
            EventKind::ForceClose,
            EventKind::ForceClose,
            EventKind::Alert
        ]
    );
    assert!(derived.iter().all(|event| event.cause == Some(seq)));
    let engaged = engagement(&derived[0]);
    assert_eq!(engaged.until, Timestamp::from_millis(DAY_MS + 24 * HOUR_MS));
    assert_eq!(
        (
            engaged.check.rule,
            engaged.check.threshold,
            engaged.check.observed
        ),
        (RiskRule::DailyLoss, Num(d("5")), Num(d("5")))
    );
    assert_eq!(
        force_closes(&derived),
        [
            (bnb(), PositionSide::Short, RiskRule::DailyLoss),
            (btc(), PositionSide::Long, RiskRule::DailyLoss)
        ]
    );
    assert_eq!(derived[0].pair, None);
    let alert = alert(&derived[3]);
    assert_eq!(
        (alert.severity, alert.category),
        (Severity::Critical, AlertKind::LimitHit)
    );
    // Engaged once: a deeper loss asks nothing more.
    assert_eq!(h.position(bnb(), open(PositionSide::Short, "-400")), []);
    // Entries and add-ons are halted; exits pass.
    let check = h
        .decide(eth(), nth(eth(), 1, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(
        (check.rule, check.threshold, check.observed),
        (RiskRule::DailyLoss, Num(d("5")), Num(d("5")))
    );
    assert!(check
        .message
        .starts_with("entries are halted until 2023-11-16T00:00:00Z: bot a lost 500"));
    let add_on = nth(btc(), 2, OrderPurpose::AddOn);
    assert_eq!(rule_of(&h.decide(btc(), add_on)), Some(RiskRule::DailyLoss));
    assert!(h.decide(btc(), nth(btc(), 3, OrderPurpose::Exit)).is_ok());
    // An entry approved before the switch that opens now is closed as it opens.
    let derived = h.position(eth(), open(PositionSide::Long, "0"));
    assert_eq!(
        force_closes(&derived),
        [(eth(), PositionSide::Long, RiskRule::DailyLoss)]
    );
    // Everything closes; equity ends the day at 9400.
    h.position(btc(), pos(None, "-300", "0", "0"));
    h.position(bnb(), pos(None, "-400", "0", "0"));
    h.position(eth(), pos(None, "0", "0", "0"));
    h.equity("9300");
    h.equity("9400");
    // Just before the next day: still halted, nothing released.
    h.at(DAY_MS + 24 * HOUR_MS - 1);
    let check = h
        .decide(btc(), nth(btc(), 4, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(check.rule, RiskRule::DailyLoss);
    // The first event of the next day releases the switch, then is handled as usual.
    h.at(DAY_MS + 24 * HOUR_MS);
    let intent = nth(btc(), 5, OrderPurpose::Entry);
    let derived = h.intent(btc(), intent.clone());
    assert_eq!(
        kinds(&derived),
        [EventKind::KillSwitchReleased, EventKind::OrderApproved]
    );
    assert_eq!(
        derived[0].payload,
        Event::KillSwitchReleased(KillSwitchReleased {
            start_of_day_equity: Money(d("9400"))
        })
    );
    assert_eq!(derived[0].pair, None);
    assert!(decision(&derived[1], btc(), &intent).is_ok());
    // The new day measures from its own start: 5% of 9400 is 470 (BNB's −400 realized
    // yesterday is not counted again).
    assert_eq!(h.position(bnb(), pos(SHORT, "-400", "-469.99", "0")), []);
    let derived = h.position(bnb(), pos(SHORT, "-400", "-470", "0"));
    let engaged = engagement(&derived[0]);
    assert_eq!(engaged.until, Timestamp::from_millis(DAY_MS + 48 * HOUR_MS));
    assert_eq!(engaged.check.observed, Num(d("5")));
}

#[test]
fn a_realized_daily_loss_halts_without_anything_to_close() {
    let mut h = Harness::with_risk("daily_loss_pct = 2");
    h.at(DAY_MS + HOUR_MS).state(BotState::Running);
    h.position(eth(), pos(SHORT, "0", "-150", "1"));
    // Closed with 199 realized and 2 of fees: 201 lost, above 2% of 10000.
    let derived = h.position(eth(), pos(None, "-199", "0", "2"));
    assert_eq!(
        kinds(&derived),
        [EventKind::KillSwitchEngaged, EventKind::Alert]
    );
    assert_eq!(engagement(&derived[0]).check.observed, Num(d("2.01")));
    let check = h
        .decide(btc(), nth(btc(), 1, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(check.rule, RiskRule::DailyLoss);
}

#[test]
fn trading_days_start_at_the_configured_hour() {
    let mut h = Harness::with_risk("daily_loss_pct = 5\nday_start_hour_utc = 8");
    // 07:00 belongs to the day that began yesterday at 08:00; it ends today at 08:00.
    h.at(DAY_MS + 7 * HOUR_MS).state(BotState::Running);
    let derived = h.position(btc(), open(PositionSide::Long, "-500"));
    let engaged = engagement(&derived[0]);
    assert_eq!(engaged.until, Timestamp::from_millis(DAY_MS + 8 * HOUR_MS));
    h.at(DAY_MS + 8 * HOUR_MS - 1);
    let check = h
        .decide(eth(), nth(eth(), 1, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(check.rule, RiskRule::DailyLoss);
    h.at(DAY_MS + 8 * HOUR_MS);
    let derived = h.intent(eth(), nth(eth(), 2, OrderPurpose::Entry));
    assert_eq!(
        kinds(&derived),
        [EventKind::KillSwitchReleased, EventKind::OrderApproved]
    );
    // The position kept from yesterday counts from the day's start: 500 more is the limit.
    h.at(DAY_MS + 9 * HOUR_MS);
    assert_eq!(h.position(btc(), open(PositionSide::Long, "-999.99")), []);
    let derived = h.position(btc(), open(PositionSide::Long, "-1000"));
    assert_eq!(
        engagement(&derived[0]).until,
        Timestamp::from_millis(DAY_MS + 32 * HOUR_MS)
    );
    // A new day that starts while nothing is halted is quiet: no release without a switch.
    let mut h = Harness::with_risk("daily_loss_pct = 5\nday_start_hour_utc = 23");
    h.at(DAY_MS + 22 * HOUR_MS).state(BotState::Running);
    assert_eq!(h.position(btc(), open(PositionSide::Long, "-499")), []);
    h.at(DAY_MS + 23 * HOUR_MS);
    // 499 lost yesterday; today's 499 more is below 5% of the day's start.
    assert_eq!(h.position(btc(), open(PositionSide::Long, "-998")), []);
}

fn paused(event: &Envelope) -> &EntriesPaused {
    match &event.payload {
        Event::EntriesPaused(paused) => paused,
        other => panic!("expected a pause, got {other:?}"),
    }
}

/// One trade of 1 on `pair` and `side`: opened from flat with the pair's cumulative net at
/// `before` (all of it realized), closed with it at `after`.
fn trade(
    h: &mut Harness,
    pair: Symbol,
    side: PositionSide,
    before: &str,
    after: &str,
) -> Vec<Envelope> {
    assert_eq!(h.position(pair, pos(Some(side), before, "-3", "0")), []);
    h.position(pair, pos(None, after, "0", "0"))
}

#[test]
fn losing_trades_in_a_row_pause_entries_for_the_cooldown() {
    let mut h = Harness::with_risk("consecutive_losses = 3\nloss_cooldown = \"4h\"");
    h.state(BotState::Running);
    // Realized +1 but 2 of fees (1 paid to open): net −1, a loss.
    assert_eq!(h.position(btc(), pos(LONG, "0", "0", "1")), []);
    assert_eq!(h.position(btc(), pos(None, "1", "0", "2")), []);
    // A long flipped into a short at −5 (a loss), the short closed at break-even (a loss too):
    // three in a row, across pairs.
    assert_eq!(h.position(eth(), pos(LONG, "0", "0", "0")), []);
    assert_eq!(h.position(eth(), pos(SHORT, "-5", "0", "0")), []);
    let seq = h.next_seq();
    let derived = h.position(eth(), pos(None, "-5", "0", "0"));
    assert_eq!(
        kinds(&derived),
        [EventKind::EntriesPaused, EventKind::Alert]
    );
    assert_eq!(derived[0].cause, Some(seq));
    let paused_at = h.now;
    let pause = paused(&derived[0]);
    assert_eq!(
        pause.until,
        Some(Timestamp::from_millis(paused_at + 4 * HOUR_MS))
    );
    assert_eq!(
        (
            pause.check.rule,
            pause.check.threshold,
            pause.check.observed
        ),
        (RiskRule::ConsecutiveLosses, Num(d("3")), Num(d("3")))
    );
    assert_eq!(
        pause.check.message,
        "3 losing trades in a row (the last on ETHUSDT, 0); entries paused for 4h"
    );
    let alert = alert(&derived[1]);
    assert_eq!(
        (alert.severity, alert.category),
        (Severity::Warning, AlertKind::LimitHit)
    );
    // Entries and add-ons wait; exits keep running.
    let check = h
        .decide(btc(), nth(btc(), 1, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(check.rule, RiskRule::ConsecutiveLosses);
    let add_on = nth(btc(), 2, OrderPurpose::AddOn);
    assert_eq!(
        rule_of(&h.decide(btc(), add_on)),
        Some(RiskRule::ConsecutiveLosses)
    );
    assert!(h
        .decide(eth(), nth(eth(), 3, OrderPurpose::ForceClose))
        .is_ok());
    // A trade closing at a loss during the pause is not counted.
    assert_eq!(trade(&mut h, bnb(), PositionSide::Long, "0", "-10"), []);
    h.at(paused_at + 4 * HOUR_MS - 1);
    let check = h
        .decide(btc(), nth(btc(), 4, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(check.rule, RiskRule::ConsecutiveLosses);
    h.at(paused_at + 4 * HOUR_MS);
    let derived = h.intent(btc(), nth(btc(), 5, OrderPurpose::Entry));
    assert_eq!(
        kinds(&derived),
        [EventKind::EntriesResumed, EventKind::OrderApproved]
    );
    assert_eq!(
        derived[0].payload,
        Event::EntriesResumed(EntriesResumed {
            rule: RiskRule::ConsecutiveLosses,
            reason: "the 4h cooldown after losing trades is over".into()
        })
    );
    // The count restarted: two losses, a win (by 0.01), two losses pass; the third pauses.
    assert_eq!(trade(&mut h, bnb(), PositionSide::Short, "-10", "-11"), []);
    assert_eq!(trade(&mut h, bnb(), PositionSide::Long, "-11", "-12"), []);
    assert_eq!(
        trade(&mut h, bnb(), PositionSide::Long, "-12", "-11.99"),
        []
    );
    assert_eq!(
        trade(&mut h, bnb(), PositionSide::Long, "-11.99", "-12"),
        []
    );
    assert_eq!(trade(&mut h, bnb(), PositionSide::Long, "-12", "-13"), []);
    let derived = trade(&mut h, btc(), PositionSide::Long, "-1", "-1");
    assert_eq!(
        kinds(&derived),
        [EventKind::EntriesPaused, EventKind::Alert]
    );
}

#[test]
fn api_errors_pause_entries_until_an_operator_resumes() {
    let mut h = Harness::with_risk("api_error_threshold = 3");
    h.state(BotState::Running);
    assert_eq!(h.api_error(Some(bot())), []);
    assert_eq!(h.api_error(Some(bot())), []);
    // A fill shows the venue works: the count restarts.
    assert_eq!(h.filled(order(btc(), 9), Side::Buy, "100"), []);
    assert_eq!(h.api_error(Some(bot())), []);
    // Another bot's errors do not count; unrouted ones (the shared connection) do.
    assert_eq!(h.api_error(Some(other_bot())), []);
    assert_eq!(h.api_error(None), []);
    let derived = h.api_error(None);
    assert_eq!(
        kinds(&derived),
        [EventKind::EntriesPaused, EventKind::Alert]
    );
    let pause = paused(&derived[0]);
    assert_eq!(pause.until, None);
    assert_eq!(
        (
            pause.check.rule,
            pause.check.threshold,
            pause.check.observed
        ),
        (RiskRule::ApiErrors, Num(d("3")), Num(d("3")))
    );
    let alert = alert(&derived[1]);
    assert_eq!(
        (alert.severity, alert.category),
        (Severity::Warning, AlertKind::LimitHit)
    );
    let check = h
        .decide(btc(), nth(btc(), 1, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(check.rule, RiskRule::ApiErrors);
    assert!(check.message.starts_with(
        "entries are halted until an operator resumes the bot: 3 exchange API errors"
    ));
    assert!(h.decide(btc(), nth(btc(), 2, OrderPurpose::Exit)).is_ok());
    // More errors do not pause again; other commands and other bots' resumes do nothing.
    assert_eq!(h.api_error(Some(bot())), []);
    assert_eq!(h.operator(other_bot(), Command::ResumeBot), []);
    assert_eq!(h.operator(bot(), Command::PauseBot), []);
    // Time alone does not lift a pause without a cooldown.
    h.at(h.now + 240 * HOUR_MS);
    let check = h
        .decide(btc(), nth(btc(), 3, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(check.rule, RiskRule::ApiErrors);
    let derived = h.operator(bot(), Command::ResumeBot);
    assert_eq!(
        derived
            .iter()
            .map(|e| e.payload.clone())
            .collect::<Vec<_>>(),
        [Event::EntriesResumed(EntriesResumed {
            rule: RiskRule::ApiErrors,
            reason: "operator ops resumed the bot after API errors".into()
        })]
    );
    assert!(h.decide(btc(), nth(btc(), 4, OrderPurpose::Entry)).is_ok());
    assert_eq!(h.operator(bot(), Command::ResumeBot), []);
    // The count restarted at the pause: two errors are below the threshold again.
    assert_eq!(h.api_error(None), []);
    assert_eq!(h.api_error(None), []);
    assert!(h.decide(btc(), nth(btc(), 5, OrderPurpose::Entry)).is_ok());
}

#[test]
fn an_api_error_pause_ends_after_its_cooldown() {
    let mut h = Harness::with_risk("api_error_threshold = 2\napi_error_cooldown = \"30m\"");
    h.state(BotState::Running);
    h.api_error(None);
    let derived = h.api_error(Some(bot()));
    let paused_at = h.now;
    assert_eq!(
        paused(&derived[0]).until,
        Some(Timestamp::from_millis(paused_at + HOUR_MS / 2))
    );
    h.at(paused_at + HOUR_MS / 2 - 1);
    let check = h
        .decide(btc(), nth(btc(), 1, OrderPurpose::Entry))
        .unwrap_err();
    assert_eq!(check.rule, RiskRule::ApiErrors);
    // Any event at the deadline resumes first: here a position update.
    h.at(paused_at + HOUR_MS / 2);
    let derived = h.position(btc(), open(PositionSide::Long, "0"));
    assert_eq!(
        derived
            .iter()
            .map(|e| e.payload.clone())
            .collect::<Vec<_>>(),
        [Event::EntriesResumed(EntriesResumed {
            rule: RiskRule::ApiErrors,
            reason: "the 30m cooldown after API errors is over".into()
        })]
    );
    assert!(h.decide(eth(), nth(eth(), 2, OrderPurpose::Entry)).is_ok());
    // An operator's resume after the cooldown has nothing to lift.
    assert_eq!(h.operator(bot(), Command::ResumeBot), []);
}

/// The slippage warning derived from a fill of `intent` at `price`, if any: its observed bps.
fn slippage(h: &mut Harness, intent: OrderIntent, price: &str) -> Option<Num> {
    let (pair, id, side) = (intent.order_id.pair, intent.order_id, intent.side);
    assert!(h.decide(pair, intent).is_ok());
    let derived = h.filled(id, side, price);
    if derived.is_empty() {
        return None;
    }
    assert_eq!(kinds(&derived), [EventKind::RiskWarning, EventKind::Alert]);
    assert!(derived.iter().all(|event| event.pair == Some(pair)));
    let alert = alert(&derived[1]);
    assert_eq!(
        (alert.severity, alert.category),
        (Severity::Warning, AlertKind::Slippage)
    );
    let Event::RiskWarning(warning) = &derived[0].payload else {
        unreachable!()
    };
    assert_eq!(
        (warning.check.rule, warning.check.threshold),
        (RiskRule::MaxSlippage, Num(d("10")))
    );
    Some(warning.check.observed)
}

#[test]
fn slippage_beyond_its_limit_warns_on_both_sides() {
    let mut h = Harness::with_risk("max_slippage_bps = 10");
    h.state(BotState::Running);
    let buy = |n| nth(eth(), n, OrderPurpose::Entry);
    let sell = |n| OrderIntent {
        side: Side::Sell,
        ..nth(eth(), n, OrderPurpose::Entry)
    };
    // A buy expected at 100: 100.0999 is 9.99 bps, 100.1 exactly 10, 100.1001 10.01 bps.
    assert_eq!(slippage(&mut h, buy(1), "100.0999"), None);
    assert_eq!(slippage(&mut h, buy(2), "100.1"), None);
    assert_eq!(slippage(&mut h, buy(3), "100.1001"), Some(Num(d("10.01"))));
    // Filled lower is in the buyer's favour, however far.
    assert_eq!(slippage(&mut h, buy(4), "95"), None);
    // A sell (an entry short, or an exit) slips downwards.
    assert_eq!(slippage(&mut h, sell(5), "99.9001"), None);
    assert_eq!(slippage(&mut h, sell(6), "99.9"), None);
    assert_eq!(slippage(&mut h, sell(7), "99.8999"), Some(Num(d("10.01"))));
    assert_eq!(slippage(&mut h, sell(8), "105"), None);
    let exit = nth(eth(), 9, OrderPurpose::Exit);
    assert_eq!(slippage(&mut h, exit, "98"), Some(Num(d("200"))));
    // Recorded rounded up to 8 places: a hair above the limit never reads as at it.
    let at_7 = |n| OrderIntent {
        expected_price: Price(d("7")),
        ..buy(n)
    };
    assert_eq!(slippage(&mut h, at_7(10), "7.007"), None);
    assert_eq!(
        slippage(&mut h, at_7(11), "7.0070000001"),
        Some(Num(d("10.00000015")))
    );
    // A fill of an order the supervisor never approved has nothing to compare with.
    assert_eq!(h.filled(order(eth(), 99), Side::Buy, "200"), []);
}

#[test]
fn rejected_orders_raise_an_alert() {
    let mut h = Harness::new();
    let derived = h.rejected(order(btc(), 7));
    assert_eq!(kinds(&derived), [EventKind::Alert]);
    assert_eq!(derived[0].pair, Some(btc()));
    assert_eq!(
        alert(&derived[0]),
        &Alert {
            severity: Severity::Warning,
            category: AlertKind::OrderFailed,
            message: "bot a: order BTCUSDT-7-0 rejected (code -2010): insufficient balance".into()
        }
    );
}

#[test]
fn halts_are_checked_after_the_bots_state_and_before_the_pairs_rules() {
    let mut h = Harness::with_risk(
        "daily_loss_pct = 1\nconsecutive_losses = 1\nloss_cooldown = \"1d\"\n\
         api_error_threshold = 1\nmax_positions_total = 1",
    );
    h.at(DAY_MS + HOUR_MS).state(BotState::Running);
    // The API-error pause alone.
    h.api_error(None);
    // A leverage above the pair's would be vetoed too, but the halt answers first.
    let intent = || entry(btc(), "1", "100", "5");
    assert_eq!(
        rule_of(&h.decide(btc(), intent())),
        Some(RiskRule::ApiErrors)
    );
    // A losing trade adds the consecutive-loss pause, which comes before it.
    let derived = trade(&mut h, eth(), PositionSide::Short, "0", "-50");
    assert_eq!(
        kinds(&derived),
        [EventKind::EntriesPaused, EventKind::Alert]
    );
    assert_eq!(
        rule_of(&h.decide(btc(), intent())),
        Some(RiskRule::ConsecutiveLosses)
    );
    // A daily loss of 1% engages the kill switch, which comes first of all.
    let derived = h.position(btc(), open(PositionSide::Long, "-50"));
    assert_eq!(kinds(&derived)[0], EventKind::KillSwitchEngaged);
    assert_eq!(
        rule_of(&h.decide(btc(), intent())),
        Some(RiskRule::DailyLoss)
    );
    // But the bot's state comes before any halt.
    h.state(BotState::Paused);
    assert_eq!(
        rule_of(&h.decide(btc(), intent())),
        Some(RiskRule::BotNotRunning)
    );
}
