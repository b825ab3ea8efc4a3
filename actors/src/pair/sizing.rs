//! How big an order a pair asks for: an entry from `sizing.per_trade`, an add-on from the
//! first entry's size, both cut to what `sizing.max_position_quote` leaves. Sizes are exact
//! decimals rounded **down** to [`QTY_DP`] places, so a rounded size never exceeds what the
//! configuration allows. Every size is a position *value* (notional) at the given price,
//! whatever the leverage: `quote = 1000` buys 1000 USDT worth, using 1000/leverage of margin.

use charon_events::{Money, Price, Quantity};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::config::PerTrade;
use crate::exchange::precision::PRICE_DP;

/// Decimal places an order quantity is rounded down to (Binance's finest lot step is 1e-8).
pub const QTY_DP: u32 = 8;

fn round_down(qty: Decimal) -> Decimal {
    qty.round_dp_with_strategy(QTY_DP, RoundingStrategy::ToZero)
}

/// The size of one entry at `price`, before the cap: a fixed quantity, `quote / price`, or
/// `equity · pct / 100 / price`. `None` when it rounds to nothing or cannot be computed.
pub fn per_trade_qty(per_trade: PerTrade, equity: Money, price: Price) -> Option<Quantity> {
    if price.0 <= Decimal::ZERO {
        return None;
    }
    let qty = match per_trade {
        PerTrade::Quantity(qty) => qty.0,
        PerTrade::Quote(amount) => amount.0.checked_div(price.0)?,
        PerTrade::EquityPct(pct) => equity
            .0
            .checked_mul(pct)?
            .checked_div(Decimal::ONE_HUNDRED)?
            .checked_div(price.0)?,
    };
    positive(round_down(qty))
}

/// `qty` cut so the position (`held` already, plus the order) is worth at most `cap` at `price`.
/// `None` when nothing fits.
pub fn within_cap(
    qty: Quantity,
    held: Quantity,
    price: Price,
    cap: Option<Money>,
) -> Option<Quantity> {
    let Some(cap) = cap else {
        return positive(qty.0);
    };
    if price.0 <= Decimal::ZERO {
        return None;
    }
    let held_value = held.0.checked_mul(price.0)?;
    let room = cap.0.checked_sub(held_value)?;
    if room <= Decimal::ZERO {
        return None;
    }
    let fits = round_down(room.checked_div(price.0)?);
    positive(qty.0.min(fits))
}

/// An add-on's size: `size_pct` percent of the first entry's quantity, rounded down.
pub fn add_on_qty(first_entry: Quantity, size_pct: Decimal) -> Option<Quantity> {
    let qty = first_entry
        .0
        .checked_mul(size_pct)?
        .checked_div(Decimal::ONE_HUNDRED)?;
    positive(round_down(qty))
}

fn positive(qty: Decimal) -> Option<Quantity> {
    (qty > Decimal::ZERO).then_some(Quantity(qty))
}

/// `price` moved by `pct` percent: up for `pct > 0`, down for `pct < 0`, rounded to
/// [`PRICE_DP`] places (half to even) like every computed price. Used for stop, target and
/// add-on trigger levels.
pub fn moved_by_pct(price: Price, pct: Decimal) -> Option<Price> {
    let delta = price.0.checked_mul(hundredth(pct)?)?;
    let level = price.0.checked_add(delta)?;
    Some(Price(level.round_dp(PRICE_DP).normalize()))
}

/// `pct / 100`, exactly, by moving the decimal point (a `Decimal` division costs far more and
/// levels are computed on every bar); `None` past 28 places.
fn hundredth(pct: Decimal) -> Option<Decimal> {
    let mut fraction = pct;
    fraction.set_scale(pct.scale() + 2).ok()?;
    Some(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn each_sizing_mode() {
        let price = Price(d("40000"));
        let equity = Money(d("10000"));
        assert_eq!(
            per_trade_qty(PerTrade::Quantity(Quantity(d("0.01"))), equity, price),
            Some(Quantity(d("0.01")))
        );
        assert_eq!(
            per_trade_qty(PerTrade::Quote(Money(d("1000"))), equity, price),
            Some(Quantity(d("0.025")))
        );
        assert_eq!(
            per_trade_qty(PerTrade::EquityPct(d("5")), equity, price),
            Some(Quantity(d("0.0125")))
        );
        // 1000 / 30000 = 0.0333… rounds down, never up.
        assert_eq!(
            per_trade_qty(PerTrade::Quote(Money(d("1000"))), equity, Price(d("30000"))),
            Some(Quantity(d("0.03333333")))
        );
        assert_eq!(
            per_trade_qty(PerTrade::Quote(Money(d("0.000001"))), equity, price),
            None
        );
    }

    #[test]
    fn the_cap_cuts_and_then_refuses() {
        let price = Price(d("100"));
        let cap = Some(Money(d("250")));
        assert_eq!(
            within_cap(Quantity(d("2")), Quantity(d("1")), price, cap),
            Some(Quantity(d("1.5")))
        );
        assert_eq!(
            within_cap(Quantity(d("2")), Quantity(d("2.5")), price, cap),
            None
        );
        assert_eq!(
            within_cap(Quantity(d("2")), Quantity(d("9")), price, None),
            Some(Quantity(d("2")))
        );
    }

    #[test]
    fn hundredths_are_exact() {
        assert_eq!(hundredth(d("1.5")), Some(d("0.015")));
        assert_eq!(hundredth(d("-250")), Some(d("-2.5")));
        assert_eq!(hundredth(d("0.0000000000000000000000000001")), None);
    }

    #[test]
    fn levels_move_by_percent() {
        assert_eq!(
            moved_by_pct(Price(d("40000")), d("-1.5")),
            Some(Price(d("39400")))
        );
        assert_eq!(
            moved_by_pct(Price(d("40000")), d("3")),
            Some(Price(d("41200")))
        );
        // 1.16481647 · 0.97 = 1.1298719759: rounded to 8 places.
        assert_eq!(
            moved_by_pct(Price(d("1.16481647")), d("-3")),
            Some(Price(d("1.12987198")))
        );
    }

    proptest! {
        #[test]
        fn capped_sizes_never_exceed_the_cap(
            qty in 1u64..10_000_000, held in 0u64..10_000_000,
            price in 1u64..10_000_000, cap in 1u64..100_000_000,
        ) {
            let qty = Quantity(Decimal::new(qty as i64, 4));
            let held = Quantity(Decimal::new(held as i64, 4));
            let price = Price(Decimal::new(price as i64, 2));
            let cap = Money(Decimal::new(cap as i64, 2));
            if let Some(cut) = within_cap(qty, held, price, Some(cap)) {
                prop_assert!(cut.0 > Decimal::ZERO && cut <= qty);
                prop_assert!((held.0 + cut.0) * price.0 <= cap.0);
            } else {
                prop_assert!(held.0 * price.0 >= cap.0 - price.0 * Decimal::new(1, QTY_DP));
            }
        }
    }
}
