//! `filter <subscription> [expr]`: sets or removes a subscription's filter.

use super::{no_such, owns, plain, rules_notes};
use crate::chat::{internal, Actor, Chat, Outcome, Reply};
use crate::route::subscription::Source;
use crate::route::Filter;
use crate::store::subscriptions;

pub async fn run(chat: &Chat, actor: &Actor, subscription: &str, expr: &str) -> Outcome {
    chat.may_change(actor)?;
    let id: i64 = subscription.trim_start_matches('#').parse().map_err(|_| {
        format!(
            "\"{}\" is not a subscription id; list shows them.",
            plain(actor, subscription)
        )
    })?;
    let pool = &chat.store.pool;
    let sub = subscriptions::get(pool, id)
        .await
        .map_err(internal)?
        .filter(|s| owns(actor, s))
        .ok_or_else(|| no_such(actor, id))?;
    if sub.source == Source::Config {
        return Err(format!(
            "Subscription #{id} is declared in the config file ([[subscriptions]]); change its filter there and restart."
        )
        .into());
    }
    let filter = Filter::parse(expr).map_err(|e| plain(actor, &e.to_string()))?;
    subscriptions::set_filter(pool, id, filter.as_ref())
        .await
        .map_err(internal)?;
    let sub = subscriptions::get(pool, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| no_such(actor, id))?;
    let what = match filter {
        Some(_) => "Filter saved",
        None => "Filter removed",
    };
    let mut text = format!("{what}. Now active:\n  {}", plain(actor, &sub.describe()));
    for note in rules_notes(chat, &sub) {
        text.push_str(&format!("\n{}", plain(actor, &note)));
    }
    Ok(Reply::Text(text))
}
