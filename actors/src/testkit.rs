//! Shorthands the actors' tests share: exact decimals from text, the symbols they trade, and
//! the check that an actor's `kinds` agree with its `concerns`.

use charon_events::payload::market::{Bar, Interval};
use charon_events::{ActorId, BotId, Money, Origin, Price, Quantity, Symbol, Timestamp};
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

/// A closed one-hour bar from its prices.
pub fn hour_bar(open: &str, high: &str, low: &str, close: &str) -> Bar {
    Bar {
        interval: Interval(3600),
        open_time: Timestamp::from_millis(1_700_000_000_000),
        open: p(open),
        high: p(high),
        low: p(low),
        close: p(close),
        volume: Quantity::new(1, 0),
        trades: None,
        closed: true,
    }
}

pub fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

pub fn eth() -> Symbol {
    Symbol::new("ETHUSDT").unwrap()
}

/// Checks an actor's [`Actor::kinds`] against its `concerns`: one event of every kind,
/// routed to `bot` and `pair` and as input and as derived, must not concern it unless its kind
/// is listed.
pub fn assert_kinds_agree(actor: &dyn crate::journal::Actor, bot: BotId, pair: Symbol) {
    let Some(kinds) = actor.kinds() else { return };
    for sample in charon_events::samples::one_of_each() {
        let kind = sample.payload.kind();
        let routed = [
            sample.clone().with_bot(bot).with_pair(pair),
            sample.clone().with_bot(bot),
            sample.clone(),
        ];
        for mut event in routed {
            for origin in [Origin::Input, Origin::Derived(ActorId::Journal)] {
                event.origin = origin;
                if actor.concerns(&event) {
                    assert!(
                        kinds.contains(&kind),
                        "{} is concerned with {kind} but does not list it",
                        actor.id()
                    );
                }
            }
        }
    }
}
