//! The Bot run alone under the direct Journal, fed market inputs, the Exchange's position and
//! equity updates and operator commands as inputs.

use charon_events::payload::control::OperatorCommand;
use charon_events::payload::market::{Aggressor, Trade};
use charon_events::payload::order::PositionUpdated;
use charon_events::{EventKind, Price, Quantity, Rate, Seq, Timestamp};

use super::*;
use crate::config::{validate, Config};
use crate::journal::{InputMode, Journal, MemorySink};
use crate::testkit::{btc, d, eth};

fn bot() -> BotId {
    BotId::new("b").unwrap()
}

/// Bot `b`: 10000, take-profit at +10%, stop-loss at −5%.
fn config() -> Config {
    let text = "\
[[bot]]
name = \"b\"
quote = \"USDT\"
initial_capital = 10000
take_profit_pct = 10
stop_loss_pct = 5

[[bot.pair]]
symbol = \"BTCUSDT\"
strategy = \"t.toml\"
sizing = { per_trade = { quote = 500 } }

[[bot.pair]]
symbol = \"ETHUSDT\"
strategy = \"t.toml\"
sizing = { per_trade = { quote = 500 } }
";
    let config: Config = toml::from_str(text).unwrap();
    assert_eq!(validate(&config), [], "the test configuration is valid");
    config
}

struct Harness {
    journal: Journal<MemorySink>,
    now: i64,
}

impl Harness {
    fn new() -> Self {
        let bot = Bot::new(&config().bot[0]);
        assert_eq!(bot.state(), BotState::Created);
        let journal =
            Journal::new(vec![Box::new(bot)], MemorySink::new(InputMode::Recorded)).unwrap();
        Self {
            journal,
            now: 1_700_000_000_000,
        }
    }

    fn next_seq(&self) -> Seq {
        self.journal.sink().events.len() as Seq + 1
    }

    fn input(&mut self, input: Envelope) -> Vec<Envelope> {
        let before = self.journal.sink().events.len();
        self.journal.process(input).unwrap();
        self.journal.sink().events[before + 1..].to_vec()
    }

    fn at(&mut self, payload: Event) -> Envelope {
        self.now += 1;
        Envelope::input(Timestamp::from_millis(self.now), payload)
    }

    fn trade(&mut self) -> Vec<Envelope> {
        let trade = Trade {
            trade_id: self.now as u64,
            price: Price(d("100")),
            qty: Quantity(d("1")),
            aggressor: Aggressor::Buyer,
        };
        let input = self.at(Event::Trade(trade)).with_pair(btc());
        self.input(input)
    }

    fn start(&mut self) {
        let derived = self.trade();
        assert_eq!(states(&derived), [BotState::Running]);
    }

    fn position(&mut self, pair: Symbol, side: Option<PositionSide>) -> Vec<Envelope> {
        let update = PositionUpdated {
            side,
            qty: Quantity(if side.is_some() { d("1") } else { d("0") }),
            avg_entry: Price(d("100")),
            mark: Price(d("100")),
            leverage: Rate(Decimal::ONE),
            liquidation_price: None,
            realized_pnl: Money::ZERO,
            unrealized_pnl: Money::ZERO,
            fees: Money::ZERO,
            funding: Money::ZERO,
        };
        let input = self
            .at(Event::PositionUpdated(update))
            .with_bot(bot())
            .with_pair(pair);
        self.input(input)
    }

    fn equity(&mut self, equity: &str) -> Vec<Envelope> {
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
        let input = self.at(Event::EquityUpdated(update)).with_bot(bot());
        self.input(input)
    }

    fn command(&mut self, command: Command) -> Vec<Envelope> {
        let command = OperatorCommand {
            command,
            operator: "ann".into(),
        };
        let input = self.at(Event::OperatorCommand(command)).with_bot(bot());
        self.input(input)
    }
}

/// The states the bot moved to in `events` (its other events left out).
fn states(events: &[Envelope]) -> Vec<BotState> {
    events
        .iter()
        .filter_map(|event| match &event.payload {
            Event::BotStateChanged(changed) => Some(changed.state),
            _ => None,
        })
        .collect()
}

fn kinds(events: &[Envelope]) -> Vec<EventKind> {
    events.iter().map(|event| event.payload.kind()).collect()
}

#[test]
fn starts_running_on_the_first_input() {
    let mut h = Harness::new();
    let derived = h.trade();
    assert_eq!(kinds(&derived), [EventKind::BotStateChanged]);
    let event = &derived[0];
    assert_eq!(event.origin, Origin::Derived(ActorId::Bot(bot())));
    assert_eq!(event.cause, Some(1));
    // Routed to the bot alone, as pairs and the supervisor expect it.
    assert_eq!((event.bot, event.pair), (Some(bot()), None));
    assert_eq!(
        event.payload,
        Event::BotStateChanged(BotStateChanged {
            state: BotState::Running,
            reason: "started by the run's first input".into(),
        })
    );
    assert_eq!(h.trade(), []);
}

