//! The report's figures on hand-made event sequences: returns, drawdown, trades and their
//! net P&L, counters, routing by bot, the text, and a property test of the drawdown.

use super::*;
use charon_events::payload::external::ClockTick;
use charon_events::payload::order::{
    Fill, Liquidity, OrderFilled, OrderIntent, OrderPartiallyFilled, OrderPurpose, OrderRejected,
    OrderType, OrderVetoed, PositionSide, Side, TimeInForce,
};
use charon_events::payload::risk::{
    ForceClose, RiskCheck, Signal, SignalAction, SignalBlocked, SignalSource,
};
use charon_events::samples::position_update;
use charon_events::{ActorId, ClientOrderId, Price, Venue};
use proptest::prelude::*;

fn dec<T: From<Decimal>>(text: &str) -> T {
    T::from(Decimal::from_str_exact(text).expect("a decimal"))
}

fn bot(name: &str) -> BotId {
    BotId::new(name).unwrap()
}

fn sym(name: &str) -> Symbol {
    Symbol::new(name).unwrap()
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_millis(s * 1_000)
}

fn derived(at: i64, payload: Event) -> Envelope {
    Envelope::derived(
        ts(at),
        ActorId::Exchange(Venue::new("sim").unwrap()),
        1,
        payload,
    )
}

fn equity(at: i64, name: &str, equity: &str) -> Envelope {
    derived(
        at,
        Event::EquityUpdated(EquityUpdated {
            cash: dec(equity),
            equity: dec(equity),
            realized_pnl: Money::ZERO,
            unrealized_pnl: Money::ZERO,
            fees: Money::ZERO,
            funding: Money::ZERO,
            peak_equity: Money::ZERO,
            drawdown: Default::default(),
        }),
    )
    .with_bot(bot(name))
}

/// A position update of `pair` for bot `b`: `side` `None` is flat.
#[allow(clippy::too_many_arguments)]
fn position(
    name: &str,
    pair: &str,
    side: Option<PositionSide>,
    qty: &str,
    realized: &str,
    fees: &str,
    funding: &str,
) -> Envelope {
    derived(
        0,
        Event::PositionUpdated(position_update(
            side, qty, "100", realized, "123", fees, funding,
        )),
    )
    .with_bot(bot(name))
    .with_pair(sym(pair))
}

const LONG: Option<PositionSide> = Some(PositionSide::Long);
const SHORT: Option<PositionSide> = Some(PositionSide::Short);
const FLAT: Option<PositionSide> = None;

fn run(bots: &[(&str, &str)], events: &[Envelope]) -> Report {
    let bots: Vec<(BotId, Money)> = bots
        .iter()
        .map(|&(name, capital)| (bot(name), dec(capital)))
        .collect();
    let mut builder = ReportBuilder::new(&bots);
    for event in events {
        builder.observe(event);
    }
    builder.finish()
}

fn order_id() -> ClientOrderId {
    ClientOrderId {
        pair: sym("BTCUSDT"),
        cause: 1,
        leg: 0,
    }
}

fn check(rule: RiskRule) -> RiskCheck {
    RiskCheck {
        rule,
        threshold: dec("1"),
        observed: dec("2"),
        message: String::new(),
    }
}

fn fill() -> Fill {
    Fill {
        order_id: order_id(),
        venue_trade_id: None,
        side: Side::Buy,
        price: dec("100"),
        qty: dec("1"),
        fee: dec("0.1"),
        liquidity: Liquidity::Taker,
    }
}

fn pair_event(name: &str, payload: Event) -> Envelope {
    derived(0, payload)
        .with_bot(bot(name))
        .with_pair(sym("BTCUSDT"))
}

#[test]
fn return_and_drawdown_follow_the_equity_series() {
    let report = run(
        &[("b", "1000")],
        &[
            equity(1, "b", "1100"),
            equity(2, "b", "880"),
            equity(3, "b", "990"),
        ],
    );
    let b = &report.bots[0];
    assert_eq!(b.final_equity, dec("990"));
    assert_eq!(b.return_pct, dec::<Decimal>("-1"));
    // From the 1100 peak down to 880, not from the initial 1000 (which would be 12%).
    assert_eq!(b.max_drawdown_pct, dec::<Decimal>("20"));
    assert_eq!(report.events, 3);
    assert_eq!(report.first_ts, Some(ts(1)));
    assert_eq!(report.last_ts, Some(ts(3)));
}

