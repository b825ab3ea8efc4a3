//! Evaluation of compiled conditions at each bar's close: the [`Evaluator`] owns one instance of
//! every indicator slot of a template's rules ([`CompiledRules`]) and each crossing's history,
//! and turns every closed bar into one true/false per rule.
//!
//! # Semantics
//!
//! Per bar, [`Evaluator::on_bar`]:
//!
//! 1. **Updates every indicator slot, in slot order**, whatever the rules will read. Slots are
//!    ordered so that an indicator's input calls come before it, so an input such as
//!    `sma(rsi(close, 14), 5)` reads the inner indicator's value of *this* bar. An input that is
//!    *undefined* on this bar (an inner indicator still warming up, a division by zero) means
//!    the outer indicator is **not updated** on this bar, and reads as undefined on this bar:
//!    that bar is missing from its series, and it resumes with the next defined input. So
//!    `sma(rsi(close, 14), 5)` warms up over 14 + 5 bars.
//! 2. **Evaluates every rule completely** (no short-circuit), so that every crossing sees both
//!    its sides on every bar.
//!
//! Values are numbers or *undefined*. Undefined are: an indicator that has not warmed up (or
//! whose module says its output is undefined, e.g. a rate of change from 0), a division by
//! zero, and any result that is not a finite number (an overflow); no NaN or infinity ever
//! reaches a comparison. Arithmetic with an undefined operand is undefined.
//!
//! Conditions are **three-valued**: true, false or undefined.
//!
//! - A comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`) with an undefined side is undefined.
//! - `a crosses_above b` is true when, on the previous bar, `a < b` and, on this bar, `a > b`
//!   (`crosses_below`: previous `a > b`, now `a < b`): strictly both times, as every peer reads
//!   a crossover; a touch is no crossing. `a rises_above b` reads the previous bar at or below
//!   (`a ≤ b`, then `a > b`; `falls_below`: `a ≥ b`, then `a < b`), what `crosses_above` meant
//!   before charon 0.2. Each is false otherwise, and undefined when any of the four values is
//!   undefined. "Previous" is the bar just before, not the last bar on
//!   which the sides were defined: a crossing needs two consecutive bars with both sides defined,
//!   so it is never true on the first bar, nor on the first bar after a warm-up. Each crossing
//!   keeps its sides' values of the previous bar in its own history slot, updated on every bar.
//! - `and`, `or` and `not` follow Kleene's logic: `x and false` is false, `x or true` is true,
//!   otherwise an undefined operand makes the result undefined; `not undefined` is undefined.
//! - A rule whose condition is undefined is **false**.
//!
//! So a rule that reads an indicator without a value is false, and so is its negation:
//! `not rsi(close, 14) < 30` stays false during the RSI's warm-up, instead of becoming true
//! because the comparison could not be made. A rule can still be true during a warm-up when the
//! undefined part cannot change the outcome: `close > open or rsi(close, 14) < 30` is true on a
//! rising bar.
//!
//! Indicators that read whole bars (`atr`, `donchian`, `stochastic`, `vwap`, `volume_sma`) are
//! fed every bar. `vwap()` is cumulative since the evaluator was built or [reset](Evaluator::reset):
//! session anchoring is the caller's, by resetting.
//!
//! Numbers are `f64` here: conditions are signals, not accounting.

use super::expr::ast::{Arith, Compare, Logic, Series};
use super::expr::{CompiledRules, IndicatorCall, Node};
use crate::config::IndicatorSettings;
use crate::indicators::{
    Atr, Bollinger, Candle, Donchian, Ema, Indicator, IndicatorError, Macd, Roc, Rsi, Sma,
    Stochastic, VolumeSma, Vwap, Wma,
};

/// A condition's value on one bar: true, false, or undefined (it read a value that does not
/// exist yet). A rule acts only on [`Truth::True`].
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Truth {
    False,
    True,
    Undefined,
}

impl Truth {
    /// Whether a rule with this value fires: only `True` does.
    pub fn holds(self) -> bool {
        self == Truth::True
    }

    /// Kleene's `and`: false wins, then undefined.
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Undefined,
        }
    }

    /// Kleene's `or`: true wins, then undefined.
    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Undefined,
        }
    }
}

impl std::ops::Not for Truth {
    type Output = Truth;

