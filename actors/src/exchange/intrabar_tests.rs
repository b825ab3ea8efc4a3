//! The intrabar conventions on hand-computed bars, long and short, for every option; and, as
//! properties, that the defaults are the rule charon always had, that every fill lies within
//! the bar, and that a stop never fills better than its level nor a target worse.

use charon_events::payload::market::Interval;
use charon_events::Timestamp;
use charon_events::{Price, Quantity};
use proptest::prelude::*;

use super::*;
use crate::testkit::{hour_bar as bar, p};

use ExitKind::{StopLoss, TakeProfit};
use PositionSide::{Long, Short};

fn both(stop: &str, target: &str) -> ExitLevels {
    ExitLevels {
        stop: Some(p(stop)),
        stop_moved: false,
        target: Some(p(target)),
    }
}

/// The defaults: gaps at the open, the stop first, targets as prices.
fn exit(side: PositionSide, b: &Bar, stop: &str, target: &str) -> Option<(Price, ExitKind)> {
    Intrabar::default().exit(side, b, both(stop, target))
}

fn with(gap_fill: GapFill, order: IntrabarOrder) -> Intrabar {
    Intrabar {
        gap_fill,
        order,
        ..Intrabar::default()
    }
}

fn freqtrade() -> Intrabar {
    Intrabar {
        gap_fill: GapFill::Level,
        order: IntrabarOrder::StopLossFirst,
        take_profit: TakeProfitAt::Roi,
        trailing: TrailingUpdate::HighFirst,
    }
}

// The defaults (the rule charon always had).

#[test]
fn long_gap_through_stop_fills_at_the_open() {
    let b = bar("94", "96", "90", "92");
    assert_eq!(exit(Long, &b, "95", "110"), Some((p("94"), StopLoss)));
}

#[test]
fn long_gap_through_target_fills_at_the_open() {
    let b = bar("112", "115", "94", "113");
    assert_eq!(exit(Long, &b, "95", "110"), Some((p("112"), TakeProfit)));
}

#[test]
fn long_both_touched_the_stop_wins() {
    let b = bar("100", "111", "94", "105");
    assert_eq!(exit(Long, &b, "95", "110"), Some((p("95"), StopLoss)));
}

#[test]
fn long_only_target_fills_at_the_target() {
    let b = bar("100", "111", "97", "108");
    assert_eq!(exit(Long, &b, "95", "110"), Some((p("110"), TakeProfit)));
}

#[test]
fn long_only_stop_fills_at_the_stop() {
    let b = bar("100", "105", "94", "96");
    assert_eq!(exit(Long, &b, "95", "110"), Some((p("95"), StopLoss)));
}

#[test]
fn long_neither_touched_stays_open() {
    let b = bar("100", "109.99", "95.01", "101");
    assert_eq!(exit(Long, &b, "95", "110"), None);
    assert_eq!(
        Intrabar::default().exit(Long, &b, ExitLevels::default()),
        None
    );
}

#[test]
fn long_touching_a_level_exactly_triggers_it() {
    let b = bar("100", "110", "96", "101");
    assert_eq!(exit(Long, &b, "95", "110"), Some((p("110"), TakeProfit)));
    let b = bar("100", "109", "95", "101");
    assert_eq!(exit(Long, &b, "95", "110"), Some((p("95"), StopLoss)));
}

#[test]
fn short_gap_through_stop_fills_at_the_open() {
    let b = bar("106", "108", "104", "107");
    assert_eq!(exit(Short, &b, "105", "90"), Some((p("106"), StopLoss)));
}

#[test]
fn short_gap_through_target_fills_at_the_open() {
    let b = bar("88", "106", "85", "87");
    assert_eq!(exit(Short, &b, "105", "90"), Some((p("88"), TakeProfit)));
}

#[test]
fn short_both_touched_the_stop_wins() {
    let b = bar("100", "106", "89", "95");
    assert_eq!(exit(Short, &b, "105", "90"), Some((p("105"), StopLoss)));
}

