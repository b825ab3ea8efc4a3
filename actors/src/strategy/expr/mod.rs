//! The condition language of strategy templates: entry and exit rules written as expressions
//! over prices and indicators, e.g.
//! `ema(close, 10) crosses_above ema(close, 20) and rsi(close, 14) < 70`.
//! Parsing reports the line and column within the expression; the config loader adds the
//! file's own position. See docs/STRATEGIES.md for the language.

pub mod ast;
pub mod check;
mod lexer;
mod parser;

use std::fmt;

pub use check::{Condition, IndicatorCall, Node, Param, Signature, CATALOGUE};

/// A position in a condition's text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// What is wrong with a condition, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {}, column {}: {message}", pos.line, pos.column)]
pub struct ExprError {
    pub pos: Pos,
    pub message: String,
}

impl ExprError {
    pub(crate) fn new(pos: Pos, message: String) -> Self {
        Self { pos, message }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Parses and checks a condition.
pub fn parse_condition(text: &str) -> Result<Condition, ExprError> {
    let tokens = lexer::tokenize(text)?;
    let end = end_of(text);
    let expr = parser::Parser::new(tokens, end).parse()?;
    check::compile(&expr)
}

/// The position just past the last character.
fn end_of(text: &str) -> Pos {
    let line = text.matches('\n').count() + 1;
    let column = text
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    Pos { line, column }
}

#[cfg(test)]
mod tests;