#[test]
fn drawdown_counts_from_the_initial_capital_and_percentages_round_to_4dp() {
    // Never above the initial capital: the peak is the capital itself.
    let report = run(
        &[("b", "3000")],
        &[equity(1, "b", "2000"), equity(2, "b", "2999")],
    );
    let b = &report.bots[0];
    // 1000 / 3000 = 33.33333…%, 1 / 3000 = 0.0333…%.
    assert_eq!(b.max_drawdown_pct, dec::<Decimal>("33.3333"));
    assert_eq!(b.return_pct, dec::<Decimal>("-0.0333"));
}

#[test]
fn a_bot_without_equity_updates_keeps_its_capital() {
    let report = run(&[("b", "500")], &[]);
    let b = &report.bots[0];
    assert_eq!(b.final_equity, dec("500"));
    assert_eq!(b.return_pct, Decimal::ZERO);
    assert_eq!(b.max_drawdown_pct, Decimal::ZERO);
    assert_eq!(b.win_rate_pct, None);
    assert_eq!(report.first_ts, None);
}

#[test]
fn account_totals_come_from_the_last_equity_update() {
    let update = |equity: &str, realized: &str, fees: &str, funding: &str| {
        derived(
            0,
            Event::EquityUpdated(EquityUpdated {
                cash: dec(equity),
                equity: dec(equity),
                realized_pnl: dec(realized),
                unrealized_pnl: Money::ZERO,
                fees: dec(fees),
                funding: dec(funding),
                peak_equity: Money::ZERO,
                drawdown: Default::default(),
            }),
        )
        .with_bot(bot("b"))
    };
    let report = run(
        &[("b", "1000")],
        &[
            update("1010", "12", "2", "0"),
            update("1004.5", "10", "3", "-2.5"),
            // Carries a pair: not the account's update, ignored.
            update("1", "99", "99", "99").with_pair(sym("BTCUSDT")),
        ],
    );
    let b = &report.bots[0];
    assert_eq!(b.final_equity, dec("1004.5"));
    assert_eq!(b.realized_pnl, dec("10"));
    assert_eq!(b.fees, dec("3"));
    assert_eq!(b.funding, dec("-2.5"));
    assert_eq!(b.return_pct, dec::<Decimal>("0.45"));
    // 1010 → 1004.5 is 0.54455…%.
    assert_eq!(b.max_drawdown_pct, dec::<Decimal>("0.5446"));
}

#[test]
fn a_win_and_a_loss_with_fees_and_funding() {
    let report = run(
        &[("b", "1000")],
        &[
            // Trade 1: fee 1 to open, +10 realized, fee 1 to close: net +8, a win.
            position("b", "BTCUSDT", LONG, "1", "0", "1", "0"),
            position("b", "BTCUSDT", FLAT, "0", "10", "2", "0"),
            // Trade 2: realizes +3 before fees (1 + 1) but pays 2.5 funding: −1.5, a loss.
            position("b", "BTCUSDT", SHORT, "2", "10", "3", "0"),
            position("b", "BTCUSDT", SHORT, "2", "10", "3", "-2.5"),
            position("b", "BTCUSDT", FLAT, "0", "13", "4", "-2.5"),
            // Trade 3: exactly break even (−1 realized, +1 funding, fees 0): a loss.
            position("b", "ETHUSDT", LONG, "1", "0", "0", "0"),
            position("b", "ETHUSDT", LONG, "1", "0", "0", "1"),
            position("b", "ETHUSDT", FLAT, "0", "-1", "0", "1"),
        ],
    );
    let b = &report.bots[0];
    assert_eq!((b.trades, b.wins, b.losses), (3, 1, 2));
    assert_eq!(b.win_rate_pct, Some(dec::<Decimal>("33.3333")));
    let btc = &b.pairs[0];
    assert_eq!(btc.pair, sym("BTCUSDT"));
    assert_eq!((btc.trades, btc.wins, btc.losses), (2, 1, 1));
    assert_eq!(btc.net_pnl, dec("6.5"));
    assert_eq!(btc.fees, dec("4"));
    assert_eq!(btc.funding, dec("-2.5"));
    assert_eq!(btc.open_qty, Quantity::ZERO);
    let eth = &b.pairs[1];
    assert_eq!(eth.pair, sym("ETHUSDT"));
    assert_eq!((eth.trades, eth.wins, eth.losses), (1, 0, 1));
    assert_eq!(eth.net_pnl, Money(Decimal::ZERO));
}

