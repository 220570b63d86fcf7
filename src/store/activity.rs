//! What the activity log shows (`herald events`, `herald deliveries`) and the queue depth
//! of `/metrics`: read-only summaries of events and deliveries.

use sqlx::SqlitePool;

/// An event and what became of its deliveries.
#[derive(Debug, sqlx::FromRow)]
pub struct EventLine {
    pub id: i64,
    pub received_at: i64,
    pub endpoint: String,
    pub format: String,
    pub scope: String,
    pub action: String,
    pub repo_type: String,
    pub repo_name: String,
    pub sent: i64,
    pub failed: i64,
    pub waiting: i64,
    /// Held for a digest, or told in one.
    pub digest: i64,
    /// Left out by a filter once the Hub API's facts were in.
    pub skipped: i64,
}

pub async fn events(pool: &SqlitePool, limit: i64) -> sqlx::Result<Vec<EventLine>> {
    sqlx::query_as(
        "SELECT e.id, e.received_at, e.endpoint, e.format, e.scope, e.action, e.repo_type, e.repo_name,
                COALESCE(SUM(d.status = 'sent'), 0) AS sent,
                COALESCE(SUM(d.status = 'failed'), 0) AS failed,
                COALESCE(SUM(d.status IN ('pending', 'sending')), 0) AS waiting,
                COALESCE(SUM(d.status IN ('held', 'digested')), 0) AS digest,
                COALESCE(SUM(d.status = 'skipped'), 0) AS skipped
         FROM events e LEFT JOIN deliveries d ON d.event_id = e.id
         GROUP BY e.id ORDER BY e.id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A delivery as the log shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct DeliveryLine {
    pub id: i64,
    pub event_id: i64,
    pub channel: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub note: Option<String>,
    pub merged_into: Option<i64>,
    pub created_at: i64,
}

pub async fn deliveries(
    pool: &SqlitePool,
    failed_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryLine>> {
    sqlx::query_as(
        "SELECT id, event_id, channel, status, attempts, last_error, note, merged_into, created_at
         FROM deliveries WHERE (? = 0 OR status = 'failed') ORDER BY id DESC LIMIT ?",
    )
    .bind(i64::from(failed_only))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Deliveries not yet made (queued or being sent).
pub async fn waiting(pool: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending')")
        .fetch_one(pool)
        .await
}
