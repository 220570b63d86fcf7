//! A discussion's or pull request's details: `GET /api/{type}/{repo}/discussions/{num}`.
//! One call names the opener, every comment's author (the event whose id is the
//! webhook's `comment.id`) and who changed the status, and gives a PR's target branch
//! and merge commit.

use super::client::{ApiError, HubApi};
use super::{kept, Person, RepoPath};
use serde::Deserialize;
use std::collections::HashMap;
use tokio::time::Instant;

/// What herald keeps of a discussion's details.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details {
    pub author: Option<Person>,
    /// Each event's author, by event id.
    pub by_event: HashMap<String, Person>,
    /// Every participant, by user id.
    pub by_user: HashMap<String, Person>,
    /// The status changes in order: the status set, and by whom.
    pub status_changes: Vec<(String, Option<Person>)>,
    /// The type of the log's last event (`comment`, `status-change`…).
    pub last_event: Option<String>,
    pub base: Option<String>,
    pub merge_commit: Option<String>,
    pub title: Option<String>,
    /// A digest of each comment's text, by event id: what a payload claims a comment
    /// says can be held to what the Hub says.
    pub said: HashMap<String, u64>,
}

/// A digest of a text, to compare a payload's copy with the Hub's (in this process only).
pub fn digest(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.trim().hash(&mut h);
    h.finish()
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    author: Option<WirePerson>,
    #[serde(default)]
    events: Vec<WireEvent>,
    #[serde(default)]
    changes: Option<WireChanges>,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
struct WirePerson {
    #[serde(default, rename = "_id")]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    fullname: Option<String>,
    #[serde(default, rename = "avatarUrl")]
    avatar_url: Option<String>,
}

impl WirePerson {
    fn person(&self) -> Option<Person> {
        Person::new(
            self.name.as_deref()?,
            self.fullname.as_deref(),
            self.avatar_url.as_deref(),
        )
    }
}

#[derive(Deserialize)]
struct WireEvent {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    /// Absent for deleted users.
    #[serde(default)]
    author: Option<WirePerson>,
    #[serde(default)]
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct WireChanges {
    #[serde(default)]
    base: Option<String>,
    #[serde(default, rename = "mergeCommitId")]
    merge_commit: Option<String>,
}

fn details(w: Wire) -> Details {
    let mut d = Details {
        author: w.author.as_ref().and_then(WirePerson::person),
        title: w.title.as_deref().map(kept),
        ..Details::default()
    };
    if let Some(c) = w.changes {
        d.base = c
            .base
            .map(|b| kept(b.strip_prefix("refs/heads/").unwrap_or(&b)));
        d.merge_commit = c.merge_commit.filter(|m| super::is_sha(m));
    }
    let mut people: Vec<&WirePerson> = w.author.iter().collect();
    for e in &w.events {
        let who = e.author.as_ref().and_then(WirePerson::person);
        if let (Some(id), Some(p)) = (&e.id, &who) {
            d.by_event.insert(kept(id), p.clone());
        }
        let raw = e
            .data
            .get("latest")
            .and_then(|l| l.get("raw"))
            .and_then(|r| r.as_str());
        if let (Some(id), Some(raw)) = (&e.id, raw) {
            d.said.insert(kept(id), digest(raw));
        }
        if e.kind.as_deref() == Some("status-change") {
            if let Some(s) = e.data.get("status").and_then(|s| s.as_str()) {
                d.status_changes.push((kept(s), who));
            }
        }
        people.extend(e.author.as_ref());
        d.last_event = e.kind.as_deref().map(kept);
    }
    for p in people {
        if let (Some(id), Some(person)) = (&p.id, p.person()) {
            d.by_user.insert(kept(id), person);
        }
    }
    d
}

pub async fn get(
    api: &HubApi,
    repo: RepoPath<'_>,
    num: u64,
    deadline: Instant,
) -> Result<Details, ApiError> {
    let num = num.to_string();
    let url = api.url(&repo.segments(&["discussions", &num]));
    let (wire, _): (Wire, _) = api.json(url, deadline).await?;
    Ok(details(wire))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Details {
        details(serde_json::from_str(text).unwrap())
    }

    #[test]
    fn a_merged_prs_details_name_its_people_branch_and_merge_commit() {
        let d = read(include_str!(
            "../../../tests/fixtures/hf-api/discussion-details-pr-merged-assembled.json"
        ));
        assert_eq!(d.author.as_ref().unwrap().name, "example-author");
        assert_eq!(d.author.unwrap().avatar_url, None, "an SVG default avatar");
        assert!(d.by_user["5dd96eb166059660ed1ee413"]
            .avatar_url
            .as_deref()
            .is_some_and(|a| a.starts_with("https://cdn-avatars.huggingface.co/")));
        assert_eq!(d.base.as_deref(), Some("main"));
        assert_eq!(
            d.merge_commit.as_deref(),
            Some("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
        );
        assert_eq!(
            d.by_event["6399f58518721fdd27fc9caa"].name,
            "example-author"
        );
        assert_eq!(d.by_user["5dd96eb166059660ed1ee413"].name, "julien-c");
        let (status, by) = d.status_changes.last().unwrap();
        assert_eq!(status, "merged");
        assert_eq!(by.as_ref().unwrap().name, "julien-c");
    }

    #[test]
    fn a_deleted_author_and_unknown_events_are_tolerated() {
        let d = read(include_str!(
            "../../../tests/fixtures/hf-api/discussion-details-discussion-assembled.json"
        ));
        assert!(d.author.is_some());
        assert!(!d.status_changes.is_empty());
        let d = read(
            r#"{"events":[{"id":"a","type":"new-kind","data":5},{"type":"comment"}],
            "filesWithConflicts": true}"#,
        );
        assert_eq!(d.author, None);
    }
}
