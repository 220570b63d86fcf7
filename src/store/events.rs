//! Accepted events, stored with their raw body and normalized form.

use crate::hub::Event;
use sqlx::SqliteConnection;

#[derive(Debug, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub received_at: i64,
    pub endpoint: String,
    pub normalized: String,
}

impl StoredEvent {
    pub fn event(&self) -> anyhow::Result<Event> {
        Ok(serde_json::from_str(&self.normalized)?)
    }
}

pub async fn insert(
    conn: &mut SqliteConnection,
    endpoint: &str,
    raw: &[u8],
    event: &Event,
    now: i64,
) -> sqlx::Result<i64> {
    let normalized = serde_json::to_string(event).expect("events serialize");
    sqlx::query_scalar(
        "INSERT INTO events (received_at, endpoint, format, scope, action, repo_type, repo_name, normalized, raw)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(now)
    .bind(endpoint)
    .bind(event.format.as_str())
    .bind(event.scope.as_str())
    .bind(event.action.as_str())
    .bind(event.repo.kind.as_str())
    .bind(event.repo.name.as_str())
    .bind(normalized)
    .bind(raw)
    .fetch_one(conn)
    .await
}

pub async fn get(pool: &sqlx::SqlitePool, id: i64) -> sqlx::Result<Option<StoredEvent>> {
    sqlx::query_as("SELECT id, received_at, endpoint, normalized FROM events WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Deletes events received before `before` whose deliveries are all finished (their
/// deliveries go with them); returns how many.
pub async fn purge(pool: &sqlx::SqlitePool, before: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM events WHERE received_at < ? AND NOT EXISTS
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
