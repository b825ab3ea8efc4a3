//! Market prices as a run's inputs show them, kept per symbol at one-hour resolution for
//! buy-and-hold: the first price, then the last price of each UTC hour.
//!
//! Only input events count (a pair's derived bars repeat prices the inputs gave): a bar's
//! close and a trade's price. Quotes, mark prices and funding rates do not.

use std::collections::BTreeMap;

use charon_events::{Envelope, Event, Origin, Price, Symbol, Timestamp};

use super::history::PricePoint;

const HOUR_NS: i64 = 3_600_000_000_000;

/// Symbols looked up by a scan before the map: a run has a few, and a scan of a few beats a
/// map's walk.
const SCANNED: usize = 8;

/// Every symbol's sampled prices.
#[derive(Debug, Clone, Default)]
pub struct MarketPrices {
    /// Each symbol with its series, in the order first seen.
    series: Vec<(Symbol, Sampled)>,
    /// Place in `series` of the symbols after the first [`SCANNED`].
    index: BTreeMap<Symbol, usize>,
    /// Place in `series` of the last price's symbol: inputs often repeat a symbol.
    last: usize,
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
        let repeated = self
            .series
            .get(self.last)
            .is_some_and(|(s, _)| *s == symbol);
        let at = match repeated.then_some(self.last).or_else(|| self.find(symbol)) {
            Some(at) => at,
            None => {
                if self.series.len() >= SCANNED {
                    self.index.insert(symbol, self.series.len());
                }
                self.series.push((symbol, Sampled::default()));
                self.series.len() - 1
            }
        };
        self.last = at;
        self.series[at].1.sample(event.ts, price);
    }

    /// The sampled prices of `symbol` (empty if it had none).
    pub fn of(&self, symbol: Symbol) -> &[PricePoint] {
        self.find(symbol)
            .map_or(&[][..], |at| &self.series[at].1.points)
    }

    fn find(&self, symbol: Symbol) -> Option<usize> {
        self.series
            .iter()
            .take(SCANNED)
            .position(|(known, _)| *known == symbol)
            .or_else(|| self.index.get(&symbol).copied())
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
    fn many_symbols_each_keep_their_own() {
        let mut prices = MarketPrices::default();
        let symbols: Vec<String> = (0..SCANNED + 4).map(|i| format!("S{i}USDT")).collect();
        for round in 0..2 {
            for (i, symbol) in symbols.iter().enumerate() {
                prices.observe(&trade(round * 60, symbol, 100 + i as i64));
            }
        }
        for (i, symbol) in symbols.iter().enumerate() {
            let series = prices.of(Symbol::new(symbol).unwrap());
            assert_eq!(series.len(), 2, "{symbol}");
            assert_eq!(series[1].price, Price::new(100 + i as i64, 0), "{symbol}");
        }
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