#[test]
fn a_flip_closes_one_trade_and_opens_another() {
    let report = run(
        &[("b", "1000")],
        &[
            // Flat with earlier history: the long's baseline is this net, 5 − 1 = 4.
            position("b", "BTCUSDT", FLAT, "0", "5", "1", "0"),
            position("b", "BTCUSDT", LONG, "1", "5", "2", "0"),
            // The flip realizes +1 and pays fee 4: net 0, so the long made −4. The short
            // is measured from this 0.
            position("b", "BTCUSDT", SHORT, "1", "6", "6", "0"),
            // The short realizes +3 and pays fee 1: +2, a win. Measured from before the
            // flip (3) it would be a loss, as it would with half the flip fee (from 2).
            position("b", "BTCUSDT", FLAT, "0", "9", "7", "0"),
        ],
    );
    let b = &report.bots[0];
    assert_eq!((b.trades, b.wins, b.losses), (2, 1, 1));
    assert_eq!(b.pairs[0].net_pnl, dec("2"));
    assert_eq!(b.pairs[0].open_qty, Quantity::ZERO);
}

#[test]
fn an_open_trade_is_not_counted() {
    let report = run(
        &[("b", "1000")],
        &[
            position("b", "BTCUSDT", LONG, "1", "0", "1", "0"),
            position("b", "BTCUSDT", FLAT, "0", "-4", "2", "0"),
            position("b", "BTCUSDT", SHORT, "0.5", "-4", "3", "0"),
            // A partial reduction realizes +6 but the trade stays open.
            position("b", "BTCUSDT", SHORT, "0.25", "2", "4", "0"),
        ],
    );
    let b = &report.bots[0];
    assert_eq!((b.trades, b.wins, b.losses), (1, 0, 1));
    let pair = &b.pairs[0];
    assert_eq!(pair.trades, 1);
    assert_eq!(pair.open_qty, dec("0.25"));
    // Realized so far, fees included; the unrealized 123 of every update is not.
    assert_eq!(pair.net_pnl, dec("-2"));
}

#[test]
fn a_side_with_zero_quantity_is_flat() {
    let report = run(
        &[("b", "1000")],
        &[
            position("b", "BTCUSDT", LONG, "1", "0", "0", "0"),
            position("b", "BTCUSDT", LONG, "0", "1", "0", "0"),
        ],
    );
    let pair = &report.bots[0].pairs[0];
    assert_eq!((pair.trades, pair.wins), (1, 1));
    assert_eq!(pair.open_qty, Quantity::ZERO);
}

