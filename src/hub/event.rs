//! The one event model every payload format is normalized into.

use super::repo::{repo_url, RepoName, RepoType};
use super::scope::{Action, Scope};
use serde::{Deserialize, Serialize};

/// Which of the Hub's payload formats an event arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `event: {action, scope}`, webhook version 3: what the Hub sends today.
    V3,
    /// `event: "add"` beside `scope: "repo.content"`.
    V2,
    /// `{"add": "models/owner/name"}`, before 2023.
    Legacy,
    /// The original spec's draft: `event` + `domain` array.
    Draft,
    /// Not the Hub's: a notice herald itself posts (render/notice.rs).
    Notice,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::V3 => "v3",
            Format::V2 => "v2",
            Format::Legacy => "legacy",
            Format::Draft => "draft",
            Format::Notice => "notice",
        }
    }
}

/// Refs of one event kept in memory; templates see at most 50 of them.
pub const REFS_KEPT: usize = 100;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub format: Format,
    pub action: Action,
    pub scope: Scope,
    pub repo: Repo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discussion: Option<Discussion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
    /// The first [`REFS_KEPT`] refs the payload lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<RefUpdate>,
    /// How many more it lists: counted, not kept, so that a payload of tiny refs cannot
    /// grow into a large event in memory.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refs_more: usize,
    /// `updatedConfig` as sent; `Some({})` when the Hub says "something changed".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<RepoName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// What the Hub's API added (names, commit titles, files), once fetched; never part
    /// of the payload.
    #[serde(skip)]
    pub facts: Option<std::sync::Arc<super::api::facts::Enriched>>,
    /// A discussion's status before this event, when herald knows it (from the events it
    /// stored, or the Hub's log); never part of the payload.
    #[serde(skip)]
    pub status_before: Option<String>,
    /// Pushes to the main ref herald never received, when it knows of some; never part
    /// of the payload.
    #[serde(skip)]
    pub missed: Option<Missed>,
    /// herald's own notice, when that is what this is (endpoint `herald`); never from a
    /// payload.
    #[serde(skip)]
    pub notice: Option<crate::render::notice::Notice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repo {
    #[serde(rename = "type")]
    pub kind: RepoType,
    pub name: RepoName,
    /// `None` when the payload does not say (legacy payloads): treated as private when
    /// deciding who may see the event, and not claimed either way in messages.
    #[serde(default)]
    pub private: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
}

impl Repo {
    pub fn url(&self) -> String {
        repo_url(&self.kind, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discussion {
    pub num: u64,
    pub title: String,
    pub status: String,
    pub is_pull_request: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// Target branch of a pull request (`main` for `refs/heads/main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_commit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// `None` when hidden: the Hub leaves it out, and so do we.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    pub hidden: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Branch,
    Tag,
    Pr,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefChange {
    Created,
    Updated,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefUpdate {
    /// The full ref, e.g. `refs/heads/main`.
    #[serde(rename = "ref")]
    pub full: String,
    pub kind: RefKind,
    /// The short name: `main`, `v1.0`, `5` for `refs/pr/5`.
    pub name: String,
    pub change: RefChange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_sha: Option<String>,
}

impl RefUpdate {
    pub fn new(full: &str, old_sha: Option<String>, new_sha: Option<String>) -> RefUpdate {
        let (kind, name) = if let Some(n) = full.strip_prefix("refs/heads/") {
            (RefKind::Branch, n)
        } else if let Some(n) = full.strip_prefix("refs/tags/") {
            (RefKind::Tag, n)
        } else if let Some(n) = full.strip_prefix("refs/pr/") {
            (RefKind::Pr, n)
        } else {
            (RefKind::Other, full)
        };
        let change = match (&old_sha, &new_sha) {
            (None, _) => RefChange::Created,
            (_, None) => RefChange::Deleted,
            _ => RefChange::Updated,
        };
        RefUpdate {
            full: full.to_string(),
            kind,
            name: name.to_string(),
            change,
            old_sha,
            new_sha,
        }
    }
}

/// Pushes that never reached herald: the ref's old commit is not where the last push
/// herald stored for it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Missed {
    /// Where the last push herald saw left the ref (`None`: it deleted the ref).
    pub since: Option<String>,
}

/// What a discussion's update did, from its status now and before.
pub fn status_change(status: &str, before: Option<&str>) -> &'static str {
    match (status, before) {
        // The same status as before: an edit, not a change of status.
        (s, Some(b)) if s == b => "updated",
        ("merged", _) => "merged",
        ("closed", _) => "closed",
        ("draft", _) => "marked as draft",
        ("open", Some("closed" | "merged")) => "reopened",
        ("open", Some("draft")) => "ready for review",
        _ => "updated",
    }
}

/// The endpoint herald's own notices are stored under: no webhook has it.
pub const NOTICES: &str = "herald";

impl Event {
    /// The ref whose commits and files a message leads with: the updated branch, else
    /// the first ref with a new commit.
    pub fn main_ref(&self) -> Option<&RefUpdate> {
        let new = |r: &&RefUpdate| r.new_sha.as_deref().is_some_and(crate::hub::api::is_sha);
        let branch = |r: &&RefUpdate| r.kind == RefKind::Branch && r.change == RefChange::Updated;
        let refs = || self.refs.iter().filter(new);
        refs().find(branch).or_else(|| refs().next())
    }

    /// A notice, as an event the outbox delivers like any other.
    pub fn notice(notice: crate::render::notice::Notice) -> Event {
        Event {
            format: Format::Notice,
            action: Action::Update,
            scope: Scope::parse("herald.notice").expect("a valid scope"),
            repo: Repo {
                kind: RepoType::parse("herald").expect("a valid type"),
                name: RepoName::from_hub(&format!("herald/{}", notice.kind)).expect("a valid name"),
                private: Some(true),
                head_sha: None,
                owner_id: None,
            },
            discussion: None,
            comment: None,
            refs: Vec::new(),
            refs_more: 0,
            config: None,
            moved_to: None,
            webhook_id: None,
            facts: None,
            status_before: None,
            missed: None,
            notice: Some(notice),
        }
    }

    /// Every repo this event concerns: the repo, and for a move also its new name.
    pub fn repo_names(&self) -> Vec<&RepoName> {
        std::iter::once(&self.repo.name)
            .chain(self.moved_to.as_ref())
            .collect()
    }
}
