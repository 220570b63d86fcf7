//! A filter against an event, in three values: what the event cannot tell yet (who did it
//! before the Hub API is asked, say) is `Unknown`, never a guess.

use super::{glob, Expr, Field, Filter, Term};
use crate::hub::event::{status_change, RefKind};
use crate::hub::{Action, Event, Scope};

/// The Hub's own bot accounts (PRODUCT.md), lowercase; `author:bot` matches them.
pub const KNOWN_BOTS: [&str; 3] = ["parquet-converter", "sfconvertbot", "librarian-bot"];

/// Who `author:bot` means: the known bots and those the operator adds (`hub.bots`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bots(Vec<String>);

impl Bots {
    pub fn new(extra: &[String]) -> Bots {
        let mut names: Vec<String> = KNOWN_BOTS.iter().map(|b| b.to_string()).collect();
        names.extend(extra.iter().map(|b| b.trim().to_lowercase()));
        names.sort();
        names.dedup();
        Bots(names)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|b| b.eq_ignore_ascii_case(name))
    }
}

impl Default for Bots {
    fn default() -> Self {
        Bots::new(&[])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Yes,
    No,
    /// The event does not tell (yet): the Hub API was not asked, or could not answer.
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::Yes => Truth::No,
            Truth::No => Truth::Yes,
            Truth::Unknown => Truth::Unknown,
        }
    }

    fn of(b: bool) -> Truth {
        match b {
            true => Truth::Yes,
            false => Truth::No,
        }
    }
}

impl Filter {
    pub fn eval(&self, event: &Event, bots: &Bots) -> Truth {
        self.expr.eval(event, bots)
    }

    /// The terms the event could not tell, as typed (for the delivery's note).
    pub fn unknown_terms(&self, event: &Event, bots: &Bots) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.expr.terms() {
            let shown = t.to_string();
            if t.eval(event, bots) == Truth::Unknown && !out.contains(&shown) {
                out.push(shown);
            }
        }
        out
    }

    /// The first term (outside negations and ORs, as typed) that the event fails, when
    /// one alone says why it was left out.
    pub fn failing_term(&self, event: &Event, bots: &Bots) -> String {
        let parts = match &self.expr {
            Expr::All(es) => es.iter().collect(),
            e => vec![e],
        };
        parts
            .into_iter()
            .find(|e| e.eval(event, bots) == Truth::No)
            .map(|e| match e {
                Expr::Any(_) => format!("({e})"),
                e => e.to_string(),
            })
            .unwrap_or_else(|| self.to_string())
    }
}

impl Expr {
    pub fn eval(&self, event: &Event, bots: &Bots) -> Truth {
        match self {
            Expr::Term(t) => t.eval(event, bots),
            Expr::Not(e) => e.eval(event, bots).not(),
            Expr::All(es) => {
                let mut out = Truth::Yes;
                for e in es {
                    match e.eval(event, bots) {
                        Truth::No => return Truth::No,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::Yes => {}
                    }
                }
                out
            }
            Expr::Any(es) => {
                let mut out = Truth::No;
                for e in es {
                    match e.eval(event, bots) {
                        Truth::Yes => return Truth::Yes,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::No => {}
                    }
                }
                out
            }
        }
    }
}

impl Term {
    /// Any of the values holds.
    pub fn eval(&self, event: &Event, bots: &Bots) -> Truth {
        let mut out = Truth::No;
        for v in &self.values {
            match value(self.field, v, event, bots) {
                Truth::Yes => return Truth::Yes,
                Truth::Unknown => out = Truth::Unknown,
                Truth::No => {}
            }
        }
        out
    }
}

fn under(event: &Event, scope: &str) -> bool {
    Scope::parse(scope).is_ok_and(|s| s.covers(&event.scope))
}

