//! `--split IN:OUT`: a run's span cut in time into an in-sample and an out-of-sample window,
//! both measured on one continuous run, so that over-fitting shows.
//!
//! The span is `[start, end]`, the times of the first and the last input the run reads (the
//! `--from`/`--to` span of the data log, or all of it). The cut is at
//! `start + ⌊(end − start) · IN / (IN + OUT)⌋` ns. The **in-sample** window is
//! `[start, cut − 1 ns]`, the **out-of-sample** window `[cut, end]`, both ends inclusive as
//! statistics windows are: an event stamped exactly at the cut (a bar closing at it, a trade
//! closing at it) is out of sample. The two windows cover the run without overlap, so their
//! trades and P&L add up to the whole run's (the statistics' property tests hold `compute` to
//! that; `tests/sweep_cli.rs` holds this wiring to it).
//!
//! **One run, not two.** The run goes on through the cut: indicators and open positions carry
//! over, and a trade open at the cut counts where it closes. That is not leakage for fixed
//! parameters: a decision at time t reads only bars up to t (docs/BACKTESTING.md), so nothing
//! after the cut shapes what happened before it, and the out-of-sample window is exactly what
//! a bot deployed at the cut, warmed on the past as a live one would be, would have done.
//! Starting a second run at the cut would instead make its first bars trade on cold
//! indicators. What a split guards against is choosing parameters by the out-of-sample data:
//! with `--sweep`, rank by the in-sample figure and read the out-of-sample one beside it.

use std::str::FromStr;

use crate::statistics::{table, RunStatistics, Window};
use charon_events::Timestamp;
use serde::Serialize;

/// `IN:OUT`, two positive whole numbers (`70:30`, `3:1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Split {
    #[serde(rename = "in")]
    pub in_sample: u32,
    #[serde(rename = "out")]
    pub out_of_sample: u32,
}

impl FromStr for Split {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let part = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n > 0);
        let parsed = text
            .split_once(':')
            .and_then(|(a, b)| Some((part(a)?, part(b)?)));
        let (in_sample, out_of_sample) = parsed.ok_or_else(|| {
            format!("{text:?}: a split is IN:OUT, two whole numbers above 0 (e.g. 70:30)")
        })?;
        Ok(Split {
            in_sample,
            out_of_sample,
        })
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.in_sample, self.out_of_sample)
    }
}

/// Where a span is cut and the two windows on either side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cut {
    /// The first instant of the out-of-sample window.
    pub at: Timestamp,
    pub in_sample: Window,
    pub out_of_sample: Window,
}

impl Split {
    /// Cuts `[start, end]`; a span of no length cannot be cut.
    pub fn cut(&self, start: Timestamp, end: Timestamp) -> Result<Cut, String> {
        if end <= start {
            return Err(format!(
                "--split {self}: the data span {start} .. {end} has no length to cut"
            ));
        }
        let span = i128::from(end.nanos()) - i128::from(start.nanos());
        let total = i128::from(self.in_sample) + i128::from(self.out_of_sample);
        let offset = span * i128::from(self.in_sample) / total;
        // 0 ≤ offset < span, so the cut lies in (start, end]: both fit an i64.
        let at = Timestamp::from_nanos(start.nanos() + offset as i64);
        let at = if at == start {
            Timestamp::from_nanos(start.nanos() + 1)
        } else {
            at
        };
        let window = |from, to| Window::new(from, to).expect("from is before to");
        Ok(Cut {
            at,
            // Open at the outer ends, so the two windows cover the run whatever its span.
            in_sample: window(None, Some(Timestamp::from_nanos(at.nanos() - 1))),
            out_of_sample: window(Some(at), None),
        })
    }
}

/// The statistics of a run in and out of sample, as `--report-json` writes them.
#[derive(Debug, Clone, Serialize)]
pub struct SplitStatistics {
    pub split: Split,
    pub cut: Timestamp,
    pub in_sample: RunStatistics,
    pub out_of_sample: RunStatistics,
}

