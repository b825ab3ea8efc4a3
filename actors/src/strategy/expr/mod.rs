//! The condition language of strategy templates: entry and exit rules written as expressions
//! over prices and indicators, e.g.
//! `ema(close, 10) crosses_above ema(close, 20) and rsi(close, 14) < 70`.
//! Parsing reports the line and column within the expression; the config loader adds the
//! file's own position. See docs/STRATEGIES.md for the language.

pub mod ast;
pub mod check;
mod lexer;
mod parser;

use std::collections::BTreeMap;
use std::fmt;

pub use check::{CompiledRules, Condition, IndicatorCall, Node, Param, Signature, CATALOGUE};

/// A position in a condition's text, 1-based.
#[derive(
    serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// A template's named numbers (`[params]`), which its conditions use as `$name`: one template
/// can then be run (or swept) with other periods and thresholds without editing its rules.
pub type TemplateParams = BTreeMap<String, f64>;

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

/// Parses and checks a condition that uses no parameters.
pub fn parse_condition(text: &str) -> Result<Condition, ExprError> {
    parse_condition_with(text, &TemplateParams::new())
}

/// Parses and checks a condition, `$name` standing for `params[name]`.
pub fn parse_condition_with(text: &str, params: &TemplateParams) -> Result<Condition, ExprError> {
    check::compile(&parse(text, params)?)
}

/// Parses and checks several conditions (a template's rules) into one slot table, so an
/// indicator call that several rules make is computed once. The error carries the index in
/// `texts` of the first condition that fails.
pub fn parse_rules(texts: &[&str]) -> Result<CompiledRules, (usize, ExprError)> {
    parse_rules_with(texts, &TemplateParams::new())
}

/// [`parse_rules`] with `$name` standing for `params[name]`.
pub fn parse_rules_with(
    texts: &[&str],
    params: &TemplateParams,
) -> Result<CompiledRules, (usize, ExprError)> {
    let mut exprs = Vec::with_capacity(texts.len());
    for (index, text) in texts.iter().enumerate() {
        match parse(text, params) {
            Ok(expr) => exprs.push(expr),
            Err(error) => {
                // Report the first condition that fails, checking included.
                let earlier: Vec<&ast::Expr> = exprs.iter().collect();
                check::compile_rules(&earlier)?;
                return Err((index, error));
            }
        }
    }
    let exprs: Vec<&ast::Expr> = exprs.iter().collect();
    check::compile_rules(&exprs)
}

/// Lexes and parses `text`, without checking it.
fn parse(text: &str, params: &TemplateParams) -> Result<ast::Expr, ExprError> {
    let tokens = lexer::tokenize(text, params)?;
    let end = end_of(text);
    parser::Parser::new(tokens, end).parse()
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
