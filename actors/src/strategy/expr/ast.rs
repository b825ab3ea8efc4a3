//! The parsed form of a condition: a tree of typed nodes, each keeping where it was written.

use super::Pos;

/// A price series of the pair's bars.
#[derive(
    serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
pub enum Series {
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl Series {
    pub fn from_name(name: &str) -> Option<Series> {
        Some(match name {
            "open" => Series::Open,
            "high" => Series::High,
            "low" => Series::Low,
            "close" => Series::Close,
            "volume" => Series::Volume,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Series::Open => "open",
            Series::High => "high",
            Series::Low => "low",
            Series::Close => "close",
            Series::Volume => "volume",
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compare {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    /// Left was below right on the previous bar and is above it now (strictly, both times:
    /// as TA-Lib-style `crossover`s in backtesting.py, Freqtrade's `qtpylib.crossed_above` and
    /// backtrader's `CrossUp` read it).
    CrossesAbove,
    /// Left was above right on the previous bar and is below it now (strictly).
    CrossesBelow,
    /// Left was at or below right on the previous bar and is above it now: a rise from a
    /// touch counts (what `crosses_above` meant before charon 0.2).
    RisesAbove,
    /// Left was at or above right on the previous bar and is below it now.
    FallsBelow,
}

impl Compare {
    /// Whether the comparison reads the previous bar too (and needs a history slot).
    pub fn is_crossing(self) -> bool {
        matches!(
            self,
            Compare::CrossesAbove
                | Compare::CrossesBelow
                | Compare::RisesAbove
                | Compare::FallsBelow
        )
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Logic {
    And,
    Or,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(f64),
    Series(Series),
    /// `name(args)` or `name(args).output`; checked against the indicator catalogue.
    Indicator {
        name: String,
        args: Vec<Expr>,
        output: Option<String>,
    },
    Neg(Box<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Compare(Compare, Box<Expr>, Box<Expr>),
    Logic(Logic, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
}
