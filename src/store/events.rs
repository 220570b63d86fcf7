//! Accepted events, stored with their raw body (the record; see migrations/0005).

use crate::hub::event::{Missed, RefChange, RefKind, NOTICES};
use crate::hub::{payload, Event};
use sqlx::SqliteConnection;

#[derive(Debug, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub received_at: i64,
    pub endpoint: String,
    pub raw: Vec<u8>,
}

impl StoredEvent {
    /// The body as received; an error once it was dropped.
    pub fn body(&self) -> anyhow::Result<&[u8]> {
        if self.raw.is_empty() {
            anyhow::bail!(
                "its body is no longer kept: no subscription followed it (delivery.unfollowed_body_hours)"
            );
        }
        Ok(&self.raw)
    }

    pub fn event(&self) -> anyhow::Result<Event> {
        if self.endpoint == NOTICES {
            return Ok(Event::notice(serde_json::from_slice(self.body()?)?));
        }
        Ok(payload::parse(self.body()?)?)
    }
}

/// Stores an event, the same statement for the ingest writer (`direct`) and sqlx.
pub(crate) const INSERT: &str =
    "INSERT INTO events (received_at, endpoint, format, scope, action, repo_type, repo_name, raw)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

pub async fn insert(
    conn: &mut SqliteConnection,
    endpoint: &str,
    raw: &[u8],
    event: &Event,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!("{INSERT} RETURNING id"))
        .bind(now)
        .bind(endpoint)
        .bind(event.format.as_str())
        .bind(event.scope.as_str())
        .bind(event.action.as_str())
        .bind(event.repo.kind.as_str())
        .bind(event.repo.name.as_str())
        .bind(raw)
        .fetch_one(conn)
        .await
}

/// Events of one repo looked at for a discussion's earlier status, and the largest body
/// read among them (a discussion event's is a few kilobytes): the lookup's cost is bounded
/// whatever a sender stores.
const EARLIER_LOOKED_AT: i64 = 20;
/// The repo's latest events scanned for those, at most.
const EARLIER_SCANNED: i64 = 500;
const EARLIER_BODY_MAX: i64 = 64 * 1024;

/// The last few events of this repo from the same endpoint before event `before` whose
/// scope starts with `scope`, newest first (another tenant's events say nothing here).
async fn earlier(
    pool: &sqlx::SqlitePool,
    endpoint: &str,
    event: &Event,
    before: i64,
    scope: &str,
) -> sqlx::Result<Vec<Event>> {
    let bodies: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT raw FROM events WHERE id IN (
             SELECT id FROM events WHERE repo_name = ? AND id < ? ORDER BY id DESC LIMIT ?)
         AND repo_type = ? AND endpoint = ? AND scope LIKE ? || '%' AND length(raw) BETWEEN 1 AND ?
         ORDER BY id DESC LIMIT ?",
    )
    .bind(event.repo.name.as_str())
    .bind(before)
    .bind(EARLIER_SCANNED)
    .bind(event.repo.kind.as_str())
    .bind(endpoint)
    .bind(scope)
    .bind(EARLIER_BODY_MAX)
    .bind(EARLIER_LOOKED_AT)
    .fetch_all(pool)
    .await?;
    Ok(bodies
        .iter()
        .filter_map(|raw| payload::parse(raw).ok())
        .collect())
}

/// The status discussion `num` of this repo had in the last event herald stored for it,
/// if one of the last few of the repo's discussion events says so.
pub async fn discussion_status_before(
    pool: &sqlx::SqlitePool,
    endpoint: &str,
    event: &Event,
    num: u64,
    before: i64,
) -> sqlx::Result<Option<String>> {
    Ok(earlier(pool, endpoint, event, before, "discussion")
        .await?
        .into_iter()
        .filter_map(|e| e.discussion)
        .find(|d| d.num == num)
        .map(|d| d.status))
}

/// Pushes to this push's branch that never reached herald: known when herald stored an
/// earlier push to it and none of the last few ended where this one starts. A push that
/// arrives late (the Hub retries) finds the one before it and claims nothing.
pub async fn missed_before(
    pool: &sqlx::SqlitePool,
    endpoint: &str,
    event: &Event,
    before: i64,
) -> sqlx::Result<Option<Missed>> {
    let Some(main) = event
        .main_ref()
        .filter(|r| r.kind == RefKind::Branch && r.change == RefChange::Updated)
    else {
        return Ok(None);
    };
    let old = main.old_sha.as_deref().unwrap_or_default();
    let same = |a: Option<&str>| a.is_some_and(|a| a.eq_ignore_ascii_case(old));
    let ends: Vec<Option<String>> = earlier(pool, endpoint, event, before, "repo.content")
        .await?
        .into_iter()
        .flat_map(|e| e.refs.into_iter().filter(|r| r.full == main.full))
        .map(|r| r.new_sha)
        .collect();
    let Some(last) = ends.first() else {
        return Ok(None);
    };
    if ends.iter().any(|e| same(e.as_deref())) {
        return Ok(None);
    }
    Ok(Some(Missed {
        since: last.clone(),
    }))
}

