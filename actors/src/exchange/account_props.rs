//! Property tests of the [`Account`] over random sequences of fills and funding payments,
//! checked against a model the test keeps itself: per symbol the signed quantity traded
//! (`net = Σ ±qty`) and the signed value traded (`flow = Σ ±qty·price`, + for buys). For any
//! exact accounting, equity at marks `m` is `initial − fees + funding + Σ (net·m − flow)`,
//! whatever method the account uses to average entries.

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::account::{Account, AccountError, Execution, MarketKind, Position};
use charon_events::payload::order::{PositionSide, Side};
use charon_events::{Money, Price, Quantity, Rate, Symbol};

const CASES: u32 = 256;
const INITIAL: i64 = 1_000_000;
const SYMBOLS: [(&str, MarketKind); 3] = [
    ("BTCUSDT", MarketKind::Spot),
    ("ETHUSDT", MarketKind::Perpetual),
    ("SOLUSDT", MarketKind::Perpetual),
];

#[derive(Clone, Debug)]
enum Op {
    /// A fill of a random size.
    Fill {
        sym: usize,
        buy: bool,
        price: Decimal,
        qty: Decimal,
        fee: Decimal,
        leverage: Decimal,
    },
    /// A fill against the position for about `eighths`/8 of it (all of it at 8).
    Reduce {
        sym: usize,
        eighths: i64,
        price: Decimal,
        fee: Decimal,
    },
    Funding {
        sym: usize,
        rate: Decimal,
        mark: Decimal,
    },
}

fn price() -> impl Strategy<Value = Decimal> {
    // 0.0001 to 99,999.99, with 2 to 4 places
    (1i64..10_000_000, 2u32..=4).prop_map(|(n, scale)| Decimal::new(n, scale))
}

fn qty() -> impl Strategy<Value = Decimal> {
    // 0.001 to 199.9, with up to 4 places
    (1i64..2_000, 1u32..=4).prop_map(|(n, scale)| Decimal::new(n, scale))
}

fn fee() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::ZERO),
        (1i64..100_000, 2u32..=6).prop_map(|(n, s)| Decimal::new(n, s))
    ]
}

fn leverage() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (1i64..=20).prop_map(Decimal::from),
        (10i64..=125).prop_map(|n| Decimal::new(n, 1))
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..3, any::<bool>(), price(), qty(), fee(), leverage()).prop_map(
            |(sym, buy, price, qty, fee, leverage)| Op::Fill { sym, buy, price, qty, fee, leverage }
        ),
        2 => (0usize..3, 1i64..=8, price(), fee())
            .prop_map(|(sym, eighths, price, fee)| Op::Reduce { sym, eighths, price, fee }),
        1 => (0usize..3, -1_000i64..=1_000, price())
            .prop_map(|(sym, rate, mark)| Op::Funding { sym, rate: Decimal::new(rate, 6), mark }),
    ]
}

fn symbol(index: usize) -> Symbol {
    Symbol::new(SYMBOLS[index].0).expect("valid symbol")
}

fn index_of(symbol: Symbol) -> usize {
    SYMBOLS
        .iter()
        .position(|(name, _)| *name == symbol.as_str())
        .expect("a test symbol")
}

fn execution(
    sym: usize,
    side: Side,
    price: Decimal,
    qty: Decimal,
    fee: Decimal,
    leverage: Decimal,
) -> Execution {
    let kind = SYMBOLS[sym].1;
    Execution {
        symbol: symbol(sym),
        kind,
        side,
        price: Price(price),
        qty: Quantity(qty),
        fee: Money(fee),
        leverage: Rate(if kind == MarketKind::Spot {
            Decimal::ONE
        } else {
            leverage
        }),
    }
}

/// `entry_value − avg_entry·qty`.
fn residue(position: &Position) -> Decimal {
    position.entry_value.0 - position.avg_entry.0 * position.qty.0
}

/// The account under test and the test's own model of it.
struct Run {
    account: Account,
    net: [Decimal; 3],
    flow: [Decimal; 3],
    fees: Decimal,
    funding: Decimal,
    /// Σ realized reported by fills.
    realized: Decimal,
    /// Σ realized of perpetual fills (spot realizes P&L but moves cash by the full value).
    perp_realized: Decimal,
}

impl Run {
    fn new() -> Self {
        Self {
            account: Account::new(Money(Decimal::from(INITIAL))),
            net: [Decimal::ZERO; 3],
            flow: [Decimal::ZERO; 3],
            fees: Decimal::ZERO,
            funding: Decimal::ZERO,
            realized: Decimal::ZERO,
            perp_realized: Decimal::ZERO,
        }
    }

    fn held(&self, sym: usize) -> Option<Position> {
        self.account.position(symbol(sym)).cloned()
    }

