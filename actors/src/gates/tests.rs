//! The entry gates alone: each gate at its bounds, warm-up, the order of gates, and the
//! percentile window and exact f64 rounding against direct recomputations.

use charon_events::payload::market::{Bar, Interval};
use charon_events::payload::order::PositionSide::{self, Long, Short};
use charon_events::payload::risk::{RiskCheck, RiskRule};
use charon_events::{Quantity, Rate, Timestamp};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::testkit::{d, p};

fn gates(text: &str) -> Gates {
    let config: GatesConfig = toml::from_str(text).expect("a gates table");
    Gates::new(&config)
}

fn bar(high: &str, low: &str, close: &str, volume: &str) -> Bar {
    Bar {
        interval: Interval(60),
        open_time: Timestamp::from_nanos(0),
        open: p(close),
        high: p(high),
        low: p(low),
        close: p(close),
        volume: Quantity(d(volume)),
        trades: None,
        closed: true,
    }
}

/// A bar of one price (`high = low = close`) and volume 1.
fn close_bar(close: Decimal) -> Bar {
    let close = close.to_string();
    bar(&close, &close, &close, "1")
}

fn rate(text: &str) -> Rate {
    Rate(d(text))
}

/// The check's rule, threshold and observed value.
fn numbers(check: &RiskCheck) -> (RiskRule, Decimal, Decimal) {
    (check.rule, check.threshold.0, check.observed.0)
}

fn assert_blocks(
    gates: &Gates,
    side: PositionSide,
    price: &str,
    expected: (RiskRule, &str, &str),
) -> RiskCheck {
    let check = gates
        .check(side, p(price))
        .unwrap_or_else(|| panic!("{side:?} at {price} should be blocked by {:?}", expected.0));
    assert_eq!(
        numbers(&check),
        (expected.0, d(expected.1), d(expected.2)),
        "{}",
        check.message
    );
    check
}

fn assert_passes(gates: &Gates, side: PositionSide, price: &str) {
    assert_eq!(gates.check(side, p(price)), None, "{side:?} at {price}");
}

#[test]
fn no_gate_configured_passes_everything() {
    let mut gates = gates("");
    assert!(gates.is_empty());
    gates.on_funding(rate("0.5"));
    assert_passes(&gates, Long, "100");
    assert_passes(&gates, Short, "0");
    assert!(!self::gates("atr = { max_pct = 5 }").is_empty());
    assert!(!self::gates("funding = { block_against_side = true }").is_empty());
}

// ---- funding ----

#[test]
fn funding_magnitude_blocks_just_above_the_maximum_on_both_sides() {
    let mut gates = gates("funding = { max_abs_rate_pct = 0.05 }");
    // No rate yet (spot, or a perpetual before its first mark price): passes.
    assert_passes(&gates, Long, "100");
    assert_passes(&gates, Short, "100");
    for below_or_at in ["0.0004999", "0.0005", "-0.0005", "0"] {
        gates.on_funding(rate(below_or_at));
        assert_passes(&gates, Long, "100");
        assert_passes(&gates, Short, "100");
    }
    gates.on_funding(rate("0.00050001"));
    for side in [Long, Short] {
        let check = assert_blocks(
            &gates,
            side,
            "100",
            (RiskRule::FundingRateGate, "0.05", "0.050001"),
        );
        assert_eq!(
            check.message,
            "funding rate 0.050001% is above the maximum magnitude 0.05%"
        );
    }
    gates.on_funding(rate("-0.00050001"));
    let check = assert_blocks(
        &gates,
        Short,
        "100",
        (RiskRule::FundingRateGate, "0.05", "0.050001"),
    );
    assert_eq!(
        check.message,
        "funding rate -0.050001% is above the maximum magnitude 0.05%"
    );
    // Only the latest rate counts.
    gates.on_funding(rate("0.0001"));
    assert_passes(&gates, Long, "100");
}

