//! `subscribe <target> [scope…] [channel]`

use super::{plain, resolve_channel};
use crate::chat::{internal, Actor, Chat, Outcome, Reply};
use crate::hub::Scope;
use crate::route::subscription::Threads;
use crate::route::Target;
use crate::store::subscriptions::{self, Added, NewSubscription};
use crate::store::{endpoints, now_ms};

pub async fn run(
    chat: &Chat,
    actor: &Actor,
    target: &str,
    scopes: &[String],
    channel: Option<&str>,
    threads: Option<&str>,
) -> Outcome {
    chat.may_change(actor)?;
    let target = Target::parse(target).map_err(|e| e.to_string())?;
    let scopes = scopes
        .iter()
        .map(|s| Scope::parse_subscribable(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let channel = resolve_channel(chat, actor, channel)?;
    let threads = threads.map(Threads::parse).transpose()?.unwrap_or_default();
    let new = NewSubscription {
        target,
        scopes,
        channel,
        workspace: actor.workspace.clone(),
        source: match actor.workspace {
            Some(_) => actor.platform.as_str().to_string(),
            None => "cli".to_string(),
        },
        created_by: actor.user.clone(),
        threads,
    };
    let mut conn = chat.store.pool.acquire().await.map_err(internal)?;
    let (sub, added) = subscriptions::add(&mut conn, &new, now_ms())
        .await
        .map_err(internal)?;
    let what = match added {
        Added::Created => "Subscribed",
        Added::Widened => "Widened the existing subscription",
        Added::Unchanged => "Already subscribed, nothing changed",
    };
    let mut text = format!("{what}. Now active:\n  {}", plain(actor, &sub.describe()));
    if let Some(ws) = &actor.workspace {
        let has_endpoint = endpoints::for_workspace(&chat.store.pool, ws)
            .await
            .map_err(internal)?
            .is_some();
        if !has_endpoint {
            text.push_str("\nEvents of public repos arrive through herald's own webhook. For private repos, an admin can run setup to give this workspace a webhook of its own.");
        }
    }
    Ok(Reply::Text(text))
}