    /// Applies a fill; on success updates the model and checks the averaging residue, on error
    /// checks that nothing changed.
    fn fill(&mut self, execution: Execution, marks: &[Decimal; 3]) -> Result<(), TestCaseError> {
        let sym = index_of(execution.symbol);
        let before = self.account.clone();
        let held_before = self.held(sym);
        match self
            .account
            .apply_fill(&execution, |s| Some(Price(marks[index_of(s)])))
        {
            Ok(effect) => {
                let signed = match execution.side {
                    Side::Buy => execution.qty.0,
                    Side::Sell => -execution.qty.0,
                };
                self.net[sym] += signed;
                self.flow[sym] += signed * execution.price.0;
                self.fees += execution.fee.0;
                self.realized += effect.realized.0;
                if execution.kind == MarketKind::Perpetual {
                    self.perp_realized += effect.realized.0;
                }
                let position = &effect.position;
                prop_assert_eq!(Some(position), self.account.position(execution.symbol));
                prop_assert_eq!(effect.cash, self.account.cash());
                if !position.is_flat() {
                    let r = residue(position);
                    let was_open = held_before.as_ref().is_some_and(|p| !p.is_flat());
                    if effect.opened.0.is_zero() {
                        // A partial reduction carries the residue unchanged.
                        let previous = held_before.as_ref().map(residue).unwrap_or_default();
                        prop_assert_eq!(r, previous);
                    } else if was_open && effect.closed.0.is_zero() {
                        // Averaged: half a unit of the 12th place per unit, plus the quotient's
                        // own 28-digit rounding.
                        let bound = position.qty.0 * Decimal::new(5, 13) + Decimal::new(1, 16);
                        prop_assert!(r.abs() <= bound, "residue {} > {}", r, bound);
                    } else {
                        prop_assert_eq!(r, Decimal::ZERO, "opened from flat at the fill price");
                    }
                }
            }
            Err(AccountError::Inexact(e)) => {
                return Err(TestCaseError::fail(format!(
                    "inexact on test-sized values: {e}"
                )))
            }
            Err(_) => prop_assert_eq!(&self.account, &before, "a refused fill changes nothing"),
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op, marks: &[Decimal; 3]) -> Result<(), TestCaseError> {
        match *op {
            Op::Fill {
                sym,
                buy,
                price,
                qty,
                fee,
                leverage,
            } => {
                let side = if buy { Side::Buy } else { Side::Sell };
                self.fill(execution(sym, side, price, qty, fee, leverage), marks)
            }
            Op::Reduce {
                sym,
                eighths,
                price,
                fee,
            } => {
                let Some(position) = self.held(sym).filter(|p| !p.is_flat()) else {
                    return Ok(());
                };
                let side = match position.side {
                    Some(PositionSide::Long) => Side::Sell,
                    _ => Side::Buy,
                };
                // k/8 of the position, cut to 4 places so quantities keep at most 4 places.
                let qty = (position.qty.0 * Decimal::new(eighths, 0) / Decimal::new(8, 0))
                    .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero);
                if qty.is_zero() {
                    return Ok(());
                }
                self.fill(
                    execution(sym, side, price, qty, fee, position.leverage.0),
                    marks,
                )
            }
            Op::Funding { sym, rate, mark } => {
                let amount = self
                    .account
                    .apply_funding(symbol(sym), Rate(rate), Price(mark))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                // The model's own figure: a long (net > 0) pays net·mark·rate.
                let expected = if SYMBOLS[sym].1 == MarketKind::Perpetual {
                    (-(self.net[sym] * mark * rate)).round_dp_with_strategy(
                        super::account::FUNDING_DP,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                    )
                } else {
                    Decimal::ZERO
                };
                prop_assert_eq!(amount.0, expected);
                self.funding += expected;
                Ok(())
            }
        }
    }

    /// (a) equity two ways, (b) fees, plus positions against the model and the cash identity.
    fn check(&self, marks: &[Decimal; 3]) -> Result<(), TestCaseError> {
        let account = &self.account;
        let initial = Decimal::from(INITIAL);
        let mark_of = |s: Symbol| Some(Price(marks[index_of(s)]));
        let equity = account
            .equity(mark_of)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .0;

        let mut traded = Decimal::ZERO;
        for ((net, flow), mark) in self.net.iter().zip(&self.flow).zip(marks) {
            traded += net * mark - flow;
        }
        prop_assert_eq!(equity, initial - self.fees + self.funding + traded);

        let mut from_fields = account.cash().0;
        for (symbol, position) in account.positions() {
            let sym = index_of(*symbol);
            let sign = match position.side {
                Some(PositionSide::Long) => Decimal::ONE,
                Some(PositionSide::Short) => Decimal::NEGATIVE_ONE,
                None => Decimal::ZERO,
            };
            prop_assert_eq!(sign * position.qty.0, self.net[sym]);
            prop_assert!(position.qty.0 >= Decimal::ZERO);
            from_fields += match position.kind {
                MarketKind::Spot => position.qty.0 * marks[sym],
                MarketKind::Perpetual => {
                    sign * (marks[sym] * position.qty.0 - position.entry_value.0)
                }
            };
        }
        prop_assert_eq!(equity, from_fields);
        let valuation = account
            .valuation(mark_of)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let unrealized = account
            .unrealized(mark_of)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(valuation.equity.0, equity);
        prop_assert_eq!(valuation.unrealized, unrealized);

        prop_assert!(account.fees_paid().0 >= Decimal::ZERO);
        prop_assert_eq!(account.fees_paid().0, self.fees);
        prop_assert_eq!(account.funding().0, self.funding);
        prop_assert_eq!(account.realized().0, self.realized);
        let spot_flow = self.flow[0];
        prop_assert_eq!(
            account.cash().0,
            initial - self.fees + self.funding + self.perp_realized - spot_flow
        );
        Ok(())
    }
}

