//! Discord: `POST {api_base}/api/v10/channels/{id}/messages` through our own client, so
//! that status codes and rate-limit headers stay visible to the scheduler.

use super::fair::FairLimit;
use super::{header_secs, network_error, seconds, Place, Post, SendError, Sent};
use crate::render::limits::{cut, split_lines};
use crate::render::Message;
use crate::route::Platform;
use serde::Deserialize;
use serde_json::{json, Value};
use serenity::builder::{CreateAllowedMentions, CreateEmbed, CreateEmbedAuthor, CreateMessage};
use serenity::model::channel::Nonce;
use std::sync::Arc;
use std::time::Duration;

/// Discord's limits: embed title 256, description 4096 characters.
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
/// Requests a bot may make per second, across all routes.
pub const GLOBAL_PER_SECOND: usize = 50;

/// What herald reads of Discord's answers: a created object's id (a message, a thread, a
/// channel's guild) and an error's fields.
#[derive(Debug, Default, Deserialize)]
struct Answer {
    id: Option<String>,
    guild_id: Option<String>,
    code: Option<i64>,
    message: Option<String>,
    retry_after: Option<f64>,
    #[serde(default)]
    global: bool,
}

pub struct Discord {
    http: reqwest::Client,
    api_base: String,
    token: String,
    global: Arc<FairLimit>,
}

/// The request body: an embed, mentions parsed for nobody, and a nonce enforced by Discord,
/// so that a retry after an unknown outcome cannot post twice.
pub fn body(msg: &Message, nonce: &str) -> Value {
    let mut embed = CreateEmbed::new()
        .title(cut(Platform::Discord, &msg.headline, TITLE_MAX))
        .colour(msg.color);
    if msg.url.starts_with("https://") {
        embed = embed.url(&msg.url);
    }
    if !msg.body.is_empty() {
        let description = split_lines(Platform::Discord, &msg.body, DESCRIPTION_MAX, 1, &msg.url);
        embed = embed.description(description.concat());
    }
    if let Some(a) = &msg.author {
        // An embed author's name is plain text: no markdown, no mentions.
        let mut author = CreateEmbedAuthor::new(&a.name).url(&a.url);
        if let Some(icon) = &a.icon_url {
            author = author.icon_url(icon);
        }
        embed = embed.author(author);
    }
    let create = CreateMessage::new()
        .embed(embed)
        .allowed_mentions(CreateAllowedMentions::new())
        .nonce(Nonce::String(nonce.to_string()))
        .enforce_nonce(true);
    serde_json::to_value(create).expect("builders serialize")
}

impl Discord {
    /// The guild a channel belongs to; `None` when the bot cannot see it.
    pub async fn channel_guild(&self, channel_id: &str) -> Result<Option<String>, String> {
        let url = format!("{}/api/v10/channels/{channel_id}", self.api_base);
        let resp = self
            .http
            .get(url)
            .header("Authorization", format!("Bot {}", self.token))
            .send()
            .await
            .map_err(|e| network_error("discord", e).reason().to_string())?;
        match resp.status().as_u16() {
            200 => {
                let text = resp
                    .text()
                    .await
                    .map_err(|e| network_error("discord", e).reason().to_string())?;
                let answer: Answer = serde_json::from_str(&text).unwrap_or_default();
                Ok(answer.guild_id)
            }
            403 | 404 => Ok(None),
            other => Err(format!(
                "discord: HTTP {other} when looking up channel {channel_id}"
            )),
        }
    }

    /// How long Discord's global pause still lasts, if one does.
    pub fn paused_for(&self) -> Option<Duration> {
        self.global.paused_for()
    }

    pub fn new(http: reqwest::Client, api_base: &str, token: &str) -> Discord {
        Discord {
            http,
            api_base: api_base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            global: FairLimit::new(GLOBAL_PER_SECOND),
        }
    }

    pub async fn send(&self, post: &Post<'_>) -> Result<Sent, SendError> {
        let target = match &post.place {
            Place::Channel => &post.channel.id,
            Place::Thread { id, .. } => id,
        };
        let url = format!("{}/api/v10/channels/{target}/messages", self.api_base);
        let (answer, wait) = self
            .request(post.owner, &url, &body(post.msg, &post.nonce))
            .await?;
        Ok(Sent {
            // Posted all the same: without an id only its thread is lost.
            id: answer.id.unwrap_or_default(),
            wait,
        })
    }

    /// Starts a thread on a posted message; returns the thread's channel id.
    pub async fn start_thread(
        &self,
        owner: &str,
        channel_id: &str,
        message_id: &str,
        name: &str,
    ) -> Result<String, SendError> {
        let url = format!(
            "{}/api/v10/channels/{channel_id}/messages/{message_id}/threads",
            self.api_base
        );
        let body =
            json!({ "name": cut(Platform::Console, name, 100), "auto_archive_duration": 10080 });
        let (answer, _) = self.request(owner, &url, &body).await?;
        answer
            .id
            .ok_or_else(|| SendError::transient("discord: the new thread has no id"))
    }

    /// POSTs JSON; the answer's body and, when the bucket is now empty, how long until it
    /// refills (`X-RateLimit-Remaining: 0`, `X-RateLimit-Reset-After`).
    async fn request(
        &self,
        owner: &str,
        url: &str,
        body: &Value,
    ) -> Result<(Answer, Option<Duration>), SendError> {
        if let Err(left) = self.global.acquire(owner).await {
            return Err(SendError::RateLimited {
                reason: "discord: waiting out a global rate limit".into(),
                retry_after: left,
                every_lane: false,
            });
        }
        let resp = self
            .http
            .post(url)
            .header("Authorization", format!("Bot {}", self.token))
            .json(body)
            .send()
            .await
            .map_err(|e| network_error("discord", e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.map_err(|e| network_error("discord", e))?;
        // Not JSON (a proxy's error page): the status alone decides.
        let answer: Answer = serde_json::from_str(&text).unwrap_or_default();
        let empty = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0");
        let wait = empty
            .then(|| header_secs(&headers, "x-ratelimit-reset-after"))
            .flatten();
        if status.is_success() {
            return Ok((answer, wait));
        }
        let code = answer.code.unwrap_or(0);
        let message = answer.message.as_deref().unwrap_or("no error body");
        let reason = format!("discord: HTTP {} (code {code}): {message}", status.as_u16());
        if status.as_u16() == 429 {
            let retry_after = seconds(answer.retry_after)
                .or_else(|| header_secs(&headers, "retry-after"))
                .unwrap_or(Duration::from_secs(1));
            let global = answer.global
                || headers
                    .get("x-ratelimit-global")
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
            // The global limit is held here, for every request of every channel; the
            // lanes only wait for this channel's own bucket.
            if global {
                self.global.pause(retry_after);
            }
            return Err(SendError::RateLimited {
                reason,
                retry_after,
                every_lane: false,
            });
        }
        // Any other 4xx (10003 Unknown Channel, 50001 Missing Access, 50013 Missing
        // Permissions, a bad token) is one no retry can fix.
        if status.is_client_error() {
            return Err(SendError::Permanent(reason));
        }
        Err(SendError::Transient {
            reason,
            retry_after: header_secs(&headers, "retry-after"),
        })
    }
}