#[test]
fn funding_against_the_side_blocks_the_side_that_pays() {
    let mut gates = gates("funding = { block_against_side = true }");
    assert_passes(&gates, Long, "100");
    assert_passes(&gates, Short, "100");
    // Positive: longs pay shorts.
    gates.on_funding(rate("0.00000001"));
    let check = assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::FundingRateGate, "0", "0.000001"),
    );
    assert_eq!(
        check.message,
        "funding rate 0.000001% is positive: a long entry would pay it"
    );
    assert_passes(&gates, Short, "100");
    // Zero: nobody pays.
    gates.on_funding(rate("0"));
    assert_passes(&gates, Long, "100");
    assert_passes(&gates, Short, "100");
    // Negative: shorts pay longs.
    gates.on_funding(rate("-0.00000001"));
    assert_passes(&gates, Long, "100");
    let check = assert_blocks(
        &gates,
        Short,
        "100",
        (RiskRule::FundingRateGate, "0", "-0.000001"),
    );
    assert_eq!(
        check.message,
        "funding rate -0.000001% is negative: a short entry would pay it"
    );
    // However large, a rate in the side's favour passes (no magnitude bound configured).
    gates.on_funding(rate("-0.03"));
    assert_passes(&gates, Long, "100");
}

#[test]
fn funding_magnitude_is_checked_before_the_side() {
    let mut gates = gates("funding = { max_abs_rate_pct = 0.05, block_against_side = true }");
    gates.on_funding(rate("0.001"));
    // Both halves would block the long: the magnitude is reported.
    assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::FundingRateGate, "0.05", "0.1"),
    );
    // The short receives funding, but the magnitude still blocks it.
    assert_blocks(
        &gates,
        Short,
        "100",
        (RiskRule::FundingRateGate, "0.05", "0.1"),
    );
    gates.on_funding(rate("0.0001"));
    assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::FundingRateGate, "0", "0.01"),
    );
    assert_passes(&gates, Short, "100");
}

#[test]
fn funding_rates_are_ignored_without_a_funding_gate() {
    let mut gates = gates("atr = { period = 1, max_pct = 5 }");
    gates.on_funding(rate("0.5"));
    gates.on_bar(&bar("100.5", "99.5", "100", "1"));
    assert_passes(&gates, Long, "100");
}

// ---- ATR ----

/// Bars with a true range of exactly 1 around 100 (`100.5`, `99.5` and `1` are exact in `f64`):
/// the ATR is exactly 1, so `ATR · 100 / price` is `100 / price`.
fn feed_unit_ranges(gates: &mut Gates, bars: usize) {
    for _ in 0..bars {
        gates.on_bar(&bar("100.5", "99.5", "100", "1"));
    }
}

#[test]
fn atr_minimum_blocks_just_below_it() {
    let mut gates = gates("atr = { period = 3, min_pct = 1 }");
    feed_unit_ranges(&mut gates, 3);
    // 100 / 99.999999 = 1.00000001…: above.
    assert_passes(&gates, Long, "99.999999");
    // 100 / 100 = 1: at the bound, passes.
    assert_passes(&gates, Long, "100");
    assert_passes(&gates, Short, "100");
    // 100 / 100.000001 = 0.99999999…: below.
    let check = assert_blocks(
        &gates,
        Long,
        "100.000001",
        (RiskRule::AtrGate, "1", "0.99999999"),
    );
    assert_eq!(
        check.message,
        "ATR(3) 0.99999999% of price is below the minimum 1%"
    );
    // Far below, on either side.
    assert_blocks(&gates, Short, "1000", (RiskRule::AtrGate, "1", "0.1"));
}

#[test]
fn atr_maximum_blocks_just_above_it() {
    let mut gates = gates("atr = { period = 3, max_pct = 1 }");
    feed_unit_ranges(&mut gates, 3);
    assert_passes(&gates, Long, "100.000001");
    assert_passes(&gates, Long, "100");
    let check = assert_blocks(
        &gates,
        Short,
        "99.999999",
        (RiskRule::AtrGate, "1", "1.00000001"),
    );
    assert_eq!(
        check.message,
        "ATR(3) 1.00000001% of price is above the maximum 1%"
    );
    // The decision is on the recorded (8-place) value: 100 / 99.9999996 = 1.000000004 records
    // as 1, at the bound, and passes.
    assert_passes(&gates, Long, "99.9999996");
}

#[test]
fn atr_band_blocks_outside_and_passes_inside() {
    let mut gates = gates("atr = { period = 2, min_pct = 0.5, max_pct = 2 }");
    feed_unit_ranges(&mut gates, 2);
    assert_passes(&gates, Long, "50"); // 2%
    assert_passes(&gates, Long, "200"); // 0.5%
    assert_blocks(&gates, Long, "40", (RiskRule::AtrGate, "2", "2.5"));
    assert_blocks(&gates, Long, "400", (RiskRule::AtrGate, "0.5", "0.25"));
}

