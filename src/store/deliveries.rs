//! The outbox: one row per (event, channel), claimed with a lease, finished as sent or
//! failed with the reason.

use sqlx::{SqliteConnection, SqlitePool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub event_id: i64,
    pub subscription_id: Option<i64>,
    pub channel: String,
    /// Including this one.
    pub attempts: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub subscription_id: Option<i64>,
    pub channel: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub note: Option<String>,
}

/// Adds a delivery; returns its id (that of the existing one if the event already goes
/// to this channel).
pub async fn enqueue(
    conn: &mut SqliteConnection,
    event_id: i64,
    subscription_id: i64,
    channel: &str,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO deliveries (event_id, subscription_id, channel, due_at, created_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (event_id, channel) DO UPDATE SET channel = excluded.channel
         RETURNING id",
    )
    .bind(event_id)
    .bind(subscription_id)
    .bind(channel)
    .bind(now)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn get(pool: &SqlitePool, id: i64) -> sqlx::Result<Option<Delivery>> {
    sqlx::query_as(
        "SELECT id, event_id, subscription_id, channel, status, attempts, last_error, message_id, note
         FROM deliveries WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Claims up to `limit` due deliveries, oldest first, including those whose lease ran out
/// (their sender died). A claim is one statement, so two workers never share a row.
pub async fn claim(
    pool: &SqlitePool,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> sqlx::Result<Vec<Claimed>> {
    let mut rows: Vec<Claimed> = sqlx::query_as(
        "UPDATE deliveries SET status = 'sending', lease_until = ?1, attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM deliveries
             WHERE (status = 'pending' AND due_at <= ?2) OR (status = 'sending' AND lease_until <= ?2)
             ORDER BY id LIMIT ?3)
         RETURNING id, event_id, subscription_id, channel, attempts",
    )
    .bind(now + lease_ms)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

pub async fn mark_sent(
    pool: &SqlitePool,
    id: i64,
    message_id: &str,
    note: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 'sent', message_id = ?, note = ?, sent_at = ?, lease_until = NULL, last_error = NULL
         WHERE id = ?",
    )
    .bind(message_id)
    .bind(note)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Puts a delivery back in the queue, to be tried again at `due_at`.
pub async fn retry_at(pool: &SqlitePool, id: i64, reason: &str, due_at: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE deliveries SET status = 'pending', due_at = ?, lease_until = NULL, last_error = ? WHERE id = ?")
        .bind(due_at)
        .bind(reason)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn mark_failed(pool: &SqlitePool, id: i64, reason: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 'failed', lease_until = NULL, last_error = ? WHERE id = ?",
    )
    .bind(reason)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// When the next delivery falls due (or a lease runs out), if any is waiting.
pub async fn next_due(pool: &SqlitePool) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(t) FROM (
             SELECT MIN(due_at) AS t FROM deliveries WHERE status = 'pending'
             UNION ALL SELECT MIN(lease_until) FROM deliveries WHERE status = 'sending')",
    )
    .fetch_one(pool)
    .await
}

pub async fn for_event(pool: &SqlitePool, event_id: i64) -> sqlx::Result<Vec<Delivery>> {
    sqlx::query_as(
        "SELECT id, event_id, subscription_id, channel, status, attempts, last_error, message_id, note
         FROM deliveries WHERE event_id = ? ORDER BY id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await
}
