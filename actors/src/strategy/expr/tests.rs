//! The condition language: parsing, checking and compiling, with errors at their line and
//! column.

use super::ast::{Arith, Compare, Logic, Series};
use super::*;

fn error(text: &str) -> (usize, usize, String) {
    let e = parse_condition(text).expect_err(text);
    (e.pos.line, e.pos.column, e.message)
}

fn assert_error(text: &str, line: usize, column: usize, needle: &str) {
    let (l, c, message) = error(text);
    assert_eq!((l, c), (line, column), "{text:?}: {message}");
    assert!(
        message.contains(needle),
        "{text:?}: {message:?} should mention {needle:?}"
    );
}

#[test]
fn the_issues_example_compiles_to_three_indicators_and_one_crossing() {
    let condition =
        parse_condition("ema(close, 10) crosses_above ema(close, 20) and rsi(close, 14) < 70")
            .unwrap();
    let names: Vec<(&str, Vec<f64>)> = condition
        .indicators
        .iter()
        .map(|call| (call.signature.name, call.params.clone()))
        .collect();
    assert_eq!(
        names,
        [
            ("ema", vec![10.0]),
            ("ema", vec![20.0]),
            ("rsi", vec![14.0])
        ]
    );
    assert!(condition
        .indicators
        .iter()
        .all(|call| call.input == Some(Node::Series(Series::Close))));
    assert_eq!(condition.crossings, 1);
    let Node::Logic(Logic::And, left, right) = &condition.root else {
        panic!("{:?}", condition.root)
    };
    assert!(matches!(
        **left,
        Node::Compare {
            op: Compare::CrossesAbove,
            history: Some(0),
            ..
        }
    ));
    assert!(matches!(
        **right,
        Node::Compare {
            op: Compare::Lt,
            history: None,
            ..
        }
    ));
}

#[test]
fn identical_calls_share_one_indicator() {
    let condition =
        parse_condition("ema(close, 20) > sma(close, 20) and ema(close, 20) < close * 1.05")
            .unwrap();
    assert_eq!(
        condition.indicators.len(),
        2,
        "ema(close, 20) is computed once"
    );
    let different_input = parse_condition("ema(close, 20) > ema(open, 20)").unwrap();
    assert_eq!(different_input.indicators.len(), 2);
}

#[test]
fn precedence_and_grouping() {
    let condition = parse_condition("close > open and volume > 0 or not close < 1").unwrap();
    let Node::Logic(Logic::Or, left, right) = condition.root else {
        panic!()
    };
    assert!(matches!(*left, Node::Logic(Logic::And, _, _)));
    assert!(matches!(*right, Node::Not(_)));

    let condition = parse_condition("close - open * 2 > 0").unwrap();
    let Node::Compare { left, .. } = condition.root else {
        panic!()
    };
    let Node::Arith(Arith::Sub, _, product) = *left else {
        panic!("{left:?}")
    };
    assert!(matches!(*product, Node::Arith(Arith::Mul, _, _)));

    let grouped = parse_condition("(close - open) * 2 > 0").unwrap();
    let Node::Compare { left, .. } = grouped.root else {
        panic!()
    };
    assert!(matches!(*left, Node::Arith(Arith::Mul, _, _)));
}

#[test]
fn outputs_inputs_and_number_forms() {
    let condition = parse_condition(
        "close < bollinger(close, 20, 2.5).lower and macd(close, 12, 26, 9).histogram > 0",
    )
    .unwrap();
    assert!(matches!(condition.root, Node::Logic(..)));
    assert_eq!(condition.indicators[0].params, [20.0, 2.5]);
    let Node::Logic(_, left, _) = &condition.root else {
        panic!()
    };
    let Node::Compare { right, .. } = &**left else {
        panic!()
    };
    assert_eq!(
        **right,
        Node::Indicator { slot: 0, output: 2 },
        "lower is bollinger's third output"
    );

    let derived = parse_condition("sma(high - low, 14) > atr(14) and volume > 1_000 * .5").unwrap();
    assert!(matches!(
        derived.indicators[0].input,
        Some(Node::Arith(Arith::Sub, _, _))
    ));
    assert_eq!(derived.indicators[1].input, None, "atr reads whole bars");

    assert!(parse_condition("stochastic(14, 3).k crosses_below 20 # oversold\n").is_ok());
    assert!(parse_condition("close > vwap()").is_ok());
}

