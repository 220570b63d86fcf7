//! A discussion or pull request: one call for its details names the opener, the comment's
//! author (the log event whose id is the webhook's `comment.id`) and whoever changed the
//! status; ids the details do not name are looked up one by one.
//!
//! Names are only put where the Hub's own record bears them out: a workspace's payload
//! (not signed by the Hub) is named only when its title, and a comment's text, are what
//! the Hub says, so that nobody can post made-up words under a real person's name.

use super::fetch::Ask;
use crate::hub::api::discussions::{self, digest, Details};
use crate::hub::api::facts::DiscussionFacts;
use crate::hub::event::Discussion;
use crate::hub::Event;
use std::sync::Arc;

impl Ask<'_> {
    pub async fn discussion(&mut self, event: &Event, d: &Discussion) {
        let comment = event.comment.as_ref();
        let comment_id = comment.map(|c| c.id.clone()).filter(|c| !c.is_empty());
        let key = self.key(&d.num.to_string());
        // A cached copy serves a comment already in it; a status change needs the log as
        // it is now, or the wrong person could be named.
        let cached = self.caches.discussions.get(&key).filter(|c| {
            comment_id
                .as_ref()
                .is_some_and(|id| c.by_event.contains_key(id))
        });
        let details = match cached {
            Some(c) => Some(c),
            None => match discussions::get(self.api, self.repo, d.num, self.deadline).await {
                Ok(fetched) => {
                    let fetched = Arc::new(fetched);
                    for (id, p) in &fetched.by_user {
                        self.caches.users.put(id.clone(), p.clone());
                    }
                    self.caches.discussions.put(key, fetched.clone());
                    Some(fetched)
                }
                Err(e) => {
                    self.miss("the discussion's details", &e);
                    None
                }
            },
        };
        let trusted = self.came.trusted;
        let vouched = |det: &Details| trusted || det.title.as_deref() == Some(&d.title);
        let details = details.as_deref().filter(|det| vouched(det));
        // This event's change of status, if it is the last thing in a freshly read log: a
        // later change, or a log read late, would make who and from what a guess.
        let this_change = details.filter(|_| self.came.fresh).and_then(|det| {
            let last = det.last_event.as_deref() == Some("status-change");
            let n = det.status_changes.len();
            (last && det.status_changes.last()?.0 == d.status).then_some((det, n))
        });
        let mut out = DiscussionFacts::default();
        if let Some(det) = details {
            out.author = det.author.clone();
            out.comment_author = comment_id.as_ref().and_then(|id| {
                let text = comment.and_then(|c| c.content.as_deref());
                let same = trusted || text.is_some_and(|t| det.said.get(id) == Some(&digest(t)));
                det.by_event.get(id).filter(|_| same).cloned()
            });
        }
        // The status before this change (a discussion starts open, or as a draft: with one
        // change only, that is not known).
        out.previous_status = this_change
            .filter(|(_, n)| *n >= 2)
            .map(|(det, n)| det.status_changes[n - 2].0.clone());
        // Names the details did not give (a deleted discussion, say), by id: only for
        // what the Hub itself sent.
        if trusted {
            if out.comment_author.is_none() && comment.is_some() {
                let by = comment.and_then(|c| c.author_id.as_deref());
                out.comment_author = self.person(by).await;
            }
            if out.author.is_none() {
                out.author = self.person(d.author_id.as_deref()).await;
            }
        }
        let status_by = this_change.and_then(|(det, n)| det.status_changes[n - 1].1.clone());
        self.facts.actor = match (event.scope.as_str(), event.action.as_str()) {
            ("discussion.comment", _) => out.comment_author.clone(),
            (_, "create") => out.author.clone(),
            _ => status_by,
        };
        self.facts.discussion = Some(out);
    }
}
