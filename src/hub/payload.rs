//! Reads the Hub's four payload formats into one [`Event`]. Unknown fields are ignored;
//! a field of the wrong type is an error that names the field.

use super::event::{Comment, Discussion, Event, Format, RefUpdate, Repo, REFS_KEPT};
use super::repo::{RepoName, RepoType};
use super::scope::{Action, Scope};
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct PayloadError(pub String);

type Result<T> = std::result::Result<T, PayloadError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(PayloadError(msg.into()))
}

/// Parses raw bytes as a Hub payload.
pub fn parse(body: &[u8]) -> Result<Event> {
    let value = super::json::parse(body)
        .map_err(|e| PayloadError(format!("body is not valid JSON: {e}")))?;
    normalize(&value)
}

/// Normalizes an already-parsed payload.
pub fn normalize(value: &Value) -> Result<Event> {
    let Some(obj) = value.as_object() else {
        return err("payload must be a JSON object");
    };
    match obj.get("event") {
        Some(Value::Object(ev)) => v3(obj, ev),
        Some(Value::String(action)) => match (obj.get("scope"), obj.get("domain")) {
            (Some(Value::String(scope)), _) => with_repo(obj, Format::V2, action, scope),
            (_, Some(Value::Array(domain))) => {
                let parts: Option<Vec<&str>> = domain.iter().map(Value::as_str).collect();
                match parts {
                    Some(parts) if !parts.is_empty() => {
                        with_repo(obj, Format::Draft, action, &parts.join("."))
                    }
                    _ => err("domain must be a non-empty array of strings"),
                }
            }
            _ => err("event is a string but there is no scope string or domain array beside it"),
        },
        Some(_) => err("event must be an object {action, scope} or a string"),
        None => legacy(obj),
    }
}

fn v3(obj: &Map<String, Value>, ev: &Map<String, Value>) -> Result<Event> {
    let action = req_str(ev, "event.action")?;
    let scope = req_str(ev, "event.scope")?;
    with_repo(obj, Format::V3, action, scope)
}

fn legacy(obj: &Map<String, Value>) -> Result<Event> {
    let found: Vec<(&str, &Value)> = ["add", "update", "remove"]
        .iter()
        .filter_map(|k| obj.get(*k).map(|v| (*k, v)))
        .collect();
    let [(key, Value::String(id))] = found.as_slice() else {
        return err("not a Hub webhook payload: expected an \"event\" field (or a legacy \"add\", \"update\" or \"remove\" field)");
    };
    // A legacy id is type-prefixed: `datasets/owner/name`, or a bare model name.
    let (kind, name) = match id.split_once('/') {
        Some((prefix, rest))
            if rest.contains('/') || matches!(prefix, "models" | "datasets" | "spaces") =>
        {
            (
                RepoType::parse(prefix).map_err(|e| PayloadError(e.to_string()))?,
                rest,
            )
        }
        _ => (RepoType::model(), id.as_str()),
    };
    // A legacy update was a push; the others change the repo itself.
    let (action, scope) = match *key {
        "add" => (Action::Create, "repo"),
        "remove" => (Action::Delete, "repo"),
        _ => (Action::Update, "repo.content"),
    };
    Ok(Event {
        format: Format::Legacy,
        action,
        scope: Scope::parse(scope).expect("static scope"),
        repo: Repo {
            kind,
            name: RepoName::from_hub(name).map_err(|e| PayloadError(e.to_string()))?,
            private: None,
            head_sha: None,
            owner_id: None,
        },
        discussion: None,
        comment: None,
        refs: vec![],
        refs_more: 0,
        config: None,
        moved_to: None,
        webhook_id: None,
        facts: None,
        status_before: None,
        missed: None,
        notice: None,
    })
}

fn with_repo(obj: &Map<String, Value>, format: Format, action: &str, scope: &str) -> Result<Event> {
    let scope = Scope::parse(scope).map_err(|e| PayloadError(format!("event scope: {e}")))?;
    let Some(repo) = obj.get("repo").and_then(Value::as_object) else {
        return err("repo must be an object with type and name");
    };
    let kind = RepoType::parse(req_str(repo, "repo.type")?)
        .map_err(|e| PayloadError(format!("repo.type: {e}")))?;
    let name = RepoName::from_hub(req_str(repo, "repo.name")?)
        .map_err(|e| PayloadError(format!("repo.name: {e}")))?;
    let owner_id = match repo.get("owner").or_else(|| repo.get("author")) {
        Some(Value::Object(o)) => opt_str(o, "repo.owner.id")?,
        _ => opt_str(repo, "repo.authorId")?,
    };
    let (refs, refs_more) = refs(obj.get("updatedRefs"))?;
    Ok(Event {
        format,
        action: Action::parse(action),
        scope,
        repo: Repo {
            kind,
            name,
            private: opt_bool(repo, "repo.private")?,
            head_sha: opt_str(repo, "repo.headSha")?.and_then(sha),
            owner_id: owner_id.map(str::to_string),
        },
        discussion: obj.get("discussion").map(discussion).transpose()?,
        comment: obj.get("comment").map(comment).transpose()?,
        refs,
        refs_more,
        config: match obj.get("updatedConfig") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(config(m)),
            Some(_) => return err("updatedConfig must be an object"),
        },
        moved_to: moved_to(obj.get("movedTo"))?,
        webhook_id: match obj.get("webhook") {
            Some(Value::Object(w)) => opt_str(w, "webhook.id")?.map(str::to_string),
            _ => None,
        },
        facts: None,
        status_before: None,
        missed: None,
        notice: None,
    })
}

