//! The Pair under the intrabar conventions of `[simulation]` other than the defaults, on
//! hand-computed bars: a stop filled at its level through a gap, ROI targets, trailing moved by
//! the high first (and Freqtrade's worst case on the entry candle), and the orderings, each
//! beside what the defaults do with the same bar.

use super::*;

/// Running, a position of 10 entered under `simulation` with the `exits` keys given: decided at
/// the close of a flat bar (101 for a long, 94 for a short, on a perpetual) and filled at the
/// open of `entry_bar`, the next bar, at 100. Returns what the position update derived, with
/// the entry candle checked.
fn enter(
    simulation: &str,
    exits: &str,
    side: PositionSide,
    entry_bar: [&str; 4],
) -> (Harness, Vec<Envelope>) {
    let mut h = Harness::simulating(
        &format!(
            "market = \"perpetual\"\nsizing = {{ per_trade = {{ quantity = 10 }} }}\n\
             exits = {{ {exits} }}"
        ),
        simulation,
    );
    h.running();
    let (decision, order_side) = match side {
        PositionSide::Long => ("101", Side::Buy),
        PositionSide::Short => ("94", Side::Sell),
    };
    let derived = h.close_at(decision);
    let entry = intent(&derived[1]).clone();
    let [open, high, low, close] = entry_bar;
    assert_eq!(h.bar(open, high, low, close), []);
    h.filled(entry.order_id, order_side, open, "10");
    let derived = h.position(Some(side), "10", open);
    (h, derived)
}

/// Long 10 at 100, entered on a flat bar at 100.
fn long_under(simulation: &str, exits: &str) -> Harness {
    let (h, derived) = enter(simulation, exits, PositionSide::Long, ["100"; 4]);
    assert_eq!(derived, [], "nothing reached at the entry");
    h
}

/// Short 10 at 100, entered on a flat bar at 100.
fn short_under(simulation: &str, exits: &str) -> Harness {
    let (h, derived) = enter(simulation, exits, PositionSide::Short, ["100"; 4]);
    assert_eq!(derived, [], "nothing reached at the entry");
    h
}

const FREQTRADE: &str = "conventions = \"freqtrade\"";
const CHARON: &str = "";

#[test]
fn a_gap_through_the_stop_fills_at_the_stop_when_the_bar_trades_back_to_it() {
    // Long, stop 98: the bar opens at 97 and trades back up to 99.
    let gap = ["97", "99", "96", "97.5"];
    let derived = long_under(FREQTRADE, "stop_loss_pct = 2").bar(gap[0], gap[1], gap[2], gap[3]);
    assert_stopped(&derived, PositionSide::Long, "stop_loss", "98", "98");
    let derived = long_under(CHARON, "stop_loss_pct = 2").bar(gap[0], gap[1], gap[2], gap[3]);
    assert_stopped(&derived, PositionSide::Long, "stop_loss", "98", "97");
    // The whole bar below the stop: the open, under both.
    for simulation in [FREQTRADE, CHARON] {
        let derived = long_under(simulation, "stop_loss_pct = 2").bar("97", "97.5", "96", "97");
        assert_stopped(&derived, PositionSide::Long, "stop_loss", "98", "97");
    }

    // Short, stop 102: opens at 103, trades back down to 101.
    let derived = short_under(FREQTRADE, "stop_loss_pct = 2").bar("103", "104", "101", "103");
    assert_stopped(&derived, PositionSide::Short, "stop_loss", "102", "102");
    let derived = short_under(CHARON, "stop_loss_pct = 2").bar("103", "104", "101", "103");
    assert_stopped(&derived, PositionSide::Short, "stop_loss", "102", "103");
    let derived = short_under(FREQTRADE, "stop_loss_pct = 2").bar("103", "104", "102.5", "103");
    assert_stopped(&derived, PositionSide::Short, "stop_loss", "102", "103");
}