#[test]
fn counters_and_vetoes_grouped_by_rule() {
    let veto = |rule| {
        pair_event(
            "b",
            Event::OrderVetoed(OrderVetoed {
                order_id: order_id(),
                check: check(rule),
            }),
        )
    };
    let signal = Event::Signal(Signal {
        action: SignalAction::EnterLong,
        source: SignalSource::Strategy,
        rule: "long_entry".into(),
    });
    let intent = Event::OrderIntent(OrderIntent {
        order_id: order_id(),
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Gtc,
        qty: dec("1"),
        expected_price: dec("100"),
        leverage: dec("1"),
        reduce_only: false,
        purpose: OrderPurpose::Entry,
        reason: "entry".into(),
    });
    let events = [
        pair_event("b", signal.clone()),
        pair_event("b", signal),
        pair_event(
            "b",
            Event::SignalBlocked(SignalBlocked {
                action: SignalAction::EnterLong,
                check: check(RiskRule::AtrGate),
            }),
        ),
        pair_event("b", intent.clone()),
        pair_event("b", intent.clone()),
        pair_event("b", intent),
        veto(RiskRule::MaxLeverage),
        veto(RiskRule::DailyLoss),
        veto(RiskRule::MaxLeverage),
        pair_event(
            "b",
            Event::OrderPartiallyFilled(OrderPartiallyFilled {
                fill: fill(),
                cum_qty: dec("1"),
                leaves_qty: dec("1"),
            }),
        ),
        pair_event(
            "b",
            Event::OrderFilled(OrderFilled {
                fill: fill(),
                cum_qty: dec("2"),
                avg_price: dec("100"),
            }),
        ),
        pair_event(
            "b",
            Event::OrderRejected(OrderRejected {
                order_id: order_id(),
                code: Some(-2010),
                reason: "insufficient balance".into(),
            }),
        ),
        pair_event(
            "b",
            Event::ForceClose(ForceClose {
                side: PositionSide::Long,
                check: check(RiskRule::StopLoss),
            }),
        ),
        pair_event(
            "b",
            Event::Alert(charon_events::payload::control::Alert {
                severity: charon_events::payload::control::Severity::Warning,
                category: charon_events::payload::control::AlertKind::LimitHit,
                message: "entries paused".into(),
            }),
        ),
    ];
    let report = run(&[("b", "1000")], &events);
    let b = &report.bots[0];
    assert_eq!(b.signals, 2);
    assert_eq!(b.orders, 3);
    assert_eq!(b.fills, 2);
    assert_eq!(b.rejections, 1);
    assert_eq!(b.force_closes, 1);
    let vetoes: Vec<(&str, u64)> = b.vetoes.iter().map(|(k, &v)| (k.as_str(), v)).collect();
    assert_eq!(vetoes, [("daily_loss", 1), ("max_leverage", 2)]);
    // The gate's block is counted as a blocked signal, not a veto.
    let blocked: Vec<(&str, u64)> = b.blocked.iter().map(|(k, &v)| (k.as_str(), v)).collect();
    assert_eq!(blocked, [("atr_gate", 1)]);
    assert_eq!(b.alerts, 1);
    // A pair that never held a position still has its row.
    assert_eq!(b.pairs.len(), 1);
    assert_eq!(b.pairs[0].trades, 0);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["bots"][0]["vetoes"]["max_leverage"], 2);
    assert_eq!(json["bots"][0]["initial_capital"], "1000");
}

#[test]
fn events_of_unknown_bots_are_ignored() {
    let events = [
        Envelope::input(ts(10), Event::ClockTick(ClockTick {})),
        equity(11, "other", "1"),
        position("other", "BTCUSDT", LONG, "1", "0", "0", "0"),
        position("other", "BTCUSDT", FLAT, "0", "50", "0", "0"),
        pair_event(
            "other",
            Event::ForceClose(ForceClose {
                side: PositionSide::Long,
                check: check(RiskRule::StopLoss),
            }),
        ),
        // No bot at all.
        derived(
            12,
            Event::EquityUpdated(EquityUpdated {
                cash: dec("1"),
                equity: dec("1"),
                realized_pnl: Money::ZERO,
                unrealized_pnl: Money::ZERO,
                fees: Money::ZERO,
                funding: Money::ZERO,
                peak_equity: Money::ZERO,
                drawdown: Default::default(),
            }),
        ),
        equity(13, "b", "1200"),
        Envelope::input(ts(14), Event::ClockTick(ClockTick {})),
    ];
    let report = run(&[("a", "100"), ("b", "1000")], &events);
    assert_eq!(report.events, 8);
    assert_eq!(report.first_ts, Some(ts(10)));
    assert_eq!(report.last_ts, Some(ts(14)));
    let names: Vec<&str> = report.bots.iter().map(|b| b.bot.as_str()).collect();
    assert_eq!(names, ["a", "b"], "config order");
    for b in &report.bots {
        assert_eq!(b.max_drawdown_pct, Decimal::ZERO, "{}", b.bot);
        assert_eq!(b.trades, 0);
        assert_eq!(b.force_closes, 0);
        assert!(b.pairs.is_empty());
    }
    assert_eq!(report.bots[0].final_equity, dec("100"));
    assert_eq!(report.bots[1].final_equity, dec("1200"));
    assert_eq!(report.bots[1].return_pct, dec::<Decimal>("20"));
}