#[test]
fn short_only_target_fills_at_the_target() {
    let b = bar("100", "104", "89", "91");
    assert_eq!(exit(Short, &b, "105", "90"), Some((p("90"), TakeProfit)));
}

#[test]
fn short_only_stop_fills_at_the_stop() {
    let b = bar("100", "106", "95", "104");
    assert_eq!(exit(Short, &b, "105", "90"), Some((p("105"), StopLoss)));
}

#[test]
fn short_neither_touched_stays_open() {
    let b = bar("100", "104.99", "90.01", "99");
    assert_eq!(exit(Short, &b, "105", "90"), None);
}

#[test]
fn a_single_level_works_alone() {
    let b = bar("100", "111", "94", "105");
    let rules = Intrabar::default();
    assert_eq!(
        rules.exit(Long, &b, ExitLevels::target(p("110"))),
        Some((p("110"), TakeProfit))
    );
    assert_eq!(
        rules.exit(Short, &b, ExitLevels::stop(p("110"))),
        Some((p("110"), StopLoss))
    );
}

// `gap_fill = "level"` (Freqtrade).

#[test]
fn level_gap_through_the_stop_with_the_high_back_above_fills_at_the_stop() {
    let level = with(GapFill::Level, IntrabarOrder::StopFirst);
    // Long, stop 95: the bar opens at 94 and trades back up to 96.
    let b = bar("94", "96", "90", "92");
    assert_eq!(
        level.exit(Long, &b, ExitLevels::stop(p("95"))),
        Some((p("95"), StopLoss))
    );
    assert_eq!(
        Intrabar::default().exit(Long, &b, ExitLevels::stop(p("95"))),
        Some((p("94"), StopLoss))
    );
    // A high exactly at the stop still reaches it.
    let b = bar("94", "95", "90", "92");
    assert_eq!(
        level.exit(Long, &b, ExitLevels::stop(p("95"))),
        Some((p("95"), StopLoss))
    );
    // Short, stop 105: opens at 106, trades back down to 104.
    let b = bar("106", "108", "104", "107");
    assert_eq!(
        level.exit(Short, &b, ExitLevels::stop(p("105"))),
        Some((p("105"), StopLoss))
    );
    assert_eq!(
        Intrabar::default().exit(Short, &b, ExitLevels::stop(p("105"))),
        Some((p("106"), StopLoss))
    );
}

#[test]
fn level_a_whole_bar_beyond_the_stop_fills_at_the_open() {
    let level = with(GapFill::Level, IntrabarOrder::StopFirst);
    let b = bar("94", "94.5", "90", "92");
    assert_eq!(
        level.exit(Long, &b, ExitLevels::stop(p("95"))),
        Some((p("94"), StopLoss))
    );
    let b = bar("106", "108", "105.5", "107");
    assert_eq!(
        level.exit(Short, &b, ExitLevels::stop(p("105"))),
        Some((p("106"), StopLoss))
    );
}

#[test]
fn level_targets_fill_at_their_level_or_the_bars_nearest_price() {
    let level = with(GapFill::Level, IntrabarOrder::StopFirst);
    // Long, target 110: opens above it and dips through it: the target itself.
    let b = bar("112", "115", "108", "113");
    assert_eq!(
        level.exit(Long, &b, ExitLevels::target(p("110"))),
        Some((p("110"), TakeProfit))
    );
    // The whole bar above it: its low, the nearest price (Freqtrade's ROI clamp).
    let b = bar("112", "115", "111", "113");
    assert_eq!(
        level.exit(Long, &b, ExitLevels::target(p("110"))),
        Some((p("111"), TakeProfit))
    );
    // Short, target 90: the whole bar below it fills at its high.
    let b = bar("88", "89", "85", "87");
    assert_eq!(
        level.exit(Short, &b, ExitLevels::target(p("90"))),
        Some((p("89"), TakeProfit))
    );
}

#[test]
fn level_ignores_the_open_when_choosing_between_the_levels() {
    // Long: opens above the target, then dips below the stop. At the open the target wins;
    // with `level` the order alone decides: the stop.
    let b = bar("112", "115", "94", "100");
    assert_eq!(exit(Long, &b, "95", "110"), Some((p("112"), TakeProfit)));
    let level = with(GapFill::Level, IntrabarOrder::StopFirst);
    assert_eq!(
        level.exit(Long, &b, both("95", "110")),
        Some((p("95"), StopLoss))
    );
}