#[test]
fn an_roi_target_pays_both_fees_and_is_reached_strictly_beyond() {
    // Long at 100, 2% after taker fees of 0.05% a leg: 100·1.0205/0.9995 = 102.10105053 (up).
    let roi = || long_under(FREQTRADE, "stop_loss_pct = 5, take_profit_pct = 2");
    assert_eq!(roi().target(), Some(p("102.10105053")));
    assert_eq!(roi().bar("101", "102.10105053", "100", "102"), []);
    let derived = roi().bar("101", "102.2", "100", "102");
    assert_stopped(
        &derived,
        PositionSide::Long,
        "take_profit",
        "102.10105053",
        "102.10105053",
    );
    assert_eq!(
        intent(&derived[1]).reason,
        "exit: take_profit 2% at 102.10105053"
    );
    // The defaults: a price 2% above the entry, reached at it.
    let price = || long_under(CHARON, "stop_loss_pct = 5, take_profit_pct = 2");
    assert_eq!(price().target(), Some(p("102")));
    let derived = price().bar("101", "102", "100", "102");
    assert_stopped(&derived, PositionSide::Long, "take_profit", "102", "102");
    // A whole bar above the ROI price exits at its low (Freqtrade's clamp), not its open.
    let derived = roi().bar("103", "104", "102.5", "103");
    assert_stopped(
        &derived,
        PositionSide::Long,
        "take_profit",
        "102.10105053",
        "102.5",
    );

    // Short at 100: 100·0.9795/1.0005 = 97.90104947 (down).
    let roi = || short_under(FREQTRADE, "stop_loss_pct = 5, take_profit_pct = 2");
    assert_eq!(roi().target(), Some(p("97.90104947")));
    assert_eq!(roi().bar("99", "100", "97.90104947", "98"), []);
    let derived = roi().bar("99", "100", "97.9", "98");
    assert_stopped(
        &derived,
        PositionSide::Short,
        "take_profit",
        "97.90104947",
        "97.90104947",
    );
}

#[test]
fn trailing_high_first_moves_the_stop_before_the_low_is_checked() {
    // Long at 100, trailing 1%: the bar's high 102 moves the stop to 100.98 first, and its low
    // 100.5 then reaches it, in the same bar.
    let exits = "stop_loss_pct = 5, trailing_stop_pct = 1";
    let bar = ["100.2", "102", "100.5", "101"];
    let derived = long_under(FREQTRADE, exits).bar(bar[0], bar[1], bar[2], bar[3]);
    assert_stopped(
        &derived,
        PositionSide::Long,
        "trailing_stop",
        "100.98",
        "100.98",
    );
    // The defaults: the bar's high applies from the next input on, after this bar.
    let mut h = long_under(CHARON, exits);
    assert_eq!(h.bar(bar[0], bar[1], bar[2], bar[3]), []);
    assert_eq!(h.stop(), Some((p("99"), RiskRule::TrailingStop)));
    h.nudge("101");
    assert_eq!(h.stop(), Some((p("100.98"), RiskRule::TrailingStop)));

    // A bar that reaches the current stop does not move it first (Freqtrade adjusts only a
    // stop below the low): it exits at 99, not at 102·0.99.
    let derived = long_under(FREQTRADE, exits).bar("100", "102", "98.9", "99.5");
    assert_stopped(&derived, PositionSide::Long, "trailing_stop", "99", "99");

    // A bar that moves it without reaching it: the move stays.
    let mut h = long_under(FREQTRADE, exits);
    assert_eq!(h.bar("100.5", "102", "101", "101.5"), []);
    assert_eq!(h.stop(), Some((p("100.98"), RiskRule::TrailingStop)));

    // Short at 100: the low 98 moves the stop to 98.98, the high 99.5 reaches it.
    let derived = short_under(FREQTRADE, exits).bar("99.2", "99.5", "98", "99");
    assert_stopped(
        &derived,
        PositionSide::Short,
        "trailing_stop",
        "98.98",
        "98.98",
    );
    let mut h = short_under(CHARON, exits);
    assert_eq!(h.bar("99.2", "99.5", "98", "99"), []);
}

