//! `GET /oauth/hf/callback`: where "Sign in with Hugging Face" returns. The `state` must be
//! one herald gave out, unused and under 10 minutes old; the code is exchanged (PKCE), and
//! the page shows a code the person who asked types in chat to connect the account (so a
//! sign-in link clicked by someone else connects nothing), or says exactly what went
//! wrong. Nothing is stored for a forged, replayed or expired state.

use super::AppState;
use crate::chat::commands::connect::{redirect_uri, SIGN_IN_FOR};
use crate::chat::Chat;
use crate::hub::api::oauth;
use crate::store::{accounts, now_ms};
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
    match accept(chat, sealer, &pending, code).await {
        Ok((username, confirm)) => {
            let (place, typed) = match pending.workspace.split_once(':') {
                Some(("slack", _)) => ("Slack", format!("/herald connect {confirm}")),
                _ => ("Discord", format!("/herald connect code:{confirm}")),
            };
            page(
                StatusCode::OK,
                "One more step",
                &format!(
                    "Signed in on Hugging Face as {username}. To connect this account, the person who asked types {typed} in {place} ({workspace}) within 10 minutes. \
                     If you did not ask for this there, close this page: nothing is connected.",
                    workspace = pending.workspace
                ),
            )
        }
        Err(why) => page(
            StatusCode::BAD_GATEWAY,
            "Not connected",
            &format!("{why} Run /herald connect to try again."),
        ),
    }
}

/// Exchanges the code and learns who signed in; the account waits, sealed, for the
/// person who asked to confirm it in chat with the code returned (a link someone else
/// clicked connects nothing).
async fn accept(
    chat: &Chat,
    sealer: &crate::store::sealed::Sealer,
    pending: &accounts::Pending,
    code: &str,
) -> Result<(String, String), String> {
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
        &chat.hub.with_token(
            &granted.access_token,
            &format!("signing-in:{}", pending.workspace),
        ),
        deadline,
    )
    .await
    .map_err(|e| format!("Hugging Face did not say who signed in: {e}."))?;
    let confirm = oauth::confirmation_code();
    let accepted = accounts::Accepted {
        pending,
        username: &username,
        access: &granted.access_token,
        refresh: granted.refresh_token.as_deref(),
        expires_in: granted.expires_in,
    };
    let now = now_ms();
    let until = now + SIGN_IN_FOR.as_millis() as i64;
    accounts::accepted(&chat.store.pool, sealer, &confirm, &accepted, until, now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "an accepted sign-in could not be stored");
            "herald could not store the sign-in.".to_string()
        })?;
    Ok((username, confirm))
}
