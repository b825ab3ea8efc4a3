//! The evaluator against hand-worked bars and naive references: three-valued logic,
//! crossings, warm-up and shared indicator slots.

use proptest::prelude::*;

use super::*;
use crate::strategy::expr::{parse_condition, parse_rules};

/// A bar whose open, high, low and close are all `close`.
fn flat(close: f64) -> Candle {
    Candle {
        open: close,
        high: close,
        low: close,
        close,
        volume: 1.0,
    }
}

fn evaluator(rules: &[&str]) -> Evaluator {
    Evaluator::new(parse_rules(rules).expect("the rules compile")).expect("the rules instantiate")
}

/// Feeds `bars` to a one-rule evaluator and collects the rule's value on each bar.
fn run(rule: &str, bars: &[Candle]) -> Vec<Truth> {
    let mut eval = evaluator(&[rule]);
    bars.iter()
        .map(|bar| {
            let fired = eval.on_bar(bar)[0];
            let truth = eval.truths()[0];
            assert_eq!(fired, truth == Truth::True);
            truth
        })
        .collect()
}

fn closes(xs: &[f64]) -> Vec<Candle> {
    xs.iter().copied().map(flat).collect()
}

use Truth::{False as F, True as T, Undefined as U};

#[test]
fn kleene_logic() {
    for a in [F, T, U] {
        assert_eq!(F.and(a), F);
        assert_eq!(T.or(a), T);
        assert_eq!(a.and(F), F);
        assert_eq!(a.or(T), T);
    }
    assert_eq!(T.and(T), T);
    assert_eq!(T.and(U), U);
    assert_eq!(F.or(F), F);
    assert_eq!(F.or(U), U);
    assert_eq!((!T, !F, !U), (F, T, U));
    assert!(T.holds() && !F.holds() && !U.holds());
}

#[test]
fn ema_2_crosses_above_ema_4_on_the_seventh_bar_only() {
    // closes  10   9    8    7    6    8    10      11
    // EMA(2)  —    9.5  8.5  7.5  6.5  7.5  9.1667  10.389   (seed (10+9)/2, α = 2/3)
    // EMA(4)  —    —    —    8.5  7.5  7.7  8.62    9.572    (seed (10+9+8+7)/4, α = 0.4)
    // Bar 4 has no previous EMA(4); bars 5 and 6 stay below; bar 7 crosses; bar 8 stays above.
    let bars = closes(&[10.0, 9.0, 8.0, 7.0, 6.0, 8.0, 10.0, 11.0]);
    assert_eq!(
        run("ema(close, 2) crosses_above ema(close, 4)", &bars),
        [U, U, U, U, F, F, T, F]
    );
    assert_eq!(
        run("ema(close, 2) crosses_below ema(close, 4)", &bars),
        [U, U, U, U, F, F, F, F]
    );
    // The reverse crossing is the same event seen from the other side.
    assert_eq!(
        run("ema(close, 4) crosses_below ema(close, 2)", &bars),
        [U, U, U, U, F, F, T, F]
    );
}

#[test]
fn a_crossing_is_strict_and_a_rise_from_a_touch_is_its_own_operator() {
    // `close crosses_above 10`: previous strictly below 10, now strictly above; a touch of 10
    // on the way is no crossing (backtesting.py's `crossover`, Freqtrade's `crossed_above`).
    let bars = closes(&[9.0, 10.0, 11.0, 12.0, 10.0, 11.0, 9.0, 11.0]);
    assert_eq!(
        run("close crosses_above 10", &bars),
        [U, F, F, F, F, F, F, T]
    );
    // `close rises_above 10`: previous at or below 10, now above: the touch counts.
    assert_eq!(run("close rises_above 10", &bars), [U, F, T, F, F, T, F, T]);
    // Below: strictly above then strictly below; landing on 10 is not below.
    let bars = closes(&[11.0, 10.0, 9.0, 10.0, 9.0, 11.0, 9.0]);
    assert_eq!(run("close crosses_below 10", &bars), [U, F, F, F, F, F, T]);
    assert_eq!(run("close falls_below 10", &bars), [U, F, T, F, T, F, T]);
}

