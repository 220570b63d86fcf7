//! Which thread holds a discussion's events in a channel.

use sqlx::SqlitePool;

pub async fn get(pool: &SqlitePool, channel: &str, key: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT thread_id FROM threads WHERE channel = ? AND thread_key = ?")
        .bind(channel)
        .bind(key)
        .fetch_optional(pool)
        .await
}

pub async fn set(
    pool: &SqlitePool,
    channel: &str,
    key: &str,
    thread_id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO threads (channel, thread_key, thread_id, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (channel, thread_key) DO NOTHING",
    )
    .bind(channel)
    .bind(key)
    .bind(thread_id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}