/// The latest events of a repo (by its index), newest first: at most `limit`, among the
/// repo's last [`EARLIER_SCANNED`], whose bodies are at most [`EARLIER_BODY_MAX`] bytes
/// (so that reading them costs little whatever a sender stored).
pub async fn latest_of(
    pool: &sqlx::SqlitePool,
    repo_type: &str,
    repo_name: &str,
    limit: i64,
) -> sqlx::Result<Vec<StoredEvent>> {
    sqlx::query_as(
        "SELECT id, received_at, endpoint, raw FROM events WHERE id IN (
             SELECT id FROM events WHERE repo_name = ? ORDER BY id DESC LIMIT ?)
         AND repo_type = ? AND length(raw) BETWEEN 1 AND ? ORDER BY id DESC LIMIT ?",
    )
    .bind(repo_name)
    .bind(EARLIER_SCANNED)
    .bind(repo_type)
    .bind(EARLIER_BODY_MAX)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &sqlx::SqlitePool, id: i64) -> sqlx::Result<Option<StoredEvent>> {
    sqlx::query_as("SELECT id, received_at, endpoint, raw FROM events WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Deletes events received before `before` whose deliveries are all finished (their
/// deliveries go with them); returns how many. Ids follow arrival: the old events are the
/// ones before the first recent id, found by reading the old ones only.
pub async fn purge(pool: &sqlx::SqlitePool, before: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM events WHERE id < coalesce(
             (SELECT id FROM events WHERE received_at >= ?1 ORDER BY id LIMIT 1),
             (SELECT max(id) + 1 FROM events))
         AND NOT EXISTS
             (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status IN ('pending', 'sending', 'held'))",
    )
    .bind(before)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Events looked at per transaction, so that the ingest writer never waits long for the lock.
const BODIES_PER_PASS: i64 = 5000;

/// Drops the bodies of events received before `before` that reached no subscription,
/// keeping their metadata; returns how many. Each event is looked at once: a watermark in
/// `meta` remembers where the last pass stopped.
pub async fn drop_unfollowed_bodies(pool: &sqlx::SqlitePool, before: i64) -> sqlx::Result<u64> {
    let mut dropped = 0;
    loop {
        let (n, more) = drop_bodies_pass(pool, before).await?;
        dropped += n;
        if !more {
            return Ok(dropped);
        }
    }
}

/// One bounded pass; true when events before `before` remain to be looked at.
async fn drop_bodies_pass(pool: &sqlx::SqlitePool, before: i64) -> sqlx::Result<(u64, bool)> {
    let mut tx = pool.begin().await?;
    // Past the last id (retention emptied the table, and ids started again): from the start.
    let from: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN value > (SELECT coalesce(max(id), 0) + 1 FROM events) THEN 0 ELSE value END
         FROM meta WHERE key = 'bodies_checked_to'",
    )
    .fetch_one(&mut *tx)
    .await?;
    // Up to the first recent event, the end of the table, or the pass's size: each query
    // reads at most BODIES_PER_PASS rows.
    let upto: i64 = sqlx::query_scalar(
        "SELECT coalesce(
             (SELECT id FROM events WHERE id >= ?1 AND id < ?1 + ?3 AND received_at >= ?2
              ORDER BY id LIMIT 1),
             min((SELECT coalesce(max(id), ?1 - 1) + 1 FROM events), ?1 + ?3))",
    )
    .bind(from)
    .bind(before)
    .bind(BODIES_PER_PASS)
    .fetch_one(&mut *tx)
    .await?;
    let more = upto == from + BODIES_PER_PASS;
    let done = sqlx::query(
        "UPDATE events SET raw = x'' WHERE id >= ? AND id < ? AND length(raw) > 0
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)",
    )
    .bind(from)
    .bind(upto)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE meta SET value = ? WHERE key = 'bodies_checked_to'")
        .bind(upto)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((done.rows_affected(), more))
}

pub async fn count(pool: &sqlx::SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(pool)
        .await
}
