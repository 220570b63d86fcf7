//! The commits a push added to a ref. No endpoint takes a range: list from the new
//! commit back (newest first) until the old one appears. Most pushes are found in the
//! first page of 50; a long one in one page of 1000; a longer one is counted from the
//! two commits' history sizes (`X-Total-Count`). An old commit that is not in the new
//! one's history means the ref was rewritten (a force push): said so, never guessed.

use super::client::{Answer, ApiError, HubApi};
use super::{kept, Commit, Person, RepoPath};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Commits a message lists at most; the rest are counted.
pub const LISTED: usize = 50;
/// The Hub's largest page.
const LONG_PAGE: usize = 1000;

/// What a push did to a ref's history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Newest first, at most [`LISTED`]: the commits added, or the new head alone when
    /// the ref was created or rewritten.
    pub commits: Vec<Commit>,
    /// How many commits the push added, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<u64>,
    /// The old commit is not in the new one's history: the ref was rewritten.
    #[serde(default)]
    pub forced: bool,
}

#[derive(Deserialize)]
struct WireCommit {
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    authors: Vec<WireAuthor>,
}

#[derive(Deserialize)]
struct WireAuthor {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
}

impl From<WireCommit> for Commit {
    fn from(w: WireCommit) -> Commit {
        let author = w
            .authors
            .first()
            .and_then(|a| Person::new(a.user.as_deref()?, None, a.avatar.as_deref()));
        Commit {
            id: kept(&w.id),
            title: kept(w.title.lines().next().unwrap_or_default()),
            author,
        }
    }
}

/// Page `p` of `rev`'s history, `limit` commits each, newest first, and how long that
/// history is.
async fn page(
    api: &HubApi,
    repo: RepoPath<'_>,
    rev: &str,
    (limit, p): (usize, u64),
    deadline: Instant,
) -> Result<(Vec<WireCommit>, Option<u64>), ApiError> {
    let mut url = api.url(&repo.segments(&["commits", rev]));
    url.query_pairs_mut()
        .append_pair("limit", &limit.to_string());
    if p > 0 {
        url.query_pairs_mut().append_pair("p", &p.to_string());
    }
    let (list, answer): (Vec<WireCommit>, Answer) = api.json(url, deadline).await?;
    let total = answer
        .header("x-total-count")
        .and_then(|t| t.trim().parse().ok());
    Ok((list, total))
}

/// The head commit of a ref, alone (for a created ref, a tag, a force push).
pub async fn head(
    api: &HubApi,
    repo: RepoPath<'_>,
    sha: &str,
    deadline: Instant,
) -> Result<Commit, ApiError> {
    let (list, _) = page(api, repo, sha, (1, 0), deadline).await?;
    list.into_iter()
        .next()
        .map(Commit::from)
        .ok_or_else(|| ApiError::Unreadable("no commit listed".into()))
}

/// The commits between `old` (excluded) and `new`.
pub async fn between(
    api: &HubApi,
    repo: RepoPath<'_>,
    old: &str,
    new: &str,
    deadline: Instant,
) -> Result<History, ApiError> {
    let (list, total) = page(api, repo, new, (LISTED, 0), deadline).await?;
    let complete = |n: usize, limit: usize| n < limit || total.is_some_and(|t| t <= n as u64);
    let found = list.iter().position(|c| c.id == old);
    let whole = complete(list.len(), LISTED);
    let mut first: Vec<Commit> = list.into_iter().map(Commit::from).collect();
    if let Some(at) = found {
        first.truncate(at);
        return Ok(added(first, at as u64));
    }
    if whole {
        return Ok(rewritten(first));
    }
    // Longer than a page: one long page when the whole history fits in it.
    if total.is_some_and(|t| t <= LONG_PAGE as u64) {
        match page(api, repo, new, (LONG_PAGE, 0), deadline).await {
            Ok((long, _)) => {
                return Ok(match long.iter().position(|c| c.id == old) {
                    Some(at) => added(first, at as u64),
                    None if complete(long.len(), LONG_PAGE) => rewritten(first),
                    None => History {
                        commits: first,
                        ..History::default()
                    },
                })
            }
            // Long messages made the page larger than herald reads: counted instead.
            Err(ApiError::TooLarge) => {}
            Err(e) => return Err(e),
        }
    }
    // Longer still: the old commit's own history, if it exists, tells how many.
    let old_total = match page(api, repo, old, (1, 0), deadline).await {
        Ok((_, t)) => t,
        Err(e) if e.is_code("RevisionNotFound") => return Ok(rewritten(first)),
        Err(e) => return Err(e),
    };
    let unknown = |first| History {
        commits: first,
        ..History::default()
    };
    let (Some(n), Some(o)) = (total, old_total) else {
        return Ok(unknown(first));
    };
    if n <= o {
        return Ok(rewritten(first));
    }
    // The old commit must be exactly that far back in the new history; else the ref was
    // rewritten somewhere in between, and how many commits are new is not known.
    let (at, _) = page(api, repo, new, (1, n - o), deadline).await?;
    Ok(match at.first() {
        Some(c) if c.id == old => added(first, n - o),
        _ => unknown(first),
    })
}

fn added(mut listed: Vec<Commit>, n: u64) -> History {
    listed.truncate(LISTED.min(n as usize));
    // Only the newest commit's author is shown with an avatar.
    for c in listed.iter_mut().skip(1) {
        if let Some(a) = c.author.as_mut() {
            a.avatar_url = None;
        }
    }
    History {
        commits: listed,
        added: Some(n),
        forced: false,
    }
}

fn rewritten(mut listed: Vec<Commit>) -> History {
    listed.truncate(1);
    History {
        commits: listed,
        added: None,
        forced: true,
    }
}
