//! The outbox worker: claims due deliveries, renders and sends them in order, and records
//! each outcome. Transient failures come back later with backoff; a restart resumes.

use super::{SendError, Senders};
use crate::hub::Event;
use crate::render::{Message, Renderer};
use crate::route::Channel;
use crate::store::{deliveries, events, now_ms, templates, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

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
    pub renderer: Arc<Renderer>,
    pub senders: Arc<Senders>,
    pub wake: Arc<Notify>,
    pub policy: RetryPolicy,
    /// How long a claim holds before another worker may take the delivery over.
    pub lease: Duration,
}

impl Worker {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!("delivery worker started");
        while !*stop.borrow() {
            let sent = match self.drain().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "delivery worker cannot read the outbox");
                    0
                }
            };
            if sent > 0 {
                continue;
            }
            let wait = self.idle_wait().await;
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!("delivery worker stopped");
    }

    /// Until the next delivery falls due, at most a second (new work also wakes us).
    async fn idle_wait(&self) -> Duration {
        let next = deliveries::next_due(&self.store.pool).await.ok().flatten();
        let ms = next.map(|t| t - now_ms()).unwrap_or(1000).clamp(5, 1000);
        Duration::from_millis(ms as u64)
    }

    /// Claims and processes one batch; returns how many deliveries it handled.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let lease = self.lease.as_millis() as i64;
        let batch = deliveries::claim(&self.store.pool, now_ms(), lease, 32).await?;
        for d in &batch {
            self.process(d).await?;
        }
        Ok(batch.len())
    }

    async fn process(&self, d: &deliveries::Claimed) -> anyhow::Result<()> {
        let pool = &self.store.pool;
        let outcome = match self.prepare(d).await {
            Ok((channel, msg, note)) => match self.senders.send(&channel, d.id, &msg).await {
                Ok(message_id) => {
                    deliveries::mark_sent(pool, d.id, &message_id, note.as_deref(), now_ms())
                        .await?;
                    tracing::info!(delivery = d.id, event = d.event_id, channel = %d.channel, "delivered");
                    return Ok(());
                }
                Err(e) => e,
            },
            Err(e) => e,
        };
        match outcome {
            SendError::Transient {
                reason,
                retry_after,
            } if d.attempts < self.policy.max_attempts => {
                let delay = self.policy.delay(d.attempts, retry_after);
                let due = now_ms() + delay.as_millis() as i64;
                tracing::warn!(delivery = d.id, event = d.event_id, channel = %d.channel,
                    attempt = d.attempts, retry_in_ms = delay.as_millis() as u64, %reason, "delivery will be retried");
                deliveries::retry_at(pool, d.id, &reason, due).await?;
            }
            other => {
                let reason = match other {
                    SendError::Transient { reason, .. } => {
                        format!("gave up after {} attempts: {reason}", d.attempts)
                    }
                    SendError::Permanent(reason) => reason,
                };
                tracing::error!(delivery = d.id, event = d.event_id, channel = %d.channel, %reason, "delivery failed");
                deliveries::mark_failed(pool, d.id, &reason).await?;
            }
        }
        Ok(())
    }

    /// The channel and the message for a delivery, rendered with its workspace's templates;
    /// the note says which user template failed, if one did.
    async fn prepare(
        &self,
        d: &deliveries::Claimed,
    ) -> Result<(Channel, Message, Option<String>), SendError> {
        let permanent = |what: String| SendError::Permanent(what);
        let db = |e: sqlx::Error| SendError::transient(format!("database: {e}"));
        let stored = events::get(&self.store.pool, d.event_id)
            .await
            .map_err(db)?
            .ok_or_else(|| permanent(format!("event {} is no longer stored", d.event_id)))?;
        let event: Event = stored
            .event()
            .map_err(|e| permanent(format!("event {} cannot be read: {e}", d.event_id)))?;
        let channel = Channel::parse(&d.channel).map_err(|e| permanent(e.to_string()))?;
        let overrides = match d.subscription_id {
            Some(id) => templates::overrides(&self.store.pool, id)
                .await
                .map_err(db)?,
            None => Default::default(),
        };
        let (msg, note) = self
            .renderer
            .render_with(&event, channel.platform, &overrides)
            .map_err(|e| permanent(format!("rendering failed: {e:#}")))?;
        if let Some(note) = &note {
            tracing::warn!(delivery = d.id, event = d.event_id, %note, "a user template failed");
        }
        Ok((channel, msg, note))
    }
}
