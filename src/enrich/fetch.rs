//! What to ask the Hub about an event, all of it at once and within one deadline: the
//! commits and files of a push (push.rs), the details of a discussion (discussion.rs),
//! the names of people. What does not come back in time, or comes back refused, is named
//! in `missing`.

use super::Caches;
use crate::hub::api::facts::{Enriched, Facts};
use crate::hub::api::{compare, files, users};
use crate::hub::api::{is_sha, ApiError, HubApi, Person, RepoPath};
use crate::hub::Event;
use tokio::time::Instant;

/// The tree with no files: comparing with it lists every file of a commit.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// One event's questions: whom to ask, about which repo, until when, and what is known
/// so far.
pub(super) struct Ask<'a> {
    pub api: &'a HubApi,
    pub caches: &'a Caches,
    pub repo: RepoPath<'a>,
    pub deadline: Instant,
    pub came: Came,
    pub facts: Facts,
    /// What could not be had, each with why.
    pub missing: Vec<String>,
}

impl Ask<'_> {
    pub fn miss(&mut self, what: &str, why: &ApiError) {
        self.missing.push(format!("{what} ({why})"));
    }

    /// Cache keys say whether the token read it: a private repo's commits and
    /// discussions are never served to a read without it.
    pub fn key(&self, what: &str) -> String {
        let access = self.api.access();
        let r = self.repo;
        format!("{access}:{}/{}/{}:{what}", r.kind, r.owner, r.name)
    }

    /// A user by id: from the cache, or asked.
    pub async fn person(&mut self, id: Option<&str>) -> Option<Person> {
        let id = id.filter(|i| users::is_id(i))?;
        if let Some(p) = self.caches.users.get(&id.to_string()) {
            return Some(p);
        }
        match users::by_id(self.api, id, self.deadline).await {
            Ok(p) => {
                self.caches.users.put(id.to_string(), p.clone());
                Some(p)
            }
            Err(e) => {
                self.miss("a user's name", &e);
                None
            }
        }
    }

    fn done(self) -> Enriched {
        let missing = (!self.missing.is_empty())
            .then(|| format!("not from the Hub API: {}", self.missing.join("; ")));
        Enriched {
            facts: self.facts,
            missing,
        }
    }
}

/// How the event came.
#[derive(Clone, Copy)]
pub struct Came {
    /// The Hub signed the payload (the operator's webhook): its ids are the Hub's.
    pub trusted: bool,
    /// Asked soon after the event: the Hub's record is still as the event left it.
    pub fresh: bool,
}

pub async fn enrich(
    api: &HubApi,
    caches: &Caches,
    event: &Event,
    came: Came,
    deadline: Instant,
) -> Enriched {
    if event.repo.private != Some(false) && !api.has_token() {
        // Nothing to show the channel: the message renders as it always did.
        let why = "a private repo (or one the payload does not say is public): read only with \
                   hub.token, and only for the operator's webhook";
        return Enriched {
            facts: Facts::default(),
            missing: Some(format!("not from the Hub API: {why}")),
        };
    }
    let Some(repo) = RepoPath::new(&event.repo.kind, event.repo.name.as_str()) else {
        return Enriched::default();
    };
    let mut ask = Ask {
        api,
        caches,
        repo,
        deadline,
        came,
        facts: Facts::default(),
        missing: Vec::new(),
    };
    if !event.refs.is_empty() {
        ask.push(event).await;
    } else if let Some(d) = &event.discussion {
        ask.discussion(event, d).await;
    } else if event.scope.as_str() == "repo" && event.action.as_str() == "create" {
        // A new repo: its first files.
        if let Some(head) = event.repo.head_sha.as_deref().filter(|s| is_sha(s)) {
            match compare::files(api, repo, EMPTY_TREE, head, deadline).await {
                Ok((list, cut)) => {
                    let kind = event.repo.kind.as_str();
                    ask.facts.files = Some(files::summarise(kind, &list, cut));
                }
                Err(e) => ask.miss("its files", &e),
            }
        }
    }
    ask.done()
}