// `intrabar_order`.

#[test]
fn both_levels_in_range_under_each_ordering() {
    // Long, stop 95, target 110; the open 100 is nearer the low (94) than the high (111).
    let near_low = bar("100", "111", "94", "105");
    // The open 106 is nearer the high.
    let near_high = bar("106", "111", "94", "105");
    let cases = [
        (IntrabarOrder::StopFirst, &near_low, "95", StopLoss),
        (IntrabarOrder::StopFirst, &near_high, "95", StopLoss),
        (IntrabarOrder::TargetFirst, &near_low, "110", TakeProfit),
        (IntrabarOrder::TargetFirst, &near_high, "110", TakeProfit),
        (IntrabarOrder::NearerOpen, &near_low, "95", StopLoss),
        (IntrabarOrder::NearerOpen, &near_high, "110", TakeProfit),
        (IntrabarOrder::StopLossFirst, &near_low, "95", StopLoss),
        (IntrabarOrder::StopLossFirst, &near_high, "95", StopLoss),
    ];
    for gap_fill in [GapFill::Open, GapFill::Level] {
        for (order, b, price, kind) in cases {
            assert_eq!(
                with(gap_fill, order).exit(Long, b, both("95", "110")),
                Some((p(price), kind)),
                "{gap_fill:?} {order:?} {b:?}"
            );
        }
    }
    // Short, stop 105, target 90: the open 92 is nearer the low (89): the target first.
    let short_near_low = bar("92", "106", "89", "95");
    let short_near_high = bar("103", "106", "89", "95");
    let order = with(GapFill::Open, IntrabarOrder::NearerOpen);
    assert_eq!(
        order.exit(Short, &short_near_low, both("105", "90")),
        Some((p("90"), TakeProfit))
    );
    assert_eq!(
        order.exit(Short, &short_near_high, both("105", "90")),
        Some((p("105"), StopLoss))
    );
    let order = with(GapFill::Open, IntrabarOrder::TargetFirst);
    assert_eq!(
        order.exit(Short, &short_near_high, both("105", "90")),
        Some((p("90"), TakeProfit))
    );
}

#[test]
fn nearer_open_breaks_a_tie_toward_the_low() {
    // The open 100 is 10 from both extremes: the low comes first, as NautilusTrader does.
    let b = bar("100", "110", "90", "100");
    let order = with(GapFill::Open, IntrabarOrder::NearerOpen);
    assert_eq!(
        order.exit(Long, &b, both("95", "105")),
        Some((p("95"), StopLoss))
    );
    assert_eq!(
        order.exit(Short, &b, both("105", "95")),
        Some((p("95"), TakeProfit))
    );
}

#[test]
fn stop_loss_first_lets_the_target_beat_a_stop_that_moved() {
    let b = bar("100", "111", "94", "105");
    let order = with(GapFill::Level, IntrabarOrder::StopLossFirst);
    let moved = ExitLevels {
        stop_moved: true,
        ..both("95", "110")
    };
    assert_eq!(order.exit(Long, &b, moved), Some((p("110"), TakeProfit)));
    assert_eq!(
        order.exit(Long, &b, both("95", "110")),
        Some((p("95"), StopLoss))
    );
    let b = bar("100", "106", "89", "95");
    let moved = ExitLevels {
        stop_moved: true,
        ..both("105", "90")
    };
    assert_eq!(order.exit(Short, &b, moved), Some((p("90"), TakeProfit)));
}

#[test]
fn a_gap_at_the_open_comes_before_any_ordering() {
    // Long: opens below the stop; the high reaches the target. Whatever the order, the open
    // is the first price and it is beyond the stop.
    let b = bar("94", "111", "90", "100");
    for order in [
        IntrabarOrder::StopFirst,
        IntrabarOrder::TargetFirst,
        IntrabarOrder::NearerOpen,
        IntrabarOrder::StopLossFirst,
    ] {
        assert_eq!(
            with(GapFill::Open, order).exit(Long, &b, both("95", "110")),
            Some((p("94"), StopLoss))
        );
    }
}