#[test]
fn text_names_the_figures_and_aligns_the_pair_table() {
    let report = run(
        &[("b", "1000")],
        &[
            Envelope::input(Timestamp::from_nanos(1_723_161_253_937_085_768), {
                Event::ClockTick(ClockTick {})
            }),
            position("b", "BTCUSDT", LONG, "1", "0", "1", "0"),
            position("b", "BTCUSDT", FLAT, "0", "10", "2", "0"),
            position("b", "DOGEUSDT", SHORT, "12345.5", "0", "0.25", "0"),
            equity(1_723_161_300, "b", "1007.75"),
        ],
    );
    let text = report.render_text();
    assert!(
        text.starts_with("period  2024-08-08T23:54:13.937085768Z .. 2024-08-08T23:55:00Z\n"),
        "{text}"
    );
    assert!(text.contains("\n  return           0.7750%\n"), "{text}");
    assert!(text.contains("\n  max drawdown     0.0000%\n"), "{text}");
    assert!(text.contains("\n  win rate         100.0000%\n"), "{text}");
    assert!(
        text.contains("\n  trades           1 (1 won, 0 lost)\n"),
        "{text}"
    );
    let table: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("pair"))
        .collect();
    assert_eq!(table.len(), 3, "{text}");
    assert!(table[1].starts_with("  BTCUSDT "), "{text}");
    assert!(table[2].ends_with("  12345.5"), "{text}");
    // Right-aligned columns: every line ends at the same width, and each column's cells end
    // where its header does.
    assert!(
        table.iter().all(|line| line.len() == table[0].len()),
        "{text}"
    );
    let end_of = |line: &str, cell: &str| line.find(cell).unwrap() + cell.len();
    // Amounts read in cents: 8 and -0.25 print as 8.00 and -0.25.
    assert_eq!(end_of(table[0], "net p&l"), end_of(table[1], "  8.00"));
    assert_eq!(end_of(table[0], "net p&l"), end_of(table[2], "-0.25"));
}

/// The largest `(e_i − e_j) / e_i × 100` over every `i ≤ j`, the capital being `e_0`.
fn naive_drawdown(series: &[Decimal]) -> Decimal {
    let mut worst = Decimal::ZERO;
    for (j, &later) in series.iter().enumerate() {
        for &earlier in &series[..=j] {
            if earlier > Decimal::ZERO {
                worst = worst.max((earlier - later) / earlier * Decimal::ONE_HUNDRED);
            }
        }
    }
    worst.round_dp(PCT_DP)
}

proptest! {
    #[test]
    fn drawdown_is_a_bounded_exact_maximum(
        capital in 1i64..10_000_000,
        cents in prop::collection::vec(0i64..20_000_000, 0..40),
    ) {
        let capital = Money::new(capital, 2);
        let mut builder = ReportBuilder::new(&[(bot("b"), capital)]);
        let mut series = vec![capital.0];
        for (i, &c) in cents.iter().enumerate() {
            let mut event = equity(i as i64, "b", "0");
            if let Event::EquityUpdated(update) = &mut event.payload {
                update.equity = Money::new(c, 2);
            }
            builder.observe(&event);
            series.push(Decimal::new(c, 2));
        }
        let dd = builder.finish().bots[0].max_drawdown_pct;
        prop_assert!(dd >= Decimal::ZERO && dd <= Decimal::ONE_HUNDRED, "{dd}");
        prop_assert_eq!(dd, naive_drawdown(&series));
    }
}

/// Events of bot `b` on BTCUSDT at given seconds, for the trade records.
struct Tape {
    events: Vec<Envelope>,
    leg: u16,
}

impl Tape {
    fn new() -> Self {
        Self {
            events: Vec::new(),
            leg: 0,
        }
    }

    fn push(&mut self, at: i64, payload: Event) {
        let mut event = pair_event("b", payload);
        event.ts = ts(at);
        self.events.push(event);
    }

