//! The HTTP surface: the Hub's webhook and health endpoints.

mod chat;
mod error;
mod health;
mod webhook;

pub use error::ApiError;

use crate::chat::Chat;
use crate::hub::secret::Secrets;
use crate::store::Store;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub secrets: Secrets,
    /// Wakes the delivery worker when an event brought new deliveries.
    pub wake: Arc<Notify>,
    pub chat: Chat,
    /// The writer that stores webhooks in groups.
    pub ingest: crate::ingest::Ingest,
    /// `None` when `discord.public_key` is empty: interactions are then refused.
    pub discord_verifier: Option<serenity::interactions_endpoint::Verifier>,
}

pub fn router(state: AppState, body_limit: usize) -> Router {
    Router::new()
        .route("/webhooks/hf", post(webhook::hub))
        .route("/webhooks/hf/{endpoint_id}", post(webhook::workspace))
        .route("/discord/interactions", post(chat::discord))
        .route("/slack/commands", post(chat::slack_commands))
        .route("/slack/interactions", post(chat::slack_interactions))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}
