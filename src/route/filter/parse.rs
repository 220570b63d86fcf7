//! Text to [`Expr`]: a tokenizer and a recursive descent, every error naming the term at
//! fault and what would be right.

use super::fields::{field_names, Field};
use super::{Expr, Term, DEPTH_MAX, TERMS_MAX, TEXT_MAX, VALUES_MAX, VALUE_MAX};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter: {at}: {message}")]
pub struct FilterError {
    /// The term or spot at fault, as typed (`at the end` past the last).
    pub at: String,
    pub message: String,
}

fn err(at: impl Into<String>, message: impl Into<String>) -> FilterError {
    FilterError {
        at: format!("`{}`", at.into()),
        message: message.into(),
    }
}

/// Whether `c` ends a bare value (so must be quoted inside one).
pub(super) fn ends_bare(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '(' | ')' | '"')
}

#[derive(Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Minus,
    Or,
    Term(Term),
}

/// The text of each token as typed, for errors.
struct Lexed {
    tokens: Vec<(Token, String)>,
}

fn lex(text: &str) -> Result<Lexed, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut tokens = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            '-' => Some(Token::Minus),
            _ => None,
        };
        if let Some(t) = single {
            tokens.push((t, c.to_string()));
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !ends_bare(chars[i]) && chars[i] != ':' {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if i >= chars.len() || chars[i] != ':' {
            let shown: String = chars[start..i.max(start + 1).min(chars.len())]
                .iter()
                .collect();
            let message = match word.as_str() {
                "OR" => {
                    tokens.push((Token::Or, word));
                    continue;
                }
                "AND" => continue,
                "or" | "and" => format!("write {} in capitals", word.to_uppercase()),
                "" => "a value needs a field before it, such as title:\"…\"".into(),
                _ => format!(
                    "a term needs a field ({}); did you mean title:{word}?",
                    field_names()
                ),
            };
            return Err(err(shown, message));
        }
        let Some(field) = Field::parse(&word.to_ascii_lowercase()) else {
            return Err(err(
                format!("{word}:"),
                format!("unknown field; fields are {}", field_names()),
            ));
        };
        i += 1; // the colon
        let mut values = Vec::new();
        loop {
            let (raw, next) = value(&chars, i).map_err(|m| err(format!("{word}:"), m))?;
            let shown: String = chars[start..next].iter().collect();
            if raw.is_empty() {
                return Err(err(shown, format!("a value is missing; {}", field.help())));
            }
            if raw.chars().count() > VALUE_MAX {
                return Err(err(
                    format!("{word}:…"),
                    format!("a value has at most {VALUE_MAX} characters"),
                ));
            }
            let v = field.value(&raw).map_err(|m| err(&shown, m))?;
            // As kept: lowercasing may lengthen a value (`İ` is two characters then).
            if v.chars().count() > VALUE_MAX {
                return Err(err(
                    format!("{word}:…"),
                    format!("a value has at most {VALUE_MAX} characters"),
                ));
            }
            values.push(v);
            if values.len() > VALUES_MAX {
                return Err(err(
                    format!("{word}:…"),
                    format!("a term has at most {VALUES_MAX} values"),
                ));
            }
            i = next;
            if i < chars.len() && chars[i] == ',' {
                i += 1;
                continue;
            }
            break;
        }
        let shown: String = chars[start..i].iter().collect();
        tokens.push((Token::Term(Term { field, values }), shown));
    }
    Ok(Lexed { tokens })
}

/// One value from `i`: quoted (with `\"` and `\\`) or bare; returns it and where it ends.
fn value(chars: &[char], mut i: usize) -> Result<(String, usize), String> {
    let mut out = String::new();
    if chars.get(i) == Some(&'"') {
        i += 1;
        loop {
            match chars.get(i) {
                None => return Err("a quote is not closed".into()),
                Some('"') => return Ok((out, i + 1)),
                Some('\\') if i + 1 < chars.len() => {
                    out.push(chars[i + 1]);
                    i += 2;
                }
                Some(c) => {
                    out.push(*c);
                    i += 1;
                }
            }
        }
    }
    while i < chars.len() && !ends_bare(chars[i]) {
        out.push(chars[i]);
        i += 1;
    }
    Ok((out, i))
}