    /// An intent, then its fills (price, qty, fee; the last one completes it).
    fn order(
        &mut self,
        at: i64,
        side: Side,
        purpose: OrderPurpose,
        reason: &str,
        fills: &[(&str, &str, &str)],
    ) {
        self.leg += 1;
        let order_id = ClientOrderId {
            pair: sym("BTCUSDT"),
            cause: 7,
            leg: self.leg,
        };
        self.push(
            at,
            Event::OrderIntent(OrderIntent {
                order_id,
                side,
                order_type: OrderType::Market,
                time_in_force: TimeInForce::Gtc,
                qty: dec("1"),
                expected_price: dec("100"),
                leverage: dec("1"),
                reduce_only: false,
                purpose,
                reason: reason.into(),
            }),
        );
        for (i, &(price, qty, fee)) in fills.iter().enumerate() {
            let fill = Fill {
                order_id,
                venue_trade_id: None,
                side,
                price: dec(price),
                qty: dec(qty),
                fee: dec(fee),
                liquidity: Liquidity::Taker,
            };
            let payload = if i + 1 == fills.len() {
                Event::OrderFilled(OrderFilled {
                    fill,
                    cum_qty: dec("1"),
                    avg_price: dec(price),
                })
            } else {
                Event::OrderPartiallyFilled(OrderPartiallyFilled {
                    fill,
                    cum_qty: dec("1"),
                    leaves_qty: dec("1"),
                })
            };
            self.push(at, payload);
        }
    }

    /// A position update: side, qty, average entry, then cumulative realized, fees, funding
    /// and the unrealized P&L.
    #[allow(clippy::too_many_arguments)]
    fn position(
        &mut self,
        at: i64,
        side: Option<PositionSide>,
        qty: &str,
        avg_entry: &str,
        realized: &str,
        fees: &str,
        funding: &str,
        unrealized: &str,
    ) {
        self.push(
            at,
            Event::PositionUpdated(position_update(
                side, qty, avg_entry, realized, unrealized, fees, funding,
            )),
        );
    }

    fn signal(&mut self, at: i64, action: SignalAction, rule: &str) {
        self.push(
            at,
            Event::Signal(Signal {
                action,
                source: SignalSource::Strategy,
                rule: rule.into(),
            }),
        );
    }
}

/// Two closed trades (a long with an add-on, a funding payment and an exit in two fills; a
/// short closed by the risk supervisor) and a long still open.
fn three_trades() -> Tape {
    let mut tape = Tape::new();
    // Long 2 at 100 (fee 0.2), add 1 at 106 (fee 0.1): average entry 102.
    tape.signal(10, SignalAction::EnterLong, "long.entry");
    tape.order(
        10,
        Side::Buy,
        OrderPurpose::Entry,
        "entry: t long.entry",
        &[("100", "2", "0.2")],
    );
    tape.position(10, LONG, "2", "100", "0", "0.2", "0", "0");
    tape.order(
        20,
        Side::Buy,
        OrderPurpose::AddOn,
        "add-on 1 of 1",
        &[("106", "1", "0.1")],
    );
    tape.position(20, LONG, "3", "102", "0", "0.3", "0", "12");
    // Funding paid while open.
    tape.position(25, LONG, "3", "102", "0", "0.3", "-0.5", "9");
    // An exit signal whose order is vetoed: the exit that follows is put down to its own.
    tape.signal(28, SignalAction::ExitLong, "long.exit");
    tape.order(28, Side::Sell, OrderPurpose::Exit, "exit: t long.exit", &[]);
    let vetoed = match &tape.events.last().unwrap().payload {
        Event::OrderIntent(intent) => intent.order_id,
        _ => unreachable!(),
    };
    tape.push(
        28,
        Event::OrderVetoed(OrderVetoed {
            order_id: vetoed,
            check: check(RiskRule::BotNotRunning),
        }),
    );
    // Take profit: 1 at 108 (fee 0.1, +6), then 2 at 107 (fee 0.2, +10).
    tape.signal(30, SignalAction::ExitLong, "take_profit");
    tape.order(
        30,
        Side::Sell,
        OrderPurpose::Exit,
        "exit: take_profit 5% at 107.1",
        &[("108", "1", "0.1"), ("107", "2", "0.2")],
    );
    // The partial fill's update comes after both fills here: a fill only counts up to the
    // position it reduces.
    tape.position(30, LONG, "2", "102", "6", "0.4", "-0.5", "10");
    tape.position(30, FLAT, "0", "0", "16", "0.6", "-0.5", "0");
    // Short 1 at 110 (fee 0.11), force-closed at 115 (fee 0.115, −5).
    tape.order(
        40,
        Side::Sell,
        OrderPurpose::Entry,
        "entry: t short.entry",
        &[("110", "1", "0.11")],
    );
    tape.position(40, SHORT, "1", "110", "16", "0.71", "-0.5", "0");
    tape.push(
        45,
        Event::ForceClose(ForceClose {
            side: PositionSide::Short,
            check: check(RiskRule::PerTradeLoss),
        }),
    );
    tape.order(
        45,
        Side::Buy,
        OrderPurpose::ForceClose,
        "force close: loss",
        &[("115", "1", "0.115")],
    );
    tape.position(45, FLAT, "0", "0", "11", "0.825", "-0.5", "0");
    // Long 1 at 100 (fee 0.1), still open, 2 up.
    tape.order(
        50,
        Side::Buy,
        OrderPurpose::Entry,
        "entry: t long.entry",
        &[("100", "1", "0.1")],
    );
    tape.position(50, LONG, "1", "100", "11", "0.925", "-0.5", "0");
    tape.position(55, LONG, "1", "100", "11", "0.925", "-0.5", "2");
    tape
}

