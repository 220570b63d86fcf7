//! Who gets an event: subscriptions, and matching them against events.

pub mod channel;
pub mod filter;
pub mod judge;
pub mod schedule;
pub mod subscription;
pub mod target;

pub use channel::{Channel, Platform};
pub use filter::{Bots, Filter, Look};
pub use judge::{judge, Verdict, Why};
pub use subscription::{Rules, Subscription};
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

/// One subscription chosen for an event.
#[derive(Debug, Clone, Copy)]
pub struct Chosen<'a> {
    pub sub: &'a Subscription,
    /// Its filter decided; false when it waits for the Hub API's facts.
    pub sure: bool,
}

/// From the candidates the store found by key, the subscriptions that get the event: one
/// per channel, a sure one before one whose filter waits for facts, then the most
/// specific.
pub fn select<'a>(
    event: &Event,
    origin: &Origin,
    candidates: &[&'a Subscription],
    bots: &Bots,
) -> Vec<Chosen<'a>> {
    let look = Look::arrival(bots);
    let others = || candidates.iter().copied();
    let mut chosen: Vec<Chosen> = candidates
        .iter()
        .filter_map(|sub| match judge(event, origin, sub, others(), &look) {
            Verdict::Yes { sure } => Some(Chosen { sub, sure }),
            Verdict::No(_) => None,
        })
        .collect();
    chosen.sort_by_key(|c| (!c.sure, std::cmp::Reverse(c.sub.specificity()), c.sub.id));
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|c| seen.insert(&c.sub.channel));
    chosen
}
