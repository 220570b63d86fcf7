//! Digests coming due: a channel's held deliveries of one period become one message. The
//! message is a notice stored with its summary and queued in the outbox in the same
//! transaction that marks them told, so that it goes out once, whichever process makes it,
//! and still goes out after a restart past its time.

use super::process::{look_again, NotReady};
use super::renders::Renders;
use crate::hub::event::NOTICES;
use crate::hub::Event;
use crate::render::digest::Digest;
use crate::render::notice::Notice;
use crate::route::schedule::Mode;
use crate::route::Bots;
use crate::store::deliveries::{self, Claimed};
use crate::store::{events, now_ms, subscriptions, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Events one digest reads and details, at most; the rest of its period are counted.
pub const DETAILED_MAX: i64 = 300;
/// Digests made per pass, at most; the next pass makes the rest.
const PER_PASS: i64 = 50;
/// How often due digests are looked for.
const EVERY: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Digests {
    pub store: Store,
    pub renders: Arc<Renders>,
    pub bots: Arc<Bots>,
    /// Wakes the delivery worker when a digest is queued.
    pub wake: Arc<Notify>,
}

impl Digests {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            if let Err(e) = self.flush(now_ms()).await {
                tracing::error!(error = %format!("{e:#}"), "due digests could not be made");
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Makes every digest due at `now` (unix ms); returns how many were queued.
    pub async fn flush(&self, now: i64) -> anyhow::Result<usize> {
        let due: Vec<(String, i64)> = sqlx::query_as(
            "SELECT channel, due_at FROM deliveries WHERE status = 'held' AND due_at <= ?
             GROUP BY channel, due_at ORDER BY due_at LIMIT ?",
        )
        .bind(now)
        .bind(PER_PASS)
        .fetch_all(&self.store.pool)
        .await?;
        let mut made = 0;
        for (channel, due_at) in due {
            if self.one(&channel, due_at).await? {
                made += 1;
            }
        }
        if made > 0 {
            self.wake.notify_one();
        }
        Ok(made)
    }

    /// One channel's digest for one period; false when there was nothing to tell (every
    /// event left out by a filter) or another process made it first.
    async fn one(&self, channel: &str, due_at: i64) -> anyhow::Result<bool> {
        let pool = &self.store.pool;
        let held: Vec<Claimed> = sqlx::query_as(
            "SELECT id, event_id, subscription_id, channel, attempts, created_at, merged_into
             FROM deliveries WHERE status = 'held' AND channel = ? AND due_at = ?
             ORDER BY id LIMIT ?",
        )
        .bind(channel)
        .bind(due_at)
        .bind(DETAILED_MAX)
        .fetch_all(pool)
        .await?;
        let Some(last) = held.last().map(|c| c.id) else {
            return Ok(false);
        };
        // Past what is detailed, the rest are counted; one held after this read waits
        // for the next pass (ids grow), so nothing is marked told unseen.
        let (total, last): (i64, i64) = match held.len() as i64 {
            n if n < DETAILED_MAX => (n, last),
            _ => {
                sqlx::query_as(
                    "SELECT COUNT(*), MAX(id) FROM deliveries
                     WHERE status = 'held' AND channel = ? AND due_at = ?",
                )
                .bind(channel)
                .bind(due_at)
                .fetch_one(pool)
                .await?
            }
        };
        let mut told: Vec<Arc<Event>> = Vec::new();
        let mut skipped: Vec<(i64, String)> = Vec::new();
        for c in &held {
            match self.event_of(c).await {
                Ok(e) => told.push(e),
                Err(reason) => skipped.push((c.id, reason)),
            }
        }
        let title = self.title(&held, due_at).await;
        let events: Vec<Event> = told.iter().map(|e| (**e).clone()).collect();
        let counted = total as usize - skipped.len();
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        for (id, reason) in &skipped {
            sqlx::query(
                "UPDATE deliveries SET status = 'skipped', last_error = ? WHERE id = ? AND status = 'held'",
            )
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        if counted == 0 {
            tx.commit().await?;
            return Ok(false);
        }
        let mut notice = Notice::new("digest", title.clone(), Vec::new(), "");
        notice.digest = Some(Digest::of(title, &events, counted));
        let raw = serde_json::to_vec(&notice)?;
        let now = now_ms();
        let id = events::insert(&mut tx, NOTICES, &raw, &Event::notice(notice), now).await?;
        let delivery = deliveries::enqueue(&mut tx, id, None, channel, now).await?;
        let done = sqlx::query(
            "UPDATE deliveries SET status = 'digested', merged_into = ?
             WHERE status = 'held' AND channel = ? AND due_at = ? AND id <= ?",
        )
        .bind(delivery)
        .bind(channel)
        .bind(due_at)
        .bind(last)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Another process made this digest between the read and the write.
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        tracing::info!(channel, events = counted, delivery, "digest queued");
        Ok(true)
    }

    /// The event as a message would tell it, unless its subscription is gone or its
    /// filter leaves it out once the facts are in (the reason).
    async fn event_of(&self, c: &Claimed) -> Result<Arc<Event>, String> {
        let pool = &self.store.pool;
        let gone = match c.subscription_id {
            Some(id) => subscriptions::get(pool, id)
                .await
                .map_err(|e| e.to_string())?
                .is_none(),
            None => true,
        };
        if gone {
            return Err("its subscription was removed before the digest".into());
        }
        let event = self.renders.event(pool, c.event_id).await?;
        match look_again(pool, &self.bots, c, &event).await {
            Ok(_) => Ok(event),
            Err(NotReady::Skipped(why) | NotReady::Failed(why)) => Err(why),
        }
    }

    /// `Daily digest, Thu 3 Dec 2026 09:00 Europe/Paris`, from the schedule of the first
    /// subscription still there.
    async fn title(&self, held: &[Claimed], due_at: i64) -> String {
        for id in held.iter().filter_map(|c| c.subscription_id) {
            if let Ok(Some(sub)) = subscriptions::get(&self.store.pool, id).await {
                let s = &sub.rules.schedule;
                let kind = match s.mode {
                    Mode::Weekly { .. } => "Weekly digest",
                    _ => "Daily digest",
                };
                return format!("{kind}, {}", s.local(due_at));
            }
        }
        "Digest".into()
    }
}
