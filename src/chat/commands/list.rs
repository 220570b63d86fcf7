//! `list [all]`

use super::plain;
use crate::chat::{internal, Actor, Chat, Outcome, Reply};
use crate::store::subscriptions;

pub async fn run(chat: &Chat, actor: &Actor, everywhere: bool) -> Outcome {
    let pool = &chat.store.pool;
    let subs = match &actor.workspace {
        None => subscriptions::list(pool).await,
        Some(ws) => subscriptions::list_for(pool, Some(ws)).await,
    }
    .map_err(internal)?;
    let here: Vec<_> = subs
        .iter()
        .filter(|s| everywhere || actor.channel.as_ref().is_none_or(|c| &s.channel == c))
        .collect();
    if here.is_empty() {
        let text = match (&actor.workspace, everywhere) {
            (None, _) => "No subscriptions. Add one with: herald subscribe OWNER/NAME --channel discord:CHANNEL_ID",
            (Some(_), true) => "No subscriptions in this workspace. Add one with: subscribe owner/name",
            (Some(_), false) => {
                "No subscriptions in this channel (list all shows the whole workspace's). Add one with: subscribe owner/name"
            }
        };
        return Ok(Reply::Text(text.into()));
    }
    let lines: Vec<String> = here
        .iter()
        .map(|s| {
            plain(
                actor,
                &format!("{}  [{}, by {}]", s.describe(), s.source, s.created_by),
            )
        })
        .collect();
    Ok(Reply::Text(lines.join("\n")))
}
