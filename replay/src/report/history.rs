//! What a run's report keeps of its events for statistics: per bot the equity curve, the
//! account's cumulative totals and every trade; per pair its contribution curve, totals and
//! market prices. [`RunHistory`] is the input of [`crate::statistics::compute`].
//!
//! Every series is in event order (event time never decreases within a run). Amounts are the
//! events' own exact decimals.

use charon_events::payload::order::{OrderPurpose, PositionSide};
use charon_events::{BotId, Money, Price, Quantity, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;

/// A run's history: its time span and each bot's, in the order the bots were configured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunHistory {
    /// The first and last event time the report observed (`None` before any event).
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub bots: Vec<BotHistory>,
}

/// One bot's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BotHistory {
    pub bot: BotId,
    pub initial_capital: Money,
    /// The `equity` of every account-level `EquityUpdated` (mark-to-market: cash plus
    /// unrealized P&L), at its event time. The initial capital is not a point.
    pub equity_curve: Vec<CurvePoint>,
    /// The account's cumulative realized P&L, fees and funding, one point each time any of
    /// them changed (from `EquityUpdated`; zero before the first point).
    pub totals: Vec<TotalsPoint>,
    /// Every closed trade of every pair, in the order they closed.
    pub closed_trades: Vec<ClosedTrade>,
    /// Trades still open at the last event, by pair.
    pub open_trades: Vec<OpenTrade>,
    /// Every pair an event of the bot named, sorted by symbol.
    pub pairs: Vec<PairHistory>,
}

/// One pair's history within its bot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairHistory {
    pub pair: Symbol,
    /// The pair's contribution to its bot's equity after every `PositionUpdated`: cumulative
    /// realized P&L − fees + funding + the position's unrealized P&L.
    pub contribution_curve: Vec<CurvePoint>,
    /// The pair's cumulative realized P&L, fees and funding, one point each time any of them
    /// changed (from `PositionUpdated`; zero before the first point).
    pub totals: Vec<TotalsPoint>,
    /// The symbol's market prices from input bars (close) and trades: the first price seen,
    /// then the last price of each UTC hour, each at its own event time. Empty when the report
    /// saw no market input of the symbol (a run log alone holds none: a backtest cites its
    /// inputs).
    pub prices: Vec<PricePoint>,
}

/// A value at an event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CurvePoint {
    pub ts: Timestamp,
    pub value: Money,
}

/// Cumulative realized P&L (before fees and funding), fees paid and funding received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub realized_pnl: Money,
    pub fees: Money,
    /// Net received: negative when paid.
    pub funding: Money,
}

impl Totals {
    /// Realized − fees + funding.
    pub fn net(&self) -> Decimal {
        self.realized_pnl.0 - self.fees.0 + self.funding.0
    }

    /// `self − earlier`, field by field.
    pub fn since(&self, earlier: &Totals) -> Totals {
        Totals {
            realized_pnl: Money(self.realized_pnl.0 - earlier.realized_pnl.0),
            fees: Money(self.fees.0 - earlier.fees.0),
            funding: Money(self.funding.0 - earlier.funding.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TotalsPoint {
    pub ts: Timestamp,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PricePoint {
    pub ts: Timestamp,
    pub price: Price,
}

/// A trade that opened and closed: a pair's position from flat (or a flip) to flat (or the
/// next flip). See [`crate::report`] for when trades open and close and what belongs to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedTrade {
    pub bot: BotId,
    pub pair: Symbol,
    pub side: PositionSide,
    /// The time of the position update that opened it.
    pub opened_at: Timestamp,
    /// The time of the position update that closed it.
    pub closed_at: Timestamp,
    /// `closed_at − opened_at`, in nanoseconds.
    pub duration_ns: i64,
    /// The position's average entry price at its last update before the close (weighted over
    /// its entry and add-on fills; reductions leave it unchanged).
    pub entry_price: Price,
    /// Quantity-weighted average price of the fills that reduced the position; `None` if no
    /// reducing fill was seen.
    pub exit_price: Option<Price>,
    /// The largest quantity the position held.
    pub max_qty: Quantity,
    /// `entry_price × max_qty`: the base of the trade's returns.
    pub entry_notional: Money,
    /// Realized P&L over the trade, before fees and funding (gross).
    pub realized_pnl: Money,
    /// Fees paid over the trade, its opening fee included.
    pub fees: Money,
    /// Funding received over the trade (negative when paid).
    pub funding: Money,
    /// `realized_pnl − fees + funding`.
    pub net_pnl: Money,
    /// `net_pnl / entry_notional × 100`, rounded to 4 places; `None` if the notional is 0.
    pub return_pct: Option<Decimal>,
    /// `realized_pnl / entry_notional × 100` (before fees and funding), rounded to 4 places.
    pub gross_return_pct: Option<Decimal>,
    pub exit: TradeExit,
}

/// Why a trade closed: the order whose fill closed it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TradeExit {
    /// The order's purpose (`exit`, `force_close`; `entry` or `add_on` for a fill that flipped
    /// the position); `None` when the closing fill's order was not seen.
    pub purpose: Option<OrderPurpose>,
    /// The rule that asked for the exit: for an `exit` the rule of the pair's exit signal
    /// before the order (`stop_loss`, `take_profit`, `trailing_stop`, `time_stop`,
    /// `signal_flip`, or the template's rule such as `long.exit`); for a `force_close` the
    /// rule of the `ForceClose` event (`per_trade_loss`, `bot_take_profit`, ...).
    pub rule: Option<String>,
    /// The order's own `reason` text, e.g. `exit: stop_loss 2% at 98`.
    pub reason: Option<String>,
}

/// A trade still open at the last event the report saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenTrade {
    pub bot: BotId,
    pub pair: Symbol,
    pub side: PositionSide,
    pub opened_at: Timestamp,
    /// The last update's average entry price.
    pub entry_price: Price,
    /// The last update's quantity.
    pub qty: Quantity,
    pub max_qty: Quantity,
    /// Realized P&L, fees and funding since the trade opened, as for a closed trade.
    pub realized_pnl: Money,
    pub fees: Money,
    pub funding: Money,
    /// `realized_pnl − fees + funding`: what the trade has booked so far.
    pub net_pnl: Money,
    /// The last update's unrealized P&L.
    pub unrealized_pnl: Money,
}