// `take_profit = "roi"`.

#[test]
fn roi_targets_include_both_fees() {
    let fee = Rate::new(5, 4);
    // Long at 100, 2% after fees of 0.05% a leg: 100·1.0205/0.9995 = 102.10105052…, up.
    assert_eq!(
        roi_target(Long, p("100"), Decimal::TWO, fee),
        Some(p("102.10105053"))
    );
    // Short at 100: 100·0.9795/1.0005 = 97.90104947…, down.
    assert_eq!(
        roi_target(Short, p("100"), Decimal::TWO, fee),
        Some(p("97.90104947"))
    );
    // Without fees the ROI is the price move.
    assert_eq!(
        roi_target(Long, p("100"), Decimal::TWO, Rate::ZERO),
        Some(p("102"))
    );
    // A short's ROI of 100% or more has no positive price.
    assert_eq!(roi_target(Short, p("100"), Decimal::ONE_HUNDRED, fee), None);
}

#[test]
fn roi_is_reached_only_strictly_beyond_its_price() {
    let roi = Intrabar {
        take_profit: TakeProfitAt::Roi,
        ..Intrabar::default()
    };
    let b = bar("100", "102", "99", "101");
    assert_eq!(roi.exit(Long, &b, ExitLevels::target(p("102"))), None);
    assert_eq!(
        Intrabar::default().exit(Long, &b, ExitLevels::target(p("102"))),
        Some((p("102"), TakeProfit))
    );
    let b = bar("100", "102.01", "99", "101");
    assert_eq!(
        roi.exit(Long, &b, ExitLevels::target(p("102"))),
        Some((p("102"), TakeProfit))
    );
    let b = bar("100", "101", "98", "99");
    assert_eq!(roi.exit(Short, &b, ExitLevels::target(p("98"))), None);
    let b = bar("100", "101", "97.99", "99");
    assert_eq!(
        roi.exit(Short, &b, ExitLevels::target(p("98"))),
        Some((p("98"), TakeProfit))
    );
}

#[test]
fn the_freqtrade_conventions_on_one_bar() {
    // Long at 100 with a 5% stop and a 2% ROI: target 102.10105053. The bar gaps down to 94,
    // trades up to 103 and down to 93: the fixed stop beats the ROI and fills at its level.
    let ft = freqtrade();
    let b = bar("94", "103", "93", "100");
    let target = roi_target(Long, p("100"), Decimal::TWO, Rate::new(5, 4));
    let levels = ExitLevels {
        stop: Some(p("95")),
        stop_moved: false,
        target,
    };
    assert_eq!(ft.exit(Long, &b, levels), Some((p("95"), StopLoss)));
    // Had the stop trailed there, the ROI would have come first.
    let moved = ExitLevels {
        stop_moved: true,
        ..levels
    };
    assert_eq!(
        ft.exit(Long, &b, moved),
        Some((target.unwrap(), TakeProfit))
    );
}

/// The rule of charon before the conventions were configurable, kept as the reference the
/// defaults must equal.
fn reference(
    side: PositionSide,
    bar: &Bar,
    stop: Option<Price>,
    target: Option<Price>,
) -> Option<(Price, ExitKind)> {
    let stop_beyond = |price: Price, stop: Price| match side {
        PositionSide::Long => price <= stop,
        PositionSide::Short => price >= stop,
    };
    let target_beyond = |price: Price, target: Price| match side {
        PositionSide::Long => price >= target,
        PositionSide::Short => price <= target,
    };
    let (adverse, favourable) = match side {
        PositionSide::Long => (bar.low, bar.high),
        PositionSide::Short => (bar.high, bar.low),
    };
    if stop.is_some_and(|stop| stop_beyond(bar.open, stop)) {
        return Some((bar.open, ExitKind::StopLoss));
    }
    if target.is_some_and(|target| target_beyond(bar.open, target)) {
        return Some((bar.open, ExitKind::TakeProfit));
    }
    if let Some(stop) = stop.filter(|&stop| stop_beyond(adverse, stop)) {
        return Some((stop, ExitKind::StopLoss));
    }
    if let Some(target) = target.filter(|&target| target_beyond(favourable, target)) {
        return Some((target, ExitKind::TakeProfit));
    }
    None
}