#[test]
fn rsi_below_a_threshold() {
    // RSI(2) over 10, 11, 10, 9: changes +1, −1, −1. Bar 3 seeds G = L = 0.5 → 50.
    // Bar 4: G = 0.5 + (0 − 0.5)/2 = 0.25, L = 0.5 + (1 − 0.5)/2 = 0.75 → 25.
    let bars = closes(&[10.0, 11.0, 10.0, 9.0]);
    assert_eq!(run("rsi(close, 2) < 30", &bars), [U, U, F, T]);
    let mut eval = evaluator(&["rsi(close, 2) < 30"]);
    for bar in &bars {
        eval.on_bar(bar);
    }
    assert_eq!(eval.indicator(0, 0), Some(25.0));
    assert_eq!(eval.indicator(0, 1), None, "the RSI has one output");
    assert_eq!(eval.indicator(1, 0), None, "there is one slot");
}

#[test]
fn close_below_the_lower_bollinger_band() {
    // Bollinger(3, 1): 10, 10, 10 has sd 0, lower 10 (10 < 10 is false). 10, 10, 7: mean 9,
    // variance (1 + 1 + 4)/3 = 2, lower 9 − √2 ≈ 7.586 > 7.
    let bars = closes(&[10.0, 10.0, 10.0, 7.0]);
    assert_eq!(
        run("close < bollinger(close, 3, 1).lower", &bars),
        [U, U, F, T]
    );
    assert_eq!(
        run("close > bollinger(close, 3, 1).upper", &bars),
        [U, U, F, F]
    );
}

