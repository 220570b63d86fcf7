//! Request bodies in memory: each at most its route's limit, all of a kind together at most
//! a budget, reserved before a byte is read, so that many clients sending large or slow
//! bodies at once cannot exhaust the server's memory. Webhooks and chat requests have
//! budgets of their own, and a webhook reserves only once its secret was checked. Within a
//! budget each endpoint (webhooks) or client address (chat) has a share.

use super::ApiError;
use axum::http::{header, HeaderMap, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Parsed, a JSON body takes several times its size (a list of tiny objects about ten
/// times): each body counts for this many times its length.
pub const PARSED: usize = 8;

/// One endpoint's bodies may hold at most this part of the budget, so that a workspace
/// sending slow bodies to its own endpoint cannot stop everybody else's webhooks.
const SHARE: usize = 4;

/// Shares kept before the unused ones are forgotten.
const FORGET_AT: usize = 1024;

/// Permits are KiB of memory.
#[derive(Clone)]
pub struct BodyBudget {
    kib: Arc<Semaphore>,
    total_kib: usize,
    /// Each endpoint's share, made when first used.
    shares: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    pub limit: usize,
    /// What sets the limit, for the error.
    limit_name: &'static str,
}

/// Room reserved for a body, given back when dropped.
pub struct Reserved(#[allow(dead_code)] Vec<OwnedSemaphorePermit>);

impl BodyBudget {
    pub fn new(total_bytes: usize, limit: usize, limit_name: &'static str) -> BodyBudget {
        BodyBudget {
            kib: Arc::new(Semaphore::new(total_bytes.div_ceil(1024))),
            total_kib: total_bytes.div_ceil(1024),
            shares: Arc::default(),
            limit,
            limit_name,
        }
    }

    fn share(&self, key: &str) -> Arc<Semaphore> {
        let mut shares = self.shares.lock().expect("not poisoned");
        // Shares no body holds are whole, as a new one would be: forgotten, so that clients
        // from many addresses cannot grow the map.
        if shares.len() >= FORGET_AT {
            shares.retain(|_, s| Arc::strong_count(s) > 1);
        }
        // At least one body of the largest size fits in a share.
        let each = (self.limit * PARSED)
            .div_ceil(1024)
            .max(self.total_kib / SHARE);
        shares
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(each)))
            .clone()
    }

    /// Reserves room for the body the headers announce (a chunked body, of unknown length,
    /// the whole limit), read and parsed: 413 for a declared length over the limit, 503 (to
    /// be retried) when the bodies in flight already use the budget. Held until dropped.
    /// With `share`, the body also counts against that endpoint's share.
    pub fn reserve(&self, share: Option<&str>, headers: &HeaderMap) -> Result<Reserved, ApiError> {
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
            return Ok(Reserved(vec![]));
        }
        let kib = u32::try_from(bytes.saturating_mul(PARSED).div_ceil(1024)).unwrap_or(u32::MAX);
        let busy = |what: &str| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("too many request bodies in flight{what}; try again shortly"),
            )
        };
        let mut permits = Vec::with_capacity(2);
        if let Some(key) = share {
            let own = self.share(key).try_acquire_many_owned(kib);
            permits.push(own.map_err(|_| busy(" for this endpoint"))?);
        }
        permits.push(
            self.kib
                .clone()
                .try_acquire_many_owned(kib)
                .map_err(|_| busy(""))?,
        );
        Ok(Reserved(permits))
    }
}