#[test]
fn atr_follows_wilder_smoothing() {
    // ATR(2): TR 1 (first bar: high − low), then TR 3 (high 103 − previous close 100): seed
    // (1 + 3) / 2 = 2; then TR 1: (2 + 1) / 2 = 1.5. At price 100: 2%, then 1.5%.
    let mut gates = gates("atr = { period = 2, max_pct = 1.6 }");
    gates.on_bar(&bar("100.5", "99.5", "100", "1"));
    gates.on_bar(&bar("103", "102", "102.5", "1"));
    assert_blocks(&gates, Long, "100", (RiskRule::AtrGate, "1.6", "2"));
    gates.on_bar(&bar("103", "102", "102.5", "1"));
    assert_passes(&gates, Long, "100");
}

#[test]
fn atr_warming_up_blocks_until_its_period_of_bars() {
    let mut gates = gates("atr = { period = 3, min_pct = 0.5, max_pct = 2 }");
    let check = assert_blocks(&gates, Long, "100", (RiskRule::AtrGate, "3", "0"));
    assert_eq!(
        check.message,
        "ATR(3) is warming up: 0 of 3 bars seen; entries wait for it"
    );
    feed_unit_ranges(&mut gates, 2);
    // A bar still forming does not count.
    let mut forming = bar("100.5", "99.5", "100", "1");
    forming.closed = false;
    gates.on_bar(&forming);
    assert_blocks(&gates, Short, "100", (RiskRule::AtrGate, "3", "2"));
    feed_unit_ranges(&mut gates, 1);
    assert_passes(&gates, Long, "100");
}

#[test]
fn atr_of_a_non_positive_price_blocks() {
    let mut gates = gates("atr = { period = 1, max_pct = 5 }");
    feed_unit_ranges(&mut gates, 1);
    let check = assert_blocks(&gates, Long, "0", (RiskRule::AtrGate, "0", "0"));
    assert!(check.message.contains("not positive"), "{}", check.message);
}

// ---- volume spike ----

/// `period` bars of volume 10, then one of `volume`.
fn volume_gates(config: &str, period: usize, volume: &str) -> Gates {
    let mut gates = gates(config);
    for _ in 0..period {
        gates.on_bar(&bar("100.5", "99.5", "100", "10"));
    }
    gates.on_bar(&bar("100.5", "99.5", "100", volume));
    gates
}

#[test]
fn volume_spike_blocks_just_above_the_maximum_ratio() {
    let config = "volume_spike = { period = 3, max_ratio = 2 }";
    assert_passes(&volume_gates(config, 3, "19.9999999"), Long, "100");
    assert_passes(&volume_gates(config, 3, "20"), Long, "100");
    let gates = volume_gates(config, 3, "20.0000001");
    let check = assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::VolumeSpikeGate, "2", "2.00000001"),
    );
    assert_eq!(
        check.message,
        "volume 2.00000001x its 3-bar average is above the maximum 2x (a spike)"
    );
    assert_blocks(
        &gates,
        Short,
        "100",
        (RiskRule::VolumeSpikeGate, "2", "2.00000001"),
    );
}

#[test]
fn volume_spike_blocks_just_below_the_minimum_ratio() {
    let config = "volume_spike = { period = 3, min_ratio = 0.5 }";
    assert_passes(&volume_gates(config, 3, "5.0000001"), Long, "100");
    assert_passes(&volume_gates(config, 3, "5"), Long, "100");
    let check = assert_blocks(
        &volume_gates(config, 3, "4.9999999"),
        Short,
        "100",
        (RiskRule::VolumeSpikeGate, "0.5", "0.49999999"),
    );
    assert_eq!(
        check.message,
        "volume 0.49999999x its 3-bar average is below the minimum 0.5x (a thin market)"
    );
    // No bound above: any spike passes.
    assert_passes(&volume_gates(config, 3, "1000"), Long, "100");
}

