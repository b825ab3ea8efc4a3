//! A sweep's results: one row per point with its values, its configuration and each bot's
//! statistics (over the whole run, or in and out of sample), ranked by one statistic of one
//! bot, printed as a table and written as CSV and JSON.
//!
//! Ranking: the better value first (largest, or smallest for drawdown, volatility and
//! exposure: [`Metric::higher_is_better`]), points without a value last, ties by point index.
//! With a split the rank is the in-sample value's.

use std::fmt::Write as _;

use crate::report::RunHistory;
use crate::statistics::{compute, Settings, Window};
use charon_events::BotId;
use serde_json::{json, Map, Value};

use super::grid::Point;
use super::metric::{Metric, Reading, METRICS};

/// The statistics a row's bot has in one window, in [`METRICS`] order.
pub type Readings = Vec<Reading>;

/// One point's results.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub point: Point,
    /// The point's configuration, relative to the sweep's output directory.
    pub config: String,
    /// Per bot of the configuration (in its order), per window.
    pub bots: Vec<Vec<Readings>>,
}

/// Each bot's readings over each of `windows`, from one point's run.
pub fn readings(
    history: &RunHistory,
    windows: &[Window],
    settings: &Settings,
) -> Vec<Vec<Readings>> {
    let per_window: Vec<_> = windows
        .iter()
        .map(|window| compute(history, *window, settings))
        .collect();
    (0..history.bots.len())
        .map(|bot| {
            per_window
                .iter()
                .map(|stats| {
                    let statistics = &stats.bots[bot].statistics;
                    METRICS.iter().map(|m| m.read(statistics)).collect()
                })
                .collect()
        })
        .collect()
}

/// What the rows are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranking {
    pub metric: Metric,
    /// Index of the bot in the configuration.
    pub bot: usize,
}

/// The whole table.
#[derive(Debug, Clone)]
pub struct Results {
    /// The swept keys, in axis order.
    pub keys: Vec<String>,
    /// The configuration's bots, in order.
    pub bots: Vec<BotId>,
    /// The windows' names: `["all"]`, or `["in", "out"]` with a split.
    pub windows: Vec<&'static str>,
    pub rows: Vec<Row>,
}

impl Results {
    /// Orders the rows by `ranking` in the first window, ties by point index.
    pub fn rank(&mut self, ranking: Ranking) {
        let column = metric_index(ranking.metric);
        self.rows.sort_by(|a, b| {
            let (x, y) = (
                &a.bots[ranking.bot][0][column],
                &b.bots[ranking.bot][0][column],
            );
            x.rank(y, ranking.metric)
                .then(a.point.index.cmp(&b.point.index))
        });
    }

    /// CSV with a header: `point`, each key, `config`, then `BOT.STAT` (or `BOT.STAT.in` and
    /// `BOT.STAT.out`) for every bot and statistic. Values keep every digit.
    pub fn csv(&self) -> String {
        let mut header: Vec<String> = vec!["point".into()];
        header.extend(self.keys.iter().cloned());
        header.push("config".into());
        for bot in &self.bots {
            for metric in METRICS {
                for window in &self.windows {
                    header.push(self.column_name(bot, metric, window));
                }
            }
        }
        let mut out = csv_line(&header);
        for row in &self.rows {
            let mut cells = vec![row.point.index.to_string()];
            cells.extend(row.point.values.iter().map(|(_, value)| value.to_string()));
            cells.push(row.config.clone());
            for bot in &row.bots {
                for column in 0..METRICS.len() {
                    cells.extend(bot.iter().map(|window| window[column].exact_text()));
                }
            }
            out.push_str(&csv_line(&cells));
        }
        out
    }

    fn column_name(&self, bot: &BotId, metric: Metric, window: &str) -> String {
        if self.windows.len() == 1 {
            format!("{bot}.{metric}")
        } else {
            format!("{bot}.{metric}.{window}")
        }
    }