#[test]
fn trades_record_prices_amounts_returns_and_why_they_closed() {
    let report = run(&[("b", "1000")], &three_trades().events);
    let trades = &report.history.bots[0].closed_trades;
    assert_eq!(trades.len(), 2);
    let long = &trades[0];
    assert_eq!(
        (long.side, long.opened_at, long.closed_at),
        (PositionSide::Long, ts(10), ts(30))
    );
    assert_eq!(long.duration_ns, 20_000_000_000);
    assert_eq!(long.entry_price, dec("102"));
    assert_eq!(long.max_qty, dec("3"));
    assert_eq!(long.entry_notional, dec("306"));
    // (108 × 1 + 107 × 2) / 3 = 322 / 3.
    assert_eq!(
        long.exit_price,
        Some(Price(dec::<Decimal>("322") / Decimal::from(3)))
    );
    assert_eq!(long.realized_pnl, dec("16"));
    assert_eq!(long.fees, dec("0.6"));
    assert_eq!(long.funding, dec("-0.5"));
    // 16 − 0.6 − 0.5 = 14.9; 14.9 / 306 = 4.86928…%; 16 / 306 = 5.22875…%.
    assert_eq!(long.net_pnl, dec("14.9"));
    assert_eq!(long.return_pct, Some(dec("4.8693")));
    assert_eq!(long.gross_return_pct, Some(dec("5.2288")));
    assert_eq!(
        long.exit,
        TradeExit {
            purpose: Some(OrderPurpose::Exit),
            rule: Some("take_profit".into()),
            reason: Some("exit: take_profit 5% at 107.1".into()),
        }
    );

    let short = &trades[1];
    assert_eq!(short.side, PositionSide::Short);
    assert_eq!(
        (short.entry_price, short.exit_price),
        (dec("110"), Some(dec("115")))
    );
    // −5 − (0.11 + 0.115): −5.225 on 110 = −4.75%.
    assert_eq!(short.fees, dec("0.225"));
    assert_eq!(short.funding, Money::ZERO);
    assert_eq!(short.net_pnl, dec("-5.225"));
    assert_eq!(short.return_pct, Some(dec("-4.75")));
    assert_eq!(short.exit.purpose, Some(OrderPurpose::ForceClose));
    assert_eq!(short.exit.rule.as_deref(), Some("per_trade_loss"));

    let open = &report.history.bots[0].open_trades;
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].side, open[0].opened_at, open[0].qty),
        (PositionSide::Long, ts(50), dec("1"))
    );
    assert_eq!(
        (open[0].net_pnl, open[0].unrealized_pnl),
        (dec("-0.1"), dec("2"))
    );

    // The counts agree with the records, and the records with the pair's cumulative net.
    let b = &report.bots[0];
    assert_eq!((b.trades, b.wins, b.losses), (2, 1, 1));
    let recorded: Decimal = trades.iter().map(|t| t.net_pnl.0).sum::<Decimal>() + open[0].net_pnl.0;
    assert_eq!(Money(recorded), b.pairs[0].net_pnl);
}

