//! The HTTP surface: the Hub's webhook and health endpoints.

mod budget;
pub use budget::{BodyBudget, PARSED};
mod chat;
mod error;
mod health;
mod oauth;
pub mod refusal;
pub mod serve;
mod webhook;

pub use error::ApiError;

use crate::chat::Chat;
use crate::hub::secret::Secrets;
use crate::store::Store;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Chat requests are small (a command, a submitted template): a larger body is refused.
pub const CHAT_BODY_LIMIT: usize = 64 * 1024;
/// All chat bodies being read at once.
pub const CHAT_BODY_MEMORY: usize = 8 * 1024 * 1024;
/// One endpoint's webhook bodies hold at most this part of their budget, so that a
/// workspace sending slow bodies to its own endpoint cannot stop everybody else's.
pub const ENDPOINT_SHARE_OF: usize = 4;
/// One client address's chat bodies hold at most this part of theirs (one body at least).
pub const CLIENT_SHARE_OF: usize = 32;

pub struct AppState {
    pub store: Store,
    pub secrets: Secrets,
    /// Wakes the delivery worker when an event brought new deliveries.
    pub wake: Arc<Notify>,
    /// Starts fetching an accepted event's facts from the Hub's API, if that is on.
    pub enricher: Option<Arc<crate::enrich::Enricher>>,
    pub chat: Chat,
    /// The writer that stores webhooks in groups.
    pub ingest: crate::ingest::Ingest,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// `None` when `discord.public_key` is empty: interactions are then refused.
    pub discord_verifier: Option<serenity::interactions_endpoint::Verifier>,
    /// Memory for webhook bodies being read (`limits.body_memory_bytes`).
    pub bodies: BodyBudget,
    /// Memory for chat bodies being read: small, and apart, so that strangers sending
    /// unsigned chat requests cannot take the webhooks' share.
    pub chat_bodies: BodyBudget,
}

/// Every endpoint has a body limit and a time limit (bodies are read by the handlers, each
/// within its budget, once what can be checked before was); a wrong method or path is
/// answered in JSON like every other refusal.
pub fn router(state: AppState, body_limit: usize, timeout: Duration) -> Router {
    // Shared, not cloned per request.
    let state = Arc::new(state);
    let no = error::method_not_allowed;
    Router::new()
        .route("/webhooks/hf", post(webhook::hub).fallback(no))
        .route(
            "/webhooks/hf/{endpoint_id}",
            post(webhook::workspace).fallback(no),
        )
        .route("/discord/interactions", post(chat::discord).fallback(no))
        .route("/slack/commands", post(chat::slack_commands).fallback(no))
        .route(
            "/slack/interactions",
            post(chat::slack_interactions).fallback(no),
        )
        .route("/oauth/hf/callback", get(oauth::callback).fallback(no))
        .route("/healthz", get(health::healthz).fallback(no))
        .route("/readyz", get(health::readyz).fallback(no))
        .route("/metrics", get(health::metrics).fallback(no))
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(move |req, next| {
            error::time_limit(timeout, req, next)
        }))
        .with_state(state)
}

/// Who a client is, for the shares of connections and chat bodies: its address, or its /64
/// for IPv6 (which one host holds whole). Behind a reverse proxy every client is the proxy.
pub fn peer_key(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        v4 => v4.to_string(),
    }
}
