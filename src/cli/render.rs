//! `herald render PAYLOAD.json`: what would be posted, offline.

use super::RenderPlatform;
use crate::config::Settings;
use crate::deliver::{console, discord, slack};
use crate::hub::payload;
use crate::render::Renderer;
use crate::route::Platform;
use anyhow::Context;
use std::path::Path;

pub fn render(
    settings: &Settings,
    path: &Path,
    platform: RenderPlatform,
) -> anyhow::Result<String> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let event =
        payload::parse(&raw).with_context(|| format!("{} is not a Hub payload", path.display()))?;
    let renderer = Renderer::load(Some(&settings.templates.dir))?;
    let platform = match platform {
        RenderPlatform::Discord => Platform::Discord,
        RenderPlatform::Slack => Platform::Slack,
        RenderPlatform::Console => Platform::Console,
    };
    let (msg, note) = renderer.render_noted(&event, platform)?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    Ok(match platform {
        Platform::Discord => serde_json::to_string_pretty(&discord::body(&msg, "herald-0"))?,
        Platform::Slack => serde_json::to_string_pretty(&slack::body("CHANNEL_ID", &msg))?,
        Platform::Console => console::block("console", &msg).trim_end().to_string(),
    })
}
