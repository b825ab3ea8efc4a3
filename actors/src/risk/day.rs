//! Trading days for the daily-loss kill switch: a day runs from `day_start_hour_utc` to the
//! same hour the next day (UTC, 24 hours: UTC has no daylight saving), computed from event
//! time in nanoseconds alone.

use charon_events::Timestamp;

const HOUR_NS: i64 = 3_600 * 1_000_000_000;
const DAY_NS: i64 = 24 * HOUR_NS;

/// The trading-day calendar of one bot.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TradingDays {
    /// Where a day starts, after UTC midnight.
    offset_ns: i64,
}

impl TradingDays {
    /// Days starting at `hour` o'clock UTC (0–23, as validated).
    pub(super) fn starting_at(hour: u32) -> Self {
        Self {
            offset_ns: i64::from(hour % 24) * HOUR_NS,
        }
    }

    /// The number of the trading day `ts` falls in (day 0 starts at the epoch's first start).
    pub(super) fn index(self, ts: Timestamp) -> i64 {
        ts.nanos().saturating_sub(self.offset_ns).div_euclid(DAY_NS)
    }

    /// When trading day `index` starts.
    pub(super) fn start(self, index: i64) -> Timestamp {
        Timestamp::from_nanos(index.saturating_mul(DAY_NS).saturating_add(self.offset_ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2023-11-14T00:00:00Z in nanoseconds.
    const MIDNIGHT: i64 = 1_699_920_000 * 1_000_000_000;

    #[test]
    fn a_day_runs_from_its_start_hour_to_the_next_days() {
        for hour in [0u32, 8, 23] {
            let days = TradingDays::starting_at(hour);
            let start = MIDNIGHT + i64::from(hour) * HOUR_NS;
            let day = days.index(Timestamp::from_nanos(start));
            assert_eq!(days.start(day), Timestamp::from_nanos(start), "{hour}");
            // One nanosecond before the start is the previous day; the last nanosecond of the
            // day is the same day; the next start is the next day.
            assert_eq!(days.index(Timestamp::from_nanos(start - 1)), day - 1);
            assert_eq!(days.index(Timestamp::from_nanos(start + DAY_NS - 1)), day);
            assert_eq!(days.index(Timestamp::from_nanos(start + DAY_NS)), day + 1);
            assert_eq!(days.start(day + 1), Timestamp::from_nanos(start + DAY_NS));
        }
        // 07:59 belongs to the day that began at 08:00 the day before.
        let days = TradingDays::starting_at(8);
        let early = Timestamp::from_nanos(MIDNIGHT + 7 * HOUR_NS + 59 * 60 * 1_000_000_000);
        assert_eq!(
            days.start(days.index(early)),
            Timestamp::from_nanos(MIDNIGHT - 16 * HOUR_NS)
        );
        // Before the epoch, days still count down evenly.
        let days = TradingDays::starting_at(0);
        assert_eq!(days.index(Timestamp::from_nanos(-1)), -1);
        assert_eq!(days.start(-1), Timestamp::from_nanos(-DAY_NS));
    }
}
