//! Shorthands the actors' tests share: exact decimals from text and the symbols they trade.

use charon_events::{Money, Price, Quantity, Symbol};
use rust_decimal::Decimal;

pub fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

pub fn p(text: &str) -> Price {
    Price(d(text))
}

pub fn q(text: &str) -> Quantity {
    Quantity(d(text))
}

pub fn m(text: &str) -> Money {
    Money(d(text))
}

pub fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

pub fn eth() -> Symbol {
    Symbol::new("ETHUSDT").unwrap()
}
