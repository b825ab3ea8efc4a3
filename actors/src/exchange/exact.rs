//! Exact decimal arithmetic for the simulated exchange: `+`, `−` and `×` on `Decimal` that
//! return [`Inexact`] instead of rounding or panicking.
//!
//! `rust_decimal` keeps at most 28 decimal places in a 96-bit mantissa. When a sum or product
//! does not fit, its operators silently round (dropping decimal places) or panic (overflow).
//! Neither is acceptable in an account that must balance to the last digit, so every operation
//! here checks that the result kept all the decimal places the exact result needs.
//!
//! How: operands are normalized first (trailing zeros stripped), so the exact sum needs
//! `max(scale_a, scale_b)` places and the exact product `scale_a + scale_b` (a product of two
//! normalized numbers can end in a zero, as 0.2 × 0.5 does; such a product is refused only in
//! the corner where its unstripped form overflows and the stripped one would not).
//! `rust_decimal` only ever lowers a result's scale by rounding, so a result with the expected
//! scale is exact. The operands are tried as they are first, and normalized only when that
//! fails; results with more than 16 decimal places are normalized, which keeps the headroom of
//! long-running sums (cash, fees) large without paying for a normalization on every operation.
//!
//! Real exchange precisions stay far inside the limits: prices and quantities with at most 8
//! decimal places give products of at most 16, and amounts below 10^12 with 16 places need 28
//! digits, just inside the 28.9 digits of the mantissa.

use rust_decimal::Decimal;

/// A result that `Decimal` cannot hold exactly (more than 28 decimal places, or beyond
/// ±7.9·10^28).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{a} {op} {b} cannot be represented exactly in a 96-bit decimal")]
pub struct Inexact {
    pub a: Decimal,
    pub op: char,
    pub b: Decimal,
}

/// Scales above this are normalized away after an operation; below it trailing zeros are
/// kept (normalizing costs more than the operation, and 16 places leave ample headroom).
const TRIM_ABOVE_SCALE: u32 = 16;

fn trimmed(x: Decimal) -> Decimal {
    if x.scale() > TRIM_ABOVE_SCALE {
        x.normalize()
    } else {
        x
    }
}

/// `a + b`, exactly.
pub fn add(a: Decimal, b: Decimal) -> Result<Decimal, Inexact> {
    // Fast path: `Decimal` only lowers a sum's scale below its operands' to round, so a sum
    // at that scale is exact. Otherwise retry with trailing zeros stripped, which may fit.
    if let Some(sum) = a.checked_add(b) {
        if sum.scale() == a.scale().max(b.scale()) {
            return Ok(trimmed(sum));
        }
    }
    let (x, y) = (a.normalize(), b.normalize());
    let err = Inexact { a, op: '+', b };
    let sum = x.checked_add(y).ok_or(err)?;
    if sum.scale() == x.scale().max(y.scale()) {
        Ok(sum.normalize())
    } else {
        Err(err)
    }
}

/// `a − b`, exactly.
pub fn sub(a: Decimal, b: Decimal) -> Result<Decimal, Inexact> {
    add(a, -b).map_err(|_| Inexact { a, op: '-', b })
}

/// `a × b`, exactly.
pub fn mul(a: Decimal, b: Decimal) -> Result<Decimal, Inexact> {
    if a.is_zero() || b.is_zero() {
        return Ok(Decimal::ZERO);
    }
    // Fast path as in `add`: a product at the sum of the operands' scales kept every place.
    if let Some(product) = a.checked_mul(b) {
        if product.scale() == a.scale() + b.scale() {
            return Ok(trimmed(product));
        }
    }
    let (x, y) = (a.normalize(), b.normalize());
    let err = Inexact { a, op: '×', b };
    let product = x.checked_mul(y).ok_or(err)?;
    if product.scale() == x.scale() + y.scale() {
        Ok(product.normalize())
    } else {
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn exact_results_pass_and_long_ones_are_normalized() {
        assert_eq!(add(d("1.10"), d("2.20")).unwrap(), d("3.3"));
        let long = d("0.10000000000000000000");
        assert_eq!(mul(long, d("2")).unwrap().to_string(), "0.2");
        assert_eq!(sub(d("1"), d("0.00000001")).unwrap(), d("0.99999999"));
        assert_eq!(mul(d("0.2"), d("0.5")).unwrap(), d("0.1"));
        assert_eq!(mul(d("61234.56"), d("0.001")).unwrap(), d("61.23456"));
        assert_eq!(mul(d("0"), d("1.5")).unwrap(), Decimal::ZERO);
        assert_eq!(add(d("0"), d("-0.123")).unwrap(), d("-0.123"));
        // 28 places on both sides of the limit.
        let tiny = d("0.0000000000000000000000000001");
        assert_eq!(
            add(tiny, tiny).unwrap(),
            d("0.0000000000000000000000000002")
        );
    }

    #[test]
    fn rounding_and_overflow_are_refused() {
        let tiny = d("0.0000000000000000000000000001");
        // Needs 29 significant digits: Decimal would round this.
        assert!(add(d("1000"), tiny).is_err());
        // Needs 30 decimal places.
        assert!(mul(d("0.000000000000001"), d("0.000000000000001")).is_err());
        // Beyond the mantissa.
        assert!(mul(Decimal::MAX, d("2")).is_err());
        assert!(add(Decimal::MAX, d("1")).is_err());
        assert!(sub(Decimal::MIN, d("1")).is_err());
        // A product whose 192-bit mantissa would be rounded down to fit.
        assert!(mul(d("1.000000000000001"), d("1234567890123.456789")).is_err());
    }
}
