//! `herald events`, `herald deliveries [--failed]` and `herald replay EVENT_ID`: the
//! activity log, like the Hub's own activity tab.

use crate::config::Settings;
use crate::ingest;
use crate::route::Origin;
use crate::store::{activity, Store};
use anyhow::Context;

pub(super) fn when(ms: i64) -> String {
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
    let rows = activity::events(&store.pool, limit).await?;
    if rows.is_empty() {
        return Ok("No events yet.".into());
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|e| {
            let reached = e.sent + e.waiting + e.digest + e.failed;
            let parts: Vec<String> = [
                (e.sent, "sent"),
                (e.digest, "in a digest"),
                (e.waiting, "waiting"),
                (e.failed, "failed"),
                (e.skipped, "left out by a filter"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
            let parts = match parts.is_empty() {
                true => String::new(),
                false => format!(" ({})", parts.join(", ")),
            };
            format!(
                "#{} {} {} {} {}/{} via {} ({}): {reached} channel{}{parts}",
                e.id,
                when(e.received_at),
                e.action,
                e.scope,
                e.repo_type,
                e.repo_name,
                e.endpoint,
                e.format,
                if reached == 1 { "" } else { "s" },
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
    let rows = activity::deliveries(&store.pool, failed_only, limit).await?;
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
        .map(|d| {
            let mut line = format!(
                "#{} event #{} → {} {} {}, {} tries",
                d.id,
                d.event_id,
                d.channel,
                when(d.created_at),
                d.status,
                d.attempts,
            );
            if let Some(into) = d.merged_into.filter(|into| *into != d.id) {
                line.push_str(&format!(", in the message of #{into}"));
            }
            for (label, v) in [("error", &d.last_error), ("note", &d.note)] {
                if let Some(v) = v {
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
    let bots = crate::route::Bots::new(&settings.hub.bots);
    let accepted = ingest::accept(&store, &origin, body, &bots).await?;
    Ok(format!(
        "Replayed event #{event_id} as event #{}: {} deliveries queued; a running herald serve sends them.",
        accepted.event_id, accepted.deliveries
    ))
}
