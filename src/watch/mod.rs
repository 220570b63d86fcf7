//! Keeping the Hub sending what the subscriptions follow: herald creates a Hub webhook for
//! the operator (and one under each workspace's connected account) and keeps its watched
//! list equal to what the subscriptions it serves name, shortly after every change (a
//! burst of changes is one call), at start, and every `hub.reconcile_interval_ms` to undo
//! what happened on the Hub (deleted, edited, disabled). See docs/hub.md.

mod account;
mod notices;
mod reconcile;
mod say;
pub mod wanted;

pub use reconcile::explain;
pub use say::{state_line, subscribe_note};

use crate::config::{OAuth, Settings};
use crate::hub::api::HubApi;
use crate::route::Subscription;
use crate::store::sealed::Sealer;
use crate::store::{accounts, lookup, now_ms, subscriptions, webhooks};
use sqlx::SqlitePool;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

/// How often the subscriptions' version is looked at.
const POLL: Duration = Duration::from_millis(250);
/// A change is put on the Hub once no other came for this long...
const SETTLE: Duration = Duration::from_millis(300);
/// ...or once the first of a steady stream of changes is this old.
const SETTLE_MAX: Duration = Duration::from_secs(2);
/// Polls between two counts of a webhook's triggers (a count reads a day of its events):
/// the operator's, and a connected account's (there may be many of those).
const COUNT_EVERY: (u64, u64) = (20, 240);
/// Polls between two looks at the connected accounts, to start or stop their watchers.
const ACCOUNTS_EVERY: u64 = 8;
/// The rolling window the Hub counts a webhook's triggers over.
pub const QUOTA_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Triggers the Hub allows one webhook in that window.
pub const QUOTA: i64 = 1000;

/// The owner of the operator's webhook, and the endpoint it posts to.
pub const OPERATOR: &str = "operator";

/// What every watcher of this process shares.
#[derive(Clone)]
pub struct Base {
    pub pool: SqlitePool,
    /// With the operator's token, if any.
    pub api: HubApi,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Wakes the delivery worker for a notice.
    pub wake: Arc<Notify>,
    pub sealer: Option<Arc<Sealer>>,
    pub public_url: String,
    pub oauth: OAuth,
    pub interval: Duration,
    /// The operator's webhook secret.
    pub secret: String,
    pub manage_operator: bool,
    /// This process, among several on one database.
    pub holder: String,
    /// The subscriptions' version, read once for every watcher of this process.
    versions: watch::Receiver<i64>,
}

impl Base {
    pub fn new(
        settings: &Settings,
        pool: SqlitePool,
        api: &HubApi,
        metrics: Arc<crate::metrics::Metrics>,
        wake: Arc<Notify>,
        sealer: Option<Arc<Sealer>>,
    ) -> Base {
        let manage_operator = settings.manages_webhook() && api.has_token();
        if !manage_operator && settings.hub.manage_webhook.is_none() && api.has_token() {
            tracing::warn!(public_url = %settings.server.public_url, "herald does not manage a Hub webhook: server.public_url is not an address the Hub can reach (set it, or hub.manage_webhook = true)");
        }
        let mut holder = [0u8; 8];
        getrandom::getrandom(&mut holder).expect("the system's random source");
        Base {
            pool,
            api: api.clone(),
            metrics,
            wake,
            sealer,
            public_url: settings.server.public_url.trim_end_matches('/').to_string(),
            oauth: settings.hub.oauth.clone(),
            interval: Duration::from_millis(settings.hub.reconcile_interval_ms),
            secret: settings.hub.current_secret(),
            manage_operator,
            holder: hex::encode(holder),
            versions: watch::channel(0).1,
        }
    }
}

/// Whose webhook: the operator's serves its own subscriptions and those of workspaces not
/// connected to an account; a connected workspace's serves that workspace's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Serves {
    Operator,
    Workspace(String),
}

impl Serves {
    /// Its row in `hub_webhooks`, and the endpoint its events are stored under.
    pub fn owner(&self) -> &str {
        match self {
            Serves::Operator => OPERATOR,
            Serves::Workspace(ws) => ws,
        }
    }

    pub async fn subscriptions(&self, pool: &SqlitePool) -> anyhow::Result<Vec<Subscription>> {
        match self {
            Serves::Workspace(ws) => subscriptions::list_for(pool, Some(ws)).await,
            // Those of workspaces whose own account's webhook exists are its to hear.
            Serves::Operator => Ok(subscriptions::list(pool)
                .await?
                .into_iter()
                .filter(|s| !s.own_account)
                .collect()),
        }
    }
}

/// What a reconcile calls the Hub with.
pub(crate) struct Access {
    pub api: HubApi,
    pub url: String,
    pub secret: String,
}

pub struct Watcher {
    base: Base,
    serves: Serves,
    owner: String,
    kinds: wanted::Kinds,
}

