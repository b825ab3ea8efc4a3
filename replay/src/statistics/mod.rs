//! A run's statistics, for each bot and each of its pairs, over the whole run or a time
//! window: returns and risk-adjusted ratios, drawdowns, trades, exposure, costs and
//! buy-and-hold. docs/STATISTICS.md gives every formula and convention.
//!
//! [`compute`] is a pure function of a run's [`RunHistory`], a [`Window`] and [`Settings`].
//! A pair is measured as the bot's initial capital plus the pair's contribution (its net P&L,
//! unrealized included), so its figures read as if it had traded the whole capital alone.

pub mod drawdown;
pub mod exposure;
pub mod returns;
pub mod series;
pub mod table;
pub mod trades;

use charon_events::{BotId, Money, Symbol, Timestamp};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::report::history::{
    BotHistory, ClosedTrade, OpenTrade, PairHistory, PricePoint, RunHistory, TotalsPoint,
};
use drawdown::{drawdowns, DrawdownStatistics};
use series::{totals_over, Series};
use trades::{trade_statistics, TradeStatistics};

/// Decimal places percentages are rounded to.
pub(crate) const PCT_DP: u32 = 4;

/// `part / whole × 100`, unrounded; `None` where the quotient does not fit a decimal (a
/// divisor of zero, or so small that the result overflows).
pub(crate) fn percent_of(part: Decimal, whole: Decimal) -> Option<Decimal> {
    part.checked_div(whole)?.checked_mul(Decimal::ONE_HUNDRED)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatisticsError {
    #[error("the window starts at {from} after it ends at {to}")]
    WindowReversed { from: Timestamp, to: Timestamp },
    #[error("a risk-free rate of {0}% a year is not above −100%")]
    RiskFreeRate(Decimal),
}

/// How the statistics are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The annual risk-free rate in percent (5 = 5% a year).
    risk_free_rate_pct: Decimal,
    /// Return periods per year (daily returns, every calendar day).
    periods_per_year: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            risk_free_rate_pct: Decimal::ZERO,
            periods_per_year: returns::PERIODS_PER_YEAR,
        }
    }
}

impl Settings {
    /// With an annual risk-free rate in percent, which must be above −100.
    pub fn with_risk_free_rate_pct(pct: Decimal) -> Result<Self, StatisticsError> {
        if pct <= -Decimal::ONE_HUNDRED {
            return Err(StatisticsError::RiskFreeRate(pct));
        }
        Ok(Self {
            risk_free_rate_pct: pct,
            ..Self::default()
        })
    }

    pub fn risk_free_rate_pct(&self) -> Decimal {
        self.risk_free_rate_pct
    }

    pub fn periods_per_year(&self) -> u32 {
        self.periods_per_year
    }

    /// The risk-free rate per daily period, de-annualized compoundly.
    fn daily_risk_free(&self) -> f64 {
        let annual = (self.risk_free_rate_pct / Decimal::ONE_HUNDRED)
            .to_f64()
            .unwrap_or(0.0);
        returns::periodic_rate(annual)
    }
}

/// The times statistics are computed over: `[from, to]`, both inclusive, either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

impl Window {
    /// The whole run.
    pub const ALL: Window = Window {
        from: None,
        to: None,
    };

    pub fn new(from: Option<Timestamp>, to: Option<Timestamp>) -> Result<Self, StatisticsError> {
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(StatisticsError::WindowReversed { from, to });
            }
        }
        Ok(Self { from, to })
    }

    pub fn from(&self) -> Option<Timestamp> {
        self.from
    }

    pub fn to(&self) -> Option<Timestamp> {
        self.to
    }

    /// Whether `ts` lies in the window.
    pub fn contains(&self, ts: Timestamp) -> bool {
        self.from.is_none_or(|from| from <= ts) && self.to.is_none_or(|to| ts <= to)
    }

    /// `(first, end)`: `items[first..end]` lie in the window, `items[..first]` before it, for
    /// items in time order.
    pub fn slice<T>(&self, items: &[T], ts: impl Fn(&T) -> Timestamp) -> (usize, usize) {
        let first = self
            .from
            .map_or(0, |from| items.partition_point(|item| ts(item) < from));
        let end = self.to.map_or(items.len(), |to| {
            items.partition_point(|item| ts(item) <= to)
        });
        (first, end.max(first))
    }

    /// The window clipped to a run's first and last event times (a run with no events has
    /// no length).
    pub fn period(&self, history: &RunHistory) -> Period {
        let first = history.first_ts.unwrap_or_default();
        let last = history.last_ts.unwrap_or(first).max(first);
        let start = self.from.unwrap_or(first).clamp(first, last);
        let end = self.to.unwrap_or(last).clamp(start, last);
        Period { start, end }
    }
}