impl SplitStatistics {
    /// The text for a terminal: the cut, then per bot one table with the bot and each pair in
    /// and out of sample side by side.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "split {} at {}: in sample {} .. {}, out of sample {} .. {}\n",
            self.split,
            self.cut,
            self.in_sample.period.start,
            self.in_sample.period.end,
            self.out_of_sample.period.start,
            self.out_of_sample.period.end,
        );
        for (inside, outside) in self.in_sample.bots.iter().zip(&self.out_of_sample.bots) {
            out.push_str(&format!("\nbot {} in and out of sample\n", inside.bot));
            let titles: Vec<(String, String)> = std::iter::once(inside.bot.to_string())
                .chain(inside.pairs.iter().map(|p| p.pair.to_string()))
                .map(|name| (format!("{name} in"), format!("{name} out")))
                .collect();
            let stats = std::iter::once((&inside.statistics, &outside.statistics)).chain(
                inside
                    .pairs
                    .iter()
                    .zip(&outside.pairs)
                    .map(|(a, b)| (&a.statistics, &b.statistics)),
            );
            let mut columns = Vec::new();
            for ((title_in, title_out), (a, b)) in titles.iter().zip(stats) {
                columns.push((title_in.as_str(), a));
                columns.push((title_out.as_str(), b));
            }
            table::render(&mut out, &columns);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(nanos: i64) -> Timestamp {
        Timestamp::from_nanos(nanos)
    }

    #[test]
    fn splits_parse_and_bad_ones_say_the_form() {
        assert_eq!(
            "70:30".parse::<Split>(),
            Ok(Split {
                in_sample: 70,
                out_of_sample: 30
            })
        );
        for bad in ["70", "70:0", "0:30", "a:b", "70:30:1", "-1:2", "0.7:0.3"] {
            let error = bad.parse::<Split>().unwrap_err();
            assert!(error.contains("IN:OUT"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_cut_lies_at_in_over_in_plus_out_of_the_span() {
        let cut = "70:30"
            .parse::<Split>()
            .unwrap()
            .cut(t(1_000), t(2_000))
            .unwrap();
        assert_eq!(cut.at, t(1_700));
        assert_eq!(cut.in_sample.to(), Some(t(1_699)));
        assert_eq!(cut.out_of_sample.from(), Some(t(1_700)));
        assert_eq!((cut.in_sample.from(), cut.out_of_sample.to()), (None, None));
        // Rounded down to the nanosecond: 1000 · 1/3 = 333.3.
        let third = "1:2".parse::<Split>().unwrap().cut(t(0), t(1_000)).unwrap();
        assert_eq!(third.at, t(333));
        // Spans of years in nanoseconds do not overflow.
        let long = "99:1".parse::<Split>().unwrap();
        let cut = long.cut(t(0), t(i64::MAX)).unwrap();
        assert_eq!(cut.at, t((i128::from(i64::MAX) * 99 / 100) as i64));
    }

    #[test]
    fn an_event_at_the_cut_is_out_of_sample_and_every_instant_is_in_one_window() {
        let cut = "1:1".parse::<Split>().unwrap().cut(t(0), t(100)).unwrap();
        // A trade closing exactly at the cut counts where `Window::contains` puts its close.
        assert!(!cut.in_sample.contains(cut.at));
        assert!(cut.out_of_sample.contains(cut.at));
        for ns in [-5, 0, 49, 50, 51, 100, 200] {
            let (a, b) = (
                cut.in_sample.contains(t(ns)),
                cut.out_of_sample.contains(t(ns)),
            );
            assert!(a != b, "{ns}: in {a}, out {b}");
        }
    }

    #[test]
    fn a_span_too_short_to_cut() {
        let split = "70:30".parse::<Split>().unwrap();
        assert!(split.cut(t(5), t(5)).unwrap_err().contains("no length"));
        // One nanosecond: the in-sample window keeps the start.
        let cut = split.cut(t(5), t(6)).unwrap();
        assert_eq!(cut.at, t(6));
        assert!(cut.in_sample.contains(t(5)));
    }
}