#[test]
fn the_volume_average_excludes_the_current_bar() {
    // 10, 10, 10, then 40: 40 / 10 = 4 against the bars before it. (With the current bar in
    // the average, 40 / 20 = 2 would pass.)
    let mut gates = volume_gates("volume_spike = { period = 3, max_ratio = 3.5 }", 3, "40");
    assert_blocks(&gates, Long, "100", (RiskRule::VolumeSpikeGate, "3.5", "4"));
    // Then 10 against (10 + 10 + 40) / 3 = 20: the window rolled.
    let mut thin = volume_gates("volume_spike = { period = 3, min_ratio = 0.6 }", 3, "40");
    thin.on_bar(&bar("100.5", "99.5", "100", "10"));
    assert_blocks(
        &thin,
        Long,
        "100",
        (RiskRule::VolumeSpikeGate, "0.6", "0.5"),
    );
    gates.on_bar(&bar("100.5", "99.5", "100", "10"));
    assert_passes(&gates, Long, "100");
}

#[test]
fn volume_warming_up_needs_period_plus_one_bars() {
    let mut gates = gates("volume_spike = { period = 3, max_ratio = 2 }");
    for seen in 0..4 {
        let check = assert_blocks(
            &gates,
            Long,
            "100",
            (RiskRule::VolumeSpikeGate, "4", &seen.to_string()),
        );
        assert!(check.message.contains("warming up"), "{}", check.message);
        gates.on_bar(&bar("100.5", "99.5", "100", "10"));
    }
    assert_passes(&gates, Long, "100");
}

#[test]
fn no_volume_over_the_window_blocks_as_a_thin_market() {
    // A bar without volume after normal ones is a ratio of 0: with only a maximum, it passes.
    assert_passes(
        &volume_gates("volume_spike = { period = 2, max_ratio = 3 }", 2, "0"),
        Long,
        "100",
    );
    // An average of 0 blocks whatever the bar's volume and the bounds: the ratio is undefined.
    for (config, current) in [
        ("volume_spike = { period = 2, max_ratio = 3 }", "5"),
        ("volume_spike = { period = 2, max_ratio = 3 }", "0"),
        ("volume_spike = { period = 2, min_ratio = 0.5 }", "5"),
    ] {
        let mut gates = gates(config);
        for volume in ["0", "0", current] {
            gates.on_bar(&bar("100.5", "99.5", "100", volume));
        }
        let check = assert_blocks(&gates, Long, "100", (RiskRule::VolumeSpikeGate, "0", "0"));
        assert_eq!(
            check.message,
            "the average volume of the 2 bars before this one is 0: a thin market"
        );
    }
}

// ---- volatility regime ----

/// Closes alternating up and down by `amplitude(i)` percent: with `period = 2`, realized
/// volatility follows the amplitudes (`σ = |r_i − r_{i−1}| / 2`, the returns of opposite signs).
fn alternating_closes(n: usize, amplitude: impl Fn(usize) -> f64) -> Vec<Decimal> {
    let mut close = 100.0_f64;
    let mut closes = vec![d("100")];
    for i in 1..n {
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        close *= 1.0 + sign * amplitude(i) / 100.0;
        closes.push(Decimal::from_f64_retain(close).unwrap().round_dp(8));
    }
    closes
}

fn regime_gates(config: &str, closes: &[Decimal]) -> Gates {
    let mut gates = gates(config);
    for &close in closes {
        gates.on_bar(&close_bar(close));
    }
    gates
}

fn percentile(gates: &Gates) -> Option<Decimal> {
    gates.regime.as_ref().unwrap().percentile()
}

#[test]
fn rising_volatility_reads_100_and_is_high() {
    let closes = alternating_closes(6, |i| i as f64);
    let config = r#"volatility_regime = { period = 2, lookback = 4, allow = ["low", "normal"] }"#;
    let gates = regime_gates(config, &closes);
    assert_eq!(percentile(&gates), Some(d("100")));
    let check = assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::VolatilityRegimeGate, "75", "100"),
    );
    assert_eq!(
        check.message,
        "realized volatility (2 returns) at percentile 100 of the last 4 values is above 75: \
         the high regime is not allowed (low, normal)"
    );
    // Just above the bound: high; at it: normal.
    let config = r#"volatility_regime = { period = 2, lookback = 4, high_pct = 99.99999999, allow = ["normal"] }"#;
    assert_blocks(
        &regime_gates(config, &closes),
        Short,
        "100",
        (RiskRule::VolatilityRegimeGate, "99.99999999", "100"),
    );
    let config =
        r#"volatility_regime = { period = 2, lookback = 4, high_pct = 100, allow = ["normal"] }"#;
    assert_passes(&regime_gates(config, &closes), Short, "100");
}

