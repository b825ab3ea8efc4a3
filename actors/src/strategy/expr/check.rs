//! Type checking against the indicator catalogue, and compilation to a [`Condition`]: the tree
//! with every indicator call resolved to a slot (identical calls share one, so
//! `ema(close, 20)` used twice is computed once) and every crossing given a history slot.

use std::collections::HashMap;

use super::ast::{Arith, Compare, Expr, ExprKind, Logic, Series};
use super::{ExprError, Pos};

/// What an indicator parameter must be.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// A numeric expression, fed to the indicator bar by bar (`close`, `high - low`).
    Input,
    /// A whole number ≥ 1, written as a literal.
    Period,
    /// A positive number, written as a literal (Bollinger's width in standard deviations).
    Factor,
}

/// An indicator the language knows: its name, parameters and named outputs. Snapshots hold
/// it by name, found again in the [`CATALOGUE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub name: &'static str,
    pub params: &'static [(&'static str, Param)],
    /// Empty for single-valued indicators; otherwise one must be chosen with `.name`.
    pub outputs: &'static [&'static str],
}

impl serde::Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

impl<'de> serde::Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        CATALOGUE
            .iter()
            .find(|signature| signature.name == name)
            .copied()
            .ok_or_else(|| serde::de::Error::custom(format!("no indicator named {name}")))
    }
}

use Param::{Factor, Input, Period};

/// Every indicator a condition may call. The Pair instantiates the implementation for each.
pub const CATALOGUE: &[Signature] = &[
    Signature {
        name: "sma",
        params: &[("input", Input), ("period", Period)],
        outputs: &[],
    },
    Signature {
        name: "ema",
        params: &[("input", Input), ("period", Period)],
        outputs: &[],
    },
    Signature {
        name: "wma",
        params: &[("input", Input), ("period", Period)],
        outputs: &[],
    },
    Signature {
        name: "rsi",
        params: &[("input", Input), ("period", Period)],
        outputs: &[],
    },
    Signature {
        name: "roc",
        params: &[("input", Input), ("period", Period)],
        outputs: &[],
    },
    Signature {
        name: "bollinger",
        params: &[("input", Input), ("period", Period), ("width", Factor)],
        outputs: &["upper", "middle", "lower"],
    },
    Signature {
        name: "macd",
        params: &[
            ("input", Input),
            ("fast", Period),
            ("slow", Period),
            ("signal", Period),
        ],
        outputs: &["macd", "signal", "histogram"],
    },
    Signature {
        name: "atr",
        params: &[("period", Period)],
        outputs: &[],
    },
    Signature {
        name: "donchian",
        params: &[("period", Period)],
        outputs: &["upper", "middle", "lower"],
    },
    Signature {
        name: "stochastic",
        params: &[("k_period", Period), ("d_period", Period)],
        outputs: &["k", "d"],
    },
    Signature {
        name: "vwap",
        params: &[],
        outputs: &[],
    },
    Signature {
        name: "volume_sma",
        params: &[("period", Period)],
        outputs: &[],
    },
];

/// One indicator instance a condition needs.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct IndicatorCall {
    pub signature: Signature,
    /// The input series, for indicators that take one.
    pub input: Option<Node>,
    /// The literal parameters in signature order (periods as whole numbers).
    pub params: Vec<f64>,
}

/// A checked, compiled expression.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub enum Node {
    Number(f64),
    Series(Series),
    /// Output `output` (0 for single-valued) of indicator slot `slot`.
    Indicator {
        slot: usize,
        output: usize,
    },
    Neg(Box<Node>),
    Arith(Arith, Box<Node>, Box<Node>),
    /// `history` is the slot that keeps both sides' previous values, for crossings.
    Compare {
        op: Compare,
        left: Box<Node>,
        right: Box<Node>,
        history: Option<usize>,
    },
    Logic(Logic, Box<Node>, Box<Node>),
    Not(Box<Node>),
}

/// A condition ready to evaluate: its tree, its indicators, and how many crossings it tracks.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Condition {
    pub root: Node,
    pub indicators: Vec<IndicatorCall>,
    pub crossings: usize,
}

