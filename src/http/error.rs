//! Errors a client can read: a status and `{"error": "..."}` saying what is wrong.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    pub fn new(status: StatusCode, msg: impl Into<String>) -> ApiError {
        ApiError(status, msg.into())
    }
}

/// Refusals logged per second at most: a stranger's flood of bad requests must not fill
/// the disk with log lines (a webhook's refusals are all counted in the metrics).
const LOGGED_PER_SECOND: u32 = 20;

/// Whether this refusal may be logged; the first one past the limit says so.
pub(super) fn may_log() -> bool {
    static SECOND: AtomicI64 = AtomicI64::new(0);
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let now = crate::store::now_ms() / 1000;
    if SECOND.swap(now, Ordering::Relaxed) != now {
        COUNT.store(0, Ordering::Relaxed);
    }
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    if n == LOGGED_PER_SECOND {
        tracing::warn!(
            "more than {LOGGED_PER_SECOND} refusals this second; the rest are not logged"
        );
    }
    n < LOGGED_PER_SECOND
}

impl IntoResponse for ApiError {
    /// Every refusal leaves a trace for the operator (never with the request's secrets).
    fn into_response(self) -> Response {
        if !may_log() {
        } else if self.0.is_server_error() {
            tracing::error!(status = self.0.as_u16(), reason = %self.1, "request failed");
        } else {
            tracing::warn!(status = self.0.as_u16(), reason = %self.1, "request refused");
        }
        let mut resp = (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            // Every 503 here is momentary: busy, or the database briefly unavailable.
            let again = axum::http::HeaderValue::from_static("1");
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, again);
        }
        resp
    }
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed here; the Hub's webhook takes POST",
    )
}

/// Answers 408 for a request (body included) that takes longer than `limit`.
pub async fn time_limit(
    limit: std::time::Duration,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            ApiError::new(StatusCode::REQUEST_TIMEOUT, "the request took too long").into_response()
        }
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; the Hub's webhook is POST /webhooks/hf",
    )
}
