//! `connect` and `disconnect`: a workspace links a Hugging Face account, under which herald
//! then manages the workspace's own Hub webhook (its private repos included), or unlinks it.

use crate::chat::{internal, Actor, Chat, Outcome, Reply};
use crate::hub::api::{oauth, webhooks, ApiError};
use crate::render::escape::link;
use crate::render::notice::Notice;
use crate::store::{accounts, endpoints, notices, now_ms, webhooks as stored};
use std::time::Duration;
use tokio::time::Instant;

/// How long a sign-in link works.
pub const SIGN_IN_FOR: Duration = Duration::from_secs(600);

/// Where the Hub sends the browser back to.
pub fn redirect_uri(chat: &Chat) -> String {
    let base = chat.settings.server.public_url.trim_end_matches('/');
    format!("{base}/oauth/hf/callback")
}

pub async fn connect(chat: &Chat, actor: &Actor) -> Outcome {
    chat.may_change(actor)?;
    let Some(ws) = &actor.workspace else {
        return Err("The operator's webhook uses hub.token from the config; connect is for Discord servers and Slack workspaces.".into());
    };
    let oauth = &chat.settings.hub.oauth;
    let Some(sealer) = chat.sealer.as_ref().filter(|_| oauth.is_set()) else {
        return Err("Connecting a Hugging Face account is not set up on this herald: its operator needs [hub.oauth] client_id and client_secret, and security.key (docs/hub.md).".into());
    };
    let pool = &chat.store.pool;
    let (state, verifier) = (oauth::random_token(), oauth::random_token());
    let channel = actor.channel.as_ref().map(|c| c.to_string());
    let now = now_ms();
    let until = now + SIGN_IN_FOR.as_millis() as i64;
    let who = (ws.as_str(), actor.user.as_str(), channel.as_deref());
    accounts::begin(pool, sealer, &state, &verifier, who, until, now)
        .await
        .map_err(internal)?;
    let url = oauth::authorize_url(
        &chat.hub,
        &oauth.client_id,
        &redirect_uri(chat),
        &state,
        &verifier,
    );
    let mut text = format!(
        "{}: the link works once, for 10 minutes. The page then shows a code: type it here with connect to finish.\n\
         herald then makes a Hub webhook under that account for this workspace's subscriptions, private repos included, and keeps it in sync. \
         If you made a webhook for this workspace by hand on huggingface.co, delete it afterwards.",
        link(actor.platform, url.as_str(), "Sign in with Hugging Face")
    );
    if let Ok(Some(a)) = accounts::get(pool, sealer, ws).await {
        text.push_str(&format!(
            "\nThis workspace is connected as {} now; signing in again replaces that.",
            super::plain(actor, &a.username)
        ));
    }
    Ok(Reply::Text(text))
}

/// `connect CODE`: the sign-in this user began here, accepted by the Hub, becomes the
/// workspace's account. The endpoint gets a secret only herald and the Hub know.
pub async fn confirm(chat: &Chat, actor: &Actor, code: &str) -> Outcome {
    chat.may_change(actor)?;
    let Some(ws) = &actor.workspace else {
        return Err("connect is for Discord servers and Slack workspaces.".into());
    };
    let Some(sealer) = &chat.sealer else {
        return Err("Connecting a Hugging Face account is not set up on this herald.".into());
    };
    let pool = &chat.store.pool;
    let now = now_ms();
    let who = (ws.as_str(), actor.user.as_str());
    let typed = oauth::typed_code(code);
    let Some(c) = accounts::confirm(pool, sealer, who, &typed, now)
        .await
        .map_err(internal)?
    else {
        return Err("That code is not one of your sign-ins here, or it expired (10 minutes). Run connect for a new link; after 5 wrong codes your sign-ins are dropped.".into());
    };
    // Another account before this one: its webhook goes (with its token), so that it
    // does not go on sending that account's events.
    if let Ok(Some(before)) = accounts::get(pool, sealer, ws).await {
        if !before.username.eq_ignore_ascii_case(&c.username) {
            let id = stored::get(pool, ws)
                .await
                .map_err(internal)?
                .and_then(|h| h.hub_id);
            tokio::spawn(delete_webhook(chat.clone(), ws.clone(), before.token, id));
        }
    }
    // The webhook's secret is herald's to give: the endpoint gets a new one (an old one
    // keeps working for the rotation grace, for a webhook made by hand).
    let secret = match endpoints::for_workspace(pool, ws).await.map_err(internal)? {
        Some(_) => {
            let until = now + chat.rotation_grace().as_millis() as i64;
            endpoints::rotate(pool, ws, until)
                .await
                .map_err(internal)?
                .map(|(_, s)| s)
        }
        None => Some(
            endpoints::create(pool, ws, &actor.user, now)
                .await
                .map_err(internal)?
                .1,
        ),
    }
    .ok_or_else(|| internal("the endpoint vanished"))?;
    let connected = accounts::Connected {
        workspace: ws,
        username: &c.username,
        tokens: accounts::Tokens {
            access: &c.access,
            refresh: c.refresh.as_deref(),
            expires_at: c
                .expires_in
                .map(|s| now + s.clamp(0, 10 * 365 * 86400) * 1000),
        },
        webhook_secret: &secret,
        by: &actor.user,
    };
    accounts::put(pool, sealer, &connected, now)
        .await
        .map_err(internal)?;
    tracing::info!(workspace = %ws, username = %c.username, "a workspace connected its Hugging Face account");
    if let Some(channel) = c.channel {
        let notice = Notice::new(
            "account",
            format!("Connected to Hugging Face as {}", c.username),
            vec!["herald now manages a Hub webhook under that account for this workspace's subscriptions, private repos included.".into()],
            "https://huggingface.co/settings/webhooks",
        );
        if notices::post(pool, &notice, &[channel]).await.is_ok() {
            chat.wake.notify_one();
        }
    }
    Ok(Reply::Text(format!(
        "Connected to Hugging Face as {}. herald makes a Hub webhook under that account for this workspace's subscriptions within seconds (list shows it).",
        super::plain(actor, &c.username)
    )))
}