#[test]
fn falling_volatility_reads_the_lowest_rank_and_is_low() {
    // Four values of σ, the current the smallest: percentile 100 · 1 / 4 = 25.
    let closes = alternating_closes(6, |i| (10 - i) as f64);
    let config =
        r#"volatility_regime = { period = 2, lookback = 4, low_pct = 25, allow = ["normal"] }"#;
    let gates = regime_gates(config, &closes);
    assert_eq!(percentile(&gates), Some(d("25")));
    // At the bound: normal.
    assert_passes(&gates, Long, "100");
    // Just below the bound: low.
    let config = r#"volatility_regime = { period = 2, lookback = 4, low_pct = 25.00000001, allow = ["normal", "high"] }"#;
    let check = assert_blocks(
        &regime_gates(config, &closes),
        Long,
        "100",
        (RiskRule::VolatilityRegimeGate, "25.00000001", "25"),
    );
    assert!(
        check
            .message
            .contains("is below 25.00000001: the low regime is not allowed (normal, high)"),
        "{}",
        check.message
    );
    let config = r#"volatility_regime = { period = 2, lookback = 4, low_pct = 24.99999999, allow = ["normal"] }"#;
    assert_passes(&regime_gates(config, &closes), Long, "100");
}

#[test]
fn a_blocked_normal_regime_reports_the_nearer_bound() {
    // Moves of −1%, +2%, −3%, +4%, −0.2%: σ about 1.5%, 2.5%, 3.5%, then 2.1%, between the
    // first two. With lookback 4 the current ranks 2 of 4: percentile 50.
    let amplitudes = [0.0, 1.0, 2.0, 3.0, 4.0, 0.2];
    let closes = alternating_closes(6, |i| amplitudes[i]);
    let config = r#"volatility_regime = { period = 2, lookback = 4, low_pct = 40, high_pct = 70, allow = ["low", "high"] }"#;
    let gates = regime_gates(config, &closes);
    assert_eq!(percentile(&gates), Some(d("50")));
    let check = assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::VolatilityRegimeGate, "40", "50"),
    );
    assert!(check
        .message
        .contains("is within [40, 70]: the normal regime"));
    let config = r#"volatility_regime = { period = 2, lookback = 4, low_pct = 20, high_pct = 60, allow = ["low", "high"] }"#;
    assert_blocks(
        &regime_gates(config, &closes),
        Long,
        "100",
        (RiskRule::VolatilityRegimeGate, "60", "50"),
    );
}

#[test]
fn the_regime_warms_up_for_period_plus_the_minimum_history() {
    // period 2, lookback 4: the first σ after 3 bars, 4 values after 6 bars.
    let config =
        r#"volatility_regime = { period = 2, lookback = 4, allow = ["low", "normal", "high"] }"#;
    let closes = alternating_closes(7, |i| i as f64);
    let mut gates = gates(config);
    for (seen, &close) in closes.iter().enumerate().take(6) {
        let check = assert_blocks(
            &gates,
            Long,
            "100",
            (RiskRule::VolatilityRegimeGate, "6", &seen.to_string()),
        );
        assert!(check.message.contains("warming up"), "{}", check.message);
        gates.on_bar(&close_bar(close));
    }
    assert_passes(&gates, Long, "100");
    // A non-positive close restarts the warm-up.
    gates.on_bar(&close_bar(Decimal::ZERO));
    assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::VolatilityRegimeGate, "6", "0"),
    );
    gates.on_bar(&close_bar(closes[6]));
    assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::VolatilityRegimeGate, "6", "1"),
    );
}

#[test]
fn a_long_lookback_warms_up_on_30_values() {
    // lookback 100: the percentile starts at 30 values of σ, after 2 + 30 bars.
    let config =
        r#"volatility_regime = { period = 2, lookback = 100, allow = ["low", "normal", "high"] }"#;
    let closes = alternating_closes(40, |i| 1.0 + (i % 7) as f64);
    let gates31 = regime_gates(config, &closes[..31]);
    assert_blocks(
        &gates31,
        Long,
        "100",
        (RiskRule::VolatilityRegimeGate, "32", "31"),
    );
    let gates32 = regime_gates(config, &closes[..32]);
    assert_passes(&gates32, Long, "100");
    assert_eq!(gates32.regime.as_ref().unwrap().history.len(), 30);
}