fn value(field: Field, v: &str, event: &Event, bots: &Bots) -> Truth {
    match field {
        Field::Is => is(v, event),
        Field::Action => Truth::of(event.action.as_str() == v),
        Field::Scope => Truth::of(under(event, v)),
        Field::Ref => Truth::of(event.refs.iter().any(|r| match v.starts_with("refs/") {
            true => glob::matches(v, &r.full),
            false => matches!(r.kind, RefKind::Branch | RefKind::Tag) && glob::matches(v, &r.name),
        })),
        Field::Author => {
            let Some(who) = event.facts.as_ref().and_then(|f| f.facts.actor.as_ref()) else {
                return Truth::Unknown;
            };
            let name = who.name.to_lowercase();
            Truth::of(match v {
                "bot" => bots.contains(&name),
                _ => glob::matches(v, &name),
            })
        }
        Field::Path | Field::Changed => files(field, v, event),
        Field::Title => match &event.discussion {
            Some(d) => Truth::of(has_words(&d.title.to_lowercase(), v)),
            None => Truth::No,
        },
    }
}

fn is(v: &str, event: &Event) -> Truth {
    let d = event.discussion.as_ref();
    let discussion_update = event.scope.as_str() == "discussion" && event.action == Action::Update;
    let status = |word: &str| {
        let Some(d) = d.filter(|_| discussion_update) else {
            return Truth::No;
        };
        let before = event.status_before.as_deref();
        // Reopened or not cannot be told from the status alone.
        if word == "reopened" && before.is_none() && d.status == "open" {
            return Truth::Unknown;
        }
        let said = status_change(&d.status, before);
        Truth::of(said == word || (word == "draft" && said == "marked as draft"))
    };
    let repo_level = event.scope.as_str() == "repo";
    match v {
        "push" => Truth::of(under(event, "repo.content")),
        "tag" => Truth::of(event.refs.iter().any(|r| r.kind == RefKind::Tag)),
        "branch" => Truth::of(event.refs.iter().any(|r| r.kind == RefKind::Branch)),
        "pr" => Truth::of(d.is_some_and(|d| d.is_pull_request)),
        "discussion" => Truth::of(d.is_some_and(|d| !d.is_pull_request)),
        "comment" => Truth::of(under(event, "discussion.comment")),
        "opened" => {
            Truth::of(event.scope.as_str() == "discussion" && event.action == Action::Create)
        }
        "closed" | "merged" | "reopened" | "draft" => status(v),
        "hidden" => Truth::of(event.comment.as_ref().is_some_and(|c| c.hidden)),
        "created" => Truth::of(repo_level && event.action == Action::Create),
        "deleted" => Truth::of(repo_level && event.action == Action::Delete),
        "moved" => Truth::of(event.action == Action::Move),
        "config" => Truth::of(under(event, "repo.config")),
        "private" => match event.repo.private {
            Some(p) => Truth::of(p),
            None => Truth::Unknown,
        },
        _ => Truth::No,
    }
}

/// `path:` and `changed:`, from the files the Hub API listed. Only pushes and new repos
/// change files.
fn files(field: Field, v: &str, event: &Event) -> Truth {
    let changes_files = under(event, "repo.content")
        || (event.scope.as_str() == "repo" && event.action == Action::Create);
    let listed = event.facts.as_ref().and_then(|f| f.facts.files.as_ref());
    let Some(files) = listed else {
        return match changes_files {
            true => Truth::Unknown,
            false => Truth::No,
        };
    };
    if field == Field::Changed {
        return Truth::of(files.groups.iter().any(|g| g.category == v));
    }
    let found = files
        .groups
        .iter()
        .any(|g| g.paths.iter().any(|p| glob::matches(v, p)));
    // Paths past those listed were counted, not named: absent from the list says nothing.
    let complete = !files.cut && files.groups.iter().all(|g| g.count == g.paths.len() as u64);
    match (found, complete) {
        (true, _) => Truth::Yes,
        (false, true) => Truth::No,
        (false, false) => Truth::Unknown,
    }
}

/// Whether `words` (lowercase) appears in `title` (lowercase) as whole words.
fn has_words(title: &str, words: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    title.match_indices(words).any(|(i, m)| {
        boundary(title[..i].chars().next_back()) && boundary(title[i + m.len()..].chars().next())
    })
}
