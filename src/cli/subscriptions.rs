//! `herald subscribe`, `unsubscribe` and `subscriptions`.

use crate::config::Settings;
use crate::hub::Scope;
use crate::route::{Channel, Target};
use crate::store::subscriptions::{self, Added, NewSubscription};
use crate::store::{now_ms, Store};
use anyhow::Context;

/// Everything is checked before the database is touched, so a mistake writes nothing.
pub async fn subscribe(
    settings: &Settings,
    target: &str,
    channel: &str,
    scopes: &[String],
) -> anyhow::Result<String> {
    let target = Target::parse(target)?;
    let channel = Channel::parse(channel)?;
    settings.check_channel(&channel)?;
    let scopes = scopes
        .iter()
        .map(|s| Scope::parse_subscribable(s))
        .collect::<Result<Vec<_>, _>>()?;
    let store = Store::open(&settings.database.url).await?;
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let new = NewSubscription {
        target,
        scopes,
        channel,
        source: "cli".into(),
        created_by: format!("cli:{user}"),
    };
    let mut conn = store.pool.acquire().await?;
    let (sub, added) = subscriptions::add(&mut conn, &new, now_ms()).await?;
    let what = match added {
        Added::Created => "Subscribed",
        Added::Widened => "Widened the existing subscription",
        Added::Unchanged => "Already subscribed, nothing changed",
    };
    Ok(format!("{what}. Now active:\n  {}", sub.describe()))
}

pub async fn unsubscribe(settings: &Settings, id: i64) -> anyhow::Result<String> {
    let store = Store::open(&settings.database.url).await?;
    let sub = subscriptions::get(&store.pool, id)
        .await?
        .with_context(|| {
            format!("there is no subscription #{id}; `herald subscriptions` lists them")
        })?;
    if sub.source == "config" {
        anyhow::bail!(
            "subscription #{id} is declared in the config file ([[subscriptions]]); remove it there and restart"
        );
    }
    subscriptions::remove(&store.pool, id).await?;
    Ok(format!("Removed {}", sub.describe()))
}

pub async fn list(settings: &Settings, json: bool) -> anyhow::Result<String> {
    let store = Store::open(&settings.database.url).await?;
    let subs = subscriptions::list(&store.pool).await?;
    if json {
        let rows: Vec<serde_json::Value> = subs
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id,
                    "target": s.target.to_string(),
                    "matches": s.target.describe(),
                    "scopes": s.scopes,
                    "channel": s.channel.to_string(),
                    "source": s.source,
                    "created_at_ms": s.created_at,
                    "created_by": s.created_by,
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&rows)?);
    }
    if subs.is_empty() {
        return Ok("No subscriptions. Add one with: herald subscribe OWNER/NAME --channel discord:CHANNEL_ID".into());
    }
    let lines: Vec<String> = subs
        .iter()
        .map(|s| format!("{}  [{}, by {}]", s.describe(), s.source, s.created_by))
        .collect();
    Ok(lines.join("\n"))
}
