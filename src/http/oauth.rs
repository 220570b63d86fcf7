//! `GET /oauth/hf/callback`: where "Sign in with Hugging Face" returns. The `state` must be
//! one herald gave out, unused and under 10 minutes old; the code is exchanged (PKCE), the
//! account stored sealed, and a small page says what was connected or exactly what went
//! wrong. Nothing is stored for a forged, replayed or expired state.

use super::AppState;
use crate::chat::commands::connect::redirect_uri;
use crate::chat::Chat;
use crate::hub::api::oauth;
use crate::render::notice::Notice;
use crate::store::{accounts, endpoints, notices, now_ms};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Longest a query value herald reads here.
const VALUE_MAX: usize = 2048;

fn html_escape(s: &str) -> String {
    s.chars()
        .take(300)
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

/// The page: a title and a sentence, nothing loaded from anywhere.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>herald: {t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>{t}</h1><p>{x}</p></body></html>",
        t = html_escape(title),
        x = html_escape(text)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn refused(text: &str) -> Response {
    page(StatusCode::BAD_REQUEST, "Not connected", text)
}

pub async fn callback(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| {
        query
            .get(k)
            .map(String::as_str)
            .filter(|v| v.len() <= VALUE_MAX)
    };
    let chat = &state.chat;
    let oauth = &chat.settings.hub.oauth;
    let Some(sealer) = chat.sealer.as_ref().filter(|_| oauth.is_set()) else {
        return refused("Signing in with Hugging Face is not set up on this herald.");
    };
    let Some(given) = get("state").filter(|s| !s.is_empty()) else {
        return refused(
            "This address is missing its state: open the link /herald connect gave you.",
        );
    };
    let pending = match accounts::take(&chat.store.pool, sealer, given, now_ms()).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return refused("This sign-in link is unknown or was already used. Run /herald connect again for a new one.")
        }
        Err(e) => {
            tracing::error!(error = %e, "a sign-in could not be read");
            return page(StatusCode::INTERNAL_SERVER_ERROR, "Not connected", "herald could not read this sign-in; its operator's log says why.");
        }
    };
    if pending.expired {
        return refused(
            "This sign-in link expired (links work for 10 minutes). Run /herald connect again.",
        );
    }
    if let Some(error) = get("error") {
        return refused(&format!(
            "Hugging Face did not connect the account ({error}). Run /herald connect to try again."
        ));
    }
    let Some(code) = get("code").filter(|c| !c.is_empty()) else {
        return refused("Hugging Face sent no code. Run /herald connect to try again.");
    };
    match finish(chat, sealer, &pending, code).await {
        Ok(username) => page(
            StatusCode::OK,
            "Connected",
            &format!("This workspace is connected to Hugging Face as {username}. herald makes a Hub webhook under that account for its subscriptions within seconds. You can close this page."),
        ),
        Err(why) => page(StatusCode::BAD_GATEWAY, "Not connected", &format!("{why} Run /herald connect to try again.")),
    }
}

/// Exchanges the code, learns who signed in, gives the workspace's endpoint a secret only
/// herald and the Hub know, stores the account, and tells the channel it was asked in.
async fn finish(
    chat: &Chat,
    sealer: &crate::store::sealed::Sealer,
    pending: &accounts::Pending,
    code: &str,
) -> Result<String, String> {
    let oauth_app = &chat.settings.hub.oauth;
    let app = oauth::App {
        client_id: &oauth_app.client_id,
        client_secret: &oauth_app.client_secret,
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let api = chat.hub.anonymous();
    let granted = oauth::exchange(
        &api,
        &app,
        code,
        &redirect_uri(chat),
        &pending.verifier,
        deadline,
    )
    .await
    .map_err(|e| format!("Hugging Face did not accept the sign-in: {e}."))?;
    let username = oauth::username(
        &chat.hub.with_token(&granted.access_token, "signing-in"),
        deadline,
    )
    .await
    .map_err(|e| format!("Hugging Face did not say who signed in: {e}."))?;
    let pool = &chat.store.pool;
    let ws = &pending.workspace;
    let now = now_ms();
    let failed = |e: sqlx::Error| {
        tracing::error!(error = %e, "a connected account could not be stored");
        "herald could not store the account.".to_string()
    };
    // The webhook's secret is herald's to give: the endpoint gets a new one (an old one
    // keeps working for the rotation grace, for a webhook made by hand).
    let secret = match endpoints::for_workspace(pool, ws).await.map_err(failed)? {
        Some(_) => {
            let until = now + chat.rotation_grace().as_millis() as i64;
            endpoints::rotate(pool, ws, until)
                .await
                .map_err(failed)?
                .map(|(_, s)| s)
        }
        None => Some(
            endpoints::create(pool, ws, &pending.user, now)
                .await
                .map_err(failed)?
                .1,
        ),
    }
    .ok_or("herald could not make the workspace's endpoint.")?;
    let connected = accounts::Connected {
        workspace: ws,
        username: &username,
        tokens: accounts::Tokens {
            access: &granted.access_token,
            refresh: granted.refresh_token.as_deref(),
            expires_at: granted
                .expires_in
                .map(|s| now + s.clamp(0, 10 * 365 * 86400) * 1000),
        },
        webhook_secret: &secret,
        by: &pending.user,
    };
    accounts::put(pool, sealer, &connected, now)
        .await
        .map_err(failed)?;
    tracing::info!(workspace = %ws, %username, "a workspace connected its Hugging Face account");
    if let Some(channel) = &pending.channel {
        let notice = Notice::new(
            "account",
            format!("Connected to Hugging Face as {username}"),
            vec!["herald now manages a Hub webhook under that account for this workspace's subscriptions, private repos included.".into()],
            "https://huggingface.co/settings/webhooks",
        );
        if notices::post(pool, &notice, std::slice::from_ref(channel))
            .await
            .is_ok()
        {
            chat.wake.notify_one();
        }
    }
    Ok(username)
}