#[test]
fn take_profit_closes_every_open_pair_then_stops() {
    let mut h = Harness::new();
    h.start();
    assert_eq!(h.position(btc(), Some(PositionSide::Long)), []);
    assert_eq!(h.position(eth(), Some(PositionSide::Long)), []);
    // +9.99%: not yet.
    assert_eq!(h.equity("10999"), []);
    // 10000·1.10 = 11000.
    let seq = h.next_seq();
    let derived = h.equity("11000");
    assert_eq!(
        kinds(&derived),
        [
            EventKind::BotStateChanged,
            EventKind::ForceClose,
            EventKind::ForceClose,
            EventKind::Alert
        ]
    );
    assert_eq!(states(&derived), [BotState::Stopping]);
    assert!(derived.iter().all(|event| event.cause == Some(seq)));
    // One force close per open pair, routed to it.
    let pairs: Vec<_> = derived[1..3].iter().map(|event| event.pair).collect();
    assert_eq!(pairs, [Some(btc()), Some(eth())]);
    let Event::ForceClose(close) = &derived[1].payload else {
        unreachable!()
    };
    assert_eq!(close.side, PositionSide::Long);
    assert_eq!(
        (
            close.check.rule,
            close.check.threshold,
            close.check.observed
        ),
        (RiskRule::BotTakeProfit, Num(d("10")), Num(d("10")))
    );
    // More equity while stopping asks for nothing more.
    assert_eq!(h.equity("12000"), []);
    // Stopped when the last open pair reports flat.
    assert_eq!(h.position(btc(), None), []);
    let derived = h.position(eth(), None);
    assert_eq!(
        derived.iter().map(|e| &e.payload).collect::<Vec<_>>(),
        [&Event::BotStateChanged(BotStateChanged {
            state: BotState::Stopped,
            reason: "every position is closed".into(),
        })]
    );
    assert_eq!(h.equity("5000"), []);
}

#[test]
fn stop_loss_closes_the_open_pair() {
    let mut h = Harness::new();
    h.start();
    h.position(eth(), Some(PositionSide::Short));
    h.position(btc(), Some(PositionSide::Long));
    // BTCUSDT closed again: only ETHUSDT is open.
    h.position(btc(), None);
    assert_eq!(h.equity("9500.01"), []);
    // 10000·(1 − 5/100) = 9500.
    let derived = h.equity("9500");
    assert_eq!(
        kinds(&derived),
        [
            EventKind::BotStateChanged,
            EventKind::ForceClose,
            EventKind::Alert
        ]
    );
    // A stop-loss is told as a critical limit hit.
    let Event::Alert(alert) = &derived[2].payload else {
        unreachable!()
    };
    assert_eq!(
        (alert.severity, alert.category),
        (Severity::Critical, AlertKind::LimitHit)
    );
    assert!(alert.message.contains("stop-loss"), "{}", alert.message);
    assert_eq!(states(&derived), [BotState::Stopping]);
    assert_eq!(derived[1].pair, Some(eth()));
    let Event::ForceClose(close) = &derived[1].payload else {
        unreachable!()
    };
    assert_eq!(close.side, PositionSide::Short);
    assert_eq!(
        (
            close.check.rule,
            close.check.threshold,
            close.check.observed
        ),
        (RiskRule::BotStopLoss, Num(d("-5")), Num(d("-5")))
    );
    assert_eq!(states(&h.position(eth(), None)), [BotState::Stopped]);
}

#[test]
fn with_nothing_open_the_bot_stops_at_once() {
    let mut h = Harness::new();
    h.start();
    h.position(btc(), Some(PositionSide::Long));
    h.position(btc(), None);
    let derived = h.equity("8000");
    assert_eq!(
        kinds(&derived),
        [EventKind::BotStateChanged, EventKind::Alert]
    );
    assert_eq!(states(&derived), [BotState::Stopped]);
}

#[test]
fn a_paused_bot_still_watches_its_equity() {
    let mut h = Harness::new();
    h.start();
    assert_eq!(states(&h.command(Command::PauseBot)), [BotState::Paused]);
    assert_eq!(states(&h.equity("11500")), [BotState::Stopped]);
}

