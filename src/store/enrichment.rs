//! Each event's facts from the Hub's API (migrations/0008): written once, the first
//! writer wins, so that every process and channel says the same.

use sqlx::SqlitePool;

/// The stored facts (JSON) and what was missing, if the event was enriched.
pub async fn get(
    pool: &SqlitePool,
    event_id: i64,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    sqlx::query_as("SELECT facts, missing FROM event_enrichment WHERE event_id = ?")
        .bind(event_id)
        .fetch_optional(pool)
        .await
}

/// Stores them unless some were stored first.
pub async fn put(
    pool: &SqlitePool,
    event_id: i64,
    facts: &str,
    missing: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT OR IGNORE INTO event_enrichment (event_id, done_at, facts, missing) VALUES (?, ?, ?, ?)",
    )
    .bind(event_id)
    .bind(now)
    .bind(facts)
    .bind(missing)
    .execute(pool)
    .await?;
    Ok(())
}
