//! Liveness and readiness.

use super::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use std::sync::Arc;

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and the delivery worker is going round.
pub async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    if !state.store.ping().await {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    } else if !state.ingest.alive() {
        (StatusCode::SERVICE_UNAVAILABLE, "ingest writer not running")
    } else if !state.metrics.worker_alive(crate::store::now_ms()) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "delivery worker not running",
        )
    } else {
        (StatusCode::OK, "ready")
    }
}

/// Prometheus metrics, with the queue depth read at scrape time.
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let waiting = crate::store::activity::waiting(&state.store.pool)
        .await
        .unwrap_or(-1);
    state.metrics.queue_depth.set(waiting);
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.render(),
    )
}
