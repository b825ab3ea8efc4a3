//! Property tests of the RiskSupervisor over random sequences of inputs, each checked against
//! a model the test keeps itself:
//!
//! - while the kill switch is engaged or entries are paused, nothing but exits is approved,
//!   and every halt ends exactly at the first event at or after its deadline (or at an
//!   operator's resume for API errors);
//! - the bot's open-or-pending positions never exceed `max_positions_total` nor, per asset,
//!   `max_positions_per_asset`, and every entry below both caps is approved;
//! - a position update that breaches `max_trade_loss_pct` or the daily loss derives its
//!   `ForceClose`s in that same input's cascade (and no other update does).

use std::collections::{BTreeMap, BTreeSet};

use charon_events::payload::control::{BotState, Command};
use charon_events::payload::order::{OrderPurpose, PositionSide, Side};
use charon_events::payload::risk::RiskRule;
use charon_events::{ClientOrderId, Envelope, Event, EventKind, Symbol, Timestamp};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::tests::{
    bnb, decision, force_closes, kinds, nth, open, order, pos, Harness, DAY_MS, HOUR_MS,
};
use crate::testkit::{btc, eth};

const CASES: u32 = 256;

fn pairs() -> [Symbol; 3] {
    [btc(), eth(), bnb()]
}

fn side(choice: u8) -> Option<PositionSide> {
    match choice {
        0 => None,
        1 => Some(PositionSide::Long),
        _ => Some(PositionSide::Short),
    }
}

/// An input of the halts property.
#[derive(Clone, Debug)]
enum HaltOp {
    Intent {
        pair: usize,
        purpose: u8,
        reduce_only: bool,
    },
    Position {
        pair: usize,
        side: u8,
        realized: i64,
        unrealized: i64,
    },
    Equity(i64),
    ApiError {
        routed: bool,
    },
    Filled,
    Resume,
    Wait {
        minutes: i64,
    },
    /// Jump to the earliest deadline of a halt, exactly, if one is pending.
    ToDeadline,
}

fn halt_op() -> impl Strategy<Value = HaltOp> {
    prop_oneof![
        3 => (0..3usize, 0..4u8, any::<bool>()).prop_map(|(pair, purpose, reduce_only)| {
            HaltOp::Intent { pair, purpose, reduce_only }
        }),
        4 => (0..3usize, 0..3u8, -300..=300i64, -400..=100i64).prop_map(
            |(pair, side, realized, unrealized)| HaltOp::Position { pair, side, realized, unrealized }
        ),
        1 => (8_000..=12_000i64).prop_map(HaltOp::Equity),
        2 => any::<bool>().prop_map(|routed| HaltOp::ApiError { routed }),
        1 => Just(HaltOp::Filled),
        1 => Just(HaltOp::Resume),
        2 => (0..=600i64).prop_map(|minutes| HaltOp::Wait { minutes }),
        1 => Just(HaltOp::ToDeadline),
    ]
}

fn purpose(choice: u8) -> OrderPurpose {
    match choice {
        0 => OrderPurpose::Entry,
        1 => OrderPurpose::AddOn,
        2 => OrderPurpose::Exit,
        _ => OrderPurpose::ForceClose,
    }
}

/// The model's halts: each rule's deadline (`None` inside: until an operator resumes).
#[derive(Default, Debug)]
struct Halts {
    kill: Option<Timestamp>,
    losses: Option<Timestamp>,
    api: Option<Option<Timestamp>>,
}

