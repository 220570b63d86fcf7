//! What templates see: the event, flattened into plain words and ready-made links.
//! Every variable is documented in templates/README.md.

use crate::hub::event::{RefChange, RefKind, RefUpdate};
use crate::hub::repo::repo_url;
use crate::hub::{Action, Event, Scope};
use serde_json::{json, Value};

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

/// The context for rendering `event` with the template of `template_scope` (the event's
/// scope or an ancestor; from an ancestor the event is seen as an `update`).
pub fn build(event: &Event, template_scope: &Scope) -> Value {
    let action = event
        .scope
        .seen_from(&event.action, template_scope)
        .unwrap_or(Action::Update);
    let repo_link = event.repo.url();
    let noun = match event.repo.kind.as_str() {
        "space" => "Space".to_string(),
        other => other.to_string(),
    };
    let refs: Vec<Value> = event
        .refs
        .iter()
        .take(LIST_CAP)
        .map(|r| ref_value(&repo_link, r))
        .collect();
    let single_push = matches!(event.refs.as_slice(), [r] if r.kind == RefKind::Branch && r.change == RefChange::Updated);
    let discussion = event.discussion.as_ref().map(|d| {
        let url = format!("{repo_link}/discussions/{}", d.num);
        let (kind, short) = if d.is_pull_request {
            ("pull request", "PR")
        } else {
            ("discussion", "discussion")
        };
        json!({
            "num": d.num,
            "title": clip(&d.title),
            "status": d.status,
            "is_pull_request": d.is_pull_request,
            "kind": kind,
            "Kind": capitalize(kind),
            "short": short,
            "url": url,
            "base": d.base.as_deref().map(clip),
            "merge_commit": d.merge_commit.as_deref().map(short_sha),
            "author_id": d.author_id,
        })
    });
    let comment = event.comment.as_ref().map(|c| {
        let base = discussion
            .as_ref()
            .and_then(|d| d["url"].as_str())
            .unwrap_or(&repo_link);
        let url = if c.id.is_empty() {
            base.to_string()
        } else {
            format!("{base}#{}", c.id)
        };
        json!({ "content": c.content.as_deref().map(clip), "hidden": c.hidden, "url": url, "author_id": c.author_id })
    });
    let moved_to = event
        .moved_to
        .as_ref()
        .map(|n| json!({ "name": n.as_str(), "url": repo_url(&event.repo.kind, n) }));
    let config = event.config.as_ref().map(|c| {
        let changes: Vec<Value> = c
            .iter()
            .take(LIST_CAP)
            .map(|(k, v)| json!({ "key": clip(k), "value": clip(&plain(v)) }))
            .collect();
        json!({ "private": c.get("private").and_then(Value::as_bool), "changes": changes })
    });
    let on_comment = Scope::parse("discussion.comment").is_ok_and(|c| c.covers(&event.scope));
    let url = comment
        .as_ref()
        .filter(|_| on_comment)
        .or(discussion.as_ref())
        .and_then(|v| v["url"].as_str().map(str::to_string))
        .or_else(|| {
            single_push.then(|| {
                refs[0]["commit_url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
        })
        .or_else(|| {
            moved_to
                .as_ref()
                .and_then(|m| m["url"].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| repo_link.clone());
    json!({
        "action": action.as_str(),
        "scope": event.scope.as_str(),
        "scope_known": event.scope.is_known(),
        "format": event.format.as_str(),
        "url": url,
        "repo": {
            "type": event.repo.kind.as_str(),
            "label": event.repo.kind.label(),
            "noun": noun,
            "name": event.repo.name.as_str(),
            "url": repo_link,
            "private": event.repo.private,
            "head": event.repo.head_sha.as_deref().map(short_sha),
            "head_url": event.repo.head_sha.as_ref().map(|s| format!("{repo_link}/commit/{s}")),
            "owner_id": event.repo.owner_id,
        },
        "moved_to": moved_to,
        "discussion": discussion,
        "comment": comment,
        "refs": refs,
        "ref_count": event.refs.len() + event.refs_more,
        "single_push": single_push,
        "config": config,
    })
}

fn ref_value(repo_link: &str, r: &RefUpdate) -> Value {
    let kind_label = match r.kind {
        RefKind::Branch => "Branch",
        RefKind::Tag => "Tag",
        RefKind::Pr => "PR ref",
        RefKind::Other => "Ref",
    };
    let change = match r.change {
        RefChange::Created => "created",
        RefChange::Updated => "updated",
        RefChange::Deleted => "deleted",
    };
    json!({
        "ref": clip(&r.full),
        "name": clip(if r.kind == RefKind::Pr { &r.full } else { &r.name }),
        "kind": kind_label.to_ascii_lowercase(),
        "kind_label": kind_label,
        "change": change,
        "old": r.old_sha.as_deref().map(short_sha),
        "new": r.new_sha.as_deref().map(short_sha),
        "commit_url": r.new_sha.as_ref().map(|s| format!("{repo_link}/commit/{s}")),
    })
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

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
