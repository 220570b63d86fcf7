//! The HTTP surface: the Hub's webhook and health endpoints.

mod error;
mod health;
mod webhook;

pub use error::ApiError;

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
}

pub fn router(state: AppState, body_limit: usize) -> Router {
    Router::new()
        .route("/webhooks/hf", post(webhook::hub))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}
