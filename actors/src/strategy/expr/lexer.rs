//! Tokens of the condition language, each with the line and column it starts at.

use super::{ExprError, Pos, TemplateParams};

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub enum Token {
    Number(f64),
    Ident(String),
    LParen,
    RParen,
    Comma,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    NotEq,
}

impl Token {
    pub fn describe(&self) -> String {
        match self {
            Token::Number(n) => format!("number {n}"),
            Token::Ident(name) => format!("`{name}`"),
            other => format!("`{}`", symbol(other)),
        }
    }
}

fn symbol(token: &Token) -> &'static str {
    match token {
        Token::LParen => "(",
        Token::RParen => ")",
        Token::Comma => ",",
        Token::Dot => ".",
        Token::Plus => "+",
        Token::Minus => "-",
        Token::Star => "*",
        Token::Slash => "/",
        Token::Lt => "<",
        Token::Le => "<=",
        Token::Gt => ">",
        Token::Ge => ">=",
        Token::EqEq => "==",
        Token::NotEq => "!=",
        Token::Number(_) | Token::Ident(_) => "",
    }
}

/// Splits `text` into tokens; the end of input is where the returned list stops. A parameter
/// reference `$name` becomes the number `params` gives it.
pub fn tokenize(text: &str, params: &TemplateParams) -> Result<Vec<(Token, Pos)>, ExprError> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut column) = (0, 1, 1);
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, column };
        let advance = |n: usize, column: &mut usize, i: &mut usize| {
            *i += n;
            *column += n;
        };
        match c {
            '\n' => {
                i += 1;
                line += 1;
                column = 1;
            }
            c if c.is_whitespace() => advance(1, &mut column, &mut i),
            '#' => {
                // A comment runs to the end of the line.
                while i < chars.len() && chars[i] != '\n' {
                    advance(1, &mut column, &mut i);
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == '_')
                {
                    i += 1;
                }
                let literal: String = chars[start..i].iter().filter(|&&c| c != '_').collect();
                column += i - start;
                let value = literal
                    .parse::<f64>()
                    .map_err(|_| ExprError::new(pos, format!("`{literal}` is not a number")))?;
                tokens.push((Token::Number(value), pos));
            }
            '$' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                column += i - start + 1;
                let name: String = chars[start..i].iter().collect();
                if name.is_empty() {
                    return Err(ExprError::new(
                        pos,
                        "`$` must be followed by a parameter's name, e.g. `$fast`".into(),
                    ));
                }
                let value = params.get(&name).ok_or_else(|| {
                    let known: Vec<String> = params.keys().map(|k| format!("${k}")).collect();
                    let known = if known.is_empty() {
                        "the template has no [params]".to_string()
                    } else {
                        format!("its [params] are {}", known.join(", "))
                    };
                    ExprError::new(pos, format!("unknown parameter `${name}`; {known}"))
                })?;
                tokens.push((Token::Number(*value), pos));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                column += i - start;
                tokens.push((Token::Ident(chars[start..i].iter().collect()), pos));
            }
            _ => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let (token, width) = match (c, two.as_str()) {
                    (_, "<=") => (Token::Le, 2),
                    (_, ">=") => (Token::Ge, 2),
                    (_, "==") => (Token::EqEq, 2),
                    (_, "!=") => (Token::NotEq, 2),
                    ('<', _) => (Token::Lt, 1),
                    ('>', _) => (Token::Gt, 1),
                    ('(', _) => (Token::LParen, 1),
                    (')', _) => (Token::RParen, 1),
                    (',', _) => (Token::Comma, 1),
                    ('.', _) => (Token::Dot, 1),
                    ('+', _) => (Token::Plus, 1),
                    ('-', _) => (Token::Minus, 1),
                    ('*', _) => (Token::Star, 1),
                    ('/', _) => (Token::Slash, 1),
                    ('=', _) => {
                        return Err(ExprError::new(
                            pos,
                            "`=` is not an operator; compare with `==`".into(),
                        ))
                    }
                    _ => return Err(ExprError::new(pos, format!("unexpected character `{c}`"))),
                };
                tokens.push((token, pos));
                advance(width, &mut column, &mut i);
            }
        }
    }
    Ok(tokens)
}
