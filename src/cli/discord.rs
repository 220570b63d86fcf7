//! `herald discord register-commands [--guild ID]`

use crate::chat::discord::command_definition;
use crate::config::Settings;
use crate::startup::http_client;
use anyhow::Context;

/// Overwrites the application's commands with `/herald` (PUT is Discord's bulk overwrite).
pub async fn register(settings: &Settings, guild: Option<&str>) -> anyhow::Result<String> {
    let d = &settings.discord;
    if d.token.is_empty() || d.application_id.is_empty() {
        anyhow::bail!("set discord.token and discord.application_id (or HERALD_DISCORD__TOKEN and HERALD_DISCORD__APPLICATION_ID) first");
    }
    let base = d.api_base.trim_end_matches('/');
    let url = match guild {
        Some(g) => format!(
            "{base}/api/v10/applications/{}/guilds/{g}/commands",
            d.application_id
        ),
        None => format!("{base}/api/v10/applications/{}/commands", d.application_id),
    };
    let resp = http_client(settings)?
        .put(url)
        .header("Authorization", format!("Bot {}", d.token))
        .json(&[command_definition()])
        .send()
        .await
        .context("cannot reach Discord")?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!(
            "Discord refused the commands: HTTP {} {}",
            status.as_u16(),
            body
        );
    }
    let where_ = guild
        .map(|g| format!("in server {g} (available now)"))
        .unwrap_or_else(|| "globally (may take up to an hour to appear)".into());
    Ok(format!("Registered /herald {where_}."))
}
