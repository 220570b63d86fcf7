//! What to ask the Hub about an event, all of it at once and within one deadline: the
//! commits and files of a push, the details of a discussion, the names of people. What
//! does not come back in time, or comes back refused, is named in `missing`.

use super::Caches;
use crate::hub::api::facts::{DiscussionFacts, Enriched, Facts};
use crate::hub::api::{commits, compare, discussions, files, users};
use crate::hub::api::{is_sha, ApiError, HubApi, Person, RepoPath};
use crate::hub::event::{RefChange, RefKind, RefUpdate};
use crate::hub::Event;
use std::sync::Arc;
use tokio::time::Instant;

/// Refs of one push whose commits are fetched; the rest are listed without titles.
const REFS_FETCHED: usize = 5;
/// The tree with no files: comparing with it lists every file of a commit.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// What could not be had, each with why.
#[derive(Default)]
struct Missing(Vec<String>);

impl Missing {
    fn add(&mut self, what: &str, why: &ApiError) {
        self.0.push(format!("{what} ({why})"));
    }

    fn note(self) -> Option<String> {
        (!self.0.is_empty()).then(|| format!("not from the Hub API: {}", self.0.join("; ")))
    }
}

/// The ref whose commits and files a message leads with: the updated branch, else the
/// first ref with a new commit.
pub fn main_ref(event: &Event) -> Option<&RefUpdate> {
    let new = |r: &&RefUpdate| r.new_sha.as_deref().is_some_and(is_sha);
    let branch = |r: &&RefUpdate| r.kind == RefKind::Branch && r.change == RefChange::Updated;
    let refs = || event.refs.iter().filter(new);
    refs().find(branch).or_else(|| refs().next())
}

pub async fn enrich(api: &HubApi, caches: &Caches, event: &Event, deadline: Instant) -> Enriched {
    if event.repo.private != Some(false) && !api.has_token() {
        // Nothing to show the channel: the message renders as it always did.
        let missing =
            "a private repo (or one the payload does not say is public), and no hub.token";
        return Enriched {
            facts: Facts::default(),
            missing: Some(format!("not from the Hub API: {missing}")),
        };
    }
    let Some(repo) = RepoPath::new(&event.repo.kind, event.repo.name.as_str()) else {
        return Enriched::default();
    };
    let mut missing = Missing::default();
    let mut facts = Facts::default();
    if !event.refs.is_empty() {
        push(api, caches, repo, event, deadline, &mut facts, &mut missing).await;
    } else if let Some(d) = &event.discussion {
        discussion(
            api,
            caches,
            repo,
            event,
            d.num,
            deadline,
            &mut facts,
            &mut missing,
        )
        .await;
    } else if event.scope.as_str() == "repo" && event.action.as_str() == "create" {
        if let Some(head) = event.repo.head_sha.as_deref().filter(|s| is_sha(s)) {
            match compare::files(api, repo, EMPTY_TREE, head, deadline).await {
                Ok((list, cut)) => {
                    facts.files = Some(files::summarise(event.repo.kind.as_str(), &list, cut))
                }
                Err(e) => missing.add("its files", &e),
            }
        }
    }
    Enriched {
        facts,
        missing: missing.note(),
    }
}

async fn push(
    api: &HubApi,
    caches: &Caches,
    repo: RepoPath<'_>,
    event: &Event,
    deadline: Instant,
    facts: &mut Facts,
    missing: &mut Missing,
) {
    let main = main_ref(event);
    let refs: Vec<&RefUpdate> = event
        .refs
        .iter()
        .filter(|r| r.new_sha.as_deref().is_some_and(is_sha))
        .take(REFS_FETCHED)
        .collect();
    let histories = futures_util::future::join_all(
        refs.iter().map(|r| history(api, caches, repo, r, deadline)),
    );
    let changed = async {
        let r = main?;
        let (old, new) = (r.old_sha.as_deref()?, r.new_sha.as_deref()?);
        is_sha(old).then_some(())?;
        Some(compare::files(api, repo, old, new, deadline).await)
    };
    let (histories, changed) = tokio::join!(histories, changed);
    for (r, h) in refs.iter().zip(histories) {
        match h {
            // Only the main ref's commits are listed; the others show their head.
            Ok(mut h) => {
                if main.is_none_or(|m| m.full != r.full) {
                    h.commits.truncate(1);
                }
                facts.refs.push((r.full.clone(), h))
            }
            Err(e) => missing.add(&format!("commits of {}", r.name), &e),
        }
    }
    match changed {
        Some(Ok((list, cut))) => {
            facts.files = Some(files::summarise(event.repo.kind.as_str(), &list, cut))
        }
        Some(Err(e)) => missing.add("changed files", &e),
        None => {}
    }
    facts.actor = main
        .and_then(|m| facts.history(&m.full))
        .and_then(|h| h.commits.first())
        .and_then(|c| c.author.clone());
}

