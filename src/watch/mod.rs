//! Keeping the Hub sending what the subscriptions follow: herald creates the operator's
//! Hub webhook and keeps its watched list equal to what the subscriptions name, shortly
//! after every change (a burst of changes is one call), at start, and every
//! `hub.reconcile_interval_ms` to undo what happened on the Hub (deleted, edited,
//! disabled). See docs/hub.md.

mod notices;
mod reconcile;
pub mod wanted;

pub use reconcile::explain;

use crate::config::Settings;
use crate::hub::api::HubApi;
use crate::route::Target;
use crate::store::{lookup, now_ms, webhooks};
use sqlx::SqlitePool;
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
/// Polls between two counts of the webhook's triggers (a count reads a day of events).
const COUNT_EVERY: u64 = 20;
/// The rolling window the Hub counts a webhook's triggers over.
pub const QUOTA_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Triggers the Hub allows one webhook in that window.
pub const QUOTA: i64 = 1000;

/// The owner of the operator's webhook, and the endpoint it posts to.
pub const OPERATOR: &str = "operator";

pub struct Watcher {
    pool: SqlitePool,
    /// With the token of the account that owns the webhook.
    api: HubApi,
    owner: String,
    url: String,
    secret: String,
    interval: Duration,
    /// This process, among several on one database.
    holder: String,
    kinds: wanted::Kinds,
    metrics: Arc<crate::metrics::Metrics>,
    /// Wakes the delivery worker for a notice.
    wake: Arc<Notify>,
}

impl Watcher {
    /// The operator's watcher, when `hub.manage_webhook` is on.
    pub fn operator(
        settings: &Settings,
        pool: SqlitePool,
        api: &HubApi,
        metrics: Arc<crate::metrics::Metrics>,
        wake: Arc<Notify>,
    ) -> Option<Watcher> {
        let hub = &settings.hub;
        if !settings.manages_webhook() || !api.has_token() {
            if hub.manage_webhook.is_none() && api.has_token() {
                tracing::warn!(public_url = %settings.server.public_url, "herald does not manage a Hub webhook: server.public_url is not an address the Hub can reach (set it, or hub.manage_webhook = true)");
            }
            return None;
        }
        let mut holder = [0u8; 8];
        getrandom::getrandom(&mut holder).expect("the system's random source");
        Some(Watcher {
            pool,
            api: api.clone(),
            owner: OPERATOR.into(),
            url: format!(
                "{}/webhooks/hf",
                settings.server.public_url.trim_end_matches('/')
            ),
            secret: hub.current_secret(),
            interval: Duration::from_millis(hub.reconcile_interval_ms),
            holder: hex::encode(holder),
            kinds: Default::default(),
            metrics,
            wake,
        })
    }

    /// Reconciles at start, after changes and every interval, until `stop`.
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
            if tick % COUNT_EVERY == 0 {
                self.count_triggers().await;
            }
            let version = match lookup::version(&self.pool).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "subscriptions' version not read");
                    continue;
                }
            };
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
                Ok(()) => {
                    backoff = Duration::from_secs(1);
                    if full {
                        next_full = Instant::now() + self.interval;
                    }
                }
                Err(_) => {
                    // Tried again with backoff; a change meanwhile is tried at once.
                    next_full = Instant::now() + backoff.min(self.interval);
                    backoff = (backoff * 2).min(Duration::from_secs(300));
                }
            }
        }
    }

    /// What the Hub counts against this webhook's daily quota, for `/metrics`.
    async fn count_triggers(&self) {
        let since = now_ms() - QUOTA_WINDOW_MS;
        if let Ok((n, _)) = webhooks::triggers(&self.pool, &self.owner, since, 0).await {
            self.metrics.hub_webhook_triggers(&self.owner, n);
            self.check_quota(n).await;
        }
    }
}

/// What a subscribe reply says about the Hub webhook herald manages: that it will watch
/// the target, or why it cannot, and whether the last attempt to change it failed.
pub async fn subscribe_note(pool: &SqlitePool, target: &Target, operator: bool) -> String {
    let mut note = match target {
        Target::All => "The Hub cannot watch all of its repos, so herald's Hub webhook does not ask for everything: this subscription hears what it watches for the others.".to_string(),
        t => format!("herald's Hub webhook will watch {t} in a few seconds."),
    };
    let last = webhooks::get(pool, OPERATOR).await.ok().flatten();
    if let Some(hook) = last.filter(|h| !h.ok && h.reconciled_at.is_some()) {
        note.push_str(match operator {
            true => " Its last update failed, and herald keeps trying: ",
            false => " Its last update failed; herald keeps trying, and its operator can see why.",
        });
        if operator {
            note.push_str(hook.outcome.as_deref().unwrap_or_default());
            note.push_str(" (herald hub status)");
        }
    }
    note
}

/// One line on the operator's Hub webhook for `list`. The operator sees its triggers; a
/// workspace only whether it works (the count is every tenant's activity).
pub async fn state_line(pool: &SqlitePool, operator: bool) -> String {
    let Ok(Some(hook)) = webhooks::get(pool, OPERATOR).await else {
        return "herald's Hub webhook: not created yet".into();
    };
    let state = match (hook.hub_id.is_some(), hook.disabled, hook.ok) {
        (false, _, _) => "not created yet",
        (true, true, _) => "DISABLED on the Hub",
        (true, false, true) => "in sync",
        (true, false, false) => "its last update FAILED, herald keeps trying",
    };
    if !operator {
        return format!("herald's Hub webhook: {state}");
    }
    let since = now_ms() - QUOTA_WINDOW_MS;
    let triggers = webhooks::triggers(pool, OPERATOR, since, 0)
        .await
        .map(|(n, _)| n)
        .unwrap_or_default();
    format!(
        "herald's Hub webhook: {state}, watching {} items, {triggers} of {QUOTA} events in the last 24 h (herald hub status)",
        hook.watched().len()
    )
}