    /// `not`, undefined staying undefined.
    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::True => Truth::False,
            Truth::Undefined => Truth::Undefined,
        }
    }
}

impl From<bool> for Truth {
    fn from(value: bool) -> Self {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// Why compiled rules cannot be instantiated. Rules from
/// [`parse_rules`](super::expr::parse_rules) only fail with [`EvalError::Indicator`] if at all;
/// the other variants reject hand-built [`CompiledRules`] that break the compiler's invariants.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("indicator slot {slot} (`{name}`): {source}")]
    Indicator {
        slot: usize,
        name: &'static str,
        #[source]
        source: IndicatorError,
    },
    #[error(
        "indicator slot {slot} (`{name}`): parameter {value} is not a whole number in 1..=2^53"
    )]
    Period {
        slot: usize,
        name: &'static str,
        value: f64,
    },
    #[error("malformed compiled rules: {0}")]
    Malformed(String),
}

/// The largest period accepted: every whole number up to it is exact in `f64`.
const MAX_PERIOD: f64 = 9_007_199_254_740_992.0;

/// One instantiated indicator slot.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
enum Instance {
    Sma(Sma),
    Ema(Ema),
    Wma(Wma),
    Rsi(Rsi),
    Roc(Roc),
    Bollinger(Bollinger),
    Macd(Macd),
    Atr(Atr),
    Donchian(Donchian),
    Stochastic(Stochastic),
    Vwap(Vwap),
    VolumeSma(VolumeSma),
}

/// A slot's outputs, in the catalogue's order (unused entries are 0).
type Outputs = [f64; 3];

impl Instance {
    fn build(
        slot: usize,
        call: &IndicatorCall,
        settings: IndicatorSettings,
    ) -> Result<Instance, EvalError> {
        let name = call.signature.name;
        let period = |index: usize| -> Result<usize, EvalError> {
            let value = call.params.get(index).copied().ok_or_else(|| {
                EvalError::Malformed(format!("slot {slot} (`{name}`) lacks parameter {index}"))
            })?;
            if value.fract() == 0.0 && (1.0..=MAX_PERIOD).contains(&value) {
                // A whole number in 1..=2^53 converts exactly.
                Ok(value as usize)
            } else {
                Err(EvalError::Period { slot, name, value })
            }
        };
        let factor = |index: usize| -> Result<f64, EvalError> {
            call.params.get(index).copied().ok_or_else(|| {
                EvalError::Malformed(format!("slot {slot} (`{name}`) lacks parameter {index}"))
            })
        };
        let built = match name {
            "sma" => Sma::new(period(0)?).map(Instance::Sma),
            "ema" => Ema::with_seed(period(0)?, settings.ema_seed).map(Instance::Ema),
            "wma" => Wma::new(period(0)?).map(Instance::Wma),
            "rsi" => Rsi::new(period(0)?).map(Instance::Rsi),
            "roc" => Roc::new(period(0)?).map(Instance::Roc),
            "bollinger" => Bollinger::new(period(0)?, factor(1)?).map(Instance::Bollinger),
            "macd" => Macd::new(period(0)?, period(1)?, period(2)?).map(Instance::Macd),
            "atr" => Atr::new(period(0)?).map(Instance::Atr),
            "donchian" => Donchian::new(period(0)?).map(Instance::Donchian),
            "stochastic" => Stochastic::new(period(0)?, period(1)?).map(Instance::Stochastic),
            "vwap" => Ok(Instance::Vwap(Vwap::new())),
            "volume_sma" => VolumeSma::new(period(0)?).map(Instance::VolumeSma),
            other => {
                return Err(EvalError::Malformed(format!(
                    "slot {slot}: unknown indicator `{other}`"
                )))
            }
        };
        let instance = built.map_err(|source| EvalError::Indicator { slot, name, source })?;
        let params = match name {
            "vwap" => 0,
            "bollinger" | "stochastic" => 2,
            "macd" => 3,
            _ => 1,
        };
        if call.params.len() != params {
            return Err(EvalError::Malformed(format!(
                "slot {slot} (`{name}`) has {} parameters, not {params}",
                call.params.len()
            )));
        }
        if instance.reads_input() != call.input.is_some() {
            return Err(EvalError::Malformed(format!(
                "slot {slot} (`{name}`): an input is {} here",
                if instance.reads_input() {
                    "required"
                } else {
                    "not taken"
                }
            )));
        }
        Ok(instance)
    }

