//! Request bodies in memory: each at most its route's limit, all of a kind together at most
//! a budget, reserved before a byte is read, so that many clients sending large or slow
//! bodies at once cannot exhaust the server's memory. Webhooks and chat requests have
//! budgets of their own, and a webhook reserves only once its secret was checked. Within a
//! budget each endpoint (webhooks) or client address (chat) has a share.

use super::ApiError;
use axum::http::{header, HeaderMap, StatusCode};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Parsed, a JSON body takes several times its size (a list of tiny objects about ten
/// times): each body counts for this many times its length.
pub const PARSED: usize = 8;

/// Shares kept before the unused ones are forgotten.
const FORGET_AT: usize = 1024;

/// Permits are KiB of memory.
#[derive(Clone)]
pub struct BodyBudget {
    kib: Arc<Semaphore>,
    total_kib: usize,
    /// Each share, made when first used.
    shares: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    /// Bodies being read, the oldest first.
    reads: Arc<Mutex<Reads>>,
    pub limit: usize,
    /// What sets the limit, for the error.
    limit_name: &'static str,
    share_name: &'static str,
    share_of: usize,
}

/// Room reserved for a body, given back when dropped.
pub struct Reserved {
    _permits: Vec<OwnedSemaphorePermit>,
    read: Option<Read>,
}

/// A body being read, which a full budget may cut once it has stalled.
struct Read {
    id: u64,
    reads: Arc<Mutex<Reads>>,
    cut: Arc<Notify>,
}

/// Bodies being read: when each began, and how to cut it.
#[derive(Default)]
struct Reads {
    next: u64,
    open: BTreeMap<u64, (Instant, Arc<Notify>)>,
}

impl Drop for Read {
    fn drop(&mut self) {
        self.reads
            .lock()
            .expect("not poisoned")
            .open
            .remove(&self.id);
    }
}

impl Reserved {
    /// The body has arrived: it may no longer be cut (its room is held until dropped).
    pub fn arrived(&mut self) {
        self.read = None;
    }

    /// Resolves if the budget cut this body to make room for another (never otherwise).
    pub async fn cut(&self) {
        match &self.read {
            Some(read) => read.cut.notified().await,
            None => std::future::pending().await,
        }
    }
}

/// A body still arriving after this long has stalled: the Hub, Discord and Slack send
/// theirs at once. A full budget cuts the oldest stalled body to make room.
const STALLED: Duration = Duration::from_millis(250);

impl BodyBudget {
    /// `share_of`: each share (`share_name`: an endpoint, a client) may hold this part of
    /// the total, and at least one largest body.
    pub fn new(
        total_bytes: usize,
        limit: usize,
        limit_name: &'static str,
        (share_name, share_of): (&'static str, usize),
    ) -> BodyBudget {
        BodyBudget {
            kib: Arc::new(Semaphore::new(total_bytes.div_ceil(1024))),
            total_kib: total_bytes.div_ceil(1024),
            shares: Arc::default(),
            reads: Arc::default(),
            limit,
            limit_name,
            share_name,
            share_of,
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
            .max(self.total_kib / self.share_of);
        shares
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(each)))
            .clone()
    }

    /// Reserves room for the body the headers announce (a chunked body, of unknown length,
    /// the whole limit), read and parsed: 413 for a declared length over the limit, 503 (to
    /// be retried) when the bodies in flight already use the budget and none has stalled
    /// (a stalled one is cut to make room; see [`Reserved::cut`]). Held until dropped. With
    /// `share`, the body also counts against that share (an endpoint's, a client's).
    pub async fn reserve(
        &self,
        share: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Reserved, ApiError> {
        let (full, e) = match self.try_reserve(share, headers) {
            Ok(r) => return Ok(self.track(r)),
            Err(refused) => refused,
        };
        if !full || !self.cut_stalled() {
            return Err(e);
        }
        // The cut body gives its room back as soon as its task sees the cut.
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if let Ok(r) = self.try_reserve(share, headers) {
                return Ok(self.track(r));
            }
        }
        Err(e)
    }

    /// Cuts the body that has been arriving longest, if it has stalled.
    fn cut_stalled(&self) -> bool {
        let mut reads = self.reads.lock().expect("not poisoned");
        let Some((&id, (since, _))) = reads.open.iter().next() else {
            return false;
        };
        if since.elapsed() < STALLED {
            return false;
        }
        if let Some((_, cut)) = reads.open.remove(&id) {
            cut.notify_one();
        }
        true
    }

    fn track(&self, permits: Vec<OwnedSemaphorePermit>) -> Reserved {
        if permits.is_empty() {
            // No body: nothing to give back by cutting it.
            return Reserved {
                _permits: permits,
                read: None,
            };
        }
        let cut = Arc::new(Notify::new());
        let id = {
            let mut reads = self.reads.lock().expect("not poisoned");
            reads.next += 1;
            let id = reads.next;
            reads.open.insert(id, (Instant::now(), cut.clone()));
            id
        };
        let read = Read {
            id,
            reads: self.reads.clone(),
            cut,
        };
        Reserved {
            _permits: permits,
            read: Some(read),
        }
    }

    /// Room now, or why not, and whether the whole budget (not a share) is what is full.
    fn try_reserve(
        &self,
        share: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Vec<OwnedSemaphorePermit>, (bool, ApiError)> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|n| n > self.limit) {
            let msg = format!(
                "body is larger than {} ({} bytes)",
                self.limit_name, self.limit
            );
            return Err((false, ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, msg)));
        }
        let bytes = match declared {
            Some(n) => n,
            None if headers.contains_key(header::TRANSFER_ENCODING) => self.limit,
            None => 0,
        };
        if bytes == 0 {
            return Ok(vec![]);
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
            let what = format!(" for this {}", self.share_name);
            permits.push(own.map_err(|_| (false, busy(&what)))?);
        }
        permits.push(
            self.kib
                .clone()
                .try_acquire_many_owned(kib)
                .map_err(|_| (true, busy("")))?,
        );
        Ok(permits)
    }
}
