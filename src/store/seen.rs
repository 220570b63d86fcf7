//! Signed chat requests already answered: a captured request replayed within its signature's
//! window is refused (kept in the database, so every process and a restart see it).

use sqlx::SqlitePool;

/// Records `key` until `expires_at` (unix ms); false if it was seen before.
pub async fn first_time(
    pool: &SqlitePool,
    key: &str,
    expires_at: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM seen_requests WHERE expires_at < ?")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let added = sqlx::query("INSERT OR IGNORE INTO seen_requests (key, expires_at) VALUES (?, ?)")
        .bind(key)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(added.rows_affected() == 1)
}
