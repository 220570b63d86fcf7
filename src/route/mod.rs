//! Who gets an event: subscriptions, and matching them against events.

pub mod channel;
pub mod filter;
pub mod subscription;
pub mod target;

pub use channel::{Channel, Platform};
pub use subscription::Subscription;
pub use target::Target;

use crate::hub::Event;

/// Which webhook an event came in on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `POST /webhooks/hf`, the operator's.
    Operator,
    /// `POST /webhooks/hf/{endpoint_id}`, a workspace's own.
    Workspace(String),
}

impl Origin {
    /// How it is stored with the event: `operator`, or the workspace id.
    pub fn as_str(&self) -> &str {
        match self {
            Origin::Operator => "operator",
            Origin::Workspace(w) => w,
        }
    }

    /// Who may see an event from here: a workspace's endpoint feeds only that workspace;
    /// the operator's feeds the operator, and workspaces only for public repos.
    pub fn may_reach(&self, sub: &Subscription, event: &Event) -> bool {
        match (self, &sub.workspace) {
            (Origin::Workspace(w), Some(owner)) => w == owner,
            (Origin::Workspace(_), None) => false,
            (Origin::Operator, None) => true,
            // Public only when the payload says so: an event that does not say reaches
            // the operator's subscriptions only. A workspace with an account of its own
            // hears of its repos from that account's webhook (once, not twice).
            (Origin::Operator, Some(_)) => event.repo.private == Some(false) && !sub.own_account,
        }
    }
}

/// From the candidates the store found by key, the subscriptions that get the event:
/// those allowed to see it whose scopes want it, one per channel (the most specific).
pub fn select<'a>(
    event: &Event,
    origin: &Origin,
    candidates: impl IntoIterator<Item = &'a Subscription>,
) -> Vec<&'a Subscription> {
    let mut chosen: Vec<&Subscription> = candidates
        .into_iter()
        .filter(|s| origin.may_reach(s, event) && s.wants(event))
        .collect();
    chosen.sort_by_key(|s| (std::cmp::Reverse(s.specificity()), s.id));
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|s| seen.insert(&s.channel));
    chosen
}