/// Runs the operator's watcher (when herald manages its webhook) and one for each
/// connected account, started and stopped as accounts come and go, until `stop`.
pub async fn run(mut base: Base, mut stop: watch::Receiver<bool>) {
    let first = lookup::version(&base.pool).await.unwrap_or_default();
    let (versions, rx) = watch::channel(first);
    base.versions = rx;
    if base.manage_operator {
        tokio::spawn(Watcher::new(base.clone(), Serves::Operator).run(stop.clone()));
    }
    // A workspace's account needs the key (none can be connected without it).
    let accounts = base.sealer.is_some();
    let mut running: HashMap<String, (watch::Sender<bool>, tokio::task::JoinHandle<()>)> =
        HashMap::new();
    for tick in 0u64.. {
        // One read of the version for every watcher (a change of accounts changes it too:
        // migrations/0014).
        match lookup::version(&base.pool).await {
            Ok(v) => {
                versions.send_if_modified(|old| std::mem::replace(old, v) != v);
            }
            Err(e) => tracing::warn!(error = %e, "subscriptions' version not read"),
        }
        if accounts && tick % ACCOUNTS_EVERY == 0 {
            watch_accounts(&base, &mut running).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => break,
        }
    }
    for (tx, _) in running.values() {
        let _ = tx.send(true);
    }
}

/// Starts a watcher for each connected account without one (or whose watcher ended), and
/// stops those of accounts gone or revoked.
async fn watch_accounts(
    base: &Base,
    running: &mut HashMap<String, (watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
) {
    let wanted: HashSet<String> = match accounts::connected(&base.pool).await {
        Ok(c) => c
            .into_iter()
            .filter(|(_, r)| !r)
            .map(|(ws, _)| ws)
            .collect(),
        Err(e) => return tracing::warn!(error = %e, "connected accounts not read"),
    };
    running.retain(|ws, (tx, task)| {
        let keep = wanted.contains(ws) && !task.is_finished();
        if !keep {
            let _ = tx.send(true);
        }
        keep
    });
    for ws in wanted {
        if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(ws) {
            let (tx, rx) = watch::channel(false);
            let w = Watcher::new(base.clone(), Serves::Workspace(slot.key().clone()));
            slot.insert((tx, tokio::spawn(w.run(rx))));
        }
    }
}

impl Watcher {
    pub fn new(base: Base, serves: Serves) -> Watcher {
        Watcher {
            owner: serves.owner().to_string(),
            base,
            serves,
            kinds: Default::default(),
        }
    }

    /// Reconciles at start, after changes and every interval, until `stop` (or, for a
    /// workspace, until its account is gone or stops working).
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut seen = None;
        let (mut changed, mut first): (Option<Instant>, Option<Instant>) = (None, None);
        let mut next_full = Instant::now();
        let mut backoff = Duration::from_secs(1);
        for tick in 0u64.. {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            let every = match self.serves {
                Serves::Operator => COUNT_EVERY.0,
                Serves::Workspace(_) => COUNT_EVERY.1,
            };
            if tick % every == 0 {
                self.count_triggers().await;
            }
            let version = *self.base.versions.borrow();
            let now = Instant::now();
            if seen.is_some_and(|s| s != version) {
                changed = Some(now);
                first.get_or_insert(now);
            }
            seen = Some(version);
            let settled = changed.is_some_and(|c| now - c >= SETTLE)
                || first.is_some_and(|f| now - f >= SETTLE_MAX);
            let full = now >= next_full;
            if !(settled || full) {
                continue;
            }
            (changed, first) = (None, None);
            match self.reconcile(full, version).await {
                Ok(reconcile::Flow::Go) => {
                    backoff = Duration::from_secs(1);
                    if full {
                        next_full = Instant::now() + self.base.interval;
                    }
                }
                // The account is gone or stopped working: nothing more to do here.
                Ok(reconcile::Flow::Stop) => return,
                Err(e) => {
                    tracing::debug!(owner = %self.owner, error = %e, "reconcile to be tried again");
                    // Tried again with backoff; a change meanwhile is tried at once.
                    next_full = Instant::now() + backoff.min(self.base.interval);
                    backoff = (backoff * 2).min(Duration::from_secs(300));
                }
            }
        }
    }

    /// What the Hub counts against this webhook's daily quota, for `/metrics`.
    async fn count_triggers(&self) {
        let since = now_ms() - QUOTA_WINDOW_MS;
        if let Ok((n, _)) = webhooks::triggers(&self.base.pool, &self.owner, since, 0).await {
            // Workspaces' ids and activity are not for an unauthenticated /metrics.
            if self.serves == Serves::Operator {
                self.base.metrics.hub_webhook_triggers(&self.owner, n);
            }
            self.check_quota(n).await;
        }
    }
}