    /// Whether the indicator reads an input expression (otherwise it reads whole bars).
    fn reads_input(&self) -> bool {
        matches!(
            self,
            Instance::Sma(_)
                | Instance::Ema(_)
                | Instance::Wma(_)
                | Instance::Rsi(_)
                | Instance::Roc(_)
                | Instance::Bollinger(_)
                | Instance::Macd(_)
        )
    }

    /// How many outputs the indicator has.
    fn outputs(&self) -> usize {
        match self {
            Instance::Bollinger(_) | Instance::Macd(_) | Instance::Donchian(_) => 3,
            Instance::Stochastic(_) => 2,
            _ => 1,
        }
    }

    /// Feeds one bar: `input` to the indicators that read one (not updated when it is
    /// undefined), the whole `bar` to the others. Returns this bar's outputs, if defined.
    fn update(&mut self, input: Option<f64>, bar: &Candle) -> Option<Outputs> {
        let one = |x: f64| [x, 0.0, 0.0];
        match self {
            Instance::Sma(i) => i.update(input?).map(one),
            Instance::Ema(i) => i.update(input?).map(one),
            Instance::Wma(i) => i.update(input?).map(one),
            Instance::Rsi(i) => i.update(input?).map(one),
            Instance::Roc(i) => i.update(input?).map(one),
            Instance::Bollinger(i) => i.update(input?).map(|b| [b.upper, b.middle, b.lower]),
            Instance::Macd(i) => i.update(input?).map(|m| [m.macd, m.signal, m.histogram]),
            Instance::Atr(i) => i.update(*bar).map(one),
            Instance::Donchian(i) => i.update(*bar).map(|d| [d.upper, d.middle, d.lower]),
            Instance::Stochastic(i) => i.update(*bar).map(|s| [s.k, s.d, 0.0]),
            Instance::Vwap(i) => i.update(*bar).map(one),
            Instance::VolumeSma(i) => i.update(*bar).map(one),
        }
    }

    fn reset(&mut self) {
        match self {
            Instance::Sma(i) => i.reset(),
            Instance::Ema(i) => i.reset(),
            Instance::Wma(i) => i.reset(),
            Instance::Rsi(i) => i.reset(),
            Instance::Roc(i) => i.reset(),
            Instance::Bollinger(i) => i.reset(),
            Instance::Macd(i) => i.reset(),
            Instance::Atr(i) => i.reset(),
            Instance::Donchian(i) => i.reset(),
            Instance::Stochastic(i) => i.reset(),
            Instance::Vwap(i) => i.reset(),
            Instance::VolumeSma(i) => i.reset(),
        }
    }
}

/// The sides of a crossing on the previous bar.
type History = (Option<f64>, Option<f64>);

/// Evaluates a template's compiled rules bar by bar (see the module doc for the semantics).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Evaluator {
    roots: Vec<Node>,
    instances: Vec<Instance>,
    /// Each slot's input expression (`None` for indicators of whole bars).
    inputs: Vec<Option<Node>>,
    /// Each slot's outputs on the current bar; `None` when undefined or not updated.
    values: Vec<Option<Outputs>>,
    history: Vec<History>,
    truths: Vec<Truth>,
    fired: Vec<bool>,
}

impl Evaluator {
    /// Instantiates every indicator slot of `rules`. Fails on an indicator the implementations
    /// refuse, and on compiled rules that break the compiler's invariants (a slot read before it
    /// is updated, a crossing without its own history slot).
    pub fn new(rules: CompiledRules) -> Result<Evaluator, EvalError> {
        Evaluator::with_settings(rules, IndicatorSettings::default())
    }

