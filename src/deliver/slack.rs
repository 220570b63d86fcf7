//! Slack: `POST {api_base}/chat.postMessage` with text, blocks and unfurling off.

use super::{network_error, retry_after_header, SendError};
use crate::render::limits::cut;
use crate::render::Message;
use crate::route::Platform;
use serde_json::json;

/// A section block's text holds at most 3000 characters.
pub const SECTION_MAX: usize = 3000;

/// `ok: false` errors that a later try may get past; every other error is permanent.
const TRANSIENT_ERRORS: [&str; 5] = [
    "ratelimited",
    "internal_error",
    "service_unavailable",
    "fatal_error",
    "request_timeout",
];

pub struct Slack {
    http: reqwest::Client,
    api_base: String,
    token: String,
}

pub fn body(channel_id: &str, msg: &Message) -> serde_json::Value {
    let section = if msg.body.is_empty() {
        msg.headline.clone()
    } else {
        format!("{}\n{}", msg.headline, msg.body)
    };
    json!({
        "channel": channel_id,
        "text": cut(Platform::Slack, &msg.headline, SECTION_MAX),
        "blocks": [{
            "type": "section",
            "text": { "type": "mrkdwn", "text": cut(Platform::Slack, &section, SECTION_MAX) }
        }],
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

impl Slack {
    pub fn new(http: reqwest::Client, api_base: &str, token: &str) -> Slack {
        Slack {
            http,
            api_base: api_base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    pub async fn send(&self, channel_id: &str, msg: &Message) -> Result<String, SendError> {
        let resp = self
            .http
            .post(format!("{}/chat.postMessage", self.api_base))
            .bearer_auth(&self.token)
            .json(&body(channel_id, msg))
            .send()
            .await
            .map_err(|e| network_error("slack", e))?;
        let status = resp.status();
        let retry_after = retry_after_header(resp.headers());
        let text = resp.text().await.map_err(|e| network_error("slack", e))?;
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(SendError::Transient {
                reason: format!("slack: HTTP {}", status.as_u16()),
                retry_after,
            });
        }
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if json["ok"].as_bool() == Some(true) {
            return Ok(json["ts"].as_str().unwrap_or_default().to_string());
        }
        let error = json["error"]
            .as_str()
            .unwrap_or("no error code in the answer");
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
