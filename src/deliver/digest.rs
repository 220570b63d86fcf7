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
use crate::route::{Bots, Subscription};
use crate::store::deliveries::{self, Claimed};
use crate::store::{events, now_ms, subscriptions, Store};
use std::collections::{BTreeSet, HashMap};
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

    /// Makes every digest due at `now` (unix ms); returns how many were queued. A period
    /// that cannot be made now (the database failed) is logged and tried at the next pass;
    /// the others are made.
    pub async fn flush(&self, now: i64) -> anyhow::Result<usize> {
        let mut made = 0;
        let mut failed = 0;
        loop {
            let due: Vec<(String, i64)> = sqlx::query_as(
                "SELECT channel, due_at FROM deliveries WHERE status = 'held' AND due_at <= ?
                 GROUP BY channel, due_at ORDER BY due_at LIMIT ? OFFSET ?",
            )
            .bind(now)
            .bind(PER_PASS)
            .bind(failed)
            .fetch_all(&self.store.pool)
            .await?;
            let full = due.len() as i64 == PER_PASS;
            let mut progress = false;
            for (channel, due_at) in due {
                match self.one(&channel, due_at).await {
                    Ok(Made::Queued) => {
                        made += 1;
                        progress = true;
                    }
                    Ok(Made::Nothing) => progress = true,
                    Ok(Made::Raced) => {}
                    Err(e) => {
                        failed += 1;
                        tracing::error!(channel, due_at, error = %format!("{e:#}"), "a digest could not be made; tried again at the next pass");
                    }
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
        let Some(last_read) = held.last().map(|c| c.id) else {
            return Ok(Made::Nothing);
        };
        // The subscriptions whose events these are, each read once.
        let mut subs: HashMap<i64, Option<Subscription>> = HashMap::new();
        let ids: BTreeSet<i64> = held.iter().filter_map(|c| c.subscription_id).collect();
        for id in ids {
            subs.insert(id, subscriptions::get(pool, id).await?);
        }
        let sub_of = |c: &Claimed| c.subscription_id.and_then(|id| subs.get(&id)?.as_ref());
        let mut digest = Digest::new(String::new());
        let mut skipped: Vec<(i64, String)> = Vec::new();
        let mut teller: Option<&Subscription> = None;
        // A few at a time: each may wait for the Hub API, and is dropped once told.
        for chunk in held.chunks(TOGETHER) {
            let told = chunk.iter().map(|c| self.event_of(c, sub_of(c)));
            let told = futures_util::future::join_all(told).await;
            for (c, told) in chunk.iter().zip(told) {
                match told? {
                    Ok(event) => {
                        digest.add(&event);
                        teller = teller.or(sub_of(c));
                    }
                    Err(reason) => skipped.push((c.id, reason)),
                }
            }
        }
        let title = title(teller, due_at);
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        // Under the write lock: every row read is still held (no other process told it),
        // and those past the ones read (a period of more than can be detailed) are counted.
        let still: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'held' AND channel = ? AND due_at = ?
             AND id BETWEEN ? AND ?",
        )
        .bind(channel)
        .bind(due_at)
        .bind(held[0].id)
        .bind(last_read)
        .fetch_one(&mut *tx)
        .await?;
        if still != held.len() as i64 {
            tx.rollback().await?;
            return Ok(Made::Raced);
        }
        let (beyond, last): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(id) FROM deliveries
             WHERE status = 'held' AND channel = ? AND due_at = ? AND id > ?",
        )
        .bind(channel)
        .bind(due_at)
        .bind(last_read)
        .fetch_one(&mut *tx)
        .await?;
        for (id, reason) in &skipped {
            sqlx::query("UPDATE deliveries SET status = 'skipped', last_error = ? WHERE id = ?")
                .bind(reason)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let counted = (held.len() - skipped.len()) + beyond as usize;
        if counted == 0 {
            tx.commit().await?;
            return Ok(Made::Nothing);
        }
        digest.title = title.0.clone();
        let mut notice = Notice::new("digest", title.0, Vec::new(), "");
        notice.digest = Some(digest.finish(counted));
        let raw = serde_json::to_vec(&notice)?;
        let now = now_ms();
        let id = events::insert(&mut tx, NOTICES, &raw, &Event::notice(notice), now).await?;
        let delivery = deliveries::enqueue(&mut tx, id, title.1, channel, now).await?;
        sqlx::query(
            "UPDATE deliveries SET status = 'digested', merged_into = ?
             WHERE status = 'held' AND channel = ? AND due_at = ? AND id <= ?",
        )
        .bind(delivery)
        .bind(channel)
        .bind(due_at)
        .bind(last.unwrap_or(last_read))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(channel, events = counted, delivery, "digest queued");
        Ok(Made::Queued)
    }

    /// The event as a message would tell it; `Ok(Err(reason))` when it is not told: its
    /// subscription is gone or paused, or its filter leaves it out once the facts are in.
    async fn event_of(
        &self,
        c: &Claimed,
        sub: Option<&Subscription>,
    ) -> anyhow::Result<Result<Arc<Event>, String>> {
        let pool = &self.store.pool;
        let Some(sub) = sub else {
            return Ok(Err("its subscription was removed before the digest".into()));
        };
        if let Some(why) = &sub.paused {
            return Ok(Err(format!("subscription paused: {why}")));
        }
        // A held event keeps its body until it is told: not reading it is the database's
        // passing failure, and the period is made at the next pass.
        let event = self
            .renders
            .event(pool, c.event_id)
            .await
            .map_err(anyhow::Error::msg)?;
        match look_again(pool, &self.bots, c, &event, Some(sub)).await {
            Ok(_) => Ok(Ok(event)),
            Err(NotReady::Skipped(why) | NotReady::Failed(why)) => Ok(Err(why)),
            Err(NotReady::Retry(e)) => anyhow::bail!(e),
        }
    }
}

/// `Daily digest, Thu 3 Dec 2026 09:00 Europe/Paris`, from the schedule of the first
/// subscription whose events it tells, and that subscription's id (whose workspace the
/// digest's delivery counts for; it was not paused).
fn title(teller: Option<&Subscription>, due_at: i64) -> (String, Option<i64>) {
    let Some(sub) = teller else {
        return ("Digest".into(), None);
    };
    let s = &sub.rules.schedule;
    let kind = match s.mode {
        Mode::Weekly { .. } => "Weekly digest",
        _ => "Daily digest",
    };
    (format!("{kind}, {}", s.local(due_at)), Some(sub.id))
}

/// What became of one channel's period.
enum Made {
    Queued,
    /// Nothing left to tell: each event was left out, with its reason.
    Nothing,
    /// Another process made it first.
    Raced,
}
