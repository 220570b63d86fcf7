//! `herald subscribe`, `unsubscribe` and `subscriptions`: the chat command core, run as
//! the operator.

use crate::chat::{Actor, Chat, Command};
use crate::config::Settings;
use crate::render::Renderer;
use crate::startup::{http_client, senders};
use crate::store::{subscriptions, Store};
use std::sync::Arc;

async fn chat(settings: &Settings) -> anyhow::Result<Chat> {
    let http = http_client(settings)?;
    Ok(Chat {
        store: Store::open(&settings.database.url).await?,
        renderer: Arc::new(Renderer::load(Some(&settings.templates.dir))?),
        settings: Arc::new(settings.clone()),
        wake: Default::default(),
        senders: Arc::new(senders(settings, &http)),
        http,
        hub: crate::hub::api::HubApi::new(
            &settings.hub.api_base,
            &settings.hub.token,
            Default::default(),
        )?,
        sealer: crate::store::sealed::from_key(&settings.security.key)?,
    })
}

/// Runs one command as the operator; a mistake is an error (non-zero exit).
pub async fn run(settings: &Settings, cmd: Command) -> anyhow::Result<String> {
    let chat = chat(settings).await?;
    let reply = chat
        .execute(&Actor::operator(), cmd)
        .await
        .map_err(|e| anyhow::anyhow!(e.text().to_string()))?;
    Ok(reply.text().to_string())
}

pub async fn list_json(settings: &Settings) -> anyhow::Result<String> {
    let store = Store::open(&settings.database.url).await?;
    let subs = subscriptions::list(&store.pool).await?;
    let rows: Vec<serde_json::Value> = subs
        .iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id,
                "target": s.target.to_string(),
                "matches": s.target.describe(),
                "scopes": s.scopes,
                "channel": s.channel.to_string(),
                "workspace": s.workspace,
                "source": s.source,
                "created_at_ms": s.created_at,
                "created_by": s.created_by,
                "threads": s.threads.as_str(),
                "paused": s.paused.is_some(),
                "paused_reason": s.paused,
                "filter": s.rules.filter.as_ref().map(|f| f.to_string()),
                "all": s.rules.all,
                "mode": s.rules.schedule.mode_text(),
                "tz": s.rules.schedule.tz,
            })
        })
        .collect();
    Ok(serde_json::to_string_pretty(&rows)?)
}