#[test]
fn the_roi_beats_a_trailed_stop_and_the_fixed_stop_beats_the_roi() {
    let exits = "stop_loss_pct = 2, trailing_stop_pct = 1, take_profit_pct = 2";
    // The high 103 moves the trailing stop to 101.97, which the low 101 reaches; the high is
    // also beyond the ROI price 102.10105053: Freqtrade's ROI comes before a trailing stop.
    let derived = long_under(FREQTRADE, exits).bar("101.5", "103", "101", "102");
    assert_stopped(
        &derived,
        PositionSide::Long,
        "take_profit",
        "102.10105053",
        "102.10105053",
    );
    // The fixed stop-loss comes before the ROI: a bar reaching 97.9 and 103 exits at the stop
    // (99 from the trailing stop is the tighter level here, so without trailing).
    let exits = "stop_loss_pct = 2, take_profit_pct = 2";
    let derived = long_under(FREQTRADE, exits).bar("100", "103", "97.9", "101");
    assert_stopped(&derived, PositionSide::Long, "stop_loss", "98", "98");
    // Target first and nearer-open orderings, on the same bar (open 100: 3 from the high, 2.1
    // from the low).
    let target_first = "intrabar_order = \"target_first\"";
    let derived = long_under(target_first, exits).bar("100", "103", "97.9", "101");
    assert_stopped(&derived, PositionSide::Long, "take_profit", "102", "102");
    let nearer = "intrabar_order = \"nearer_open\"";
    let derived = long_under(nearer, exits).bar("100", "103", "97.9", "101");
    assert_stopped(&derived, PositionSide::Long, "stop_loss", "98", "98");
    let derived = long_under(nearer, exits).bar("101.5", "103", "97.9", "101");
    assert_stopped(&derived, PositionSide::Long, "take_profit", "102", "102");
}

#[test]
fn a_trailing_stop_hit_on_the_entry_candle_fills_at_freqtrades_worst_case() {
    let entered = |exits: &str, bar: [&str; 4]| enter(FREQTRADE, exits, PositionSide::Long, bar).1;
    let bar = ["100", "103", "99.5", "100.5"];
    // The high 103 trails the stop to 101.97 and the low reaches it; Freqtrade assumes the
    // price only ticked above the open: 100·(1 − 0.01) = 99, but not below the low 99.5.
    let derived = entered("stop_loss_pct = 5, trailing_stop_pct = 1", bar);
    let exit = exit_intent(&derived, SignalAction::ExitLong, "trailing_stop");
    assert_eq!(
        exit.order_type,
        OrderType::StopMarket { trigger: p("99.5") }
    );
    assert_eq!(exit.expected_price, p("99.5"));
    // With an activation of 2%: it just reached 102 and fell 1%: 100·(1 + 0.02 − 0.01) = 101.
    let derived = entered(
        "stop_loss_pct = 5, trailing_stop_pct = 1, trailing_activation_pct = 2",
        bar,
    );
    let exit = exit_intent(&derived, SignalAction::ExitLong, "trailing_stop");
    assert_eq!(exit.order_type, OrderType::StopMarket { trigger: p("101") });
    assert_eq!(exit.reason, "exit: trailing_stop at 101");
    // A fixed stop-loss on the entry candle fills at its level.
    let derived = entered("stop_loss_pct = 0.4", bar);
    let exit = exit_intent(&derived, SignalAction::ExitLong, "stop_loss");
    assert_eq!(exit.expected_price, p("99.6"));
}

