//! The statistics a sweep's table shows and ranks points by: each one's name (for `--sort` and
//! the table's files), how it is read from a bot's [`Statistics`], how it prints, and which way
//! is better.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::statistics::Statistics;
use rust_decimal::Decimal;

/// A statistic of the sweep table (docs/STATISTICS.md defines each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    TotalReturn,
    Cagr,
    Sharpe,
    Sortino,
    Calmar,
    MaxDrawdown,
    Volatility,
    Trades,
    WinRate,
    ProfitFactor,
    Expectancy,
    Exposure,
    Pnl,
}

/// Every metric, in the order of the table's columns.
pub const METRICS: [Metric; 13] = [
    Metric::TotalReturn,
    Metric::Cagr,
    Metric::Sharpe,
    Metric::Sortino,
    Metric::Calmar,
    Metric::MaxDrawdown,
    Metric::Volatility,
    Metric::Trades,
    Metric::WinRate,
    Metric::ProfitFactor,
    Metric::Expectancy,
    Metric::Exposure,
    Metric::Pnl,
];

impl Metric {
    /// Its name on the command line and in the files' headers.
    pub fn name(self) -> &'static str {
        match self {
            Metric::TotalReturn => "total_return",
            Metric::Cagr => "cagr",
            Metric::Sharpe => "sharpe",
            Metric::Sortino => "sortino",
            Metric::Calmar => "calmar",
            Metric::MaxDrawdown => "max_drawdown",
            Metric::Volatility => "volatility",
            Metric::Trades => "trades",
            Metric::WinRate => "win_rate",
            Metric::ProfitFactor => "profit_factor",
            Metric::Expectancy => "expectancy",
            Metric::Exposure => "exposure",
            Metric::Pnl => "pnl",
        }
    }

    /// Its column title in the printed table.
    pub fn title(self) -> &'static str {
        match self {
            Metric::TotalReturn => "return",
            Metric::Cagr => "CAGR",
            Metric::Sharpe => "Sharpe",
            Metric::Sortino => "Sortino",
            Metric::Calmar => "Calmar",
            Metric::MaxDrawdown => "max DD",
            Metric::Volatility => "vol",
            Metric::Trades => "trades",
            Metric::WinRate => "win rate",
            Metric::ProfitFactor => "PF",
            Metric::Expectancy => "expect.",
            Metric::Exposure => "exposure",
            Metric::Pnl => "p&l",
        }
    }

    /// Whether a larger value ranks first. Drawdown, volatility and exposure (risk taken, time
    /// in the market) rank smallest first; every other statistic largest first.
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Metric::MaxDrawdown | Metric::Volatility | Metric::Exposure
        )
    }

    /// Its value in `stats`.
    pub fn read(self, stats: &Statistics) -> Reading {
        let returns = &stats.returns;
        let trades = &stats.trades;
        match self {
            Metric::TotalReturn => Reading::Exact(returns.total_return_pct),
            Metric::Cagr => Reading::Ratio(returns.cagr_pct),
            Metric::Sharpe => Reading::Ratio(returns.sharpe),
            Metric::Sortino => Reading::Ratio(returns.sortino),
            Metric::Calmar => Reading::Ratio(returns.calmar),
            Metric::MaxDrawdown => Reading::Exact(Some(stats.drawdown.max_pct)),
            Metric::Volatility => Reading::Ratio(returns.volatility_pct),
            Metric::Trades => Reading::Count(trades.trades),
            Metric::WinRate => Reading::Exact(trades.win_rate_pct),
            Metric::ProfitFactor => Reading::Exact(trades.profit_factor),
            Metric::Expectancy => Reading::Exact(trades.expectancy.map(|m| m.0)),
            Metric::Exposure => Reading::Exact(stats.exposure_pct),
            Metric::Pnl => Reading::Exact(Some(returns.pnl.0)),
        }
    }

    /// Whether it is a percentage (printed with `%`).
    fn is_percent(self) -> bool {
        matches!(
            self,
            Metric::TotalReturn
                | Metric::Cagr
                | Metric::MaxDrawdown
                | Metric::Volatility
                | Metric::WinRate
                | Metric::Exposure
        )
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        METRICS
            .into_iter()
            .find(|metric| metric.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = METRICS.iter().map(|m| m.name()).collect();
                format!("{text:?} is not a statistic; one of {}", names.join(", "))
            })
    }
}

/// A statistic's value as the report has it: an exact decimal, a ratio computed in `f64`, or a
/// count; `None` where it does not exist (docs/STATISTICS.md says when).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    Exact(Option<Decimal>),
    Ratio(Option<f64>),
    Count(u64),
}

