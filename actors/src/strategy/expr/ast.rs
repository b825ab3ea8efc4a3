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
    /// Left was at or below right on the previous bar and is above it now.
    CrossesAbove,
    /// Left was at or above right on the previous bar and is below it now.
    CrossesBelow,
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
