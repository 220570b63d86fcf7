//! Request bodies in memory: each at most its route's limit, all of a kind together at most
//! a budget, reserved before a byte is read, so that many clients sending large or slow
//! bodies at once cannot exhaust the server's memory. Webhooks and chat requests have
//! budgets of their own, and a webhook reserves only once its secret was checked.

use super::ApiError;
use axum::http::{header, HeaderMap, StatusCode};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Parsed, a JSON body takes several times its size (a list of tiny objects about ten
/// times): each body counts for this many times its length.
pub const PARSED: usize = 8;

/// Permits are KiB of memory.
#[derive(Clone)]
pub struct BodyBudget {
    kib: Arc<Semaphore>,
    pub limit: usize,
    /// What sets the limit, for the error.
    limit_name: &'static str,
}

impl BodyBudget {
    pub fn new(total_bytes: usize, limit: usize, limit_name: &'static str) -> BodyBudget {
        BodyBudget {
            kib: Arc::new(Semaphore::new(total_bytes.div_ceil(1024))),
            limit,
            limit_name,
        }
    }

    /// Reserves room for the body the headers announce (a chunked body, of unknown length,
    /// the whole limit), read and parsed: 413 for a declared length over the limit, 503 (to
    /// be retried) when the bodies in flight already use the budget. Held until dropped.
    pub fn reserve(&self, headers: &HeaderMap) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|n| n > self.limit) {
            let msg = format!(
                "body is larger than {} ({} bytes)",
                self.limit_name, self.limit
            );
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, msg));
        }
        let bytes = match declared {
            Some(n) => n,
            None if headers.contains_key(header::TRANSFER_ENCODING) => self.limit,
            None => 0,
        };
        if bytes == 0 {
            return Ok(None);
        }
        let kib = u32::try_from(bytes.saturating_mul(PARSED).div_ceil(1024)).unwrap_or(u32::MAX);
        match self.kib.clone().try_acquire_many_owned(kib) {
            Ok(permit) => Ok(Some(permit)),
            Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many request bodies in flight; try again shortly",
            )),
        }
    }
}