impl Reading {
    fn is_none(&self) -> bool {
        matches!(self, Reading::Exact(None) | Reading::Ratio(None))
    }

    /// For CSV: every digit (a decimal's exact text, a float's shortest text that reads back
    /// as the same bits), empty where there is no value.
    pub fn exact_text(&self) -> String {
        match self {
            Reading::Exact(value) => value.map_or_else(String::new, |v| v.to_string()),
            Reading::Ratio(value) => value.map_or_else(String::new, |v| v.to_string()),
            Reading::Count(n) => n.to_string(),
        }
    }

    /// For JSON, as the report writes the same figure: decimals as strings, ratios and counts
    /// as numbers, `null` where there is no value.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Reading::Exact(value) => {
                value.map_or(serde_json::Value::Null, |v| v.to_string().into())
            }
            Reading::Ratio(value) => value
                .and_then(serde_json::Number::from_f64)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Reading::Count(n) => (*n).into(),
        }
    }

    /// For reading in a terminal: 2 places, `%` on percentages, `-` where there is no value.
    pub fn text(&self, metric: Metric) -> String {
        let unit = if metric.is_percent() { "%" } else { "" };
        match self {
            Reading::Exact(Some(v)) => format!("{:.2}{unit}", v.round_dp(2)),
            Reading::Ratio(Some(v)) => format!("{v:.2}{unit}"),
            Reading::Count(n) => n.to_string(),
            Reading::Exact(None) | Reading::Ratio(None) => "-".to_string(),
        }
    }

    /// The order `metric` ranks two values in: the better first, a missing value after every
    /// value.
    pub fn rank(&self, other: &Reading, metric: Metric) -> Ordering {
        match (self.is_none(), other.is_none()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => {}
        }
        let ascending = match (self, other) {
            (Reading::Exact(Some(a)), Reading::Exact(Some(b))) => a.cmp(b),
            (Reading::Ratio(Some(a)), Reading::Ratio(Some(b))) => a.total_cmp(b),
            (Reading::Count(a), Reading::Count(b)) => a.cmp(b),
            // One metric always reads the same kind of value.
            _ => Ordering::Equal,
        };
        if metric.higher_is_better() {
            ascending.reverse()
        } else {
            ascending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_unknown_ones_list_the_known() {
        for metric in METRICS {
            assert_eq!(metric.name().parse::<Metric>(), Ok(metric));
        }
        let error = "sharp".parse::<Metric>().unwrap_err();
        assert!(error.contains("\"sharp\" is not a statistic"), "{error}");
        assert!(error.contains("sharpe, sortino"), "{error}");
    }

    #[test]
    fn the_better_value_ranks_first_and_a_missing_one_last() {
        let ratio = |v: f64| Reading::Ratio(Some(v));
        let exact = |v: i64| Reading::Exact(Some(Decimal::from(v)));
        assert_eq!(ratio(2.0).rank(&ratio(1.0), Metric::Sharpe), Ordering::Less);
        assert_eq!(
            ratio(-1.0).rank(&Reading::Ratio(None), Metric::Sharpe),
            Ordering::Less
        );
        // Drawdown: the smaller ranks first, and a missing value still comes last.
        assert_eq!(
            exact(5).rank(&exact(3), Metric::MaxDrawdown),
            Ordering::Greater
        );
        assert_eq!(
            Reading::Exact(None).rank(&exact(90), Metric::MaxDrawdown),
            Ordering::Greater
        );
        assert_eq!(
            Reading::Count(3).rank(&Reading::Count(3), Metric::Trades),
            Ordering::Equal
        );
    }

    #[test]
    fn readings_print_exactly_in_files_and_rounded_for_reading() {
        let pct = Reading::Exact(Some(Decimal::new(-45820, 4)));
        assert_eq!(pct.exact_text(), "-4.5820");
        assert_eq!(pct.json(), serde_json::json!("-4.5820"));
        assert_eq!(pct.text(Metric::TotalReturn), "-4.58%");
        let ratio = Reading::Ratio(Some(1.0 / 3.0));
        assert_eq!(ratio.exact_text().parse::<f64>(), Ok(1.0 / 3.0));
        assert_eq!(ratio.text(Metric::Sharpe), "0.33");
        assert_eq!(Reading::Ratio(None).exact_text(), "");
        assert_eq!(Reading::Ratio(None).json(), serde_json::Value::Null);
        assert_eq!(Reading::Ratio(None).text(Metric::Sharpe), "-");
    }
}
