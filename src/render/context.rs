//! What templates see: the event, flattened into plain words and ready-made links.
//! Every variable is documented in templates/README.md.

use crate::hub::api::facts::Facts;
use crate::hub::api::files::{human, Files};
use crate::hub::event::{status_change, RefChange, RefKind, RefUpdate};
use crate::hub::repo::repo_url;
use crate::hub::{Action, Event, Scope};
use serde::Serialize;
use serde_json::Value;

/// The most items of a list a template sees (`ref_count` still counts them all).
pub const LIST_CAP: usize = 50;
/// The longest text from the Hub a template sees, in characters: more than any message
/// holds, and it bounds the work a template can do with it.
pub const TEXT_CAP: usize = 4096;

/// Hub text as a template sees it: at most [`TEXT_CAP`] characters.
fn clip(s: &str) -> String {
    match s.char_indices().nth(TEXT_CAP) {
        Some((at, _)) => s[..at].to_string(),
        None => s.to_string(),
    }
}

pub fn short_sha(sha: &str) -> String {
    sha.chars().take(7).collect()
}

/// What a template sees: every field here is a variable in templates/README.md, and a
/// test holds the two to each other.
#[derive(Debug, Serialize)]
pub struct Context {
    pub action: String,
    pub scope: String,
    pub scope_known: bool,
    pub format: &'static str,
    /// The main link: the comment, the discussion, the pushed commit, the new address, or
    /// the repo.
    pub url: String,
    pub repo: Repo,
    pub moved_to: Option<Moved>,
    pub discussion: Option<Discussion>,
    pub comment: Option<Comment>,
    pub refs: Vec<Ref>,
    pub ref_count: usize,
    /// Refs not in `refs` (past the 50 a template sees).
    pub refs_more: usize,
    pub single_push: bool,
    pub config: Option<Config>,
    /// Who did it, when the Hub's API says.
    pub actor: Option<Person>,
    /// The commits the push added to its main ref (the updated branch), newest first.
    pub commits: Vec<CommitLine>,
    /// How many it added, when known.
    pub commits_added: Option<u64>,
    /// How many of those are not in `commits`.
    pub commits_more: u64,
    pub files: Vec<FileGroup>,
    pub files_summary: Option<String>,
    /// Pushes to the branch that never reached herald, when it knows of some.
    pub missed: Option<Missed>,
}

