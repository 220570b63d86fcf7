//! `herald events`, `herald deliveries [--failed]` and `herald replay EVENT_ID`: the
//! activity log, like the Hub's own activity tab.

use crate::config::Settings;
use crate::ingest;
use crate::route::Origin;
use crate::store::Store;
use anyhow::Context;
use sqlx::Row;

fn when(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub async fn events(settings: &Settings, limit: i64) -> anyhow::Result<String> {
    let store = Store::open(&settings.database.url).await?;
    let rows = sqlx::query(
        "SELECT e.id, e.received_at, e.endpoint, e.format, e.scope, e.action, e.repo_type, e.repo_name,
                SUM(d.status = 'sent'), SUM(d.status = 'failed'), SUM(d.status IN ('pending', 'sending'))
         FROM events e LEFT JOIN deliveries d ON d.event_id = e.id
         GROUP BY e.id ORDER BY e.id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(&store.pool)
    .await?;
    if rows.is_empty() {
        return Ok("No events yet.".into());
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let n = |i: usize| r.get::<Option<i64>, _>(i).unwrap_or(0);
            format!(
                "#{} {} {} {} {}/{} via {} ({}): {} sent, {} failed, {} waiting",
                r.get::<i64, _>(0),
                when(r.get(1)),
                r.get::<String, _>(5),
                r.get::<String, _>(4),
                r.get::<String, _>(6),
                r.get::<String, _>(7),
                r.get::<String, _>(2),
                r.get::<String, _>(3),
                n(8),
                n(9),
                n(10),
            )
        })
        .collect();
    Ok(lines.join("\n"))
}

pub async fn deliveries(
    settings: &Settings,
    failed_only: bool,
    limit: i64,
) -> anyhow::Result<String> {
    let store = Store::open(&settings.database.url).await?;
    let rows = sqlx::query(
        "SELECT id, event_id, channel, status, attempts, last_error, note, message_id, merged_into, created_at
         FROM deliveries WHERE (? = 0 OR status = 'failed') ORDER BY id DESC LIMIT ?",
    )
    .bind(i64::from(failed_only))
    .bind(limit)
    .fetch_all(&store.pool)
    .await?;
    if rows.is_empty() {
        return Ok(if failed_only {
            "No failed deliveries."
        } else {
            "No deliveries yet."
        }
        .into());
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut line = format!(
                "#{} event #{} → {} {} {}, {} tries",
                r.get::<i64, _>(0),
                r.get::<i64, _>(1),
                r.get::<String, _>(2),
                when(r.get(9)),
                r.get::<String, _>(3),
                r.get::<i64, _>(4),
            );
            if let Some(into) = r
                .get::<Option<i64>, _>(8)
                .filter(|into| *into != r.get::<i64, _>(0))
            {
                line.push_str(&format!(", in the message of #{into}"));
            }
            for (label, i) in [("error", 5), ("note", 6)] {
                if let Some(v) = r.get::<Option<String>, _>(i) {
                    line.push_str(&format!("\n    {label}: {v}"));
                }
            }
            line
        })
        .collect();
    Ok(lines.join("\n"))
}

/// Routes a stored event again, as a new event with the same body, so that it is
/// delivered again to whoever follows it now.
pub async fn replay(settings: &Settings, event_id: i64) -> anyhow::Result<String> {
    let store = Store::open(&settings.database.url).await?;
    let stored = crate::store::events::get(&store.pool, event_id)
        .await?
        .with_context(|| format!("there is no event #{event_id} (herald events lists them)"))?;
    // Says so when the body was dropped, rather than failing to parse it.
    let body = stored
        .body()
        .with_context(|| format!("event #{event_id} cannot be replayed"))?;
    let origin = match stored.endpoint.as_str() {
        "operator" => Origin::Operator,
        ws => Origin::Workspace(ws.to_string()),
    };
    let accepted = ingest::accept(&store, &origin, body).await?;
    Ok(format!(
        "Replayed event #{event_id} as event #{}: {} deliveries queued; a running herald serve sends them.",
        accepted.event_id, accepted.deliveries
    ))
}