fn discussion(v: &Value) -> Result<Discussion> {
    let Some(d) = v.as_object() else {
        return err("discussion must be an object");
    };
    let num = match d.get("num") {
        Some(n) => n
            .as_u64()
            .ok_or_else(|| PayloadError("discussion.num must be a positive integer".into()))?,
        None => return err("discussion.num is missing"),
    };
    let changes = d.get("changes").and_then(Value::as_object);
    let change = |k: &str| changes.and_then(|c| c.get(k)).and_then(Value::as_str);
    Ok(Discussion {
        num,
        title: opt_str(d, "discussion.title")?
            .unwrap_or_default()
            .to_string(),
        status: opt_str(d, "discussion.status")?
            .unwrap_or("open")
            .to_ascii_lowercase(),
        is_pull_request: opt_bool(d, "discussion.isPullRequest")?.unwrap_or(false),
        author_id: author(d, "discussion.author")?,
        base: change("base").map(|b| b.strip_prefix("refs/heads/").unwrap_or(b).to_string()),
        merge_commit: change("mergeCommitId").and_then(sha),
    })
}

fn comment(v: &Value) -> Result<Comment> {
    let Some(c) = v.as_object() else {
        return err("comment must be an object");
    };
    let hidden = opt_bool(c, "comment.hidden")?.unwrap_or(false);
    let id = opt_str(c, "comment.id")?.unwrap_or_default();
    Ok(Comment {
        // Only a Hub id (hex) goes into links; anything else is dropped.
        id: if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            id.to_string()
        } else {
            String::new()
        },
        author_id: author(c, "comment.author")?,
        content: if hidden {
            None
        } else {
            opt_str(c, "comment.content")?.map(str::to_string)
        },
        hidden,
    })
}

/// Settings kept of `updatedConfig`: the first [`REFS_KEPT`], each a text, number or
/// true/false (a list or object becomes the start of its JSON), so that a payload cannot
/// grow into a large event in memory.
fn config(m: &Map<String, Value>) -> Map<String, Value> {
    m.iter()
        .take(REFS_KEPT)
        .map(|(k, v)| {
            let v = match v {
                Value::Array(_) | Value::Object(_) => {
                    Value::String(v.to_string().chars().take(200).collect())
                }
                v => v.clone(),
            };
            (k.chars().take(200).collect(), v)
        })
        .collect()
}

/// The refs kept (the first [`REFS_KEPT`]) and how many more there are; every item is
/// checked all the same.
fn refs(v: Option<&Value>) -> Result<(Vec<RefUpdate>, usize)> {
    let items = match v {
        None | Some(Value::Null) => return Ok((vec![], 0)),
        Some(Value::Array(items)) => items,
        Some(_) => return err("updatedRefs must be an array"),
    };
    let mut kept = Vec::with_capacity(items.len().min(REFS_KEPT));
    for r in items {
        let Some(r) = r.as_object() else {
            return err("updatedRefs items must be objects {ref, oldSha, newSha}");
        };
        let full = req_str(r, "updatedRefs[].ref")?;
        let old = opt_str(r, "updatedRefs[].oldSha")?.and_then(sha);
        let new = opt_str(r, "updatedRefs[].newSha")?.and_then(sha);
        if kept.len() < REFS_KEPT {
            kept.push(RefUpdate::new(full, old, new));
        }
    }
    Ok((kept, items.len() - items.len().min(REFS_KEPT)))
}

fn moved_to(v: Option<&Value>) -> Result<Option<RepoName>> {
    let name = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => req_str(o, "movedTo.name")?,
        Some(_) => return err("movedTo must be a string or an object {name}"),
    };
    RepoName::from_hub(name)
        .map(Some)
        .map_err(|e| PayloadError(format!("movedTo: {e}")))
}

fn author(o: &Map<String, Value>, field: &str) -> Result<Option<String>> {
    match o.get("author") {
        Some(Value::Object(a)) => Ok(opt_str(a, &format!("{field}.id"))?.map(str::to_string)),
        _ => Ok(None),
    }
}

/// A git SHA, or nothing: an all-zero SHA means "no commit", anything else is dropped.
fn sha(s: &str) -> Option<String> {
    let ok = (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    (ok && s.bytes().any(|b| b != b'0')).then(|| s.to_ascii_lowercase())
}

fn req_str<'a>(o: &'a Map<String, Value>, path: &str) -> Result<&'a str> {
    opt_str(o, path)?.ok_or_else(|| PayloadError(format!("{path} is missing")))
}

fn opt_str<'a>(o: &'a Map<String, Value>, path: &str) -> Result<Option<&'a str>> {
    let key = path.rsplit('.').next().unwrap_or(path);
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => err(format!("{path} must be a string")),
    }
}

fn opt_bool(o: &Map<String, Value>, path: &str) -> Result<Option<bool>> {
    let key = path.rsplit('.').next().unwrap_or(path);
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => err(format!("{path} must be true or false")),
    }
}
