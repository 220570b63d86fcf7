//! Slack: `POST {api_base}/chat.postMessage` with text, blocks and unfurling off.

mod web;
pub use web::{Answer, Nothing, Posted};

use super::{header_secs, network_error, Place, Post, SendError, Sent};
use crate::render::limits::{cut, split_lines};
use crate::render::Message;
use crate::route::Platform;
use serde_json::{json, Value};
use std::time::Duration;

/// A section block's text holds at most 3000 characters.
pub const SECTION_MAX: usize = 3000;
/// Sections of one message at most (Slack allows 50 blocks and 40,000 characters).
const SECTIONS: usize = 10;

/// `ok: false` errors that a later try may get past; every other error is permanent.
const TRANSIENT_ERRORS: [&str; 4] = [
    "internal_error",
    "service_unavailable",
    "fatal_error",
    "request_timeout",
];

pub struct Slack {
    http: reqwest::Client,
    api_base: String,
    token: String,
    /// Slack allows about one message per second per channel.
    interval: Duration,
}

pub fn body(channel_id: &str, msg: &Message) -> Value {
    let section = if msg.body.is_empty() {
        msg.headline.clone()
    } else {
        format!("{}\n{}", msg.headline, msg.body)
    };
    // A long list takes several sections, split between its lines.
    let mut blocks: Vec<Value> = split_lines(
        Platform::Slack,
        &section,
        SECTION_MAX,
        SECTIONS,
        &msg.url,
    )
    .into_iter()
    .map(|text| {
        // verbatim: nothing in the text is turned into a link or a mention by Slack.
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": text, "verbatim": true } })
    })
    .collect();
    if let Some(a) = &msg.author {
        let mut elements = Vec::new();
        if let Some(icon) = &a.icon_url {
            elements.push(json!({ "type": "image", "image_url": icon, "alt_text": a.name }));
        }
        let who = crate::render::escape::link(Platform::Slack, &a.url, &a.name);
        elements.push(json!({ "type": "mrkdwn", "text": who, "verbatim": true }));
        blocks.push(json!({ "type": "context", "elements": elements }));
    }
    json!({
        "channel": channel_id,
        "text": cut(Platform::Slack, &msg.headline, SECTION_MAX),
        "blocks": blocks,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

impl Slack {
    pub fn new(http: reqwest::Client, api_base: &str, token: &str, interval: Duration) -> Slack {
        Slack {
            http,
            api_base: api_base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            interval,
        }
    }

    pub async fn send(&self, post: &Post<'_>) -> Result<Sent, SendError> {
        let sent = self.send_as(post, post.msg).await;
        match (&sent, &post.msg.author) {
            // Slack could not load the author's avatar (it refuses the whole message then):
            // the message matters more than the avatar.
            (Err(SendError::Permanent(r)), Some(_)) if r == "slack: invalid_blocks" => {
                let plain = Message {
                    author: None,
                    ..post.msg.clone()
                };
                self.send_as(post, &plain).await
            }
            _ => sent,
        }
    }

    async fn send_as(&self, post: &Post<'_>, msg: &Message) -> Result<Sent, SendError> {
        let mut req = body(&post.channel.id, msg);
        if let Place::Thread { id, broadcast } = &post.place {
            req["thread_ts"] = json!(id);
            req["reply_broadcast"] = json!(broadcast);
        }
        let resp = self
            .http
            .post(format!("{}/chat.postMessage", self.api_base))
            .bearer_auth(&self.token)
            .json(&req)
            .send()
            .await
            .map_err(|e| network_error("slack", e))?;
        let status = resp.status();
        let retry_after = header_secs(resp.headers(), "retry-after");
        let text = resp.text().await.map_err(|e| network_error("slack", e))?;
        let answer: Answer<Posted> = Answer::read(&text);
        let error = answer.error();
        // Rate limits are per method and workspace: every channel waits.
        if status.as_u16() == 429 || error == "ratelimited" {
            return Err(SendError::RateLimited {
                reason: "slack: ratelimited".into(),
                retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
                every_lane: true,
            });
        }
        if status.is_server_error() {
            return Err(SendError::Transient {
                reason: format!("slack: HTTP {}", status.as_u16()),
                retry_after,
            });
        }
        if answer.ok {
            return Ok(Sent {
                // Posted all the same: without a `ts` only its thread is lost.
                id: answer.data.ts.clone().unwrap_or_default(),
                wait: Some(self.interval),
            });
        }
        let reason = format!("slack: {error}");
        if TRANSIENT_ERRORS.contains(&error) {
            Err(SendError::Transient {
                reason,
                retry_after,
            })
        } else {
            Err(SendError::Permanent(reason))
        }
    }
}