#[derive(Debug, Serialize)]
pub struct Missed {
    /// Where the last push herald saw left the branch; missing when that push deleted it.
    pub since: Option<String>,
    pub since_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Person {
    pub name: String,
    pub fullname: Option<String>,
    pub url: String,
    pub avatar_url: Option<String>,
}

impl From<&crate::hub::api::Person> for Person {
    fn from(p: &crate::hub::api::Person) -> Person {
        Person {
            name: clip(&p.name),
            fullname: p.fullname.as_deref().map(clip),
            url: p.url(),
            avatar_url: p.avatar_url.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CommitLine {
    pub short: String,
    pub title: String,
    pub author: Option<String>,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct FileGroup {
    pub category: String,
    pub label: String,
    pub count: u64,
    pub size: Option<String>,
    pub paths: Vec<String>,
    pub more: u64,
}

#[derive(Debug, Serialize)]
pub struct Repo {
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub noun: String,
    pub name: String,
    pub url: String,
    pub private: Option<bool>,
    /// `dataset` or `Space`: said before the name wherever a reader could take the repo
    /// for a model; missing for models.
    pub type_word: Option<String>,
    pub head: Option<String>,
    pub head_url: Option<String>,
    pub owner_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Moved {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct Discussion {
    pub num: u64,
    pub title: String,
    pub status: String,
    pub is_pull_request: bool,
    pub kind: &'static str,
    #[serde(rename = "Kind")]
    pub kind_capitalized: &'static str,
    pub short: &'static str,
    pub url: String,
    pub base: Option<String>,
    pub merge_commit: Option<String>,
    pub author_id: Option<String>,
    pub author: Option<Person>,
    /// The status before this event, when herald knows it.
    pub previous_status: Option<String>,
    /// What an update did, in words: `merged`, `closed`, `marked as draft`, `reopened`
    /// (only when it was closed or merged before), `ready for review` (a draft before), or
    /// `updated` (all herald can say).
    pub change: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Comment {
    pub content: Option<String>,
    pub hidden: bool,
    pub url: String,
    pub author_id: Option<String>,
    pub author: Option<Person>,
}

#[derive(Debug, Serialize)]
pub struct Ref {
    #[serde(rename = "ref")]
    pub full: String,
    pub name: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub change: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
    /// The old commit, linked.
    pub old_url: Option<String>,
    pub commit_url: Option<String>,
    /// The new head's title, when the Hub's API says.
    pub title: Option<String>,
    /// The ref was rewritten: its old commit is not in its new history.
    pub forced: bool,
}

#[derive(Debug, Serialize)]
pub struct Config {
    pub private: Option<bool>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Serialize)]
pub struct Change {
    pub key: String,
    pub value: String,
}

/// The context for rendering `event` with the template of `template_scope` (the event's
/// scope or an ancestor; from an ancestor the event is seen as an `update`).
pub fn build(event: &Event, template_scope: &Scope) -> Context {
    let action = event
        .scope
        .seen_from(&event.action, template_scope)
        .unwrap_or(Action::Update);
    let none = Facts::default();
    let facts = event.facts.as_ref().map_or(&none, |f| &f.facts);
    let said = facts.discussion.as_ref();
    let repo_link = event.repo.url();
    let noun = match event.repo.kind.as_str() {
        "space" => "Space".to_string(),
        other => other.to_string(),
    };
    let type_word = (!event.repo.kind.is_model()).then(|| noun.clone());
    let refs: Vec<Ref> = event
        .refs
        .iter()
        .take(LIST_CAP)
        .map(|r| ref_value(&repo_link, r, facts))
        .collect();
    let refs_len = refs.len();
    let single_push = matches!(event.refs.as_slice(), [r] if r.kind == RefKind::Branch && r.change == RefChange::Updated);
    let discussion = event.discussion.as_ref().map(|d| {
        let (kind, kind_capitalized, short) = if d.is_pull_request {
            ("pull request", "Pull request", "PR")
        } else {
            ("discussion", "Discussion", "discussion")
        };
        Discussion {
            num: d.num,
            title: clip(&d.title),
            status: d.status.clone(),
            is_pull_request: d.is_pull_request,
            kind,
            kind_capitalized,
            short,
            url: format!("{repo_link}/discussions/{}", d.num),
            base: d.base.as_deref().map(clip),
            merge_commit: d.merge_commit.as_deref().map(short_sha),
            author_id: d.author_id.clone(),
            author: said.and_then(|f| f.author.as_ref()).map(Person::from),
            previous_status: event.status_before.as_deref().map(clip),
            change: status_change(&d.status, event.status_before.as_deref()),
        }
    });
    let comment = event.comment.as_ref().map(|c| {
        let base = discussion.as_ref().map_or(&repo_link, |d| &d.url);
        Comment {
            content: c.content.as_deref().map(clip),
            hidden: c.hidden,
            url: if c.id.is_empty() {
                base.to_string()
            } else {
                format!("{base}#{}", c.id)
            },
            author_id: c.author_id.clone(),
            author: said
                .and_then(|f| f.comment_author.as_ref())
                .map(Person::from),
        }
    });
    let moved_to = event.moved_to.as_ref().map(|n| Moved {
        name: n.as_str().to_string(),
        url: repo_url(&event.repo.kind, n),
    });
    let config = event.config.as_ref().map(|c| Config {
        private: c.get("private").and_then(Value::as_bool),
        changes: c
            .iter()
            .take(LIST_CAP)
            .map(|(k, v)| Change {
                key: clip(k),
                value: clip(&plain(v)),
            })
            .collect(),
    });
    let on_comment = Scope::parse("discussion.comment").is_ok_and(|c| c.covers(&event.scope));
    let url = comment
        .as_ref()
        .filter(|_| on_comment)
        .map(|c| c.url.clone())
        .or_else(|| discussion.as_ref().map(|d| d.url.clone()))
        .or_else(|| single_push.then(|| refs[0].commit_url.clone().unwrap_or_default()))
        .or_else(|| moved_to.as_ref().map(|m| m.url.clone()))
        .unwrap_or_else(|| repo_link.clone());
    let main = event.main_ref().and_then(|r| facts.history(&r.full));
    let commits: Vec<CommitLine> = main
        .filter(|h| !h.forced)
        .map(|h| {
            h.commits
                .iter()
                .map(|c| commit_line(&repo_link, c))
                .collect()
        })
        .unwrap_or_default();
    let commits_added = main.and_then(|h| h.added);
    Context {
        action: action.as_str().to_string(),
        scope: event.scope.as_str().to_string(),
        scope_known: event.scope.is_known(),
        format: event.format.as_str(),
        url,
        repo: Repo {
            kind: event.repo.kind.as_str().to_string(),
            label: event.repo.kind.label(),
            noun,
            name: event.repo.name.as_str().to_string(),
            url: repo_link.clone(),
            private: event.repo.private,
            type_word,
            head: event.repo.head_sha.as_deref().map(short_sha),
            head_url: event
                .repo
                .head_sha
                .as_ref()
                .map(|s| format!("{repo_link}/commit/{s}")),
            owner_id: event.repo.owner_id.clone(),
        },
        moved_to,
        discussion,
        comment,
        refs,
        ref_count: event.refs.len() + event.refs_more,
        refs_more: event.refs.len() + event.refs_more - refs_len,
        single_push,
        config,
        actor: facts.actor.as_ref().map(Person::from),
        commits_more: commits_added.map_or(0, |n| n.saturating_sub(commits.len() as u64)),
        commits,
        commits_added,
        files: facts.files.as_ref().map(file_groups).unwrap_or_default(),
        files_summary: facts
            .files
            .as_ref()
            .map(|f| clip(&f.summary()))
            .filter(|s| !s.is_empty()),
        missed: event.missed.as_ref().map(|m| {
            let since = m.since.as_deref().filter(|s| crate::hub::api::is_sha(s));
            Missed {
                since: since.map(short_sha),
                since_url: since.map(|s| format!("{repo_link}/commit/{s}")),
            }
        }),
    }
}

fn commit_line(repo_link: &str, c: &crate::hub::api::Commit) -> CommitLine {
    CommitLine {
        short: short_sha(&c.id),
        title: clip(&c.title),
        author: c.author.as_ref().map(|a| clip(&a.name)),
        // An id that is not one (from a misbehaving API) links to the repo instead.
        url: match crate::hub::api::is_sha(&c.id) {
            true => format!("{repo_link}/commit/{}", c.id),
            false => repo_link.to_string(),
        },
    }
}

fn file_groups(f: &Files) -> Vec<FileGroup> {
    f.groups
        .iter()
        .map(|g| FileGroup {
            category: g.category.clone(),
            label: g.label.clone(),
            count: g.count,
            size: (g.bytes > 0).then(|| human(g.bytes)),
            paths: g.paths.iter().map(|p| clip(p)).collect(),
            more: g.count.saturating_sub(g.paths.len() as u64),
        })
        .collect()
}

fn ref_value(repo_link: &str, r: &RefUpdate, facts: &Facts) -> Ref {
    let history = facts.history(&r.full);
    let (kind, kind_label) = match r.kind {
        RefKind::Branch => ("branch", "Branch"),
        RefKind::Tag => ("tag", "Tag"),
        RefKind::Pr => ("pr ref", "PR ref"),
        RefKind::Other => ("ref", "Ref"),
    };
    let change = match r.change {
        RefChange::Created => "created",
        RefChange::Updated => "updated",
        RefChange::Deleted => "deleted",
    };
    Ref {
        full: clip(&r.full),
        name: clip(if r.kind == RefKind::Pr {
            &r.full
        } else {
            &r.name
        }),
        kind,
        kind_label,
        change,
        old: r.old_sha.as_deref().map(short_sha),
        new: r.new_sha.as_deref().map(short_sha),
        old_url: r
            .old_sha
            .as_ref()
            .map(|s| format!("{repo_link}/commit/{s}")),
        commit_url: r
            .new_sha
            .as_ref()
            .map(|s| format!("{repo_link}/commit/{s}")),
        title: history
            .and_then(|h| h.commits.first())
            .map(|c| clip(&c.title)),
        forced: history.is_some_and(|h| h.forced),
    }
}

/// A config value as a person would read it.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "on".into(),
        Value::Bool(false) => "off".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The variables the README's table names: `a.b`, `refs[].name`…
    fn documented() -> BTreeSet<String> {
        let readme = include_str!("../../templates/README.md");
        let table = readme
            .split("## Variables")
            .nth(1)
            .and_then(|t| t.split("\n## ").next())
            .expect("a Variables section");
        table
            .lines()
            .filter(|l| l.starts_with("| `"))
            .flat_map(|l| {
                let first = l.split('|').nth(1).unwrap_or_default();
                first
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Every leaf of a context (list items as `[]`), and every list.
    fn paths(v: &Value, at: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let p = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    paths(v, &p, out);
                }
            }
            Value::Array(items) => {
                out.insert(at.to_string());
                for item in items {
                    paths(item, &format!("{at}[]"), out);
                }
            }
            _ => {
                out.insert(at.to_string());
            }
        }
    }

    #[test]
    fn the_readme_documents_every_variable_and_only_those() {
        let mut seen = BTreeSet::new();
        for name in [
            "repo",
            "repo.content",
            "repo.config",
            "discussion",
            "discussion.comment",
        ] {
            let scope = Scope::parse(name).unwrap();
            let mut e = crate::render::samples::largest(&scope);
            e.moved_to = Some(crate::hub::RepoName::parse("acme/new").unwrap());
            e.missed = Some(crate::hub::event::Missed {
                since: Some("0dd7bcc7a64e4350d8859c9a2813132fbf6ae591".into()),
            });
            let v = serde_json::to_value(build(&e, &scope)).unwrap();
            paths(&v, "", &mut seen);
        }
        // An object absent from one sample (`discussion` on a push) is not a leaf of its own.
        let objects: BTreeSet<String> = seen
            .iter()
            .filter_map(|p| p.rsplit_once('.').map(|(o, _)| o.to_string()))
            .collect();
        seen.retain(|p| !objects.contains(p));
        let documented = documented();
        // A list documented as a whole (`config.changes`: list of `{key, value}`) covers
        // its items' fields.
        let covered = |p: &String| {
            documented.contains(p) || documented.iter().any(|d| p.starts_with(&format!("{d}[].")))
        };
        let undocumented: Vec<_> = seen.iter().filter(|p| !covered(p)).collect();
        assert!(
            undocumented.is_empty(),
            "not in templates/README.md: {undocumented:?}"
        );
        let missing: Vec<_> = documented.iter().filter(|d| !seen.contains(*d)).collect();
        assert!(
            missing.is_empty(),
            "documented but not in the context: {missing:?}"
        );
    }
}