    /// [`Evaluator::new`], the indicators following `settings` where conventions differ.
    pub fn with_settings(
        rules: CompiledRules,
        settings: IndicatorSettings,
    ) -> Result<Evaluator, EvalError> {
        let mut instances = Vec::with_capacity(rules.indicators.len());
        let mut inputs = Vec::with_capacity(rules.indicators.len());
        let mut outputs = Vec::with_capacity(rules.indicators.len());
        for (slot, call) in rules.indicators.into_iter().enumerate() {
            let instance = Instance::build(slot, &call, settings)?;
            if let Some(input) = &call.input {
                check_number(input, &outputs)
                    .map_err(|e| EvalError::Malformed(format!("slot {slot}'s input: {e}")))?;
            }
            outputs.push(instance.outputs());
            instances.push(instance);
            inputs.push(call.input);
        }
        let mut used = vec![false; rules.crossings];
        for (index, root) in rules.roots.iter().enumerate() {
            check_truth(root, &outputs, &mut used)
                .map_err(|e| EvalError::Malformed(format!("rule {index}: {e}")))?;
        }
        let slots = instances.len();
        let rule_count = rules.roots.len();
        Ok(Evaluator {
            roots: rules.roots,
            instances,
            inputs,
            values: vec![None; slots],
            history: vec![(None, None); rules.crossings],
            truths: vec![Truth::Undefined; rule_count],
            fired: vec![false; rule_count],
        })
    }

    /// Takes the next closed bar: updates every indicator, then evaluates every rule. Returns
    /// whether each rule holds on this bar, in the order the rules were compiled.
    pub fn on_bar(&mut self, bar: &Candle) -> &[bool] {
        for slot in 0..self.instances.len() {
            let input = match &self.inputs[slot] {
                Some(node) => number(node, bar, &self.values),
                None => None,
            };
            self.values[slot] = self.instances[slot].update(input, bar);
        }
        for (index, root) in self.roots.iter().enumerate() {
            let truth = truth(root, bar, &self.values, &mut self.history);
            self.truths[index] = truth;
            self.fired[index] = truth.holds();
        }
        &self.fired
    }

    /// Whether each rule held on the last bar (all false before the first).
    pub fn fired(&self) -> &[bool] {
        &self.fired
    }

    /// Each rule's three-valued result on the last bar (undefined before the first), to tell a
    /// rule that was false from one that could not be evaluated yet.
    pub fn truths(&self) -> &[Truth] {
        &self.truths
    }

    /// How many rules are evaluated.
    pub fn rules(&self) -> usize {
        self.roots.len()
    }

    /// How many indicator slots are computed per bar.
    pub fn slots(&self) -> usize {
        self.instances.len()
    }

    /// Output `output` of slot `slot` on the last bar, if defined.
    pub fn indicator(&self, slot: usize, output: usize) -> Option<f64> {
        let outputs = self.values.get(slot).copied().flatten()?;
        if output >= self.instances[slot].outputs() {
            return None;
        }
        finite(outputs[output])
    }

    /// Forgets every bar: indicators, crossings' history and results are as freshly built.
    pub fn reset(&mut self) {
        self.instances.iter_mut().for_each(Instance::reset);
        self.values.fill(None);
        self.history.fill((None, None));
        self.truths.fill(Truth::Undefined);
        self.fired.fill(false);
    }
}

/// `x` if it is a finite number.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// A numeric node's value on `bar`, `None` when undefined.
fn number(node: &Node, bar: &Candle, values: &[Option<Outputs>]) -> Option<f64> {
    let x = match node {
        Node::Number(x) => *x,
        Node::Series(series) => match series {
            Series::Open => bar.open,
            Series::High => bar.high,
            Series::Low => bar.low,
            Series::Close => bar.close,
            Series::Volume => bar.volume,
        },
        Node::Indicator { slot, output } => values[*slot]?[*output],
        Node::Neg(inner) => -number(inner, bar, values)?,
        Node::Arith(op, left, right) => {
            let l = number(left, bar, values)?;
            let r = number(right, bar, values)?;
            match op {
                Arith::Add => l + r,
                Arith::Sub => l - r,
                Arith::Mul => l * r,
                Arith::Div if r == 0.0 => return None,
                Arith::Div => l / r,
            }
        }
        Node::Compare { .. } | Node::Logic(..) | Node::Not(_) => {
            unreachable!("Evaluator::new checked that numbers are numeric nodes")
        }
    };
    finite(x)
}