fn marks() -> impl Strategy<Value = [Decimal; 3]> {
    [price(), price(), price()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// (a) and (b) after every step of a random sequence.
    #[test]
    fn equity_and_fees_match_the_model(
        ops in prop::collection::vec(op(), 1..40),
        marks in marks(),
    ) {
        let mut run = Run::new();
        for op in &ops {
            run.apply(op, &marks)?;
            run.check(&marks)?;
        }
    }

    /// (c) closing everything leaves no position, no unrealized P&L and no residue.
    #[test]
    fn closing_everything_balances_exactly(
        ops in prop::collection::vec(op(), 1..40),
        marks in marks(),
        exits in marks(),
        exit_fee in fee(),
        later_marks in marks(),
    ) {
        let mut run = Run::new();
        for op in &ops {
            run.apply(op, &marks)?;
        }
        for (sym, price) in exits.into_iter().enumerate() {
            run.apply(&Op::Reduce { sym, eighths: 8, price, fee: exit_fee }, &marks)?;
        }
        run.check(&later_marks)?;
        let account = &run.account;
        for position in account.positions().values() {
            prop_assert!(position.is_flat());
            prop_assert_eq!(position.qty, Quantity::ZERO);
            prop_assert_eq!(position.entry_value, Money::ZERO);
        }
        let at = |s: Symbol| Some(Price(later_marks[index_of(s)]));
        prop_assert_eq!(account.unrealized(at).map_err(|e| TestCaseError::fail(e.to_string()))?, Money::ZERO);
        prop_assert_eq!(account.equity(at).map_err(|e| TestCaseError::fail(e.to_string()))?, account.cash());
        let initial = Decimal::from(INITIAL);
        prop_assert_eq!(account.cash().0, initial + run.realized - run.fees + run.funding);
        let flow: Decimal = run.flow.iter().sum();
        prop_assert_eq!(account.cash().0, initial - run.fees + run.funding - flow);
    }

    /// (d) with zero fees, a buy and a sell of the same quantity at the same price leave equity
    /// unchanged at any marks, spot cash unchanged from any state, and a perpetual's cash and
    /// realized P&L unchanged when the symbol started flat.
    #[test]
    fn a_zero_fee_round_trip_changes_nothing(
        ops in prop::collection::vec(op(), 0..20),
        marks in marks(),
        sym in 0usize..3,
        buy_first in any::<bool>(),
        price in price(),
        qty in qty(),
        leverage in leverage(),
    ) {
        let mut run = Run::new();
        for op in &ops {
            run.apply(op, &marks)?;
        }
        if SYMBOLS[sym].1 == MarketKind::Spot && !buy_first {
            return Ok(());
        }
        let account = run.account.clone();
        let at = |s: Symbol| Some(Price(marks[index_of(s)]));
        let was_flat = account.position(symbol(sym)).is_none_or(Position::is_flat);
        let (first, second) = if buy_first { (Side::Buy, Side::Sell) } else { (Side::Sell, Side::Buy) };
        let mut after = account.clone();
        if after.apply_fill(&execution(sym, first, price, qty, Decimal::ZERO, leverage), at).is_err() {
            return Ok(());
        }
        if after.apply_fill(&execution(sym, second, price, qty, Decimal::ZERO, leverage), at).is_err() {
            // Only a perpetual's second leg can need margin it no longer has.
            prop_assert_eq!(SYMBOLS[sym].1, MarketKind::Perpetual);
            return Ok(());
        }
        let equity = |a: &Account| a.equity(at).map_err(|e| TestCaseError::fail(e.to_string()));
        prop_assert_eq!(equity(&after)?, equity(&account)?);
        if SYMBOLS[sym].1 == MarketKind::Spot || was_flat {
            prop_assert_eq!(after.cash(), account.cash());
        }
        if was_flat {
            // From an open position the average-cost method realizes part of the old entry.
            prop_assert_eq!(after.realized(), account.realized());
            prop_assert!(after.position(symbol(sym)).is_some_and(Position::is_flat));
        }
    }
}
