//! Who gets an event: subscriptions, and matching them against events.

pub mod channel;
pub mod subscription;
pub mod target;

pub use channel::{Channel, Platform};
pub use subscription::Subscription;
pub use target::Target;

use crate::hub::Event;

/// From the candidates the store found by key, the subscriptions that get the event:
/// those whose scopes want it, one per channel (the most specific).
pub fn select(event: &Event, mut candidates: Vec<Subscription>) -> Vec<Subscription> {
    candidates.retain(|s| s.wants(event));
    candidates.sort_by_key(|s| (std::cmp::Reverse(s.specificity()), s.id));
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|s| seen.insert(s.channel.clone()));
    candidates
}
