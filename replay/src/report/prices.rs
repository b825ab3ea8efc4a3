//! Market prices as a run's inputs show them, kept per symbol at one-hour resolution for
//! buy-and-hold: the first price, then the last price of each UTC hour.
//!
//! Only input events count (a pair's derived bars repeat prices the inputs gave): a bar's
//! close and a trade's price. Quotes, mark prices and funding rates do not.

use std::collections::BTreeMap;

use charon_events::{Envelope, Event, Origin, Price, Symbol, Timestamp};

use super::history::PricePoint;

const HOUR_NS: i64 = 3_600_000_000_000;

/// Every symbol's sampled prices.
#[derive(Debug, Clone, Default)]
pub struct MarketPrices {
    series: Vec<Sampled>,
    index: BTreeMap<Symbol, usize>,
    /// The symbol of the last price and its place in `series`: market inputs mostly repeat a
    /// symbol, so most lookups stop here.
    last: Option<(Symbol, usize)>,
}

impl MarketPrices {
    /// Takes any event; keeps the price of an input bar or trade.
    #[inline]
    pub fn observe(&mut self, event: &Envelope) {
        let price = match &event.payload {
            Event::Bar(bar) => bar.close,
            Event::Trade(trade) => trade.price,
            _ => return,
        };
        if event.origin != Origin::Input {
            return;
        }
        let Some(symbol) = event.pair else { return };
        let at = self.slot(symbol);
        self.series[at].sample(event.ts, price);
    }

    /// The sampled prices of `symbol` (empty if it had none).
    pub fn of(&self, symbol: Symbol) -> &[PricePoint] {
        self.index
            .get(&symbol)
            .map_or(&[][..], |&at| &self.series[at].points)
    }

    fn slot(&mut self, symbol: Symbol) -> usize {
        if let Some((last, at)) = self.last {
            if last == symbol {
                return at;
            }
        }
        let next = self.series.len();
        let at = *self.index.entry(symbol).or_insert(next);
        if at == next {
            self.series.push(Sampled::default());
        }
        self.last = Some((symbol, at));
        at
    }
}

/// A series that keeps the first point and then the last of each hour.
#[derive(Debug, Clone, Default)]
struct Sampled {
    points: Vec<PricePoint>,
    /// Where the hour of the last point ends (exclusive), so most prices need no division.
    hour_end: i64,
}

impl Sampled {
    fn sample(&mut self, ts: Timestamp, price: Price) {
        let point = PricePoint { ts, price };
        if self.points.len() >= 2 && ts.nanos() < self.hour_end {
            let last = self.points.len() - 1;
            self.points[last] = point;
            return;
        }
        if self.points.len() != 1 || ts.nanos() >= self.hour_end {
            self.hour_end = (ts.nanos().div_euclid(HOUR_NS) + 1).saturating_mul(HOUR_NS);
        }
        self.points.push(point);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charon_events::payload::market::{Aggressor, Trade};
    use charon_events::{ActorId, Venue};

    fn trade(minutes: i64, symbol: &str, price: i64) -> Envelope {
        Envelope::input(
            Timestamp::from_millis(minutes * 60_000),
            Event::Trade(Trade {
                trade_id: 1,
                price: Price::new(price, 0),
                qty: "1".parse().unwrap(),
                aggressor: Aggressor::Buyer,
            }),
        )
        .with_pair(Symbol::new(symbol).unwrap())
    }

    #[test]
    fn keeps_the_first_price_and_the_last_of_each_hour() {
        let mut prices = MarketPrices::default();
        // Hour 0: 10 (first), 11, 12; hour 1: 13, 14; hour 3: 15. ETH interleaves.
        for (minute, symbol, price) in [
            (0, "BTCUSDT", 10),
            (5, "ETHUSDT", 1),
            (10, "BTCUSDT", 11),
            (59, "BTCUSDT", 12),
            (60, "BTCUSDT", 13),
            (119, "BTCUSDT", 14),
            (120, "ETHUSDT", 2),
            (200, "BTCUSDT", 15),
        ] {
            prices.observe(&trade(minute, symbol, price));
        }
        let btc: Vec<(i64, i64)> = prices
            .of(Symbol::new("BTCUSDT").unwrap())
            .iter()
            .map(|p| (p.ts.nanos() / 60_000_000_000, p.price.0.try_into().unwrap()))
            .collect();
        assert_eq!(btc, [(0, 10), (59, 12), (119, 14), (200, 15)]);
        assert_eq!(prices.of(Symbol::new("ETHUSDT").unwrap()).len(), 2);
        assert!(prices.of(Symbol::new("XRPUSDT").unwrap()).is_empty());
    }

    #[test]
    fn derived_prices_do_not_count() {
        let mut prices = MarketPrices::default();
        let mut derived = trade(0, "BTCUSDT", 10);
        derived.origin = Origin::Derived(ActorId::Exchange(Venue::new("sim").unwrap()));
        prices.observe(&derived);
        assert!(prices.of(Symbol::new("BTCUSDT").unwrap()).is_empty());
    }
}
