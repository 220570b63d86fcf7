//! A filter against an event, in three values: what the event cannot tell yet (who did it
//! before the Hub API is asked, say) is `Unknown`, never a guess.

use super::look::{Look, Work};
use super::{glob, Expr, Field, Filter, Term};
use crate::hub::event::{status_change, RefKind};
use crate::hub::{Action, Event};

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

/// Characters of a title its words are looked for in, at most.
const TITLE_READ: usize = 1024;

impl Filter {
    pub fn eval(&self, event: &Event, look: &Look) -> Truth {
        self.expr.eval(event, look)
    }

    /// The terms the event could not tell, as typed (for the delivery's note).
    pub fn unknown_terms(&self, event: &Event, look: &Look) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.expr.terms() {
            let shown = t.to_string();
            if t.eval(event, &look.fresh()) == Truth::Unknown && !out.contains(&shown) {
                out.push(shown);
            }
        }
        out
    }

    /// The first term (outside negations and ORs, as typed) that the event fails, when
    /// one alone says why it was left out.
    pub fn failing_term(&self, event: &Event, look: &Look) -> String {
        let parts = match &self.expr {
            Expr::All(es) => es.iter().collect(),
            e => vec![e],
        };
        parts
            .into_iter()
            .find(|e| e.eval(event, look) == Truth::No)
            .map(|e| match e {
                Expr::Any(_) => format!("({e})"),
                e => e.to_string(),
            })
            .unwrap_or_else(|| self.to_string())
    }
}

impl Expr {
    fn eval(&self, event: &Event, look: &Look) -> Truth {
        match self {
            Expr::Term(t) => t.eval(event, look),
            Expr::Not(e) => e.eval(event, look).not(),
            Expr::All(es) => all(es.iter().map(|e| e.eval(event, look))),
            Expr::Any(es) => any(es.iter().map(|e| e.eval(event, look))),
        }
    }
}

impl Term {
    /// Any of the values holds.
    fn eval(&self, event: &Event, look: &Look) -> Truth {
        any(self
            .values
            .iter()
            .map(|v| value(self.field, v, event, look)))
    }
}

/// Yes once one is (the rest are not evaluated); else Unknown if one is; else No.
fn any(truths: impl Iterator<Item = Truth>) -> Truth {
    let mut out = Truth::No;
    for t in truths {
        match t {
            Truth::Yes => return Truth::Yes,
            Truth::Unknown => out = Truth::Unknown,
            Truth::No => {}
        }
    }
    out
}

/// No once one is; else Unknown if one is; else Yes.
fn all(truths: impl Iterator<Item = Truth>) -> Truth {
    any(truths.map(Truth::not)).not()
}

fn under(event: &Event, scope: &str) -> bool {
    event.scope.is_under(scope)
}

/// A match within the work left; Unknown past it.
fn found(m: Option<bool>) -> Truth {
    m.map_or(Truth::Unknown, Truth::of)
}

fn value(field: Field, v: &str, event: &Event, look: &Look) -> Truth {
    let work = &look.work;
    match field {
        Field::Is => is(v, event, look),
        Field::Action => Truth::of(event.action.as_str() == v),
        Field::Scope => Truth::of(under(event, v)),
        Field::Ref => any(event.refs.iter().map(|r| {
            found(match v.starts_with("refs/") {
                true => glob::matches(v, &r.full, work),
                false if matches!(r.kind, RefKind::Branch | RefKind::Tag) => {
                    glob::matches(v, &r.name, work)
                }
                false => Some(false),
            })
        })),
        Field::Author => {
            let Some(who) = event.facts.as_ref().and_then(|f| f.facts.actor.as_ref()) else {
                return Truth::Unknown;
            };
            let name = who.name.to_lowercase();
            match v {
                "bot" => Truth::of(look.bots.contains(&name)),
                _ => found(glob::matches(v, &name, work)),
            }
        }
        Field::Path | Field::Changed => files(field, v, event, work),
        Field::Title => match &event.discussion {
            Some(d) => {
                let title = cut_at(&d.title, TITLE_READ);
                if !work.take(title.len()) {
                    return Truth::Unknown;
                }
                match (
                    has_words(&title.to_lowercase(), v),
                    title.len() < d.title.len(),
                ) {
                    (true, _) => Truth::Yes,
                    (false, false) => Truth::No,
                    // The words may be past what was read.
                    (false, true) => Truth::Unknown,
                }
            }
            None => Truth::No,
        },
    }
}

fn cut_at(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn is(v: &str, event: &Event, look: &Look) -> Truth {
    let d = event.discussion.as_ref();
    let discussion_update = event.scope.as_str() == "discussion" && event.action == Action::Update;
    let status = |word: &str| {
        let Some(d) = d.filter(|_| discussion_update) else {
            return Truth::No;
        };
        let before = event.status_before.as_deref();
        // What an update did needs the status before it, looked for when its message is
        // made; until then it is not known (an edit of a closed PR is no closing). Once
        // looked for in vain, the status tells a close or a merge as the message does, but
        // not a reopening, which never is a guess.
        if before.is_none() && (!look.settled || word == "reopened") {
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
fn files(field: Field, v: &str, event: &Event, work: &Work) -> Truth {
    let changes_files = under(event, "repo.content")
        || (event.scope.as_str() == "repo" && event.action == Action::Create);
    let listed = event.facts.as_ref().and_then(|f| f.facts.files.as_ref());
    let Some(files) = listed else {
        return match changes_files {
            true => Truth::Unknown,
            false => Truth::No,
        };
    };
    // A list cut short says nothing of what is missing from it.
    if field == Field::Changed {
        return match (files.groups.iter().any(|g| g.category == v), files.cut) {
            (true, _) => Truth::Yes,
            (false, false) => Truth::No,
            (false, true) => Truth::Unknown,
        };
    }
    let paths = files.groups.iter().flat_map(|g| &g.paths);
    let out = any(paths.map(|p| found(glob::matches(v, p, work))));
    // Paths past those listed were counted, not named: absent from the list says nothing.
    let complete = !files.cut && files.groups.iter().all(|g| g.count == g.paths.len() as u64);
    match (out, complete) {
        (Truth::No, false) => Truth::Unknown,
        (out, _) => out,
    }
}

/// Whether `words` (lowercase) appears in `title` (lowercase) as whole words.
fn has_words(title: &str, words: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    title.match_indices(words).any(|(i, m)| {
        boundary(title[..i].chars().next_back()) && boundary(title[i + m.len()..].chars().next())
    })
}
