//! Building blocks shared by the windowed indicators: a compensated running sum, a fixed-length
//! window with its sum, and the windowed maximum or minimum over a monotonic deque.

use std::collections::VecDeque;

/// A running sum with Neumaier compensation. Adding and removing values for millions of updates
/// keeps it at the rounding of the exact sum of what is in it, where a plain `f64` accumulator
/// takes a rounding error per update and keeps it after the value that caused it has left.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    pub(crate) fn add(&mut self, x: f64) {
        let sum = self.sum + x;
        // The rounding error of `self.sum + x`, exactly (Fast2Sum on the larger operand first).
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - sum) + x;
        } else {
            self.compensation += (x - sum) + self.sum;
        }
        self.sum = sum;
    }

    pub(crate) fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// The last `period` values and their compensated sum.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct RollingWindow {
    period: usize,
    // Not preallocated: a huge period must not allocate (or abort) before inputs arrive.
    values: VecDeque<f64>,
    sum: CompensatedSum,
}

impl RollingWindow {
    /// `period` must be at least 1 (checked by the indicators' constructors).
    pub(crate) fn new(period: usize) -> Self {
        Self {
            period,
            values: VecDeque::new(),
            sum: CompensatedSum::default(),
        }
    }

    /// Appends `x`; returns the value that left the window to make room, if it was full.
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let evicted = if self.values.len() == self.period {
            self.values.pop_front()
        } else {
            None
        };
        if let Some(old) = evicted {
            self.sum.add(-old);
        }
        self.values.push_back(x);
        self.sum.add(x);
        evicted
    }

    pub(crate) fn period(&self) -> usize {
        self.period
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.values.len() == self.period
    }

    pub(crate) fn sum(&self) -> f64 {
        self.sum.value()
    }

    pub(crate) fn clear(&mut self) {
        self.values.clear();
        self.sum = CompensatedSum::default();
    }
}

/// Which extreme a [`RollingExtreme`] keeps.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extreme {
    Max,
    Min,
}

/// The maximum or minimum of the last `period` values, amortized O(1) per push.
///
/// The deque holds `(index, value)` for the values that can still become the extreme: each is
/// strictly better than every later one, so the front is the extreme of the window. A new value
/// removes the ones it beats or equals from the back, and the front leaves when it is `period`
/// pushes old. Every value enters and leaves once.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct RollingExtreme {
    period: usize,
    keep: Extreme,
    pushed: u64,
    candidates: VecDeque<(u64, f64)>,
}

impl RollingExtreme {
    /// `period` must be at least 1 (checked by the indicators' constructors).
    pub(crate) fn new(period: usize, keep: Extreme) -> Self {
        Self {
            period,
            keep,
            pushed: 0,
            candidates: VecDeque::new(),
        }
    }

    /// Appends `x` and returns the extreme of the (possibly not yet full) window.
    pub(crate) fn push(&mut self, x: f64) -> f64 {
        let index = self.pushed;
        self.pushed += 1;
        while let Some(&(_, back)) = self.candidates.back() {
            let beaten = match self.keep {
                Extreme::Max => x >= back,
                Extreme::Min => x <= back,
            };
            if !beaten {
                break;
            }
            self.candidates.pop_back();
        }
        self.candidates.push_back((index, x));
        while let Some(&(oldest, _)) = self.candidates.front() {
            // `index - oldest` cannot underflow: indices grow; comparing this way cannot overflow.
            if index - oldest < self.period as u64 {
                break;
            }
            self.candidates.pop_front();
        }
        // The value just pushed is never evicted (period >= 1), so the front exists.
        self.candidates.front().map_or(x, |&(_, extreme)| extreme)
    }

    /// Whether `period` values have been pushed since creation or the last `clear`.
    pub(crate) fn is_full(&self) -> bool {
        self.pushed >= self.period as u64
    }

    pub(crate) fn clear(&mut self) {
        self.pushed = 0;
        self.candidates.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn compensated_sum_keeps_what_a_plain_sum_loses() {
        // 1e17 + 1 rounds back to 1e17 (its ulp is 16) in f64; the compensation keeps the 1.
        let mut sum = CompensatedSum::default();
        sum.add(1e17);
        sum.add(1.0);
        sum.add(-1e17);
        assert_eq!(sum.value(), 1.0);
        let plain = 1e17_f64 + 1.0 - 1e17;
        assert_eq!(plain, 0.0);
    }

    #[test]
    fn rolling_window_evicts_the_oldest() {
        let mut window = RollingWindow::new(2);
        assert_eq!(window.push(1.0), None);
        assert_eq!(window.push(2.0), None);
        assert!(window.is_full());
        assert_eq!(window.push(4.0), Some(1.0));
        assert_eq!(window.sum(), 6.0);
        window.clear();
        assert_eq!(window, RollingWindow::new(2));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn rolling_extreme_matches_a_scan_of_the_window(
            // Few distinct values, so ties are common.
            xs in prop::collection::vec(0u8..6, 0..200),
            period in 1usize..20,
        ) {
            let mut max = RollingExtreme::new(period, Extreme::Max);
            let mut min = RollingExtreme::new(period, Extreme::Min);
            for (t, &x) in xs.iter().enumerate() {
                let window = &xs[(t + 1).saturating_sub(period)..=t];
                let expected_max = window.iter().copied().max().map(f64::from);
                let expected_min = window.iter().copied().min().map(f64::from);
                prop_assert_eq!(Some(max.push(f64::from(x))), expected_max);
                prop_assert_eq!(Some(min.push(f64::from(x))), expected_min);
                prop_assert!(max.candidates.len() <= period);
            }
        }
    }
}