/// Parses a filter; `None` for one with no terms (an empty text).
pub fn parse(text: &str) -> Result<Option<Expr>, FilterError> {
    if text.chars().count() > TEXT_MAX {
        return Err(FilterError {
            at: "the whole filter".into(),
            message: format!("a filter has at most {TEXT_MAX} characters"),
        });
    }
    let lexed = lex(text)?;
    let terms = lexed
        .tokens
        .iter()
        .filter(|(t, _)| matches!(t, Token::Term(_)))
        .count();
    if terms > TERMS_MAX {
        return Err(FilterError {
            at: "the whole filter".into(),
            message: format!("a filter has at most {TERMS_MAX} terms"),
        });
    }
    if lexed.tokens.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        tokens: lexed.tokens,
        at: 0,
        depth: 0,
    };
    let expr = p.any()?;
    match p.tokens.get(p.at) {
        // Kept as its canonical text, which must fit too (`a)b` is written `a) b`).
        None if expr.to_string().chars().count() > TEXT_MAX => Err(FilterError {
            at: "the whole filter".into(),
            message: format!("a filter has at most {TEXT_MAX} characters, written out in full"),
        }),
        None => Ok(Some(expr)),
        Some((Token::Close, _)) => Err(err(")", "this parenthesis closes nothing")),
        Some((_, shown)) => Err(err(shown.clone(), "unexpected here")),
    }
}

struct Parser {
    tokens: Vec<(Token, String)>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn shown(&self) -> String {
        match self.tokens.get(self.at) {
            Some((_, s)) => s.clone(),
            None => "at the end".into(),
        }
    }

    /// `all (OR all)*`
    fn any(&mut self) -> Result<Expr, FilterError> {
        let mut parts = vec![self.all()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            parts.push(self.all()?);
        }
        Ok(Expr::any(parts))
    }

    /// `unary+`, up to `OR`, `)` or the end.
    fn all(&mut self) -> Result<Expr, FilterError> {
        let mut parts = Vec::new();
        while !matches!(self.peek(), None | Some(Token::Or) | Some(Token::Close)) {
            parts.push(self.unary()?);
        }
        if parts.is_empty() {
            let what = match self.peek() {
                Some(Token::Or) => "OR needs a term on each side",
                Some(Token::Close) => "empty parentheses",
                _ => "a term is missing",
            };
            let at = match self.at {
                0 => self.shown(),
                n => self.tokens[n - 1].1.clone(),
            };
            return Err(err(at, what));
        }
        Ok(Expr::all(parts))
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        let deeper = |p: &mut Parser| {
            p.depth += 1;
            match p.depth > DEPTH_MAX {
                true => Err(err(
                    p.shown(),
                    format!("at most {DEPTH_MAX} parentheses and negations inside each other"),
                )),
                false => Ok(()),
            }
        };
        let shown = self.shown();
        match self.tokens.get_mut(self.at).map(|(t, _)| t) {
            Some(Token::Minus) => {
                self.at += 1;
                deeper(self)?;
                if self.peek().is_none() {
                    return Err(err("-", "a term must follow -"));
                }
                let e = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(e)))
            }
            Some(Token::Open) => {
                self.at += 1;
                deeper(self)?;
                let e = self.any()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(err("(", "this parenthesis is never closed"));
                }
                self.at += 1;
                self.depth -= 1;
                Ok(e)
            }
            Some(Token::Term(t)) => {
                let t = std::mem::replace(
                    t,
                    Term {
                        field: super::Field::Is,
                        values: vec![],
                    },
                );
                self.at += 1;
                Ok(Expr::Term(t))
            }
            _ => Err(err(shown, "a term is missing")),
        }
    }
}
