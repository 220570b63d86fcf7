//! What a managed webhook should watch: each subscription's target as a watched item
//! (a repo of its type, an owner as the user or organisation the Hub says it is), the
//! operator's first, then the workspaces' in turns, at most [`WATCHED_MAX`] items; and
//! what cannot be watched, with why.

use crate::hub::api::webhooks::{self, Namespace, Watched};
use crate::hub::api::{ApiError, HubApi};
use crate::route::{Subscription, Target};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::time::Instant as Deadline;

/// Items herald puts on one webhook: the watched list is sent whole on every change.
pub const WATCHED_MAX: usize = 1000;
/// How long "no such user or organisation" is believed before asking again.
const MISSING_FOR: Duration = Duration::from_secs(600);
/// Owners whose kind is remembered; more than this and the memory starts over.
const KINDS_KEPT: usize = 4 * WATCHED_MAX;

/// A watched list, and what was left off it.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub watched: Vec<Watched>,
    /// Targets (as shown) and why they are not watched.
    pub left_out: Vec<(String, String)>,
    /// Some owner could not be looked up: the plan is to be made again soon.
    pub unsure: Option<ApiError>,
}

/// Which owners are users and which organisations, as the Hub said.
#[derive(Default)]
pub struct Kinds(HashMap<String, (Namespace, Instant)>);

impl Kinds {
    async fn of(
        &mut self,
        api: &HubApi,
        owner: &str,
        deadline: Deadline,
    ) -> Result<Namespace, ApiError> {
        let key = owner.to_ascii_lowercase();
        match self.0.get(&key) {
            Some((Namespace::Missing, at)) if at.elapsed() < MISSING_FOR => {
                return Ok(Namespace::Missing)
            }
            Some((Namespace::Missing, _)) | None => {}
            Some((known, _)) => return Ok(*known),
        }
        let kind = webhooks::namespace(api, owner, deadline).await?;
        if self.0.len() >= KINDS_KEPT {
            self.0.clear();
        }
        self.0.insert(key, (kind, Instant::now()));
        Ok(kind)
    }
}

/// The plan for `subs` (already only those the webhook serves). `before` is the list the
/// Hub has now: an owner that cannot be looked up keeps the item it had there.
pub async fn plan(
    subs: &[Subscription],
    before: &[Watched],
    kinds: &mut Kinds,
    api: &HubApi,
    deadline: Deadline,
) -> Plan {
    let mut ordered: Vec<&Subscription> = subs.iter().filter(|s| s.paused.is_none()).collect();
    ordered.sort_by_key(|s| (s.workspace.is_some(), s.id));
    let mut plan = Plan::default();
    let mut items: Vec<(Option<&str>, Watched)> = Vec::new();
    for sub in ordered {
        let whose = sub.workspace.as_deref();
        let shown = sub.target.to_string();
        match &sub.target {
            Target::All => plan.left_out.push((
                shown,
                "the Hub cannot watch all of its repos: follow owner/* or single repos".into(),
            )),
            Target::Repo { kind, name } => match kind.as_str() {
                k @ ("model" | "dataset" | "space") => {
                    items.push((whose, Watched::new(k, name.as_str())))
                }
                other => plan
                    .left_out
                    .push((shown, format!("the Hub cannot watch repos of type {other}"))),
            },
            Target::Namespace { owner, .. } => match kinds.of(api, owner, deadline).await {
                Ok(Namespace::Org) => items.push((whose, Watched::new("org", owner))),
                Ok(Namespace::User) => items.push((whose, Watched::new("user", owner))),
                Ok(Namespace::Missing) => plan.left_out.push((
                    shown,
                    format!("the Hub has no user or organisation named {owner}"),
                )),
                Err(e) => {
                    let had = before.iter().find(|w| {
                        matches!(w.kind.as_str(), "user" | "org")
                            && w.name.eq_ignore_ascii_case(owner)
                    });
                    match had {
                        Some(w) => items.push((whose, w.clone())),
                        None => {
                            plan.left_out.push((
                                shown,
                                format!("not yet: the Hub did not say whether {owner} is a user or an organisation ({e})"),
                            ));
                            plan.unsure = Some(e);
                        }
                    }
                }
            },
        }
    }
    let items = fair(items);
    // A repo of an owner already watched needs no item of its own (an owner that did not
    // fit covers nothing).
    let mut owners: HashSet<String> = HashSet::new();
    let mut seen = HashSet::new();
    let is_owner = |w: &Watched| matches!(w.kind.as_str(), "user" | "org");
    let (owner_items, repo_items): (Vec<Watched>, Vec<Watched>) =
        items.into_iter().partition(|w| is_owner(w));
    for item in owner_items.into_iter().chain(repo_items) {
        let covered = !is_owner(&item)
            && item
                .name
                .split_once('/')
                .is_some_and(|(o, _)| owners.contains(&o.to_ascii_lowercase()));
        if covered || !seen.insert(item.key()) {
            continue;
        }
        if plan.watched.len() >= WATCHED_MAX {
            plan.left_out.push((
                item.describe(),
                format!("over the {WATCHED_MAX} items herald puts on one Hub webhook"),
            ));
            continue;
        }
        if is_owner(&item) {
            owners.insert(item.name.to_ascii_lowercase());
        }
        plan.watched.push(item);
    }
    let mut shown = HashSet::new();
    plan.left_out.retain(|(t, _)| shown.insert(t.clone()));
    plan
}

/// The operator's items first, then the workspaces' in turns, one item each, so that
/// past [`WATCHED_MAX`] no workspace has taken the room of the others.
fn fair(items: Vec<(Option<&str>, Watched)>) -> Vec<Watched> {
    let mut out = Vec::with_capacity(items.len());
    let mut queues: Vec<std::collections::VecDeque<Watched>> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = Default::default();
    for (whose, item) in items {
        match whose {
            None => out.push(item),
            Some(ws) => {
                let at = *index.entry(ws).or_insert_with(|| {
                    queues.push(Default::default());
                    queues.len() - 1
                });
                queues[at].push_back(item);
            }
        }
    }
    while queues.iter().any(|q| !q.is_empty()) {
        for q in queues.iter_mut() {
            out.extend(q.pop_front());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_take_turns_after_the_operator() {
        let w = |n: &str| Watched::new("model", n);
        let items = vec![
            (Some("a"), w("a/1")),
            (Some("a"), w("a/2")),
            (Some("a"), w("a/3")),
            (None, w("op/1")),
            (Some("b"), w("b/1")),
        ];
        let names: Vec<String> = fair(items).into_iter().map(|w| w.name).collect();
        assert_eq!(names, ["op/1", "a/1", "b/1", "a/2", "a/3"]);
    }
}
