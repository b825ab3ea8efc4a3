//! Statistics of closed trades, on their net P&L (after fees and funding): counts and win
//! rate, profit factor, expectancy, best and worst, durations.

use charon_events::Money;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{percent_of, PCT_DP};
use crate::report::history::ClosedTrade;

/// Decimal places of per-trade averages of money (the precision fees and funding are booked
/// at): a mean is a quotient and may not be exact.
const MONEY_DP: u32 = 8;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TradeStatistics {
    pub trades: u64,
    /// Trades with net P&L > 0.
    pub wins: u64,
    /// The others: break-even trades count as losses.
    pub losses: u64,
    /// `wins / trades × 100`, rounded to 4 places; `None` without trades.
    pub win_rate_pct: Option<Decimal>,
    /// Σ realized P&L before fees and funding.
    pub gross_pnl: Money,
    /// Σ net P&L.
    pub net_pnl: Money,
    /// Σ net P&L of trades that made money / |Σ net P&L of trades that lost|, rounded to 4
    /// places; `None` when no trade lost money.
    pub profit_factor: Option<Decimal>,
    /// Mean net P&L per trade, rounded to 8 places; `None` without trades.
    pub expectancy: Option<Money>,
    /// Mean of the trades' net returns in percent of their entry notional, rounded to 4
    /// places.
    pub expectancy_pct: Option<Decimal>,
    /// The best and worst net return in percent of entry notional, rounded to 4 places.
    pub best_pct: Option<Decimal>,
    pub worst_pct: Option<Decimal>,
    /// The largest and smallest net P&L.
    pub best_pnl: Option<Money>,
    pub worst_pnl: Option<Money>,
    /// Mean and longest time from open to close, in nanoseconds.
    pub average_duration_ns: Option<i64>,
    pub max_duration_ns: Option<i64>,
}

/// A trade's net return in percent of its entry notional, unrounded.
fn net_return(trade: &ClosedTrade) -> Option<Decimal> {
    let notional = trade.entry_notional.0;
    (notional > Decimal::ZERO)
        .then(|| percent_of(trade.net_pnl.0, notional))
        .flatten()
}

