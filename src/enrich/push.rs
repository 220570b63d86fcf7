//! A push: the commits each ref gained (the main ref's listed, the others' heads), and the
//! files the main ref's change touched, asked at once.

use super::fetch::Ask;
use crate::hub::api::commits::{self, History};
use crate::hub::api::{compare, files, is_sha, ApiError};
use crate::hub::event::RefUpdate;
use crate::hub::Event;

/// Refs of one push whose commits are fetched; the rest are listed without titles.
const REFS_FETCHED: usize = 5;

impl Ask<'_> {
    pub async fn push(&mut self, event: &Event) {
        let main = event.main_ref();
        let refs: Vec<&RefUpdate> = event
            .refs
            .iter()
            .filter(|r| r.new_sha.as_deref().is_some_and(is_sha))
            .take(REFS_FETCHED)
            .collect();
        let me = &*self;
        let histories = futures_util::future::join_all(refs.iter().map(|r| me.history(r)));
        let changed = async {
            let r = main?;
            let (old, new) = (r.old_sha.as_deref()?, r.new_sha.as_deref()?);
            is_sha(old).then_some(())?;
            Some(compare::files(me.api, me.repo, old, new, me.deadline).await)
        };
        let (histories, changed) = tokio::join!(histories, changed);
        for (r, h) in refs.iter().zip(histories) {
            match h {
                // Only the main ref's commits are listed; the others show their head.
                Ok(mut h) => {
                    if main.is_none_or(|m| m.full != r.full) {
                        h.commits.truncate(1);
                    }
                    self.facts.refs.push((r.full.clone(), h))
                }
                Err(e) => self.miss(&format!("commits of {}", r.name), &e),
            }
        }
        match changed {
            Some(Ok((list, cut))) => {
                let kind = event.repo.kind.as_str();
                self.facts.files = Some(files::summarise(kind, &list, cut));
            }
            Some(Err(e)) => self.miss("changed files", &e),
            None => {}
        }
        // Who pushed: as near as the Hub says, the author of the newest commit of commits
        // the push added. A new or rewritten ref may point at anyone's commit: no name.
        self.facts.actor = main
            .and_then(|m| self.facts.history(&m.full))
            .filter(|h| !h.forced && h.added.is_some_and(|n| n > 0))
            .and_then(|h| h.commits.first())
            .and_then(|c| c.author.clone());
    }

    /// What a push did to one ref: the commits it added, or its new head alone.
    async fn history(&self, r: &RefUpdate) -> Result<History, ApiError> {
        let (api, repo, deadline) = (self.api, self.repo, self.deadline);
        let new = r.new_sha.as_deref().unwrap_or_default();
        if let Some(old) = r.old_sha.as_deref().filter(|o| is_sha(o)) {
            let h = commits::between(api, repo, old, new, deadline).await?;
            for c in &h.commits {
                self.caches.commits.put(self.key(&c.id), c.clone());
            }
            return Ok(h);
        }
        // A created ref: its head, which a commit id names for good.
        let head = match self.caches.commits.get(&self.key(new)) {
            Some(c) => c,
            None => {
                let c = commits::head(api, repo, new, deadline).await?;
                self.caches.commits.put(self.key(new), c.clone());
                c
            }
        };
        Ok(History {
            commits: vec![head],
            ..Default::default()
        })
    }
}
