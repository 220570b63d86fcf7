//! Enrichment: after an event is stored, and never in the webhook's path, the Hub's API
//! is asked who did it and what changed. It runs once per event; the result is stored
//! with the event, so that every channel, retry, burst and replay reuses it. A message
//! waits for it at most `hub.enrich_timeout_ms`, then goes out with what is known.

mod discussion;
pub mod fetch;
mod push;

use crate::config::Settings;
use crate::hub::api::cache::Cache;
use crate::hub::api::discussions::Details;
use crate::hub::api::facts::{Enriched, Facts};
use crate::hub::api::{Commit, HubApi, Person};
use crate::hub::Event;
use crate::route::Origin;
use crate::store::sealed::Sealer;
use crate::store::{accounts, enrichment, now_ms};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Events enriched at once when started by the webhook; past it, the delivery worker
/// starts them when it reaches them.
const STARTED_MAX: usize = 256;
/// An event enriched later than this after it arrived (a backlog after a restart) may find
/// the Hub's record moved on: who changed a status is then not said.
const FRESH_MS: i64 = 60_000;

/// Keys of what was read with the token say so: a private repo's commits and
/// discussions are never served to a read without it.
pub struct Caches {
    /// User id → who (names change rarely; public).
    pub users: Cache<String, Person>,
    /// Access, repo and commit id → title and author (never change).
    pub commits: Cache<String, Commit>,
    /// Access, repo and number → its details, for a short while (comments arrive in
    /// bursts).
    pub discussions: Cache<String, Arc<Details>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            users: Cache::new(10_000, Duration::from_secs(6 * 3600)),
            commits: Cache::new(10_000, Duration::from_secs(7 * 86_400)),
            discussions: Cache::new(64, Duration::from_secs(30)),
        }
    }
}

type Job = Arc<OnceCell<Arc<Enriched>>>;

/// Removes an event's entry from the jobs when dropped.
struct Forget<'a>(&'a Mutex<HashMap<i64, Job>>, i64);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.0.lock() {
            jobs.remove(&self.1);
        }
    }
}

pub struct Enricher {
    api: HubApi,
    /// Opens connected accounts' tokens, for their workspaces' events.
    sealer: Option<Arc<Sealer>>,
    caches: Caches,
    timeout: Duration,
    pool: SqlitePool,
    /// Enrichments under way, by event id: whoever asks joins the one running.
    jobs: Mutex<HashMap<i64, Job>>,
}

impl Enricher {
    /// `None` when enrichment is off (`hub.enrich_timeout_ms = 0`).
    pub fn new(
        settings: &Settings,
        pool: SqlitePool,
        api: &HubApi,
        sealer: Option<Arc<Sealer>>,
    ) -> Option<Arc<Enricher>> {
        let hub = &settings.hub;
        if hub.enrich_timeout_ms == 0 {
            return None;
        }
        Some(Arc::new(Enricher {
            api: api.clone(),
            sealer,
            caches: Caches::default(),
            timeout: Duration::from_millis(hub.enrich_timeout_ms),
            pool,
            jobs: Mutex::default(),
        }))
    }

    /// Starts enriching a just-stored event in the background, unless many already are.
    pub fn start(self: &Arc<Self>, id: i64, event: Event, origin: &str) {
        {
            let mut jobs = self.jobs.lock().expect("not poisoned");
            if jobs.len() >= STARTED_MAX {
                return;
            }
            // Counted from now, not from when the task first runs.
            jobs.entry(id).or_default();
        }
        let me = self.clone();
        let origin = origin.to_string();
        tokio::spawn(async move { me.facts(id, &event, &origin, now_ms()).await });
    }

    /// The event's facts: stored ones, or those being fetched, or fetched now (within
    /// the deadline). `origin` is where it came from (`operator` or a workspace): only the
    /// operator's events, which the Hub signed with the operator's secret, are read with
    /// the token and have their ids taken at their word; a workspace could name any repo,
    /// discussion or comment in its payload. `received_at`: when it arrived (unix ms).
    pub async fn facts(
        &self,
        id: i64,
        event: &Event,
        origin: &str,
        received_at: i64,
    ) -> Arc<Enriched> {
        let job = self
            .jobs
            .lock()
            .expect("not poisoned")
            .entry(id)
            .or_default()
            .clone();
        let trusted = origin == Origin::Operator.as_str();
        let api = match trusted {
            true => self.api.clone(),
            false => self.account_api(origin).await,
        };
        let came = fetch::Came {
            trusted,
            fresh: now_ms() - received_at < FRESH_MS,
        };
        // Once done (stored, or not storable), or given up, later askers read it from the
        // database: the entry goes, even if this wait is cancelled.
        let _forget = Forget(&self.jobs, id);
        job.get_or_init(|| self.load_or_fetch(id, event, origin, api, came))
            .await
            .clone()
    }

    async fn load_or_fetch(
        &self,
        id: i64,
        event: &Event,
        origin: &str,
        api: HubApi,
        came: fetch::Came,
    ) -> Arc<Enriched> {
        if let Some(stored) = self.stored(id).await {
            return stored;
        }
        // Pushes herald missed: their commits are listed with this one's.
        let caught_up = self.since_missed(id, event, origin).await;
        let event = caught_up.as_ref().unwrap_or(event);
        let deadline = tokio::time::Instant::now() + self.timeout;
        // Every call has its own deadline; this one is the last word.
        let fetched = tokio::time::timeout_at(
            deadline + Duration::from_millis(200),
            fetch::enrich(&api, &self.caches, event, came, deadline),
        )
        .await
        .unwrap_or_else(|_| Enriched {
            facts: Facts::default(),
            missing: Some(format!(
                "not from the Hub API: no answer within {} ms",
                self.timeout.as_millis()
            )),
        });
        let mut fetched = fetched;
        let json = fetched
            .facts
            .fitted(crate::store::usage::FACTS_BYTES as usize);
        let put = enrichment::put(&self.pool, id, &json, fetched.missing.as_deref(), now_ms());
        if let Err(e) = put.await {
            tracing::warn!(event = id, error = %e, "the Hub's facts could not be stored");
            return Arc::new(fetched);
        }
        // Another process may have stored its facts first: all say the same.
        self.stored(id).await.unwrap_or_else(|| Arc::new(fetched))
    }

    /// A workspace's events are read with its own connected account's token (what that
    /// account may see, nothing more), else anonymously.
    async fn account_api(&self, workspace: &str) -> HubApi {
        let Some(sealer) = &self.sealer else {
            return self.api.anonymous();
        };
        match accounts::get(&self.pool, sealer, workspace).await {
            Ok(Some(a)) if a.revoked.is_none() => self
                .api
                .with_token(&a.token, &format!("account:{workspace}:{}", a.username)),
            _ => self.api.anonymous(),
        }
    }

    /// The push as if it started where the last push herald saw ended, when pushes in
    /// between never reached herald.
    async fn since_missed(&self, id: i64, event: &Event, origin: &str) -> Option<Event> {
        let missed = crate::store::events::missed_before(&self.pool, origin, event, id).await;
        let since = missed.ok()??.since?;
        let full = event.main_ref()?.full.clone();
        let mut caught_up = event.clone();
        let main = caught_up.refs.iter_mut().find(|r| r.full == full)?;
        main.old_sha = Some(since);
        Some(caught_up)
    }

    async fn stored(&self, id: i64) -> Option<Arc<Enriched>> {
        let (facts, missing) = enrichment::get(&self.pool, id).await.ok()??;
        let facts = serde_json::from_str(&facts).unwrap_or_default();
        Some(Arc::new(Enriched { facts, missing }))
    }
}