/// A condition node's value on `bar`. Evaluates every branch (no short-circuit) and moves each
/// crossing's history to this bar.
fn truth(node: &Node, bar: &Candle, values: &[Option<Outputs>], history: &mut [History]) -> Truth {
    match node {
        Node::Compare {
            op,
            left,
            right,
            history: slot,
        } => {
            let l = number(left, bar, values);
            let r = number(right, bar, values);
            let crossing = |was: History| match (was, l, r) {
                ((Some(pl), Some(pr)), Some(l), Some(r)) => Truth::from(match op {
                    Compare::CrossesAbove => pl < pr && l > r,
                    Compare::CrossesBelow => pl > pr && l < r,
                    Compare::RisesAbove => pl <= pr && l > r,
                    Compare::FallsBelow => pl >= pr && l < r,
                    _ => unreachable!("only crossings read their history"),
                }),
                _ => Truth::Undefined,
            };
            match op {
                Compare::CrossesAbove
                | Compare::CrossesBelow
                | Compare::RisesAbove
                | Compare::FallsBelow => {
                    let slot = slot.expect("Evaluator::new checked that crossings have history");
                    let was = std::mem::replace(&mut history[slot], (l, r));
                    crossing(was)
                }
                _ => match (l, r) {
                    (Some(l), Some(r)) => Truth::from(match op {
                        Compare::Lt => l < r,
                        Compare::Le => l <= r,
                        Compare::Gt => l > r,
                        Compare::Ge => l >= r,
                        Compare::Eq => l == r,
                        Compare::Ne => l != r,
                        Compare::CrossesAbove
                        | Compare::CrossesBelow
                        | Compare::RisesAbove
                        | Compare::FallsBelow => unreachable!("crossings are matched above"),
                    }),
                    _ => Truth::Undefined,
                },
            }
        }
        Node::Logic(op, left, right) => {
            // Both sides, always: a crossing on the right must see every bar.
            let l = truth(left, bar, values, history);
            let r = truth(right, bar, values, history);
            match op {
                Logic::And => l.and(r),
                Logic::Or => l.or(r),
            }
        }
        Node::Not(inner) => !truth(inner, bar, values, history),
        Node::Number(_)
        | Node::Series(_)
        | Node::Indicator { .. }
        | Node::Neg(_)
        | Node::Arith(..) => {
            unreachable!("Evaluator::new checked that conditions are condition nodes")
        }
    }
}

/// Checks that `node` is numeric and reads only slots in `outputs` (slots updated before it),
/// at an output they have.
fn check_number(node: &Node, outputs: &[usize]) -> Result<(), String> {
    match node {
        Node::Number(_) | Node::Series(_) => Ok(()),
        Node::Indicator { slot, output } => match outputs.get(*slot) {
            Some(count) if output < count => Ok(()),
            Some(count) => Err(format!("slot {slot} has {count} output(s), not {output}+1")),
            None => Err(format!("slot {slot} is read before it is updated")),
        },
        Node::Neg(inner) => check_number(inner, outputs),
        Node::Arith(_, left, right) => {
            check_number(left, outputs)?;
            check_number(right, outputs)
        }
        Node::Compare { .. } | Node::Logic(..) | Node::Not(_) => {
            Err("a condition where a number is expected".into())
        }
    }
}

/// Checks that `node` is a condition over `outputs`' slots, whose crossings each have a history
/// slot of their own (marked in `used`), and whose plain comparisons have none.
fn check_truth(node: &Node, outputs: &[usize], used: &mut [bool]) -> Result<(), String> {
    match node {
        Node::Compare {
            op,
            left,
            right,
            history,
        } => {
            check_number(left, outputs)?;
            check_number(right, outputs)?;
            match (op.is_crossing(), history) {
                (true, Some(slot)) => match used.get_mut(*slot) {
                    Some(taken) if !*taken => {
                        *taken = true;
                        Ok(())
                    }
                    Some(_) => Err(format!("history slot {slot} is shared by two crossings")),
                    None => Err(format!("history slot {slot} does not exist")),
                },
                (true, None) => Err("a crossing without a history slot".into()),
                (false, Some(_)) => Err("a comparison with a history slot".into()),
                (false, None) => Ok(()),
            }
        }
        Node::Logic(_, left, right) => {
            check_truth(left, outputs, used)?;
            check_truth(right, outputs, used)
        }
        Node::Not(inner) => check_truth(inner, outputs, used),
        Node::Number(_)
        | Node::Series(_)
        | Node::Indicator { .. }
        | Node::Neg(_)
        | Node::Arith(..) => Err("a number where a condition is expected".into()),
    }
}

#[cfg(test)]
mod tests;