#[test]
fn the_percentile_window_keeps_the_last_lookback_values() {
    let mut window = PercentileWindow::new(3);
    for x in [5.0, 1.0, 5.0, 3.0] {
        window.push(x);
    }
    // The first 5 left: 1, 5, 3.
    assert_eq!(window.len(), 3);
    assert_eq!(window.arrival, [1.0, 5.0, 3.0]);
    assert_eq!(window.count_at_most(5.0), 3);
    assert_eq!(window.count_at_most(3.0), 2);
    assert_eq!(window.count_at_most(0.5), 0);
    assert_eq!(window.latest(), Some(3.0));
    assert_eq!(percentile_rank(2, 3), d("66.66666667"));
}

#[test]
fn classification_bounds_are_normal() {
    let (low, high) = (d("25"), d("75"));
    let cases = [
        ("24.99999999", VolatilityRegime::Low),
        ("25", VolatilityRegime::Normal),
        ("25.00000001", VolatilityRegime::Normal),
        ("74.99999999", VolatilityRegime::Normal),
        ("75", VolatilityRegime::Normal),
        ("75.00000001", VolatilityRegime::High),
    ];
    for (pct, regime) in cases {
        assert_eq!(classify(d(pct), low, high), regime, "{pct}");
    }
}

// ---- order ----

#[test]
fn the_first_blocking_gate_in_order_is_reported() {
    // Every gate blocks on this market: funding 1% > 0.05%, ATR far above 0.00000001%, volume
    // ratio 1 below 1000, and rising volatility (high) not allowed.
    let funding = "funding = { max_abs_rate_pct = 0.05 }";
    let atr = "atr = { period = 2, max_pct = 0.00000001 }";
    let volume = "volume_spike = { period = 2, min_ratio = 1000 }";
    let regime = r#"volatility_regime = { period = 2, lookback = 4, allow = ["low"] }"#;
    let closes = alternating_closes(8, |i| i as f64);
    let build = |tables: &[&str]| {
        let mut gates = regime_gates(&tables.join("\n"), &closes);
        gates.on_funding(rate("0.01"));
        gates.check(Long, p("100")).map(|check| check.rule)
    };
    assert_eq!(
        build(&[regime, volume, atr, funding]),
        Some(RiskRule::FundingRateGate)
    );
    assert_eq!(build(&[regime, volume, atr]), Some(RiskRule::AtrGate));
    assert_eq!(build(&[regime, volume]), Some(RiskRule::VolumeSpikeGate));
    assert_eq!(build(&[regime]), Some(RiskRule::VolatilityRegimeGate));
    for alone in [funding, atr, volume] {
        assert!(build(&[alone]).is_some(), "{alone}");
    }
}

#[test]
fn a_warming_gate_is_reported_in_its_place_in_the_order() {
    let mut gates = gates(
        r#"
        funding = { block_against_side = true }
        atr = { period = 1, max_pct = 5 }
        volume_spike = { period = 3, max_ratio = 3 }
        "#,
    );
    gates.on_bar(&bar("100.5", "99.5", "100", "10"));
    // ATR is ready and passes; volume is warming up.
    assert_blocks(&gates, Long, "100", (RiskRule::VolumeSpikeGate, "4", "1"));
    // A funding block comes first.
    gates.on_funding(rate("0.0001"));
    assert_blocks(
        &gates,
        Long,
        "100",
        (RiskRule::FundingRateGate, "0", "0.01"),
    );
    // Short is not against the rate: back to the volume warm-up.
    assert_blocks(&gates, Short, "100", (RiskRule::VolumeSpikeGate, "4", "1"));
}

// ---- recorded values ----

