//! The chat endpoints: what the headers show is checked before the body is read, and the
//! signature on the raw body before anything is parsed.

use super::budget::Reserved;
use super::{ApiError, AppState};
use crate::chat::{discord, slack};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn now_s() -> i64 {
    crate::store::now_ms() / 1000
}

fn bad_signature() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid request signature")
}

/// Refuses a verified request that was answered before (a replay within the window).
async fn once(state: &AppState, key: String, timestamp: &str) -> Result<(), ApiError> {
    let skew = state.chat.settings.chat.max_clock_skew_s as i64;
    let ts: i64 = timestamp.parse().unwrap_or_default();
    // Past the end of the last second in which the timestamp is still fresh.
    let until = ts
        .saturating_add(skew)
        .saturating_add(1)
        .saturating_mul(1000);
    let now = crate::store::now_ms();
    match crate::store::seen::first_time(&state.store.pool, &key, until, now).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this signed request was already received (a replay)",
        )),
        Err(e) => {
            tracing::error!(error = %e, "cannot record a chat request");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the request could not be recorded; try again",
            ))
        }
    }
}

/// Discord wants an answer within 3 s: a body that takes longer to arrive is not waited for.
const BODY_TIMEOUT: Duration = Duration::from_secs(3);

/// Reads a chat body, once the headers could be checked: within the chat limit and budget,
/// and within [`BODY_TIMEOUT`]. The body's room in the budget is held until the answer.
async fn read_body(
    state: &AppState,
    req: Request,
) -> Result<(HeaderMap, Bytes, Reserved), ApiError> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| super::peer_key(c.0.ip()));
    let mut reserved = state
        .chat_bodies
        .reserve(peer.as_deref(), req.headers())
        .await?;
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, state.chat_bodies.limit);
    let read = async {
        tokio::select! {
            body = read => Ok(body),
            _ = reserved.cut() => Err(()),
        }
    };
    let read = tokio::time::timeout(BODY_TIMEOUT, read).await;
    reserved.arrived();
    match read {
        Ok(Err(())) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the body stalled while others waited for room; send it at once",
        )),
        Ok(Ok(Ok(bytes))) => Ok((parts.headers, bytes, reserved)),
        Ok(Ok(Err(e))) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "cannot read the body (at most {} bytes): {e}",
                state.chat_bodies.limit
            ),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the body took too long to arrive",
        )),
    }
}

/// What can be checked of a signed request before its body is read: the headers are
/// there, and the timestamp is fresh.
fn plausible(headers: &HeaderMap, sig: &str, ts: &str, max_skew_s: u64) -> Result<(), ApiError> {
    if header(headers, sig).is_empty()
        || !crate::chat::fresh(header(headers, ts), now_s(), max_skew_s)
    {
        return Err(bad_signature());
    }
    Ok(())
}

/// `POST /discord/interactions`
pub async fn discord(
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Result<Json<discord::Answer>, ApiError> {
    let verifier = state.discord_verifier.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "Discord interactions are not configured (discord.public_key)",
        )
    })?;
    let skew = state.chat.settings.chat.max_clock_skew_s;
    plausible(
        req.headers(),
        "x-signature-ed25519",
        "x-signature-timestamp",
        skew,
    )?;
    let (headers, body, _reserved) = read_body(&state, req).await?;
    let sig = header(&headers, "x-signature-ed25519");
    let ts = header(&headers, "x-signature-timestamp");
    if !discord::verify(verifier, sig, ts, &body, now_s(), skew) {
        return Err(bad_signature());
    }
    let interaction: discord::Interaction = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("body is not a Discord interaction: {e}"),
        )
    })?;
    // The interaction's id (Discord gives each its own), or else the signature.
    let key = match interaction.id {
        Some(id) => format!("discord:{id}"),
        None => format!("discord-signature:{}", sig.to_ascii_lowercase()),
    };
    once(&state, key, ts).await?;
    let (answer, follow) = discord::handle(&state.chat, &interaction).await;
    if let Some(f) = follow {
        tokio::spawn(discord::follow_up(state.chat.clone(), f));
    }
    Ok(Json(answer))
}

/// Checks Slack's signature (and that the request is not a replay): the signed body.
async fn slack_body(state: &AppState, req: Request) -> Result<Bytes, ApiError> {
    let secret = &state.chat.settings.slack.signing_secret;
    if secret.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Slack commands are not configured (slack.signing_secret)",
        ));
    }
    let skew = state.chat.settings.chat.max_clock_skew_s;
    plausible(
        req.headers(),
        "x-slack-signature",
        "x-slack-request-timestamp",
        skew,
    )?;
    let (headers, body, _reserved) = read_body(state, req).await?;
    let sig = header(&headers, "x-slack-signature");
    let ts = header(&headers, "x-slack-request-timestamp");
    if !slack::verify(secret, sig, ts, &body, now_s(), skew) {
        return Err(bad_signature());
    }
    // Hex is read in either case: the key must not tell `AB` from `ab`.
    once(state, format!("slack:{}", sig.to_ascii_lowercase()), ts).await?;
    Ok(body)
}

/// The form's fields a handler needs; a missing one is named.
fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_urlencoded::from_bytes(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("body is not Slack's form: {e}"),
        )
    })
}

/// `POST /slack/commands`
pub async fn slack_commands(
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = slack_body(&state, req).await?;
    let probe: slack::Probe = form(&body)?;
    if probe.ssl_check.as_deref() == Some("1") {
        return Ok(Json(Value::Null));
    }
    let command: slack::SlashCommand = form(&body)?;
    Ok(Json(slack::command(&state.chat, &command).await))
}

/// `payload=<json>`
#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

/// `POST /slack/interactions`
pub async fn slack_interactions(
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let form: InteractionForm = form(&slack_body(&state, req).await?)?;
    let interaction: slack::Interaction = serde_json::from_str(&form.payload).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("payload is not a Slack interaction: {e}"),
        )
    })?;
    Ok(Json(slack::interaction(&state.chat, &interaction).await))
}
