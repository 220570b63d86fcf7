//! What each webhook endpoint stored per UTC day (see ingest/budget.rs).

use sqlx::SqlitePool;

/// What a queued delivery costs on disk, about: it counts against its event's endpoint, so
/// that an event followed by many channels weighs what it takes.
pub const DELIVERY_BYTES: i64 = 256;

/// The most the Hub API's facts about one event take once stored (names, commit titles,
/// files; fitted to it in enrich/): counted for every event that reaches a channel.
pub const FACTS_BYTES: i64 = 8 * 1024;

/// What an event's deliveries and facts cost on disk, about.
pub fn followed_bytes(deliveries: i64) -> i64 {
    match deliveries {
        0 => 0,
        n => n * DELIVERY_BYTES + FACTS_BYTES,
    }
}

/// The UTC day of a time in unix milliseconds, as days since 1970-01-01: the budgets' unit.
pub fn day(now_ms: i64) -> i64 {
    now_ms.div_euclid(86_400_000)
}

/// `(events, bytes)` stored by `endpoint` on `day` (days since 1970-01-01).
pub async fn of(pool: &SqlitePool, endpoint: &str, day: i64) -> sqlx::Result<(u64, u64)> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT events, bytes FROM endpoint_usage WHERE endpoint = ? AND day = ?")
            .bind(endpoint)
            .bind(day)
            .fetch_optional(pool)
            .await?;
    let (events, bytes) = row.unwrap_or_default();
    Ok((events.max(0) as u64, bytes.max(0) as u64))
}

/// Forgets the days before `day`.
pub async fn purge(pool: &SqlitePool, day: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM endpoint_usage WHERE day < ?")
        .bind(day)
        .execute(pool)
        .await?;
    Ok(())
}