#[test]
fn warm_up_is_false_and_undefined() {
    let bars = closes(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(run("ema(close, 3) > 0", &bars), [U, U, T, T]);
    let mut eval = evaluator(&["ema(close, 3) > 0"]);
    assert_eq!(eval.fired(), [false], "before any bar");
    assert_eq!(eval.on_bar(&bars[0]), [false]);
    assert_eq!(eval.truths(), [U]);
}

#[test]
fn not_over_undefined_stays_false() {
    // Falling closes: the RSI, once defined, reads 0, so `not rsi < 30` is false throughout, and
    // during the warm-up it is false too rather than "not (cannot tell)" = true.
    let bars = closes(&[10.0, 9.0, 8.0, 7.0]);
    assert_eq!(run("not rsi(close, 2) < 30", &bars), [U, U, F, F]);
    assert_eq!(run("not rsi(close, 2) > 30", &bars), [U, U, T, T]);
    // An undefined side that cannot change the outcome does not make the rule undefined.
    let rising = [Candle {
        open: 1.0,
        high: 2.0,
        low: 1.0,
        close: 2.0,
        volume: 1.0,
    }];
    assert_eq!(run("close > open or rsi(close, 14) < 30", &rising), [T]);
    assert_eq!(run("close < open and rsi(close, 14) < 30", &rising), [F]);
    assert_eq!(run("close > open and rsi(close, 14) < 30", &rising), [U]);
}

#[test]
fn division_by_zero_is_undefined_not_infinite() {
    // A flat bar: high − low = 0.
    let bar = [flat(5.0)];
    for rule in [
        "close / (high - low) > 0.5",
        "close / (high - low) < 0.5",
        "not close / (high - low) > 0.5",
        "close / 0 != close / 0",
        "0 / 0 == 0 / 0",
        "-(close / 0) < 0",
    ] {
        assert_eq!(run(rule, &bar), [U], "{rule}");
    }
    assert_eq!(run("close / 2 == 2.5", &bar), [T]);
    // An overflow is not a number either, nor is a literal too large for `f64`.
    let big = format!("1{}", "0".repeat(300));
    assert_eq!(run(&format!("close * {big} * {big} > 0"), &bar), [U]);
    assert_eq!(run(&format!("close < {big}{big}"), &bar), [U]);
    assert_eq!(run(&format!("close < {big}"), &bar), [T]);
}

#[test]
fn an_indicator_of_an_undefined_input_skips_the_bar() {
    // `sma(close / (close - 10), 2)`: the input is undefined on the bar where close = 10, so the
    // SMA skips that bar and is undefined on it; it averages the defined inputs around it.
    let mut eval = evaluator(&["sma(close / (close - 10), 2) > 0"]);
    let mut values = Vec::new();
    for close in [11.0, 12.0, 10.0, 14.0] {
        eval.on_bar(&flat(close));
        values.push(eval.indicator(0, 0));
    }
    // Inputs: 11/1 = 11, 12/2 = 6, undefined, 14/4 = 3.5.
    assert_eq!(values, [None, Some(8.5), None, Some(4.75)]);
}

#[test]
fn nested_indicators_read_this_bars_inner_value() {
    // RSI(2) over 10, 11, 10, 9, 8 is defined from bar 3: 50, 25, then
    // G = 0.25/2 = 0.125, L = 0.75 + (1 − 0.75)/2 = 0.875 → 12.5.
    // SMA(2) of it is defined from bar 4: (50 + 25)/2, then (25 + 12.5)/2.
    let mut eval = evaluator(&["sma(rsi(close, 2), 2) < 20"]);
    assert_eq!(eval.slots(), 2);
    let mut sma = Vec::new();
    let mut fired = Vec::new();
    for close in [10.0, 11.0, 10.0, 9.0, 8.0] {
        fired.push(eval.on_bar(&flat(close))[0]);
        sma.push(eval.indicator(1, 0));
    }
    assert_eq!(sma, [None, None, None, Some(37.5), Some(18.75)]);
    assert_eq!(fired, [false, false, false, false, true]);
}

#[test]
fn rules_share_slots_and_number_their_crossings_together() {
    let rules = parse_rules(&[
        "ema(close, 20) crosses_above sma(close, 20) and rsi(close, 14) < 70",
        "ema(close, 20) crosses_below sma(close, 20)",
        "rsi(close, 14) > 30 and close > ema(close, 20)",
        "close < sma(close, 20)",
    ])
    .unwrap();
    assert_eq!(rules.roots.len(), 4);
    assert_eq!(rules.indicators.len(), 3, "ema, sma and rsi once each");
    assert_eq!(rules.crossings, 2);
    let eval = Evaluator::new(rules).unwrap();
    assert_eq!((eval.rules(), eval.slots()), (4, 3));
}

#[test]
fn parse_rules_names_the_failing_rule() {
    let (index, error) = parse_rules(&["close > open", "rsi(close, 0) < 30"]).unwrap_err();
    assert_eq!(index, 1);
    assert!(error.message.contains("whole number"), "{error}");
    // A checking error in an earlier rule is reported before a syntax error in a later one.
    let (index, _) = parse_rules(&["close", "close >"]).unwrap_err();
    assert_eq!(index, 0);
    let (index, _) = parse_rules(&["close > 1", "close >"]).unwrap_err();
    assert_eq!(index, 1);
}

#[test]
fn a_crossing_behind_a_false_branch_still_sees_every_bar() {
    // On bar 1 `close > 5` is false; a short-circuiting `and` would skip the crossing and miss
    // that close was below 10, so bar 2 could not see the crossing.
    let bars = closes(&[3.0, 12.0]);
    assert_eq!(run("close > 5 and close crosses_above 10", &bars), [F, T]);
    assert_eq!(run("close < 5 or close crosses_above 10", &bars), [T, T]);
}

#[test]
fn every_slot_is_updated_even_when_no_rule_reads_it_this_bar() {
    // `close > 100 and ...` is false on every bar here; the EMA must still warm up.
    let mut eval = evaluator(&["close > 100 and ema(close, 3) > 0"]);
    for close in [1.0, 2.0, 3.0] {
        eval.on_bar(&flat(close));
    }
    assert_eq!(eval.indicator(0, 0), Some(2.0));
}

#[test]
fn candle_indicators_and_outputs() {
    // Donchian(2) and stochastic(2, 1) over two bars.
    let bars = [
        Candle {
            open: 10.0,
            high: 12.0,
            low: 9.0,
            close: 11.0,
            volume: 2.0,
        },
        Candle {
            open: 11.0,
            high: 13.0,
            low: 10.0,
            close: 10.0,
            volume: 2.0,
        },
    ];
    // Channel 13/9, middle 11; %K = 100·(10 − 9)/(13 − 9) = 25.
    assert_eq!(run("donchian(2).middle == 11", &bars), [U, T]);
    assert_eq!(run("stochastic(2, 1).k == 25", &bars), [U, T]);
    assert_eq!(run("stochastic(2, 1).d == 25", &bars), [U, T]);
    assert_eq!(run("volume_sma(2) == 2", &bars), [U, T]);
    // VWAP: typical prices 32/3 and 11, equal volumes.
    assert_eq!(run("vwap() > 10.8 and vwap() < 10.9", &bars), [F, T]);
    assert_eq!(run("atr(1) == 3", &bars), [T, T]);
    assert_eq!(
        // MACD(1, 2, 1) on bar 2: EMA(1) = 2, EMA(2) = (1 + 2)/2; bar 3 moves away.
        run(
            "macd(close, 1, 2, 1).macd == 0.5",
            &closes(&[1.0, 2.0, 4.0])
        ),
        [U, T, F]
    );
}

#[test]
fn reset_replays_like_a_fresh_evaluator() {
    let rules = ["ema(close, 2) crosses_above ema(close, 4)", "vwap() > 8"];
    let bars = closes(&[10.0, 9.0, 8.0, 7.0, 6.0, 8.0, 10.0, 11.0]);
    let mut fresh = evaluator(&rules);
    let mut used = evaluator(&rules);
    for bar in &bars {
        used.on_bar(bar);
    }
    used.reset();
    assert_eq!(used, fresh);
    for bar in &bars {
        assert_eq!(used.on_bar(bar), fresh.on_bar(bar));
    }
}

#[test]
fn malformed_compiled_rules_are_refused() {
    let mut rules = parse_rules(&["sma(ema(close, 3), 2) > 1"]).unwrap();
    rules.indicators.swap(0, 1);
    assert!(matches!(
        Evaluator::new(rules),
        Err(EvalError::Malformed(_))
    ));

    let mut rules = parse_rules(&["close crosses_above open"]).unwrap();
    rules.crossings = 0;
    assert!(matches!(
        Evaluator::new(rules),
        Err(EvalError::Malformed(_))
    ));

    let mut rules = parse_rules(&["close crosses_above open", "close crosses_below open"]).unwrap();
    rules.roots[1] = rules.roots[0].clone();
    assert!(matches!(
        Evaluator::new(rules),
        Err(EvalError::Malformed(_))
    ));

    let mut rules = parse_rules(&["ema(close, 3) > 1"]).unwrap();
    rules.indicators[0].params[0] = 2.5;
    assert!(matches!(
        Evaluator::new(rules),
        Err(EvalError::Period { value, .. }) if value == 2.5
    ));

    let mut rules = parse_rules(&["bollinger(close, 3, 1).lower > 1"]).unwrap();
    rules.indicators[0].params[1] = f64::NAN;
    assert!(matches!(
        Evaluator::new(rules),
        Err(EvalError::Indicator { slot: 0, .. })
    ));

    let rules = parse_rules(&["ema(close, 3) > 1"]).unwrap();
    let number = CompiledRules {
        roots: vec![Node::Number(1.0)],
        ..rules
    };
    assert!(matches!(
        Evaluator::new(number),
        Err(EvalError::Malformed(_))
    ));
}

#[test]
fn a_single_condition_converts() {
    let condition = parse_condition("close > open").unwrap();
    let mut eval = Evaluator::new(condition.into()).unwrap();
    assert_eq!(
        eval.on_bar(&Candle {
            open: 1.0,
            high: 2.0,
            low: 1.0,
            close: 2.0,
            volume: 0.0
        }),
        [true]
    );
}

/// Simple moving average of the `period` values ending at `t`, by a plain sum.
fn reference_sma(xs: &[f64], t: usize, period: usize) -> Option<f64> {
    (t + 1 >= period).then(|| xs[t + 1 - period..=t].iter().sum::<f64>() / period as f64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn crossings_match_a_direct_reference(
        // Whole-number closes: every SMA is then exact in both computations, and equal values
        // (where a crossing and a rise from a touch part) are common.
        closes in prop::collection::vec(0u32..20, 1..80),
        fast in 1usize..6,
        slow in 1usize..10,
        gate in 0u32..20,
    ) {
        let xs: Vec<f64> = closes.iter().map(|&c| f64::from(c)).collect();
        let rules = [
            format!("sma(close, {fast}) crosses_above sma(close, {slow})"),
            format!("sma(close, {fast}) crosses_below sma(close, {slow})"),
            format!("close > {gate} and sma(close, {fast}) crosses_above sma(close, {slow})"),
            format!("not sma(close, {fast}) crosses_below sma(close, {slow})"),
            format!("sma(close, {fast}) rises_above sma(close, {slow})"),
            format!("sma(close, {fast}) falls_below sma(close, {slow})"),
        ];
        let texts: Vec<&str> = rules.iter().map(String::as_str).collect();
        let mut eval = evaluator(&texts);
        for (t, &x) in xs.iter().enumerate() {
            let fired = eval.on_bar(&flat(x)).to_vec();
            let now = (reference_sma(&xs, t, fast), reference_sma(&xs, t, slow));
            let before = match t {
                0 => (None, None),
                _ => (reference_sma(&xs, t - 1, fast), reference_sma(&xs, t - 1, slow)),
            };
            let (above, below, rises, falls) = match (before, now) {
                ((Some(pa), Some(pb)), (Some(a), Some(b))) => (
                    Some(pa < pb && a > b),
                    Some(pa > pb && a < b),
                    Some(pa <= pb && a > b),
                    Some(pa >= pb && a < b),
                ),
                _ => (None, None, None, None),
            };
            let expected = [
                above == Some(true),
                below == Some(true),
                x > f64::from(gate) && above == Some(true),
                below == Some(false),
                rises == Some(true),
                falls == Some(true),
            ];
            prop_assert_eq!(&fired[..], &expected[..], "bar {}", t);
        }
    }
}

#[test]
fn a_template_chooses_how_its_emas_start() {
    use crate::config::IndicatorSettings;
    use crate::indicators::EmaSeed;
    let bars = closes(&[2.0, 4.0, 6.0, 8.0, 4.0]);
    let truths = |seed: EmaSeed| -> Vec<Truth> {
        let rules = parse_rules(&["ema(close, 3) > 4"]).unwrap();
        let settings = IndicatorSettings { ema_seed: seed };
        let mut eval = Evaluator::with_settings(rules, settings).unwrap();
        bars.iter()
            .map(|bar| {
                eval.on_bar(bar);
                eval.truths()[0]
            })
            .collect()
    };
    // TA-Lib: no value until three closes (seed 4), then 6 and 5.
    assert_eq!(truths(EmaSeed::Sma), [U, U, F, T, T]);
    // pandas' ewm(adjust=False): 2, 3, 4.5, 6.25, 5.125.
    assert_eq!(truths(EmaSeed::First), [F, F, T, T, T]);
}