/// A valid bar (low ≤ open, close ≤ high) from four prices in hundredths, and levels around it.
fn bar_and_levels() -> impl Strategy<Value = (Bar, Option<Price>, Option<Price>)> {
    (
        prop::collection::vec(8_000i64..12_000, 4),
        prop::option::of(7_500i64..12_500),
        prop::option::of(7_500i64..12_500),
    )
        .prop_map(|(mut prices, a, b)| {
            prices.sort_unstable();
            let cents = |v: i64| Price(Decimal::new(v, 2));
            // The open and close are the middle two, in either order.
            let candle = Bar {
                interval: Interval(60),
                open_time: Timestamp::from_millis(0),
                open: cents(prices[1 + (prices[0] as usize & 1)]),
                high: cents(prices[3]),
                low: cents(prices[0]),
                close: cents(prices[2 - (prices[0] as usize & 1)]),
                volume: Quantity::new(1, 0),
                trades: None,
                closed: true,
            };
            (candle, a.map(cents), b.map(cents))
        })
}

fn any_conventions() -> impl Strategy<Value = Intrabar> {
    (
        prop_oneof![Just(GapFill::Open), Just(GapFill::Level)],
        prop_oneof![
            Just(IntrabarOrder::StopFirst),
            Just(IntrabarOrder::TargetFirst),
            Just(IntrabarOrder::NearerOpen),
            Just(IntrabarOrder::StopLossFirst),
        ],
        prop_oneof![Just(TakeProfitAt::Price), Just(TakeProfitAt::Roi)],
    )
        .prop_map(|(gap_fill, order, take_profit)| Intrabar {
            gap_fill,
            order,
            take_profit,
            trailing: TrailingUpdate::BarClose,
        })
}

proptest! {
    /// The defaults are exactly the rule charon had: every existing run log stays the same.
    #[test]
    fn the_defaults_are_the_reference_rule(
        (b, stop, target) in bar_and_levels(),
        long in any::<bool>(),
    ) {
        let side = if long { Long } else { Short };
        let levels = ExitLevels { stop, stop_moved: false, target };
        prop_assert_eq!(Intrabar::default().exit(side, &b, levels), reference(side, &b, stop, target));
    }

    /// Under every convention a fill lies within the bar's [low, high] (the open of a gap is
    /// one of its prices), a stop never fills better than its level and a target never worse,
    /// and the exchange, asking about the winning level alone, gets the same price.
    #[test]
    fn fills_lie_within_the_bar_and_never_beat_a_stop(
        (b, stop, target) in bar_and_levels(),
        long in any::<bool>(),
        moved in any::<bool>(),
        rules in any_conventions(),
    ) {
        let side = if long { Long } else { Short };
        let levels = ExitLevels { stop, stop_moved: moved, target };
        if let Some((price, kind)) = rules.exit(side, &b, levels) {
            prop_assert!(b.low <= price && price <= b.high, "{price} outside {b:?}");
            let (level, alone) = match kind {
                StopLoss => (stop.unwrap(), ExitLevels::stop(stop.unwrap())),
                TakeProfit => (target.unwrap(), ExitLevels::target(target.unwrap())),
            };
            let worse_or_equal = match (side, kind) {
                (Long, StopLoss) | (Short, TakeProfit) => price <= level,
                (Short, StopLoss) | (Long, TakeProfit) => price >= level,
            };
            prop_assert!(worse_or_equal, "{kind:?} at {price}, level {level}");
            prop_assert_eq!(rules.exit(side, &b, alone), Some((price, kind)));
            // Within the range, `level` fills exactly at the level.
            if rules.gap_fill == GapFill::Level && b.low <= level && level <= b.high {
                prop_assert_eq!(price, level);
            }
        }
    }
}
