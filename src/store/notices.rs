//! herald's own notices, queued in the outbox like events: one stored event (endpoint
//! `herald`, its body the notice) and a delivery for each channel.

use super::{deliveries, events, now_ms};
use crate::hub::event::NOTICES;
use crate::hub::Event;
use crate::render::notice::Notice;
use sqlx::SqlitePool;

/// Channels one notice goes to, at most.
pub const CHANNELS_MAX: usize = 2000;

/// Queues `notice` for `channels`; returns the stored event's id.
pub async fn post(pool: &SqlitePool, notice: &Notice, channels: &[String]) -> anyhow::Result<i64> {
    let raw = serde_json::to_vec(notice)?;
    let event = Event::notice(notice.clone());
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let id = events::insert(&mut tx, NOTICES, &raw, &event, now).await?;
    for channel in channels {
        deliveries::enqueue(&mut tx, id, None, channel, now).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The repos `channel` got most messages about from `endpoint`'s events since `since`:
/// a channel is only ever told about repos it already hears of.
pub async fn busiest_for(
    pool: &SqlitePool,
    endpoint: &str,
    channel: &str,
    since: i64,
) -> sqlx::Result<Vec<(String, i64)>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT e.repo_type, e.repo_name, COUNT(*) AS n FROM events e
         JOIN deliveries d ON d.event_id = e.id
         WHERE e.received_at >= ? AND e.endpoint = ? AND d.channel = ?
         GROUP BY e.repo_type, e.repo_name ORDER BY n DESC, e.repo_name LIMIT 3",
    )
    .bind(since)
    .bind(endpoint)
    .bind(channel)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, name, n)| match kind.as_str() {
            "model" | "" => (name, n),
            k => (format!("{k}s/{name}"), n),
        })
        .collect())
}
