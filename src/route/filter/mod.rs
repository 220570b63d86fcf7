//! The filter language of subscriptions, after GitHub's search box: `is:pr is:merged`,
//! `ref:main -author:bot`, `(changed:weights OR path:*.gguf) -is:draft`. One parser serves
//! the CLI, Discord and Slack, so that one text selects the same events everywhere.
//!
//! Terms separated by spaces must all hold; `-` negates; `a,b` is either value; `OR`
//! (capitals) and parentheses group. A filter is kept as its canonical text (what
//! [`Filter`]'s `Display` prints), which parses back to the same filter.

mod eval;
mod fields;
mod glob;
mod look;
mod parse;

pub use eval::Truth;
pub use fields::Field;
pub use look::{Bots, Look, KNOWN_BOTS, WORK_MAX};
pub use parse::FilterError;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// Characters a filter may have, at most.
pub const TEXT_MAX: usize = 500;
/// Terms in one filter, at most.
pub const TERMS_MAX: usize = 32;
/// Values in one term (`is:pr,discussion`), at most.
pub const VALUES_MAX: usize = 20;
/// Characters of one value, at most.
pub const VALUE_MAX: usize = 100;
/// Parentheses and negations nested, at most.
pub const DEPTH_MAX: usize = 8;

/// One field and the values of which any may hold: `is:pr,discussion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub field: Field,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Term(Term),
    Not(Box<Expr>),
    /// Every one holds (at least two, none of them an `All`).
    All(Vec<Expr>),
    /// Any one holds (at least two, none of them an `Any`).
    Any(Vec<Expr>),
}

impl Expr {
    /// Every part holds: nested lists are flattened and a single part is itself.
    pub fn all(parts: Vec<Expr>) -> Expr {
        Self::joined(parts, true)
    }

    /// Any part holds, flattened the same way.
    pub fn any(parts: Vec<Expr>) -> Expr {
        Self::joined(parts, false)
    }

    fn joined(parts: Vec<Expr>, all: bool) -> Expr {
        let mut flat = Vec::with_capacity(parts.len());
        for p in parts {
            match (p, all) {
                (Expr::All(inner), true) | (Expr::Any(inner), false) => flat.extend(inner),
                (p, _) => flat.push(p),
            }
        }
        match (flat.len(), all) {
            (1, _) => flat.pop().expect("one part"),
            (_, true) => Expr::All(flat),
            (_, false) => Expr::Any(flat),
        }
    }

    /// Every term, in order.
    pub fn terms(&self) -> Vec<&Term> {
        match self {
            Expr::Term(t) => vec![t],
            Expr::Not(e) => e.terms(),
            Expr::All(es) | Expr::Any(es) => es.iter().flat_map(Expr::terms).collect(),
        }
    }
}

/// A parsed filter. Compared and stored by its canonical text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub expr: Expr,
}

impl Filter {
    /// Parses and validates a filter; `Ok(None)` for an empty text (no filter).
    pub fn parse(text: &str) -> Result<Option<Filter>, FilterError> {
        parse::parse(text).map(|e| e.map(|expr| Filter { expr }))
    }

    /// Like [`Filter::parse`], from a cache of filters already parsed: routing reads the
    /// candidates' filters at every lookup, and a parse costs microseconds.
    pub fn parse_shared(text: &str) -> Result<Option<Arc<Filter>>, FilterError> {
        /// Texts kept at most; past it the cache starts again.
        const KEPT: usize = 4096;
        static PARSED: OnceLock<Mutex<HashMap<String, Arc<Filter>>>> = OnceLock::new();
        if text.trim().is_empty() {
            return Ok(None);
        }
        let cache = PARSED.get_or_init(Mutex::default);
        if let Some(f) = cache.lock().expect("not poisoned").get(text) {
            return Ok(Some(f.clone()));
        }
        let Some(parsed) = Filter::parse(text)?.map(Arc::new) else {
            return Ok(None);
        };
        let mut cache = cache.lock().expect("not poisoned");
        if cache.len() >= KEPT {
            cache.clear();
        }
        cache.insert(text.to_string(), parsed.clone());
        Ok(Some(parsed))
    }

    /// The fields it uses that only the Hub API can tell (`author:`, `path:`, `changed:`).
    pub fn needs_hub_api(&self) -> Vec<Field> {
        let mut out: Vec<Field> = Vec::new();
        for t in self.expr.terms() {
            if t.field.needs_hub_api() && !out.contains(&t.field) {
                out.push(t.field);
            }
        }
        out
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.field.as_str())?;
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write_value(f, v)?;
        }
        Ok(())
    }
}

/// A value as typed: bare when it can be, else in double quotes with `"` and `\` escaped.
fn write_value(f: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    let bare = !v.is_empty() && !v.chars().any(parse::ends_bare) && !v.starts_with('"');
    if bare {
        return f.write_str(v);
    }
    f.write_str("\"")?;
    for c in v.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Term(t) => write!(f, "{t}"),
            Expr::Not(e) => match **e {
                Expr::All(_) | Expr::Any(_) => write!(f, "-({e})"),
                _ => write!(f, "-{e}"),
            },
            Expr::All(es) => {
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match e {
                        // OR binds looser than the space.
                        Expr::Any(_) => write!(f, "({e})")?,
                        _ => write!(f, "{e}")?,
                    }
                }
                Ok(())
            }
            Expr::Any(es) => {
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
