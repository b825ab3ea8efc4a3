//! Precedence-climbing parser. From loosest to tightest: `or`, `and`, `not`, comparisons
//! (`< <= > >= == != crosses_above crosses_below rises_above falls_below`, not chainable), `+ -`, `* /`, unary `-`,
//! then numbers, series, indicator calls (`name(args)` with an optional `.output`) and
//! parentheses.

use super::ast::{Arith, Compare, Expr, ExprKind, Logic, Series};
use super::lexer::Token;
use super::{ExprError, Pos};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Parser {
    tokens: Vec<(Token, Pos)>,
    at: usize,
    end: Pos,
}

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "crosses_above",
    "crosses_below",
    "rises_above",
    "falls_below",
];

impl Parser {
    pub fn new(tokens: Vec<(Token, Pos)>, end: Pos) -> Self {
        Self { tokens, at: 0, end }
    }

    /// Parses the whole input as one expression.
    pub fn parse(mut self) -> Result<Expr, ExprError> {
        if self.tokens.is_empty() {
            return Err(ExprError::new(self.end, "empty condition".into()));
        }
        let expr = self.or()?;
        match self.tokens.get(self.at) {
            None => Ok(expr),
            Some((token, pos)) => Err(ExprError::new(
                *pos,
                format!(
                    "expected an operator or the end, found {}",
                    token.describe()
                ),
            )),
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(token, _)| token)
    }

    fn pos(&self) -> Pos {
        self.tokens.get(self.at).map_or(self.end, |(_, pos)| *pos)
    }

    fn next(&mut self) -> Option<(Token, Pos)> {
        let item = self.tokens.get(self.at).cloned();
        self.at += usize::from(item.is_some());
        item
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(name)) if name == word)
    }

    fn expect(&mut self, wanted: Token, context: &str) -> Result<Pos, ExprError> {
        match self.next() {
            Some((token, pos)) if token == wanted => Ok(pos),
            Some((token, pos)) => Err(ExprError::new(
                pos,
                format!(
                    "expected {} {context}, found {}",
                    wanted.describe(),
                    token.describe()
                ),
            )),
            None => Err(ExprError::new(
                self.end,
                format!("expected {} {context}, found the end", wanted.describe()),
            )),
        }
    }

    fn binary(kind: ExprKind, pos: Pos) -> Expr {
        Expr { kind, pos }
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            let pos = self.pos();
            self.at += 1;
            let right = self.and()?;
            left = Self::binary(
                ExprKind::Logic(Logic::Or, Box::new(left), Box::new(right)),
                pos,
            );
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            let pos = self.pos();
            self.at += 1;
            let right = self.not()?;
            left = Self::binary(
                ExprKind::Logic(Logic::And, Box::new(left), Box::new(right)),
                pos,
            );
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ExprError> {
        if self.keyword("not") {
            let pos = self.pos();
            self.at += 1;
            let inner = self.not()?;
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                pos,
            });
        }
        self.comparison()
    }

    fn compare_op(&self) -> Option<Compare> {
        Some(match self.peek()? {
            Token::Lt => Compare::Lt,
            Token::Le => Compare::Le,
            Token::Gt => Compare::Gt,
            Token::Ge => Compare::Ge,
            Token::EqEq => Compare::Eq,
            Token::NotEq => Compare::Ne,
            Token::Ident(word) if word == "crosses_above" => Compare::CrossesAbove,
            Token::Ident(word) if word == "crosses_below" => Compare::CrossesBelow,
            Token::Ident(word) if word == "rises_above" => Compare::RisesAbove,
            Token::Ident(word) if word == "falls_below" => Compare::FallsBelow,
            _ => return None,
        })
    }

    fn comparison(&mut self) -> Result<Expr, ExprError> {
        let left = self.sum()?;
        let Some(op) = self.compare_op() else {
            return Ok(left);
        };
        let pos = self.pos();
        self.at += 1;
        let right = self.sum()?;
        if self.compare_op().is_some() {
            return Err(ExprError::new(
                self.pos(),
                "comparisons do not chain: write `a < b and b < c`".into(),
            ));
        }
        Ok(Self::binary(
            ExprKind::Compare(op, Box::new(left), Box::new(right)),
            pos,
        ))
    }

    fn sum(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.product()?;
        while let Some(op) = match self.peek() {
            Some(Token::Plus) => Some(Arith::Add),
            Some(Token::Minus) => Some(Arith::Sub),
            _ => None,
        } {
            let pos = self.pos();
            self.at += 1;
            let right = self.product()?;
            left = Self::binary(ExprKind::Arith(op, Box::new(left), Box::new(right)), pos);
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.unary()?;
        while let Some(op) = match self.peek() {
            Some(Token::Star) => Some(Arith::Mul),
            Some(Token::Slash) => Some(Arith::Div),
            _ => None,
        } {
            let pos = self.pos();
            self.at += 1;
            let right = self.unary()?;
            left = Self::binary(ExprKind::Arith(op, Box::new(left), Box::new(right)), pos);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.peek() == Some(&Token::Minus) {
            let pos = self.pos();
            self.at += 1;
            let inner = self.unary()?;
            return Ok(Expr {
                kind: ExprKind::Neg(Box::new(inner)),
                pos,
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let Some((token, pos)) = self.next() else {
            return Err(ExprError::new(
                self.end,
                "expected a value, found the end".into(),
            ));
        };
        match token {
            Token::Number(value) => Ok(Expr {
                kind: ExprKind::Number(value),
                pos,
            }),
            Token::LParen => {
                let inner = self.or()?;
                self.expect(Token::RParen, "to close the parenthesis")?;
                Ok(inner)
            }
            Token::Ident(name) if KEYWORDS.contains(&name.as_str()) => Err(ExprError::new(
                pos,
                format!("expected a value, found the keyword `{name}`"),
            )),
            Token::Ident(name) if self.peek() == Some(&Token::LParen) => self.call(name, pos),
            Token::Ident(name) => match Series::from_name(&name) {
                Some(series) => Ok(Expr {
                    kind: ExprKind::Series(series),
                    pos,
                }),
                None => Err(ExprError::new(
                    pos,
                    format!(
                        "unknown name `{name}`; the series are open, high, low, close and volume"
                    ),
                )),
            },
            other => Err(ExprError::new(
                pos,
                format!("expected a value, found {}", other.describe()),
            )),
        }
    }

    fn call(&mut self, name: String, pos: Pos) -> Result<Expr, ExprError> {
        self.expect(Token::LParen, "after the indicator name")?;
        let mut args = Vec::new();
        if self.peek() != Some(&Token::RParen) {
            loop {
                args.push(self.or()?);
                if self.peek() == Some(&Token::Comma) {
                    self.at += 1;
                } else {
                    break;
                }
            }
        }
        self.expect(Token::RParen, &format!("to close `{name}(`"))?;
        let output = if self.peek() == Some(&Token::Dot) {
            self.at += 1;
            match self.next() {
                Some((Token::Ident(field), _)) => Some(field),
                Some((token, at)) => {
                    return Err(ExprError::new(
                        at,
                        format!(
                            "expected an output name after `.`, found {}",
                            token.describe()
                        ),
                    ))
                }
                None => {
                    return Err(ExprError::new(
                        self.end,
                        "expected an output name after `.`".into(),
                    ))
                }
            }
        } else {
            None
        };
        Ok(Expr {
            kind: ExprKind::Indicator { name, args, output },
            pos,
        })
    }
}