#[test]
fn curves_follow_the_updates_and_totals_only_their_changes() {
    let mut tape = three_trades();
    tape.push(60, equity(0, "b", "1011").payload);
    tape.push(61, equity(0, "b", "1012").payload);
    // The account-level updates carry no pair.
    for event in tape.events.iter_mut().rev().take(2) {
        event.pair = None;
    }
    let report = run(&[("b", "1000")], &tape.events);
    let history = &report.history.bots[0];
    let pair = &history.pairs[0];
    let contribution: Vec<(i64, Decimal)> = pair
        .contribution_curve
        .iter()
        .map(|p| (p.ts.nanos() / 1_000_000_000, p.value.0))
        .collect();
    // Net (realized − fees + funding) + unrealized of each update.
    let expected: Vec<(i64, Decimal)> = [
        (10, "-0.2"),
        (20, "11.7"),
        (25, "8.2"),
        (30, "15.1"),
        (30, "14.9"),
        (40, "14.79"),
        (45, "9.675"),
        (50, "9.575"),
        (55, "11.575"),
    ]
    .iter()
    .map(|&(at, v)| (at, dec::<Decimal>(v)))
    .collect();
    assert_eq!(contribution, expected);
    // Totals changed at 10, 20, 25, 30, 30, 40, 45, 50, not at 55.
    assert_eq!(pair.totals.len(), 8);
    assert_eq!(pair.totals.last().unwrap().ts, ts(50));
    let curve: Vec<Decimal> = history.equity_curve.iter().map(|p| p.value.0).collect();
    assert_eq!(curve, [dec::<Decimal>("1011"), dec("1012")]);
    // Both account updates carry zero totals, what the totals are before any point: none.
    assert!(history.totals.is_empty());
}

proptest! {
    /// Amounts move only with a position (a fill opens, changes or closes it; funding is paid
    /// on it), so every change belongs to a trade: the closed trades and the open one add up to
    /// the pair's cumulative net.
    #[test]
    fn trades_and_the_open_trade_add_up_to_the_pairs_net(
        steps in prop::collection::vec(
            (0u8..3, 0i64..4, -10_000i64..10_000, 0i64..500, -200i64..200),
            0..60,
        ),
    ) {
        let (mut realized, mut fees, mut funding) = (0i64, 0i64, 0i64);
        let mut was_open = false;
        let mut events = Vec::new();
        for (i, &(side, qty, gained, paid, received)) in steps.iter().enumerate() {
            let side = [FLAT, LONG, SHORT][usize::from(side)];
            let open = side.is_some() && qty != 0;
            if was_open || open {
                realized += gained;
                fees += paid;
                funding += received;
            }
            was_open = open;
            let cents = |v: i64| Money::new(v, 2).to_string();
            let mut event = position(
                "b",
                "BTCUSDT",
                side,
                &qty.to_string(),
                &cents(realized),
                &cents(fees),
                &cents(funding),
            );
            event.ts = ts(i as i64);
            events.push(event);
        }
        let report = run(&[("b", "1000")], &events);
        let history = &report.history.bots[0];
        let closed: Decimal = history.closed_trades.iter().map(|t| t.net_pnl.0).sum();
        let open: Decimal = history.open_trades.iter().map(|t| t.net_pnl.0).sum();
        prop_assert_eq!(closed + open, Decimal::new(realized - fees + funding, 2));
        let b = &report.bots[0];
        prop_assert_eq!(b.trades as usize, history.closed_trades.len());
        prop_assert_eq!(b.wins + b.losses, b.trades);
        prop_assert!(history.open_trades.len() <= 1);
    }
}
