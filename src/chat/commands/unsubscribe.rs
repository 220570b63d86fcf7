//! `unsubscribe <id | target>`

use super::{no_such, owns, plain};
use crate::chat::{internal, Actor, Chat, Failure, Outcome, Reply};
use crate::route::subscription::Source;
use crate::route::{Subscription, Target};
use crate::store::subscriptions;

pub async fn run(chat: &Chat, actor: &Actor, what: &str) -> Outcome {
    chat.may_change(actor)?;
    let pool = &chat.store.pool;
    let sub = match what.parse::<i64>() {
        Ok(id) => subscriptions::get(pool, id)
            .await
            .map_err(internal)?
            .filter(|s| owns(actor, s))
            .ok_or_else(|| no_such(actor, id))?,
        Err(_) => by_target(chat, actor, what).await?,
    };
    if sub.source == Source::Config {
        return Err(format!(
            "Subscription #{} is declared in the config file ([[subscriptions]]); remove it there and restart.",
            sub.id
        ).into());
    }
    subscriptions::remove(pool, sub.id)
        .await
        .map_err(internal)?;
    Ok(Reply::Text(format!(
        "Removed {}",
        plain(actor, &sub.describe())
    )))
}

/// The subscription of this channel that follows exactly this target.
async fn by_target(chat: &Chat, actor: &Actor, what: &str) -> Result<Subscription, Failure> {
    let target = Target::parse(what)
        .map_err(|e| format!("\"{what}\" is neither a subscription id nor a target: {e}"))?;
    let channel = actor
        .channel
        .as_ref()
        .ok_or("unsubscribe by id here (see herald subscriptions)")?;
    subscriptions::list_for(&chat.store.pool, actor.workspace.as_deref())
        .await
        .map_err(internal)?
        .into_iter()
        .find(|s| s.target == target && &s.channel == channel)
        .ok_or_else(|| {
            format!("This channel does not follow {target}; list shows what it follows.").into()
        })
}
