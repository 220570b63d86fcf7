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
/// Digests looked for per pass, at most; a full pass is followed by another at once.
const PER_PASS: i64 = 50;
/// Events of one digest made ready at once (each may wait for the Hub API).
const TOGETHER: usize = 8;
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
        let mut made = 0;
        loop {
            let due: Vec<(String, i64)> = sqlx::query_as(
                "SELECT channel, due_at FROM deliveries WHERE status = 'held' AND due_at <= ?
                 GROUP BY channel, due_at ORDER BY due_at LIMIT ?",
            )
            .bind(now)
            .bind(PER_PASS)
            .fetch_all(&self.store.pool)
            .await?;
            let full = due.len() as i64 == PER_PASS;
            let mut progress = false;
            for (channel, due_at) in due {
                match self.one(&channel, due_at).await? {
                    Made::Queued => {
                        made += 1;
                        progress = true;
                    }
                    Made::Nothing => progress = true,
                    Made::Raced => {}
                }
            }
            if made > 0 {
                self.wake.notify_one();
            }
            // A full pass that moved on: more may be due (a popular 09:00).
            if !(full && progress) {
                return Ok(made);
            }
        }
    }

    /// One channel's digest for one period.
    async fn one(&self, channel: &str, due_at: i64) -> anyhow::Result<Made> {
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
            return Ok(Made::Nothing);
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
        let (title, owner) = self.title(&held, due_at).await?;
        let mut digest = Digest::new(title);
        let mut skipped: Vec<(i64, String)> = Vec::new();
        // A few at a time: each may wait for the Hub API, and is dropped once told.
        for chunk in held.chunks(TOGETHER) {
            let told = futures_util::future::join_all(chunk.iter().map(|c| self.event_of(c))).await;
            for (c, told) in chunk.iter().zip(told) {
                match told? {
                    Ok(event) => digest.add(&event),
                    Err(reason) => skipped.push((c.id, reason)),
                }
            }
        }
        let counted = total as usize - skipped.len();
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut marked = 0;
        for (id, reason) in &skipped {
            marked += sqlx::query(
                "UPDATE deliveries SET status = 'skipped', last_error = ? WHERE id = ? AND status = 'held'",
            )
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        let mut queued = None;
        if counted > 0 {
            let mut notice = Notice::new("digest", digest.title.clone(), Vec::new(), "");
            notice.digest = Some(digest.finish(counted));
            let raw = serde_json::to_vec(&notice)?;
            let now = now_ms();
            let id = events::insert(&mut tx, NOTICES, &raw, &Event::notice(notice), now).await?;
            let delivery = deliveries::enqueue(&mut tx, id, owner, channel, now).await?;
            marked += sqlx::query(
                "UPDATE deliveries SET status = 'digested', merged_into = ?
                 WHERE status = 'held' AND channel = ? AND due_at = ? AND id <= ?",
            )
            .bind(delivery)
            .bind(channel)
            .bind(due_at)
            .bind(last)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            queued = Some(delivery);
        }
        if marked != total as u64 {
            // Another process told some of them between the read and this write.
            tx.rollback().await?;
            return Ok(Made::Raced);
        }
        tx.commit().await?;
        match queued {
            Some(delivery) => {
                tracing::info!(channel, events = counted, delivery, "digest queued");
                Ok(Made::Queued)
            }
            None => Ok(Made::Nothing),
        }
    }

    /// The event as a message would tell it; `Ok(Err(reason))` when it is not told: its
    /// subscription is gone or paused, or its filter leaves it out once the facts are in.
    async fn event_of(&self, c: &Claimed) -> anyhow::Result<Result<Arc<Event>, String>> {
        let pool = &self.store.pool;
        let sub = match c.subscription_id {
            Some(id) => subscriptions::get(pool, id).await?,
            None => None,
        };
        let Some(sub) = sub else {
            return Ok(Err("its subscription was removed before the digest".into()));
        };
        if let Some(why) = sub.paused {
            return Ok(Err(format!("subscription paused: {why}")));
        }
        let event = match self.renders.event(pool, c.event_id).await {
            Ok(e) => e,
            Err(e) => return Ok(Err(e)),
        };
        match look_again(pool, &self.bots, c, &event).await {
            Ok(_) => Ok(Ok(event)),
            Err(NotReady::Skipped(why) | NotReady::Failed(why)) => Ok(Err(why)),
            Err(NotReady::Retry(e)) => anyhow::bail!(e),
        }
    }

    /// `Daily digest, Thu 3 Dec 2026 09:00 Europe/Paris`, from the schedule of the first
    /// subscription still there, and that subscription (whose workspace the digest's
    /// delivery counts for).
    async fn title(&self, held: &[Claimed], due_at: i64) -> anyhow::Result<(String, Option<i64>)> {
        for id in held.iter().filter_map(|c| c.subscription_id) {
            if let Some(sub) = subscriptions::get(&self.store.pool, id).await? {
                let s = &sub.rules.schedule;
                let kind = match s.mode {
                    Mode::Weekly { .. } => "Weekly digest",
                    _ => "Daily digest",
                };
                return Ok((format!("{kind}, {}", s.local(due_at)), Some(id)));
            }
        }
        Ok(("Digest".into(), None))
    }
}

/// What became of one channel's period.
enum Made {
    Queued,
    /// Nothing left to tell: each event was left out, with its reason.
    Nothing,
    /// Another process made it first.
    Raced,
}