impl Halts {
    fn next_deadline(&self) -> Option<Timestamp> {
        [self.kill, self.losses, self.api.flatten()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The rule an entry is vetoed with, in the supervisor's order.
    fn first(&self) -> Option<RiskRule> {
        if self.kill.is_some() {
            Some(RiskRule::DailyLoss)
        } else if self.losses.is_some() {
            Some(RiskRule::ConsecutiveLosses)
        } else if self.api.is_some() {
            Some(RiskRule::ApiErrors)
        } else {
            None
        }
    }
}

fn count(events: &[Envelope], wanted: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|event| wanted(&event.payload)).count()
}

fn check_halts(hour: u32, cooldown: bool, ops: &[HaltOp]) -> Result<(), TestCaseError> {
    let mut risk = format!(
        "daily_loss_pct = 3\nday_start_hour_utc = {hour}\nconsecutive_losses = 2\n\
         loss_cooldown = \"1h\"\napi_error_threshold = 2\n"
    );
    if cooldown {
        risk.push_str("api_error_cooldown = \"2h\"\n");
    }
    let mut h = Harness::with_risk(&risk);
    h.at(DAY_MS + 5 * HOUR_MS).state(BotState::Running);
    let mut halts = Halts::default();
    for (n, op) in ops.iter().enumerate() {
        match op {
            HaltOp::Wait { minutes } => {
                h.at(h.now + minutes * 60_000);
                continue;
            }
            HaltOp::ToDeadline => {
                if let Some(deadline) = halts.next_deadline() {
                    h.at((deadline.nanos() / 1_000_000).max(h.now + 1));
                }
                continue;
            }
            _ => {}
        }
        let ts = Timestamp::from_millis(h.now + 1);
        let due = |until: Option<Timestamp>| until.is_some_and(|until| until <= ts);
        let kill_due = due(halts.kill);
        let losses_due = due(halts.losses);
        let api_due = due(halts.api.flatten());
        let intent = match op {
            HaltOp::Intent {
                pair,
                purpose: choice,
                reduce_only,
            } => Some((
                pairs()[*pair],
                charon_events::payload::order::OrderIntent {
                    reduce_only: *reduce_only,
                    ..nth(pairs()[*pair], n as u64 + 1, purpose(*choice))
                },
            )),
            _ => None,
        };
        let derived = match op {
            HaltOp::Intent { .. } => {
                let (pair, intent) = intent.clone().expect("an intent");
                h.intent(pair, intent)
            }
            HaltOp::Position {
                pair,
                side: choice,
                realized,
                unrealized,
            } => h.position(
                pairs()[*pair],
                pos(
                    side(*choice),
                    &realized.to_string(),
                    &unrealized.to_string(),
                    "0",
                ),
            ),
            HaltOp::Equity(equity) => h.equity(&equity.to_string()),
            HaltOp::ApiError { routed } => h.api_error(routed.then(super::tests::bot)),
            HaltOp::Filled => h.filled(order(btc(), 1_000_000), Side::Buy, "100"),
            HaltOp::Resume => h.operator(super::tests::bot(), Command::ResumeBot),
            HaltOp::Wait { .. } | HaltOp::ToDeadline => unreachable!(),
        };
        // Each halt ends at the first event at or after its deadline, and not before.
        let released = count(&derived, |e| matches!(e, Event::KillSwitchReleased(_)));
        prop_assert_eq!(released, usize::from(kill_due), "kill switch at {}", ts);
        let resumed = |rule| {
            count(
                &derived,
                |e| matches!(e, Event::EntriesResumed(resumed) if resumed.rule == rule),
            )
        };
        prop_assert_eq!(
            resumed(RiskRule::ConsecutiveLosses),
            usize::from(losses_due)
        );
        let operator_resume = matches!(op, HaltOp::Resume) && halts.api.is_some() && !api_due;
        prop_assert_eq!(
            resumed(RiskRule::ApiErrors),
            usize::from(api_due || operator_resume)
        );
        if kill_due {
            halts.kill = None;
        }
        if losses_due {
            halts.losses = None;
        }
        if api_due || operator_resume {
            halts.api = None;
        }
        // While halted, only exits are approved, and the first halt names the veto.
        if let Some((pair, intent)) = &intent {
            let decided = derived
                .iter()
                .find(|e| matches!(e.payload, Event::OrderApproved(_) | Event::OrderVetoed(_)))
                .expect("a decision");
            let result = decision(decided, *pair, intent);
            let exit = intent.reduce_only
                || matches!(
                    intent.purpose,
                    OrderPurpose::Exit | OrderPurpose::ForceClose
                );
            match (exit, halts.first()) {
                (true, _) => {
                    prop_assert!(result.is_ok());
                }
                (false, Some(rule)) => {
                    prop_assert_eq!(result.map_err(|check| check.rule), Err(rule));
                }
                // Without a halt, only ETHUSDT's own max drawdown can refuse an entry here.
                (false, None) => match result {
                    Ok(_) => {}
                    Err(check) => {
                        prop_assert_eq!(check.rule, RiskRule::PairMaxDrawdown);
                        prop_assert_eq!(*pair, eth());
                    }
                },
            }
        }
        // Halts the cascade began.
        for event in &derived {
            match &event.payload {
                Event::KillSwitchEngaged(engaged) => {
                    prop_assert!(halts.kill.is_none(), "engaged twice");
                    let until = engaged.until.nanos();
                    let offset = i64::from(hour) * HOUR_MS * 1_000_000;
                    prop_assert!(until > ts.nanos());
                    prop_assert!(until - ts.nanos() <= 24 * HOUR_MS * 1_000_000);
                    prop_assert_eq!((until - offset).rem_euclid(24 * HOUR_MS * 1_000_000), 0);
                    halts.kill = Some(engaged.until);
                }
                Event::EntriesPaused(paused) => match paused.check.rule {
                    RiskRule::ConsecutiveLosses => {
                        prop_assert!(halts.losses.is_none(), "paused twice");
                        prop_assert_eq!(
                            paused.until,
                            Some(Timestamp::from_nanos(ts.nanos() + HOUR_MS * 1_000_000))
                        );
                        halts.losses = paused.until;
                    }
                    RiskRule::ApiErrors => {
                        prop_assert!(halts.api.is_none(), "paused twice");
                        let expected = cooldown
                            .then(|| Timestamp::from_nanos(ts.nanos() + 2 * HOUR_MS * 1_000_000));
                        prop_assert_eq!(paused.until, expected);
                        halts.api = Some(paused.until);
                    }
                    other => prop_assert!(false, "unexpected pause {:?}", other),
                },
                _ => {}
            }
        }
    }
    Ok(())
}

/// An input of the position-count property.
#[derive(Clone, Debug)]
enum CountOp {
    Entry(usize),
    AddOn(usize),
    /// Fill the `k`-th pending entry (modulo their number): its pair opens.
    Fill(usize),
    Reject(usize),
    Close(usize),
}

fn count_op() -> impl Strategy<Value = CountOp> {
    prop_oneof![
        4 => (0..3usize).prop_map(CountOp::Entry),
        1 => (0..3usize).prop_map(CountOp::AddOn),
        3 => any::<usize>().prop_map(CountOp::Fill),
        1 => any::<usize>().prop_map(CountOp::Reject),
        2 => (0..3usize).prop_map(CountOp::Close),
    ]
}

fn check_counts(per_asset: u32, total: u32, ops: &[CountOp]) -> Result<(), TestCaseError> {
    let mut h = Harness::with_risk(&format!(
        "max_positions_per_asset = {per_asset}\nmax_positions_total = {total}"
    ));
    h.state(BotState::Running);
    let mut pending: Vec<ClientOrderId> = Vec::new();
    let mut open_pairs: BTreeSet<Symbol> = BTreeSet::new();
    let counts = |pending: &[ClientOrderId], open_pairs: &BTreeSet<Symbol>, pair: Symbol| {
        let on_pair = pending.iter().filter(|id| id.pair == pair).count()
            + usize::from(open_pairs.contains(&pair));
        (on_pair as u32, (pending.len() + open_pairs.len()) as u32)
    };
    for (n, op) in ops.iter().enumerate() {
        let id = n as u64 + 1;
        match *op {
            CountOp::Entry(pair) => {
                let pair = pairs()[pair];
                // Each pair is its own asset (BTC, ETH, BNB).
                let (on_asset, all) = counts(&pending, &open_pairs, pair);
                let expected = if on_asset >= per_asset {
                    Err(RiskRule::MaxPositionsPerAsset)
                } else if all >= total {
                    Err(RiskRule::MaxPositionsTotal)
                } else {
                    Ok(())
                };
                let result = h.decide(pair, nth(pair, id, OrderPurpose::Entry));
                prop_assert_eq!(
                    result.clone().map(|_| ()).map_err(|check| check.rule),
                    expected
                );
                if result.is_ok() {
                    pending.push(order(pair, id));
                }
            }
            CountOp::AddOn(pair) => {
                let pair = pairs()[pair];
                prop_assert!(h.decide(pair, nth(pair, id, OrderPurpose::AddOn)).is_ok());
            }
            CountOp::Fill(k) if !pending.is_empty() => {
                let filled = pending.remove(k % pending.len());
                h.filled(filled, Side::Buy, "100");
                h.position(filled.pair, open(PositionSide::Long, "0"));
                open_pairs.insert(filled.pair);
            }
            CountOp::Reject(k) if !pending.is_empty() => {
                let rejected = pending.remove(k % pending.len());
                h.rejected(rejected);
            }
            CountOp::Close(pair) => {
                let pair = pairs()[pair];
                h.position(pair, pos(None, "0", "0", "0"));
                open_pairs.remove(&pair);
            }
            CountOp::Fill(_) | CountOp::Reject(_) => {}
        }
        let all = (pending.len() + open_pairs.len()) as u32;
        prop_assert!(all <= total, "{} positions above the cap {}", all, total);
        for pair in pairs() {
            let (on_asset, _) = counts(&pending, &open_pairs, pair);
            prop_assert!(on_asset <= per_asset, "{} on {}", on_asset, pair);
        }
    }
    Ok(())
}

/// A position update or an equity update, for the force-close property.
#[derive(Clone, Debug)]
enum LossOp {
    Position {
        pair: usize,
        side: u8,
        realized: i64,
        unrealized: i64,
    },
    Equity(i64),
}

fn loss_op() -> impl Strategy<Value = LossOp> {
    prop_oneof![
        // Round amounts, so that updates land exactly on the limits often.
        6 => (0..3usize, 0..3u8, -20..=20i64, -40..=10i64).prop_map(
            |(pair, side, realized, unrealized)| LossOp::Position {
                pair,
                side,
                realized: realized * 10,
                unrealized: unrealized * 10,
            }
        ),
        1 => (50..=150i64).prop_map(|hundreds| LossOp::Equity(hundreds * 100)),
    ]
}

#[derive(Default, Clone, Copy)]
struct PairModel {
    side: Option<PositionSide>,
    pnl: Decimal,
    loss_closed: bool,
}

fn check_force_closes(ops: &[LossOp]) -> Result<(), TestCaseError> {
    let mut h = Harness::with_risk("max_trade_loss_pct = 2\ndaily_loss_pct = 4");
    h.at(DAY_MS + HOUR_MS).state(BotState::Running);
    let hundred = Decimal::ONE_HUNDRED;
    let start_of_day = Decimal::from(10_000);
    let mut equity = Decimal::from(10_000);
    let mut model: BTreeMap<Symbol, PairModel> = pairs()
        .into_iter()
        .map(|pair| (pair, PairModel::default()))
        .collect();
    let mut day_pnl = Decimal::ZERO;
    let mut engaged = false;
    for op in ops {
        let LossOp::Position {
            pair,
            side: choice,
            realized,
            unrealized,
        } = *op
        else {
            if let LossOp::Equity(value) = op {
                equity = Decimal::from(*value);
                prop_assert_eq!(h.equity(&value.to_string()), []);
            }
            continue;
        };
        let pair = pairs()[pair];
        let now = side(choice);
        let (realized, unrealized) = (Decimal::from(realized), Decimal::from(unrealized));
        let mut expected = Vec::new();
        let state = model.get_mut(&pair).expect("a pair of the bot");
        let opened = match (state.side, now) {
            (None, Some(_)) => true,
            (Some(before), Some(after)) => before != after,
            _ => false,
        };
        if opened || now.is_none() {
            state.loss_closed = false;
        }
        let pnl = realized + unrealized;
        day_pnl += pnl - state.pnl;
        state.pnl = pnl;
        state.side = now;
        if let (true, Some(side)) = (engaged && opened, now) {
            expected.push((pair, side, RiskRule::DailyLoss));
        }
        if let (Some(side), false) = (now, state.loss_closed) {
            let loss = -unrealized;
            if loss > Decimal::ZERO && loss >= Decimal::TWO * equity / hundred {
                state.loss_closed = true;
                expected.push((pair, side, RiskRule::PerTradeLoss));
            }
        }
        let breach = !engaged
            && -day_pnl > Decimal::ZERO
            && -day_pnl >= Decimal::from(4) * start_of_day / hundred;
        if breach {
            engaged = true;
            for (symbol, state) in &model {
                if let Some(side) = state.side {
                    expected.push((*symbol, side, RiskRule::DailyLoss));
                }
            }
        }
        let derived = h.position(
            pair,
            pos(now, &realized.to_string(), &unrealized.to_string(), "0"),
        );
        // ETHUSDT's own max drawdown may close it too; that rule has its own tests.
        let closes: Vec<_> = force_closes(&derived)
            .into_iter()
            .filter(|(_, _, rule)| *rule != RiskRule::PairMaxDrawdown)
            .collect();
        prop_assert_eq!(closes, expected);
        prop_assert_eq!(
            kinds(&derived).contains(&EventKind::KillSwitchEngaged),
            breach
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn nothing_but_exits_is_approved_while_halted(
        hour in 0..24u32,
        cooldown in any::<bool>(),
        ops in prop::collection::vec(halt_op(), 1..80),
    ) {
        check_halts(hour, cooldown, &ops)?;
    }

    #[test]
    fn open_or_pending_positions_never_exceed_the_caps(
        per_asset in 1..=3u32,
        total in 1..=4u32,
        ops in prop::collection::vec(count_op(), 1..60),
    ) {
        check_counts(per_asset, total, &ops)?;
    }

    #[test]
    fn a_breaching_update_derives_its_force_closes_in_its_own_cascade(
        ops in prop::collection::vec(loss_op(), 1..60),
    ) {
        check_force_closes(&ops)?;
    }
}