#[test]
fn errors_point_at_the_offending_token() {
    assert_error(
        "ema(close, 10) crosses_above emma(close, 20)",
        1,
        30,
        "unknown indicator `emma`",
    );
    assert_error("rsi(close, 14.5) < 70", 1, 12, "whole number");
    assert_error("rsi(close, 0) < 70", 1, 12, "whole number");
    assert_error("rsi(close, n) < 70", 1, 12, "unknown name `n`");
    assert_error("rsi(close, 14)", 1, 1, "must be true or false");
    assert_error("close > 1 and", 1, 14, "found the end");
    assert_error(
        "ema(close, 10) > 1\nand rsi(close, 0) < 70",
        2,
        16,
        "whole number",
    );
    assert_error("close = 1", 1, 7, "compare with `==`");
    assert_error("close < open < high", 1, 14, "do not chain");
    assert_error("(close > 1", 1, 11, "to close the parenthesis");
    assert_error("and > 1", 1, 1, "keyword `and`");
    assert_error("price > 1", 1, 1, "unknown name `price`");
    assert_error(
        "rsi(close) < 1",
        1,
        1,
        "takes 2 argument(s) (input, period), not 1",
    );
    assert_error("bollinger(close, 20, 2) > close", 1, 1, "several outputs");
    assert_error("ema(close, 9).upper > close", 1, 1, "has one value");
    assert_error(
        "donchian(20).top > close",
        1,
        1,
        "has no output `top`; it has upper, middle, lower",
    );
    assert_error(
        "close > 1 and 2",
        1,
        15,
        "`and`'s right side must be true/false",
    );
    assert_error("not close", 1, 5, "the operand of `not` must be true/false");
    assert_error("close > open @", 1, 14, "unexpected character `@`");
    assert_error("", 1, 1, "empty condition");
    assert_error(
        "macd(close, 26, 12, 9).macd > 0",
        1,
        13,
        "fast period must be shorter than its slow period, not 26 ≥ 12",
    );
    assert_error("macd(close, 12, 12, 9).macd > 0", 1, 13, "not 12 ≥ 12");
}

#[test]
fn rules_compiled_together_share_slots_and_crossing_numbers() {
    let rules = parse_rules(&[
        "ema(close, 10) crosses_above ema(close, 20)",
        "ema(close, 10) crosses_below ema(close, 20) or rsi(close, 14) > 70",
    ])
    .unwrap();
    assert_eq!(rules.indicators.len(), 3);
    assert_eq!(rules.crossings, 2);
    let Node::Logic(Logic::Or, crossing, _) = &rules.roots[1] else {
        panic!("{:?}", rules.roots[1])
    };
    assert!(matches!(
        **crossing,
        Node::Compare {
            op: Compare::CrossesBelow,
            history: Some(1),
            ..
        }
    ));
    let single = parse_condition("ema(close, 10) crosses_above ema(close, 20)").unwrap();
    assert_eq!(rules.roots[0], single.root);
    assert_eq!(rules.indicators[..2], single.indicators[..]);

    let (index, error) = parse_rules(&["close > 1", "rsi(close) < 1"]).unwrap_err();
    assert_eq!((index, error.pos.column), (1, 1));
    assert!(parse_rules(&[]).unwrap().roots.is_empty());
}

#[test]
fn parameters_stand_for_their_numbers_and_unknown_ones_are_named() {
    let mut params = TemplateParams::new();
    params.insert("fast".into(), 10.0);
    params.insert("level".into(), 70.5);
    let with = parse_condition_with("ema(close, $fast) > $level", &params).unwrap();
    let literal = parse_condition("ema(close, 10) > 70.5").unwrap();
    assert_eq!(with, literal);

    let e = parse_condition_with("rsi(close, 14) < $lvl", &params).unwrap_err();
    assert_eq!((e.pos.line, e.pos.column), (1, 18));
    assert_eq!(
        e.message,
        "unknown parameter `$lvl`; its [params] are $fast, $level"
    );
    let e = parse_condition("close > $x").unwrap_err();
    assert!(
        e.message.ends_with("the template has no [params]"),
        "{}",
        e.message
    );
    let e = parse_condition_with("close > $ 1", &params).unwrap_err();
    assert_eq!(
        (e.pos.column, e.message.contains("parameter's name")),
        (9, true)
    );
    // Columns after a parameter stay right.
    let e = parse_condition_with("ema(close, $fast) > emma(close, 3)", &params).unwrap_err();
    assert_eq!(e.pos.column, 21);
}