/// Deletes the webhook herald made under a disconnected account, then its row and lease;
/// says what became of it.
async fn delete_webhook(chat: Chat, ws: String, token: String, id: Option<String>) -> String {
    let api = chat.hub.with_token(&token, &format!("account:{ws}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let said = match &id {
        None => "It had no webhook to delete.".to_string(),
        Some(id) => match webhooks::delete(&api, id, deadline).await {
            Ok(()) | Err(ApiError::Status { status: 404, .. }) => {
                "herald deleted its webhook under that account.".to_string()
            }
            Err(e) => {
                tracing::warn!(workspace = %ws, error = %e, "a disconnected account's webhook was not deleted");
                format!("herald could not delete its webhook under that account ({e}): delete it at huggingface.co/settings/webhooks.")
            }
        },
    };
    // Only the row of the webhook deleted: one a watcher made since is kept.
    let forgotten = sqlx::query("DELETE FROM hub_webhooks WHERE owner = ? AND hub_id IS ?")
        .bind(&ws)
        .bind(&id)
        .execute(&chat.store.pool)
        .await;
    if let Err(e) = forgotten {
        tracing::warn!(workspace = %ws, error = %e, "a disconnected account's webhook row stays");
    }
    said
}

pub async fn disconnect(chat: &Chat, actor: &Actor) -> Outcome {
    chat.may_change(actor)?;
    let Some(ws) = &actor.workspace else {
        return Err("The operator has no connected account; hub.token is in the config.".into());
    };
    let pool = &chat.store.pool;
    let Some(sealer) = &chat.sealer else {
        return Err("This workspace is not connected to a Hugging Face account.".into());
    };
    let Some(account) = accounts::get(pool, sealer, ws).await.map_err(internal)? else {
        return Err("This workspace is not connected to a Hugging Face account.".into());
    };
    // Taken from any watcher first, so that none puts the webhook back meanwhile.
    // A reconcile under way ends within seconds; waited for a little.
    let mut held = false;
    for _ in 0..12 {
        let now = now_ms();
        held = stored::hold(pool, ws, "disconnect", now, now + 60_000)
            .await
            .map_err(internal)?;
        if held {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    if !held {
        return Err(
            "herald is updating this workspace's Hub webhook right now; try again in a minute."
                .into(),
        );
    }
    accounts::forget(pool, ws).await.map_err(internal)?;
    let hook = stored::get(pool, ws).await.map_err(internal)?;
    let id = hook.and_then(|h| h.hub_id);
    // Finished even if the chat platform stops waiting for the answer.
    let delete = tokio::spawn(delete_webhook(
        chat.clone(),
        ws.clone(),
        account.token.clone(),
        id,
    ));
    let deleted = match tokio::time::timeout(Duration::from_secs(2), delete).await {
        Ok(Ok(said)) => said,
        _ => "herald is deleting its webhook under that account.".to_string(),
    };
    Ok(Reply::Text(format!(
        "Disconnected from Hugging Face ({}). {deleted} herald forgot the account's token. \
         Public repos this workspace follows reach it through herald's own webhook again.",
        super::plain(actor, &account.username)
    )))
}