/// What a push did to one ref: the commits it added, or its new head alone.
async fn history(
    api: &HubApi,
    caches: &Caches,
    repo: RepoPath<'_>,
    r: &RefUpdate,
    deadline: Instant,
) -> Result<commits::History, ApiError> {
    let new = r.new_sha.as_deref().unwrap_or_default();
    let key = |sha: &str| cache_key(api, repo, sha);
    if let Some(old) = r.old_sha.as_deref().filter(|o| is_sha(o)) {
        let h = commits::between(api, repo, old, new, deadline).await?;
        for c in &h.commits {
            caches.commits.put(key(&c.id), c.clone());
        }
        return Ok(h);
    }
    // A created ref: its head, which a commit id names for good.
    let head = match caches.commits.get(&key(new)) {
        Some(c) => c,
        None => {
            let c = commits::head(api, repo, new, deadline).await?;
            caches.commits.put(key(new), c.clone());
            c
        }
    };
    Ok(commits::History {
        commits: vec![head],
        ..Default::default()
    })
}

#[allow(clippy::too_many_arguments)]
async fn discussion(
    api: &HubApi,
    caches: &Caches,
    repo: RepoPath<'_>,
    event: &Event,
    num: u64,
    deadline: Instant,
    facts: &mut Facts,
    missing: &mut Missing,
) {
    let comment_id = event
        .comment
        .as_ref()
        .map(|c| c.id.clone())
        .filter(|c| !c.is_empty());
    let key = cache_key(api, repo, &num.to_string());
    // A cached copy serves unless it predates the comment this event is about.
    let cached = caches.discussions.get(&key).filter(|d| {
        comment_id
            .as_ref()
            .is_none_or(|c| d.by_event.contains_key(c))
    });
    let details = match cached {
        Some(d) => Some(d),
        None => match discussions::get(api, repo, num, deadline).await {
            Ok(d) => {
                let d = Arc::new(d);
                for (id, p) in &d.by_user {
                    caches.users.put(id.clone(), p.clone());
                }
                caches.discussions.put(key, d.clone());
                Some(d)
            }
            Err(e) => {
                missing.add("the discussion's details", &e);
                None
            }
        },
    };
    let d = event.discussion.as_ref().expect("a discussion event");
    let mut out = DiscussionFacts::default();
    if let Some(details) = &details {
        out.author = details.author.clone();
        out.comment_author = comment_id
            .as_ref()
            .and_then(|c| details.by_event.get(c).cloned());
        out.conflicts = details.conflicts.clone();
        let changes = &details.status_changes;
        if changes.len() >= 2 {
            out.previous_status = Some(changes[changes.len() - 2].0.clone());
        }
    }
    // Names the details did not give (a deleted discussion, say), by id.
    let comment_by = event.comment.as_ref().and_then(|c| c.author_id.clone());
    if out.comment_author.is_none() && event.comment.is_some() {
        out.comment_author = person(api, caches, comment_by.as_deref(), deadline, missing).await;
    }
    if out.author.is_none() {
        out.author = person(api, caches, d.author_id.as_deref(), deadline, missing).await;
    }
    // Whoever changed the status, if that is the last thing that happened: a title edit
    // or a comment since then would make it a guess.
    let status_by = details.as_ref().and_then(|det| {
        let (status, by) = det.status_changes.last()?;
        let last = det.last_event.as_deref() == Some("status-change");
        (last && *status == d.status).then(|| by.clone())?
    });
    facts.actor = match (event.scope.as_str(), event.action.as_str()) {
        ("discussion.comment", _) => out.comment_author.clone(),
        (_, "create") => out.author.clone(),
        _ => status_by,
    };
    facts.discussion = Some(out);
}

/// What was read with the token is kept apart from what was read without it.
fn cache_key(api: &HubApi, repo: RepoPath<'_>, what: &str) -> String {
    let access = if api.has_token() {
        "token"
    } else {
        "anonymous"
    };
    format!("{access}:{}/{}/{}:{what}", repo.kind, repo.owner, repo.name)
}

/// A user by id: from the cache, or asked.
async fn person(
    api: &HubApi,
    caches: &Caches,
    id: Option<&str>,
    deadline: Instant,
    missing: &mut Missing,
) -> Option<Person> {
    let id = id.filter(|i| users::is_id(i))?;
    if let Some(p) = caches.users.get(&id.to_string()) {
        return Some(p);
    }
    match users::by_id(api, id, deadline).await {
        Ok(p) => {
            caches.users.put(id.to_string(), p.clone());
            Some(p)
        }
        Err(e) => {
            missing.add("a user's name", &e);
            None
        }
    }
}