#[test]
fn an_exit_signal_fills_at_the_next_open_before_any_stop_is_checked() {
    // Freqtrade favours the exit signal: it fills at the candle's open, before the stop.
    let mut h = long_under(FREQTRADE, "stop_loss_pct = 15");
    let derived = h.close_at("89");
    let exit = intent(&derived[1]).clone();
    assert_eq!(exit.order_type, OrderType::Market);
    // The next bar opens at 88.5 (where the exit fills) and falls through the stop at 85:
    // nothing more is asked.
    assert_eq!(h.bar("88.5", "89", "80", "81"), []);
    assert_eq!(h.state(), PositionState::Exiting(exit.order_id));
}

impl Harness {
    /// The bot's equity update that follows a fill (it carries no pair).
    fn equity_update(&mut self) -> Vec<Envelope> {
        self.now += 1;
        let equity = charon_events::payload::order::EquityUpdated {
            cash: Money(d("10000")),
            equity: Money(d("10000")),
            realized_pnl: Money::ZERO,
            unrealized_pnl: Money::ZERO,
            fees: Money::ZERO,
            funding: Money::ZERO,
            peak_equity: Money(d("10000")),
            drawdown: Rate(Decimal::ZERO),
        };
        let input = Envelope::input(
            Timestamp::from_millis(self.now),
            Event::EquityUpdated(equity),
        )
        .with_bot(bot());
        self.input(input)
    }

    /// The exit `exit` fills at `price`, the position is flat, and the bot's equity follows:
    /// what that update derived.
    fn exit_filled(&mut self, exit: &OrderIntent, price: &str) -> Vec<Envelope> {
        self.closed(exit, price);
        self.equity_update()
    }
}

#[test]
fn an_entry_signal_on_the_exits_bar_enters_once_the_exit_fills() {
    for (simulation, enters) in [
        (FREQTRADE, true),
        ("entry_on_exit_bar = true", true),
        (CHARON, false),
    ] {
        // An exit signal at the close of 89, filling at the next open; that bar closes at 101,
        // where the long entry rule fires while the exit is still in flight.
        let mut h = long_under(simulation, "stop_loss_pct = 15");
        let derived = h.close_at("89");
        let exit = intent(&derived[1]).clone();
        assert_eq!(h.bar("88.5", "101", "88", "101"), [], "{simulation}");
        let derived = h.exit_filled(&exit, "88.5");
        if !enters {
            assert_eq!(derived, [], "{simulation}");
            // The next signal enters as usual.
            assert_eq!(
                kinds(&h.close_at("102")),
                [EventKind::Signal, EventKind::OrderIntent]
            );
            continue;
        }
        assert_eq!(
            kinds(&derived),
            [EventKind::Signal, EventKind::OrderIntent],
            "{simulation}"
        );
        let entry = intent(&derived[1]);
        assert_eq!(
            (entry.side, entry.purpose, entry.expected_price),
            (Side::Buy, OrderPurpose::Entry, p("101"))
        );
        assert_eq!(h.state(), PositionState::Entering(entry.order_id));
    }
}

#[test]
fn an_entry_signal_on_a_stopped_bar_enters_once_the_stop_fills() {
    // Stop 98: the bar dips to 97 and closes at 101.
    let mut h = long_under(FREQTRADE, "stop_loss_pct = 2");
    let derived = h.bar("99", "101.5", "97", "101");
    assert_stopped(&derived, PositionSide::Long, "stop_loss", "98", "98");
    let exit = intent(&derived[1]).clone();
    let derived = h.exit_filled(&exit, "98");
    assert_eq!(kinds(&derived), [EventKind::Signal, EventKind::OrderIntent]);

    // A market input after that bar drops the signal: it belonged to the bar before.
    let mut h = long_under(FREQTRADE, "stop_loss_pct = 2");
    let derived = h.bar("99", "101.5", "97", "101");
    let exit = intent(&derived[1]).clone();
    h.nudge("100");
    assert_eq!(h.exit_filled(&exit, "98"), []);
}