/// The span statistics are computed over, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Period {
    pub fn span_ns(&self) -> i64 {
        self.end.nanos().saturating_sub(self.start.nanos())
    }
}

/// Every bot's and pair's statistics over one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStatistics {
    pub period: Period,
    pub settings: Settings,
    pub bots: Vec<BotStatistics>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BotStatistics {
    pub bot: BotId,
    pub statistics: Statistics,
    /// In the order of the bot's history (by symbol).
    pub pairs: Vec<PairStatistics>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairStatistics {
    pub pair: Symbol,
    pub statistics: Statistics,
}

/// The statistics of a bot or a pair over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    pub period: Period,
    pub returns: ReturnStatistics,
    pub drawdown: DrawdownStatistics,
    pub trades: TradeStatistics,
    /// Time with a position open (any pair, for a bot) in percent of the period, rounded to 4
    /// places; `None` for a period of no length.
    pub exposure_pct: Option<Decimal>,
    /// Fees paid and funding received (negative when paid) within the period.
    pub fees: Money,
    pub funding: Money,
    /// `last price / first price − 1` in percent, rounded to 4 places; a bot's is the mean of
    /// its pairs'. `None` without prices (a run log read alone holds no market inputs).
    pub buy_and_hold_pct: Option<Decimal>,
}

/// Returns and the ratios on them. Fractions are given in percent; ratios are plain numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnStatistics {
    /// Mark-to-market equity at the period's start and end.
    pub start_equity: Money,
    pub end_equity: Money,
    /// `end_equity − start_equity`: P&L with unrealized P&L, after fees and funding.
    pub pnl: Money,
    /// `end / start − 1` in percent, rounded to 4 places; `None` if the start is not
    /// positive.
    pub total_return_pct: Option<Decimal>,
    /// Compound annual growth over calendar time, in percent.
    pub cagr_pct: Option<f64>,
    /// Annualized volatility of daily returns, in percent.
    pub volatility_pct: Option<f64>,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
    /// CAGR / |max drawdown|.
    pub calmar: Option<f64>,
    /// Daily returns the ratios were computed on.
    pub days: u64,
}

/// The statistics of every bot and pair of `history` over `window`.
pub fn compute(history: &RunHistory, window: Window, settings: &Settings) -> RunStatistics {
    let scope = Scope {
        window,
        period: window.period(history),
    };
    let period = scope.period;
    let bots = history
        .bots
        .iter()
        .map(|bot| bot_statistics(bot, scope, settings))
        .collect();
    RunStatistics {
        period,
        settings: *settings,
        bots,
    }
}

/// What statistics are computed over: the points and trades of the window, the times of the
/// period (the window clipped to the run).
#[derive(Debug, Clone, Copy)]
struct Scope {
    window: Window,
    period: Period,
}

fn bot_statistics(bot: &BotHistory, scope: Scope, settings: &Settings) -> BotStatistics {
    let capital = bot.initial_capital.0;
    let pairs: Vec<PairStatistics> = bot
        .pairs
        .iter()
        .map(|pair| PairStatistics {
            pair: pair.pair,
            statistics: pair_statistics(bot, pair, scope, settings),
        })
        .collect();
    let holds: Vec<Decimal> = bot
        .pairs
        .iter()
        .filter_map(|pair| buy_and_hold(&pair.prices, scope.period))
        .collect();
    let buy_and_hold =
        (!holds.is_empty()).then(|| holds.iter().sum::<Decimal>() / Decimal::from(holds.len()));
    let subject = Subject {
        series: Series::new(&bot.equity_curve, Decimal::ZERO, capital, scope.window),
        totals: &bot.totals,
        trades: bot.closed_trades.iter().collect(),
        open: bot.open_trades.iter().collect(),
        buy_and_hold,
    };
    BotStatistics {
        bot: bot.bot,
        statistics: subject.statistics(scope, settings),
        pairs,
    }
}

