//! Accepted events, stored with their raw body (the record; see migrations/0005).

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
    pub fn event(&self) -> anyhow::Result<Event> {
        Ok(payload::parse(&self.raw)?)
    }
}

pub async fn insert(
    conn: &mut SqliteConnection,
    endpoint: &str,
    raw: &[u8],
    event: &Event,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO events (received_at, endpoint, format, scope, action, repo_type, repo_name, raw)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
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
             (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status IN ('pending', 'sending'))",
    )
    .bind(before)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub async fn count(pool: &sqlx::SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(pool)
        .await
}