#[test]
fn operator_pause_resume_and_stop() {
    let mut h = Harness::new();
    h.start();
    let derived = h.command(Command::PauseBot);
    assert_eq!(
        derived.iter().map(|e| &e.payload).collect::<Vec<_>>(),
        [&Event::BotStateChanged(BotStateChanged {
            state: BotState::Paused,
            reason: "operator ann".into(),
        })]
    );
    assert_eq!(derived[0].pair, None);
    assert_eq!(h.command(Command::PauseBot), [], "already paused");
    assert_eq!(states(&h.command(Command::ResumeBot)), [BotState::Running]);
    assert_eq!(h.command(Command::ResumeBot), [], "already running");
    h.position(btc(), Some(PositionSide::Long));
    // Stopping without closing leaves the position to the operator.
    let derived = h.command(Command::StopBot {
        close_positions: false,
    });
    assert_eq!(kinds(&derived), [EventKind::BotStateChanged]);
    assert_eq!(states(&derived), [BotState::Stopped]);
    // A stopped bot stays stopped.
    assert_eq!(h.command(Command::ResumeBot), []);
    assert_eq!(h.command(Command::StartBot), []);
    assert_eq!(h.equity("20000"), []);
}

#[test]
fn operator_stop_closing_positions() {
    let mut h = Harness::new();
    h.start();
    h.position(btc(), Some(PositionSide::Long));
    let derived = h.command(Command::StopBot {
        close_positions: true,
    });
    assert_eq!(
        kinds(&derived),
        [
            EventKind::BotStateChanged,
            EventKind::ForceClose,
            EventKind::Alert
        ]
    );
    // An operator's stop is told as a state change, not a limit hit.
    let Event::Alert(alert) = &derived[2].payload else {
        unreachable!()
    };
    assert_eq!(
        (alert.severity, alert.category),
        (Severity::Info, AlertKind::BotStateChange)
    );
    assert_eq!(states(&derived), [BotState::Stopping]);
    let Event::ForceClose(close) = &derived[1].payload else {
        unreachable!()
    };
    assert_eq!(close.check.rule, RiskRule::Operator);
    assert_eq!(close.check.message, "stopped by operator ann");
    assert_eq!(states(&h.position(btc(), None)), [BotState::Stopped]);
}

#[test]
fn a_start_command_as_the_first_input_starts_the_bot_once() {
    let mut h = Harness::new();
    let derived = h.command(Command::StartBot);
    assert_eq!(states(&derived), [BotState::Running]);
    assert_eq!(h.trade(), []);
}

#[test]
fn other_bots_events_are_not_its_own() {
    let mut h = Harness::new();
    h.start();
    h.position(btc(), Some(PositionSide::Long));
    let other = BotId::new("z").unwrap();
    let mut input = h.at(Event::EquityUpdated(EquityUpdated {
        cash: Money(d("20000")),
        equity: Money(d("20000")),
        realized_pnl: Money::ZERO,
        unrealized_pnl: Money::ZERO,
        fees: Money::ZERO,
        funding: Money::ZERO,
        peak_equity: Money(d("20000")),
        drawdown: Rate(Decimal::ZERO),
    }));
    input.bot = Some(other);
    assert_eq!(h.input(input), []);
    let mut input = h.at(Event::OperatorCommand(OperatorCommand {
        command: Command::PauseBot,
        operator: "ann".into(),
    }));
    input.bot = Some(other);
    assert_eq!(h.input(input), []);
}

#[test]
fn a_pair_opening_after_a_closing_stop_is_closed_too() {
    let mut h = Harness::new();
    h.start();
    // Stop-loss with nothing open: stopped at once.
    assert_eq!(states(&h.equity("9000")), [BotState::Stopped]);
    // An entry approved before the stop fills afterwards.
    let derived = h.position(eth(), Some(PositionSide::Long));
    assert_eq!(
        kinds(&derived),
        [EventKind::BotStateChanged, EventKind::ForceClose]
    );
    assert_eq!(states(&derived), [BotState::Stopping]);
    assert_eq!(derived[1].pair, Some(eth()));
    let Event::ForceClose(close) = &derived[1].payload else {
        unreachable!()
    };
    assert_eq!(close.check.rule, RiskRule::BotStopLoss);
    // Its next updates (revaluations) ask nothing more; flat, the bot is stopped again.
    assert_eq!(h.position(eth(), Some(PositionSide::Long)), []);
    assert_eq!(states(&h.position(eth(), None)), [BotState::Stopped]);
}

#[test]
fn a_stop_without_closing_leaves_later_positions_alone() {
    let mut h = Harness::new();
    h.start();
    h.command(Command::StopBot {
        close_positions: false,
    });
    assert_eq!(h.position(btc(), Some(PositionSide::Long)), []);
}
