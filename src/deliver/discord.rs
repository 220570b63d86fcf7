//! Discord: `POST {api_base}/api/v10/channels/{id}/messages` through our own client, so
//! status codes and rate-limit headers stay visible.

use super::{network_error, retry_after_header, SendError};
use crate::render::limits::cut;
use crate::render::Message;
use crate::route::Platform;
use serenity::builder::{CreateAllowedMentions, CreateEmbed, CreateMessage};
use serenity::model::channel::Nonce;

/// Discord's limits: embed title 256, description 4096 characters.
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;

pub struct Discord {
    http: reqwest::Client,
    api_base: String,
    token: String,
}

/// The request body: an embed, mentions parsed for nobody, and the delivery id as an
/// enforced nonce so that a retry after an unknown outcome cannot post twice.
pub fn body(msg: &Message, delivery_id: i64) -> serde_json::Value {
    let mut embed = CreateEmbed::new()
        .title(cut(Platform::Discord, &msg.headline, TITLE_MAX))
        .colour(msg.color);
    if msg.url.starts_with("https://") {
        embed = embed.url(&msg.url);
    }
    if !msg.body.is_empty() {
        embed = embed.description(cut(Platform::Discord, &msg.body, DESCRIPTION_MAX));
    }
    let create = CreateMessage::new()
        .embed(embed)
        .allowed_mentions(CreateAllowedMentions::new())
        .nonce(Nonce::String(format!("herald-{delivery_id}")))
        .enforce_nonce(true);
    serde_json::to_value(create).expect("builders serialize")
}

impl Discord {
    pub fn new(http: reqwest::Client, api_base: &str, token: &str) -> Discord {
        Discord {
            http,
            api_base: api_base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    pub async fn send(
        &self,
        channel_id: &str,
        delivery_id: i64,
        msg: &Message,
    ) -> Result<String, SendError> {
        let url = format!("{}/api/v10/channels/{channel_id}/messages", self.api_base);
        let resp = self
            .http
            .post(url)
            .header("Authorization", format!("Bot {}", self.token))
            .json(&body(msg, delivery_id))
            .send()
            .await
            .map_err(|e| network_error("discord", e))?;
        let status = resp.status();
        let retry_header = retry_after_header(resp.headers());
        let text = resp.text().await.map_err(|e| network_error("discord", e))?;
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status.is_success() {
            return Ok(json["id"].as_str().unwrap_or_default().to_string());
        }
        let code = json["code"].as_i64().unwrap_or(0);
        let message = json["message"].as_str().unwrap_or("no error body");
        let reason = format!("discord: HTTP {} (code {code}): {message}", status.as_u16());
        if status.as_u16() == 429 {
            let body_wait = json["retry_after"]
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| std::time::Duration::from_secs_f64(s.min(3600.0)));
            return Err(SendError::Transient {
                reason,
                retry_after: body_wait.or(retry_header),
            });
        }
        // Any other 4xx (10003 Unknown Channel, 50001 Missing Access, 50013 Missing
        // Permissions, a bad token) is one no retry can fix.
        if status.is_client_error() {
            return Err(SendError::Permanent(reason));
        }
        Err(SendError::transient(reason))
    }
}