/// Several conditions compiled together (a template's long and short entry and exit rules):
/// one indicator slot table for all of them, so a call that two rules make is computed once,
/// and one numbering of crossings' history slots.
///
/// Slots are in the order their calls were first met, an indicator's input calls before the
/// indicator itself: updating the slots in order updates every input before its reader.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct CompiledRules {
    /// One tree per condition, in the order they were given.
    pub roots: Vec<Node>,
    pub indicators: Vec<IndicatorCall>,
    pub crossings: usize,
}

impl From<Condition> for CompiledRules {
    fn from(condition: Condition) -> Self {
        Self {
            roots: vec![condition.root],
            indicators: condition.indicators,
            crossings: condition.crossings,
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Number,
    Bool,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Number => "a number",
            Type::Bool => "true/false",
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Compiler {
    indicators: Vec<IndicatorCall>,
    slots: HashMap<String, usize>,
    crossings: usize,
}

/// Checks that `expr` is a condition (true/false) and compiles it.
pub fn compile(expr: &Expr) -> Result<Condition, ExprError> {
    let mut compiler = Compiler::default();
    let root = compiler.condition(expr)?;
    Ok(Condition {
        root,
        indicators: compiler.indicators,
        crossings: compiler.crossings,
    })
}

/// Checks and compiles several conditions into one slot table. The error names the index of
/// the first condition that fails.
pub fn compile_rules(exprs: &[&Expr]) -> Result<CompiledRules, (usize, ExprError)> {
    let mut compiler = Compiler::default();
    let roots = exprs
        .iter()
        .enumerate()
        .map(|(index, expr)| compiler.condition(expr).map_err(|e| (index, e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CompiledRules {
        roots,
        indicators: compiler.indicators,
        crossings: compiler.crossings,
    })
}

fn expect(ty: Type, wanted: Type, pos: Pos, what: &str) -> Result<(), ExprError> {
    if ty == wanted {
        Ok(())
    } else {
        Err(ExprError::new(
            pos,
            format!("{what} must be {}, not {}", wanted.name(), ty.name()),
        ))
    }
}

impl Compiler {
    /// Compiles `expr`, which must be true/false.
    fn condition(&mut self, expr: &Expr) -> Result<Node, ExprError> {
        let (root, ty) = self.node(expr)?;
        if ty != Type::Bool {
            return Err(ExprError::new(
                expr.pos,
                "a condition must be true or false: compare this value with something".into(),
            ));
        }
        Ok(root)
    }

    fn node(&mut self, expr: &Expr) -> Result<(Node, Type), ExprError> {
        let pos = expr.pos;
        Ok(match &expr.kind {
            ExprKind::Number(value) => (Node::Number(*value), Type::Number),
            ExprKind::Series(series) => (Node::Series(*series), Type::Number),
            ExprKind::Neg(inner) => {
                let (node, ty) = self.node(inner)?;
                expect(ty, Type::Number, inner.pos, "the operand of `-`")?;
                (Node::Neg(Box::new(node)), Type::Number)
            }
            ExprKind::Arith(op, left, right) => {
                let (l, lt) = self.node(left)?;
                let (r, rt) = self.node(right)?;
                expect(lt, Type::Number, left.pos, "arithmetic's left side")?;
                expect(rt, Type::Number, right.pos, "arithmetic's right side")?;
                (Node::Arith(*op, Box::new(l), Box::new(r)), Type::Number)
            }
            ExprKind::Compare(op, left, right) => {
                let (l, lt) = self.node(left)?;
                let (r, rt) = self.node(right)?;
                expect(lt, Type::Number, left.pos, "a comparison's left side")?;
                expect(rt, Type::Number, right.pos, "a comparison's right side")?;
                let history = op.is_crossing().then(|| {
                    self.crossings += 1;
                    self.crossings - 1
                });
                (
                    Node::Compare {
                        op: *op,
                        left: Box::new(l),
                        right: Box::new(r),
                        history,
                    },
                    Type::Bool,
                )
            }
            ExprKind::Logic(op, left, right) => {
                let (l, lt) = self.node(left)?;
                let (r, rt) = self.node(right)?;
                let word = if *op == Logic::And { "`and`" } else { "`or`" };
                expect(lt, Type::Bool, left.pos, &format!("{word}'s left side"))?;
                expect(rt, Type::Bool, right.pos, &format!("{word}'s right side"))?;
                (Node::Logic(*op, Box::new(l), Box::new(r)), Type::Bool)
            }
            ExprKind::Not(inner) => {
                let (node, ty) = self.node(inner)?;
                expect(ty, Type::Bool, inner.pos, "the operand of `not`")?;
                (Node::Not(Box::new(node)), Type::Bool)
            }
            ExprKind::Indicator { name, args, output } => {
                self.indicator(name, args, output.as_deref(), pos)?
            }
        })
    }

    fn indicator(
        &mut self,
        name: &str,
        args: &[Expr],
        output: Option<&str>,
        pos: Pos,
    ) -> Result<(Node, Type), ExprError> {
        let signature = CATALOGUE
            .iter()
            .find(|s| s.name == name)
            .copied()
            .ok_or_else(|| {
                let names: Vec<&str> = CATALOGUE.iter().map(|s| s.name).collect();
                ExprError::new(
                    pos,
                    format!("unknown indicator `{name}`; known: {}", names.join(", ")),
                )
            })?;
        if args.len() != signature.params.len() {
            let wanted: Vec<&str> = signature.params.iter().map(|(param, _)| *param).collect();
            return Err(ExprError::new(
                pos,
                format!(
                    "`{name}` takes {} argument(s) ({}), not {}",
                    wanted.len(),
                    wanted.join(", "),
                    args.len()
                ),
            ));
        }
        let mut input = None;
        let mut params = Vec::new();
        for (arg, (param, kind)) in args.iter().zip(signature.params) {
            match kind {
                Param::Input => {
                    let (node, ty) = self.node(arg)?;
                    expect(ty, Type::Number, arg.pos, &format!("`{name}`'s {param}"))?;
                    input = Some(node);
                }
                Param::Period | Param::Factor => {
                    let value = match arg.kind {
                        ExprKind::Number(value) => value,
                        _ => {
                            return Err(ExprError::new(
                                arg.pos,
                                format!("`{name}`'s {param} must be a number written out"),
                            ))
                        }
                    };
                    let whole = *kind == Param::Period;
                    if value <= 0.0 || (whole && value.fract() != 0.0) || !value.is_finite() {
                        let wanted = if whole {
                            "a whole number ≥ 1"
                        } else {
                            "a number > 0"
                        };
                        return Err(ExprError::new(
                            arg.pos,
                            format!("`{name}`'s {param} must be {wanted}, not {value}"),
                        ));
                    }
                    params.push(value);
                }
            }
        }
        if name == "macd" && params[0] >= params[1] {
            // args: input, fast, slow, signal.
            return Err(ExprError::new(
                args[1].pos,
                format!(
                    "`macd`'s fast period must be shorter than its slow period, not {} ≥ {}",
                    params[0], params[1]
                ),
            ));
        }
        let output = match (signature.outputs, output) {
            ([], None) => 0,
            ([], Some(field)) => {
                return Err(ExprError::new(
                    pos,
                    format!("`{name}` has one value; `.{field}` does not apply"),
                ))
            }
            (outputs, Some(field)) => {
                outputs.iter().position(|o| *o == field).ok_or_else(|| {
                    ExprError::new(
                        pos,
                        format!(
                            "`{name}` has no output `{field}`; it has {}",
                            outputs.join(", ")
                        ),
                    )
                })?
            }
            (outputs, None) => {
                return Err(ExprError::new(
                    pos,
                    format!(
                        "`{name}` has several outputs: choose one, e.g. `{name}(...).{}`",
                        outputs[0]
                    ),
                ))
            }
        };
        let key = format!("{name}|{input:?}|{params:?}");
        let slot = match self.slots.get(&key) {
            Some(&slot) => slot,
            None => {
                self.indicators.push(IndicatorCall {
                    signature,
                    input,
                    params,
                });
                self.slots.insert(key, self.indicators.len() - 1);
                self.indicators.len() - 1
            }
        };
        Ok((Node::Indicator { slot, output }, Type::Number))
    }
}