#[test]
fn observations_are_rounded_to_8_places_and_saturate() {
    assert_eq!(from_f64(0.1), d("0.1"));
    assert_eq!(from_f64(2.0 / 3.0), d("0.66666667"));
    assert_eq!(from_f64(0.000000005), d("0.00000001"));
    assert_eq!(from_f64(1e-30), Decimal::ZERO);
    assert_eq!(from_f64(-1e-30), Decimal::ZERO);
    assert_eq!(from_f64(1e40), Decimal::MAX);
    assert_eq!(from_f64(-1e40), Decimal::MIN);
    assert_eq!(from_f64(f64::INFINITY), Decimal::MAX);
    // Trailing zeros dropped: the record reads as the message.
    assert_eq!(from_f64(2.5).to_string(), "2.5");
}

// ---- properties ----

/// Naive realized volatility: the two-pass population standard deviation of `returns`.
fn naive_std_dev(returns: &[f64]) -> f64 {
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    (returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / n).sqrt()
}

/// The regime of `count` values at most the current among `len`, by exact integer arithmetic
/// (`100 · count / len` against whole-number bounds).
fn naive_regime(count: usize, len: usize, low: u32, high: u32) -> VolatilityRegime {
    let scaled = 100 * count as u64;
    if scaled < u64::from(low) * len as u64 {
        VolatilityRegime::Low
    } else if scaled > u64::from(high) * len as u64 {
        VolatilityRegime::High
    } else {
        VolatilityRegime::Normal
    }
}

fn allow_list(mask: u8) -> Vec<VolatilityRegime> {
    VolatilityRegime::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, regime)| regime)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The sorted window's ranks and the classification match a scan of the last `lookback`
    /// values, with many ties (few distinct values).
    #[test]
    fn percentile_classification_matches_a_scan(
        xs in prop::collection::vec(0u8..8, 1..300),
        lookback in 2usize..40,
        low in 0u32..100,
        width in 1u32..=100,
    ) {
        let high = (low + width).min(100);
        prop_assume!(low < high);
        let mut window = PercentileWindow::new(lookback);
        for (t, &x) in xs.iter().enumerate() {
            let x = f64::from(x) * 0.25;
            window.push(x);
            let history: Vec<f64> = xs[(t + 1).saturating_sub(lookback)..=t]
                .iter()
                .map(|&h| f64::from(h) * 0.25)
                .collect();
            let count = history.iter().filter(|&&h| h <= x).count();
            prop_assert_eq!(window.len(), history.len());
            prop_assert_eq!(window.count_at_most(x), count);
            let pct = percentile_rank(window.count_at_most(x), window.len());
            prop_assert_eq!(
                classify(pct, Decimal::from(low), Decimal::from(high)),
                naive_regime(count, history.len(), low, high)
            );
        }
    }

    /// End to end: the regime gate's verdict on random closes matches realized volatility
    /// recomputed naively over each window and ranked by a scan of the history.
    #[test]
    fn the_regime_gate_matches_a_naive_computation(
        steps in prop::collection::vec(-0.03f64..0.03, 0..120),
        period in 2usize..8,
        lookback in 2usize..50,
        low in 0u32..100,
        width in 1u32..=100,
        mask in 1u8..8,
    ) {
        let high = (low + width).min(100);
        prop_assume!(low < high);
        let allow = allow_list(mask);
        let allow_text: Vec<String> = allow.iter().map(|r| format!("\"{r}\"")).collect();
        let mut gates = gates(&format!(
            "volatility_regime = {{ period = {period}, lookback = {lookback}, low_pct = {low}, \
             high_pct = {high}, allow = [{}] }}",
            allow_text.join(", ")
        ));
        let min_history = lookback.min(30);
        let mut close = d("100");
        let mut closes: Vec<f64> = Vec::new();
        let mut sigmas: Vec<f64> = Vec::new();
        for (t, step) in std::iter::once(0.0).chain(steps).enumerate() {
            let next = Decimal::from_f64_retain(to_f64(close) * (1.0 + step)).unwrap().round_dp(8);
            close = next;
            let bar = close_bar(close);
            closes.push(Candle::from(&bar).close);
            gates.on_bar(&bar);
            if closes.len() > period {
                let returns: Vec<f64> = closes[closes.len() - period - 1..]
                    .windows(2)
                    .map(|w| (w[1] / w[0]).ln())
                    .collect();
                sigmas.push(naive_std_dev(&returns));
            }
            let check = gates.check(Long, p("100"));
            let history = &sigmas[sigmas.len().saturating_sub(lookback)..];
            if history.len() < min_history {
                let check = check.expect("warming up blocks");
                prop_assert_eq!(check.rule, RiskRule::VolatilityRegimeGate);
                prop_assert_eq!(check.observed.0, Decimal::from(t + 1));
                prop_assert!(check.message.contains("warming up"));
                continue;
            }
            let current = *history.last().unwrap();
            // Two windows within rounding of each other may rank either way: skip the bar.
            let tolerance = 1e-9 * current.max(1e-12);
            let near_tie = history[..history.len() - 1]
                .iter()
                .any(|h| (h - current).abs() <= tolerance);
            if near_tie {
                continue;
            }
            let count = history.iter().filter(|&&h| h <= current).count();
            let regime = naive_regime(count, history.len(), low, high);
            let expected_pct = percentile_rank(count, history.len());
            prop_assert_eq!(percentile(&gates), Some(expected_pct));
            if allow.contains(&regime) {
                prop_assert_eq!(check, None);
            } else {
                let check = check.expect("a regime outside allow blocks");
                prop_assert_eq!(check.rule, RiskRule::VolatilityRegimeGate);
                prop_assert_eq!(check.observed.0, expected_pct);
                let named = format!("the {regime} regime");
                prop_assert!(check.message.contains(&named), "{}", check.message);
            }
        }
    }
}

