//! The scheduler: each channel is an ordered queue (its head goes first, the rest wait
//! behind it), sent through its own lane at the pace its rate limit allows. Outcomes are
//! recorded; transient failures come back with backoff; a restart resumes.

use super::lanes::Lanes;
use super::Senders;
use crate::config::Delivery;
use crate::route::Channel;
use crate::store::deliveries::Status;
use crate::store::{deliveries, events, now_ms, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: i64,
    pub base: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Exponential backoff with ±20% jitter, or the platform's own wait when it gave one.
    pub fn delay(&self, attempts: i64, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait + Duration::from_millis(fastrand::u64(0..250));
        }
        let exp = self
            .base
            .saturating_mul(1u32 << attempts.clamp(1, 20).saturating_sub(1));
        exp.min(self.max_delay).mul_f64(0.8 + fastrand::f64() * 0.4)
    }
}

#[derive(Clone)]
pub struct Worker {
    pub store: Store,
    pub renders: Arc<super::renders::Renders>,
    pub senders: Arc<Senders>,
    pub wake: Arc<Notify>,
    pub policy: RetryPolicy,
    pub settings: Delivery,
    pub lanes: Arc<Lanes>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Who `author:bot` means, for filters' second look.
    pub bots: Arc<crate::route::Bots>,
}

/// Sends in flight at once, at most: the rest wait for the next round, in their turn.
const MAX_IN_FLIGHT: usize = 32;

/// The heads in turns of their owners (workspaces, the operator), each owner's oldest first:
/// however many channels one workspace has queued, another's head is among the first sent.
fn in_turns(heads: Vec<deliveries::Head>) -> Vec<deliveries::Head> {
    let mut owners: Vec<(String, std::collections::VecDeque<deliveries::Head>)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for h in heads {
        let i = *index.entry(h.owner.clone()).or_insert_with(|| {
            owners.push((h.owner.clone(), Default::default()));
            owners.len() - 1
        });
        owners[i].1.push_back(h);
    }
    let mut out = Vec::new();
    while !owners.is_empty() {
        owners.retain_mut(|(_, queue)| match queue.pop_front() {
            Some(h) => {
                out.push(h);
                true
            }
            None => false,
        });
    }
    out
}

/// In-flight sends are given this long to finish when the server stops; what is still
/// in flight then is retried after the restart (its lease runs out).
const DRAIN: Duration = Duration::from_secs(15);

impl Worker {
    pub fn lease_ms(&self) -> i64 {
        self.settings.lease_ms as i64
    }

    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!("delivery worker started");
        let mut inflight = JoinSet::new();
        let mut purge_at = Instant::now();
        while !*stop.borrow() {
            self.metrics.beat(now_ms());
            if Instant::now() >= purge_at {
                self.purge().await;
                purge_at = Instant::now() + Duration::from_secs(3600);
            }
            let next = match self.dispatch(&mut inflight).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "delivery worker cannot read the outbox");
                    Some(Instant::now() + Duration::from_secs(1))
                }
            };
            let wait = next
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(1))
                .clamp(Duration::from_millis(2), Duration::from_secs(1));
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            while inflight.try_join_next().is_some() {}
        }
        if tokio::time::timeout(DRAIN, async {
            while inflight.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!(
                "sends still in flight after {DRAIN:?}; they are retried after the restart"
            );
        }
        tracing::info!("delivery worker stopped");
    }

    /// Forgets events older than the retention period, once their deliveries are done,
    /// and the bodies of events nobody followed, sooner.
    async fn purge(&self) {
        let pool = &self.store.pool;
        let keep_ms = self.settings.unfollowed_body_hours as i64 * 3_600_000;
        match events::drop_unfollowed_bodies(pool, now_ms() - keep_ms).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "bodies of events nobody followed dropped"),
            Err(e) => {
                tracing::warn!(error = %e, "bodies of unfollowed events could not be dropped")
            }
        }
        let yesterday = crate::store::usage::day(now_ms()) - 1;
        if let Err(e) = crate::store::usage::purge(pool, yesterday).await {
            tracing::warn!(error = %e, "old endpoint usage could not be purged");
        }
        let keep_ms = self.settings.retention_days as i64 * 86_400_000;
        match events::purge(&self.store.pool, now_ms() - keep_ms).await {
            Ok(0) => {}
            Ok(n) => {
                self.renders.forget();
                tracing::info!(
                    events = n,
                    days = self.settings.retention_days,
                    "old events purged"
                )
            }
            Err(e) => tracing::warn!(error = %e, "old events could not be purged"),
        }
    }

    /// Starts a send for every channel whose head is due and whose lane is free; returns
    /// when something next becomes due.
    async fn dispatch(&self, inflight: &mut JoinSet<()>) -> anyhow::Result<Option<Instant>> {
        let now = now_ms();
        let instant = Instant::now();
        let window = self.settings.burst_window_ms as i64;
        let mut next: Option<i64> = None;
        let mut soonest = |t: i64| next = Some(next.map_or(t, |n: i64| n.min(t)));
        for head in in_turns(deliveries::heads(&self.store.pool).await?) {
            if inflight.len() >= MAX_IN_FLIGHT {
                // A send ending wakes the worker for the rest.
                break;
            }
            let due = match head.status {
                Status::Sending => head.lease_until.unwrap_or(0),
                _ => head.due_at.max(head.created_at + window),
            };
            if due > now {
                soonest(due);
                continue;
            }
            let Ok(channel) = Channel::parse(&head.channel) else {
                // Failed once, with the reason, rather than tried (and logged) forever.
                let reason = format!("unreadable channel {:?}", head.channel);
                tracing::error!(delivery = head.id, %reason, "delivery failed");
                deliveries::mark_failed(&self.store.pool, head.id, &reason).await?;
                continue;
            };
            // A global pause: none of the platform's heads is claimed until it ends.
            if let Some(left) = self.senders.paused_for(channel.platform) {
                soonest(now + left.as_millis() as i64 + 1);
                continue;
            }
            if !self.lanes.take(&head.channel, channel.platform, instant) {
                continue;
            }
            let Some(claimed) =
                deliveries::claim(&self.store.pool, head.id, now, self.lease_ms()).await?
            else {
                self.lanes.release(&head.channel, None);
                continue;
            };
            let worker = self.clone();
            inflight.spawn(async move {
                let wait = worker.process(claimed, channel).await;
                worker.lanes.release(&head.channel, wait);
                worker.wake.notify_one();
            });
        }
        let lanes = self.lanes.next_ready(instant);
        let due = next.map(|t| instant + Duration::from_millis((t - now).max(0) as u64));
        Ok([lanes, due].into_iter().flatten().min())
    }
}