    /// The rows as JSON objects: `point`, `values` (key → value as text), `config`, and `bots`
    /// (each with `bot` and, per window, statistic → value as the report writes it).
    pub fn json_rows(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|row| {
                let values: Map<String, Value> = row
                    .point
                    .values
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_string().into()))
                    .collect();
                let bots: Vec<Value> = self
                    .bots
                    .iter()
                    .zip(&row.bots)
                    .map(|(bot, windows)| {
                        let mut object = Map::new();
                        object.insert("bot".into(), bot.to_string().into());
                        for (name, readings) in self.windows.iter().zip(windows) {
                            let stats: Map<String, Value> = METRICS
                                .iter()
                                .zip(readings)
                                .map(|(metric, reading)| (metric.name().into(), reading.json()))
                                .collect();
                            object.insert((*name).into(), stats.into());
                        }
                        object.into()
                    })
                    .collect();
                json!({
                    "point": row.point.index,
                    "values": values,
                    "config": row.config,
                    "bots": bots,
                })
            })
            .collect()
    }

    /// The first `top` rows for a terminal: point, values, then `ranking`'s bot's statistics:
    /// all of them over the whole run, or with a split the ranked one and the main ones in and
    /// out of sample side by side.
    pub fn render_text(&self, ranking: Ranking, top: usize) -> String {
        let shown: Vec<Metric> = if self.windows.len() == 1 {
            METRICS.to_vec()
        } else {
            let mut shown = vec![ranking.metric];
            for metric in [
                Metric::TotalReturn,
                Metric::Sharpe,
                Metric::MaxDrawdown,
                Metric::Trades,
            ] {
                if !shown.contains(&metric) {
                    shown.push(metric);
                }
            }
            shown
        };
        let mut header: Vec<String> = vec!["point".into()];
        header.extend(self.keys.iter().cloned());
        for metric in &shown {
            for window in &self.windows {
                header.push(if self.windows.len() == 1 {
                    metric.title().to_string()
                } else {
                    format!("{} {window}", metric.title())
                });
            }
        }
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .take(top)
            .map(|row| {
                let mut cells = vec![format!("{:04}", row.point.index)];
                cells.extend(row.point.values.iter().map(|(_, value)| value.to_string()));
                for metric in &shown {
                    let column = metric_index(*metric);
                    for window in &row.bots[ranking.bot] {
                        cells.push(window[column].text(*metric));
                    }
                }
                cells
            })
            .collect();
        aligned(&header, &rows, 1 + self.keys.len())
    }
}

fn metric_index(metric: Metric) -> usize {
    METRICS
        .iter()
        .position(|m| *m == metric)
        .expect("every metric is in METRICS")
}

/// Lines of cells, each column as wide as its widest cell: the first `left` columns aligned
/// left, the others right.
fn aligned(header: &[String], rows: &[Vec<String>], left: usize) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        out.push_str("  ");
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(width - cell.chars().count());
            let gap = if i == 0 { "" } else { "  " };
            if i < left {
                let _ = write!(out, "{gap}{cell}{pad}");
            } else {
                let _ = write!(out, "{gap}{pad}{cell}");
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

/// One CSV record (RFC 4180: a cell with a comma, a quote or a line break is quoted).
fn csv_line(cells: &[String]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|cell| {
            if cell.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                cell.clone()
            }
        })
        .collect();
    quoted.join(",") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::SweepValue;
    use rust_decimal::Decimal;

    fn row(index: usize, sharpe: Option<f64>, drawdown: i64) -> Row {
        let mut readings: Readings = METRICS.iter().map(|_| Reading::Count(0)).collect();
        readings[metric_index(Metric::Sharpe)] = Reading::Ratio(sharpe);
        readings[metric_index(Metric::MaxDrawdown)] = Reading::Exact(Some(Decimal::from(drawdown)));
        Row {
            point: Point {
                index,
                values: vec![("k".into(), SweepValue::Number(Decimal::from(index)))],
            },
            config: format!("points/{index:04}/run.toml"),
            bots: vec![vec![readings]],
        }
    }

    fn results(rows: Vec<Row>) -> Results {
        Results {
            keys: vec!["k".into()],
            bots: vec![BotId::new("b").unwrap()],
            windows: vec!["all"],
            rows,
        }
    }

    fn order(results: &Results) -> Vec<usize> {
        results.rows.iter().map(|r| r.point.index).collect()
    }

    #[test]
    fn rows_rank_best_first_missing_last_and_ties_by_index() {
        let mut table = results(vec![
            row(0, Some(1.0), 5),
            row(1, None, 1),
            row(2, Some(2.0), 5),
            row(3, Some(1.0), 3),
        ]);
        let sharpe = Ranking {
            metric: Metric::Sharpe,
            bot: 0,
        };
        table.rank(sharpe);
        assert_eq!(order(&table), [2, 0, 3, 1]);
        table.rank(Ranking {
            metric: Metric::MaxDrawdown,
            bot: 0,
        });
        assert_eq!(order(&table), [1, 3, 0, 2]);
    }

    #[test]
    fn the_csv_has_a_column_per_key_bot_and_statistic() {
        let table = results(vec![row(7, Some(0.5), 2)]);
        let csv = table.csv();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(header[..4], ["point", "k", "config", "b.total_return"]);
        assert_eq!(header.len(), 3 + METRICS.len());
        let cells: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(cells[..3], ["7", "7", "points/0007/run.toml"]);
        assert_eq!(cells[3 + metric_index(Metric::Sharpe)], "0.5");
        assert_eq!(
            csv_line(&["a,b".into(), "c\"d".into()]),
            "\"a,b\",\"c\"\"d\"\n"
        );
    }
}