#[test]
fn atr_is_a_percentage_of_the_price_checked() {
    // Of the price passed to `check`, not of the last close.
    let mut gates = gates("atr = { period = 1, max_pct = 1 }");
    gates.on_bar(&bar("100.5", "99.5", "100", "1"));
    assert_passes(&gates, Long, "100");
    assert_blocks(&gates, Long, "50", (RiskRule::AtrGate, "1", "2"));
}

mod rounding {
    use super::super::rounded_8dp;
    use proptest::prelude::*;
    use rust_decimal::{Decimal, RoundingStrategy};

    /// The reference: the full binary expansion as a decimal, rounded half to even.
    fn reference(x: f64) -> Option<Decimal> {
        Decimal::from_f64_retain(x).map(|d| {
            d.round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven)
                .normalize()
        })
    }

    #[test]
    fn exact_values_and_ties() {
        let d = |text: &str| text.parse::<Decimal>().unwrap();
        assert_eq!(rounded_8dp(0.0), Some(Decimal::ZERO));
        assert_eq!(rounded_8dp(1.5), Some(d("1.5")));
        assert_eq!(rounded_8dp(-2.25), Some(d("-2.25")));
        // 2^-27 = 0.000000007450580596923828125: rounds up to 0.00000001.
        assert_eq!(rounded_8dp(2f64.powi(-27)), Some(d("0.00000001")));
        // 2^-28 = 0.0000000037252902984619140625: down to 0.
        assert_eq!(rounded_8dp(2f64.powi(-28)), Some(Decimal::ZERO));
        // Ties exist: 2^-9 = 0.001953125 is 195312.5 units of 10^-8, and goes to the even
        // 195312; 3·2^-9 = 0.005859375 is 585937.5 units and goes up to 585938.
        assert_eq!(rounded_8dp(2f64.powi(-9)), Some(d("0.00195312")));
        assert_eq!(rounded_8dp(3.0 * 2f64.powi(-9)), Some(d("0.00585938")));
        assert_eq!(rounded_8dp(-(2f64.powi(-9))), Some(d("-0.00195312")));
        assert_eq!(rounded_8dp(f64::NAN), None);
        assert_eq!(rounded_8dp(f64::INFINITY), None);
        assert_eq!(rounded_8dp(1e30), None);
        assert_eq!(rounded_8dp(f64::MIN_POSITIVE), Some(Decimal::ZERO));
    }

    proptest! {
        #[test]
        fn matches_the_full_expansion_rounded(
            mantissa in -(1i64 << 53)..(1i64 << 53),
            exponent in -80i32..20,
        ) {
            let x = mantissa as f64 * 2f64.powi(exponent);
            // The reference keeps at most 28 decimal digits of the expansion; compare where
            // that is the whole expansion (short expansions) or clearly away from a tie.
            if let (Some(expected), Some(got)) = (reference(x), rounded_8dp(x)) {
                prop_assert_eq!(got, expected, "{}", x);
            }
        }
    }
}
