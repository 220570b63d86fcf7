//! Request bodies in memory: each at most `server.body_limit`, all together at most
//! `limits.body_memory_bytes`, so that many clients sending large bodies at once cannot
//! exhaust the server's memory.

use super::ApiError;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Permits are KiB of body.
#[derive(Clone)]
pub struct BodyBudget {
    kib: Arc<Semaphore>,
    body_limit: usize,
}

impl BodyBudget {
    pub fn new(total_bytes: usize, body_limit: usize) -> BodyBudget {
        BodyBudget {
            kib: Arc::new(Semaphore::new(total_bytes.div_ceil(1024))),
            body_limit,
        }
    }
}

/// Refuses a declared length over the limit before reading anything (413), and a body
/// that would take the bodies in flight past their budget (503, to be retried). A chunked
/// body, of unknown length, reserves the whole limit.
pub async fn reserve(budget: BodyBudget, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > budget.body_limit) {
        let msg = "body is larger than server.body_limit";
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, msg).into_response();
    }
    let bytes = match declared {
        Some(n) => n,
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => budget.body_limit,
        None => 0,
    };
    if bytes == 0 {
        return next.run(req).await;
    }
    let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
    let Ok(_permit) = budget.kib.clone().try_acquire_many_owned(kib) else {
        let msg = "too many request bodies in flight; try again shortly";
        let mut resp = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, msg).into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return resp;
    };
    next.run(req).await
}