pub fn trade_statistics<'a>(trades: impl IntoIterator<Item = &'a ClosedTrade>) -> TradeStatistics {
    let trades: Vec<&ClosedTrade> = trades.into_iter().collect();
    if trades.is_empty() {
        return TradeStatistics::default();
    }
    let count = trades.len();
    let n = Decimal::from(count);
    let nets = || trades.iter().map(|t| t.net_pnl.0);
    let wins = nets().filter(|net| *net > Decimal::ZERO).count();
    let won: Decimal = nets().filter(|net| *net > Decimal::ZERO).sum();
    let lost: Decimal = nets().filter(|net| *net < Decimal::ZERO).sum();
    let net: Decimal = nets().sum();
    let returns: Vec<Decimal> = trades.iter().filter_map(|t| net_return(t)).collect();
    let durations = || trades.iter().map(|t| t.duration_ns);
    let total_duration: i128 = durations().map(i128::from).sum();
    TradeStatistics {
        trades: count as u64,
        wins: wins as u64,
        losses: (count - wins) as u64,
        win_rate_pct: Some((Decimal::from(wins) / n * Decimal::ONE_HUNDRED).round_dp(PCT_DP)),
        gross_pnl: Money(trades.iter().map(|t| t.realized_pnl.0).sum()),
        net_pnl: Money(net),
        profit_factor: (lost < Decimal::ZERO)
            .then(|| won.checked_div(-lost))
            .flatten()
            .map(|factor| factor.round_dp(PCT_DP)),
        expectancy: Some(Money((net / n).round_dp(MONEY_DP))),
        expectancy_pct: (!returns.is_empty()).then(|| {
            let sum: Decimal = returns.iter().sum();
            (sum / Decimal::from(returns.len())).round_dp(PCT_DP)
        }),
        best_pct: returns.iter().max().map(|r| r.round_dp(PCT_DP)),
        worst_pct: returns.iter().min().map(|r| r.round_dp(PCT_DP)),
        best_pnl: nets().max().map(Money),
        worst_pnl: nets().min().map(Money),
        average_duration_ns: i64::try_from(total_duration / count as i128).ok(),
        max_duration_ns: durations().max(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::history::TradeExit;
    use crate::statistics::testing::d;
    use charon_events::payload::order::PositionSide;
    use charon_events::{BotId, Price, Quantity, Symbol, Timestamp};

    /// A trade of `notional` (price 100 × qty) with the given gross and fees, open `hours`.
    fn trade(notional: &str, gross: &str, fees: &str, hours: i64) -> ClosedTrade {
        let net = d(gross) - d(fees);
        ClosedTrade {
            bot: BotId::new("b").unwrap(),
            pair: Symbol::new("BTCUSDT").unwrap(),
            side: PositionSide::Long,
            opened_at: Timestamp::from_nanos(0),
            closed_at: Timestamp::from_nanos(hours * 3_600_000_000_000),
            duration_ns: hours * 3_600_000_000_000,
            entry_price: Price(d("100")),
            exit_price: None,
            max_qty: Quantity(d(notional) / d("100")),
            entry_notional: Money(d(notional)),
            realized_pnl: Money(d(gross)),
            fees: Money(d(fees)),
            funding: Money::ZERO,
            net_pnl: Money(net),
            return_pct: None,
            gross_return_pct: None,
            exit: TradeExit::default(),
        }
    }

    #[test]
    fn statistics_of_four_trades_by_hand() {
        let trades = [
            // net +18 on 1000: +1.8%, 2 h
            trade("1000", "20", "2", 2),
            // net −11 on 1000: −1.1%, 1 h
            trade("1000", "-10", "1", 1),
            // net 0 on 500 (break-even: a loss), 4 h
            trade("500", "1", "1", 4),
            // net +4.5 on 500: +0.9%, 1 h
            trade("500", "5", "0.5", 1),
        ];
        let s = trade_statistics(&trades);
        assert_eq!((s.trades, s.wins, s.losses), (4, 2, 2));
        // 2 / 4.
        assert_eq!(s.win_rate_pct, Some(d("50")));
        // Gross 20 − 10 + 1 + 5 = 16; net 18 − 11 + 0 + 4.5 = 11.5.
        assert_eq!(s.gross_pnl, Money(d("16")));
        assert_eq!(s.net_pnl, Money(d("11.5")));
        // (18 + 4.5) / 11 = 2.04545… → 2.0455.
        assert_eq!(s.profit_factor, Some(d("2.0455")));
        // 11.5 / 4 = 2.875.
        assert_eq!(s.expectancy, Some(Money(d("2.875"))));
        // (1.8 − 1.1 + 0 + 0.9) / 4 = 0.4.
        assert_eq!(s.expectancy_pct, Some(d("0.4")));
        assert_eq!((s.best_pct, s.worst_pct), (Some(d("1.8")), Some(d("-1.1"))));
        assert_eq!(s.best_pnl, Some(Money(d("18"))));
        assert_eq!(s.worst_pnl, Some(Money(d("-11"))));
        // (2 + 1 + 4 + 1) / 4 = 2 h; longest 4 h.
        assert_eq!(s.average_duration_ns, Some(2 * 3_600_000_000_000));
        assert_eq!(s.max_duration_ns, Some(4 * 3_600_000_000_000));
    }

    #[test]
    fn quotients_too_large_for_a_decimal_are_none_not_a_panic() {
        // A notional of 10⁻²⁸ and a loss of 10⁻²⁸ against a gain of ~7.9·10²⁵.
        let tiny = "0.0000000000000000000000000001";
        let trades = [
            trade(tiny, "79228162514264337593543", "0", 1),
            trade("100", &format!("-{tiny}"), "0", 1),
        ];
        let s = trade_statistics(&trades);
        assert_eq!(s.profit_factor, None);
        // The first trade's return does not fit; the mean is the other's, 0%.
        assert_eq!(s.best_pct, Some(Decimal::ZERO));
    }

    #[test]
    fn no_losing_trade_no_profit_factor_and_no_trades_nothing() {
        let s = trade_statistics(&[trade("100", "1", "0", 1), trade("100", "0", "0", 1)]);
        assert_eq!(s.profit_factor, None, "a break-even trade lost nothing");
        assert_eq!((s.wins, s.losses), (1, 1));
        let none = trade_statistics(&[]);
        assert_eq!(none, TradeStatistics::default());
        assert_eq!(none.win_rate_pct, None);
        assert_eq!(none.expectancy, None);
    }
}