fn pair_statistics(
    bot: &BotHistory,
    pair: &PairHistory,
    scope: Scope,
    settings: &Settings,
) -> Statistics {
    let capital = bot.initial_capital.0;
    let of_pair = |trade_pair: Symbol| trade_pair == pair.pair;
    Subject {
        series: Series::new(&pair.contribution_curve, capital, capital, scope.window),
        totals: &pair.totals,
        trades: bot
            .closed_trades
            .iter()
            .filter(|t| of_pair(t.pair))
            .collect(),
        open: bot.open_trades.iter().filter(|t| of_pair(t.pair)).collect(),
        buy_and_hold: buy_and_hold(&pair.prices, scope.period),
    }
    .statistics(scope, settings)
}

/// What the statistics of a bot or a pair are computed from.
struct Subject<'a> {
    series: Series<'a>,
    totals: &'a [TotalsPoint],
    /// Every closed trade (those that closed within the window count).
    trades: Vec<&'a ClosedTrade>,
    open: Vec<&'a OpenTrade>,
    /// Unrounded.
    buy_and_hold: Option<Decimal>,
}

impl Subject<'_> {
    fn statistics(&self, scope: Scope, settings: &Settings) -> Statistics {
        let period = scope.period;
        let drawdown = drawdowns(&self.series, period);
        let totals = totals_over(self.totals, scope.window);
        let intervals = self
            .trades
            .iter()
            .map(|t| (t.opened_at, Some(t.closed_at)))
            .chain(self.open.iter().map(|t| (t.opened_at, None)));
        let closed = self
            .trades
            .iter()
            .copied()
            .filter(|t| scope.window.contains(t.closed_at));
        Statistics {
            period,
            returns: self.returns(period, settings, &drawdown),
            drawdown,
            trades: trade_statistics(closed),
            exposure_pct: exposure::exposure_pct(intervals, period),
            fees: totals.fees,
            funding: totals.funding,
            buy_and_hold_pct: self.buy_and_hold.map(|pct| pct.round_dp(PCT_DP)),
        }
    }

    fn returns(
        &self,
        period: Period,
        settings: &Settings,
        drawdown: &DrawdownStatistics,
    ) -> ReturnStatistics {
        let (start, end) = (self.series.start, self.series.end());
        let daily = returns::simple_returns(&returns::daily_values(&self.series, period));
        let rf = settings.daily_risk_free();
        let ratio = |f: fn(&[f64], f64) -> Option<f64>| daily.as_deref().and_then(|r| f(r, rf));
        // Given in percent: a growth so large that its percentage overflows is none too.
        let cagr = returns::cagr(start, end, period).filter(|g| (g * 100.0).is_finite());
        let max_drawdown = drawdown.max_pct.to_f64().filter(|dd| *dd > 0.0);
        ReturnStatistics {
            start_equity: Money(start),
            end_equity: Money(end),
            pnl: Money(end - start),
            total_return_pct: (start > Decimal::ZERO)
                .then(|| percent_of(end - start, start))
                .flatten()
                .map(|pct| pct.round_dp(PCT_DP)),
            cagr_pct: cagr.map(|g| g * 100.0),
            volatility_pct: daily
                .as_deref()
                .and_then(returns::volatility)
                .and_then(|v| returns::finite(v * 100.0)),
            sharpe: ratio(returns::sharpe),
            sortino: ratio(returns::sortino),
            calmar: cagr
                .zip(max_drawdown)
                .and_then(|(g, dd)| returns::finite(g / (dd / 100.0))),
            days: daily.as_ref().map_or(0, |r| r.len() as u64),
        }
    }
}

/// `(p_end − p_start) / p_start` in percent, unrounded: `p_start` the last price at or before the
/// period's start (else the first after it), `p_end` the last at or before its end.
fn buy_and_hold(prices: &[PricePoint], period: Period) -> Option<Decimal> {
    let through_start = prices.partition_point(|p| p.ts <= period.start);
    let through_end = prices.partition_point(|p| p.ts <= period.end);
    let first = match through_start {
        0 => prices.first().filter(|p| p.ts <= period.end)?,
        n => &prices[n - 1],
    };
    let last = prices[..through_end].last()?;
    (first.price.0 > Decimal::ZERO)
        .then(|| percent_of(last.price.0 - first.price.0, first.price.0))
        .flatten()
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
