//! Getting messages out: the outbox worker and one sender per platform.

pub mod console;
pub mod discord;
pub mod slack;
pub mod worker;

use crate::render::Message;
use crate::route::{Channel, Platform};
use std::time::Duration;

/// Why a send did not succeed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// 5xx, 429, timeouts, connection errors: try again, after `retry_after` if given.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The platform refused for good (unknown channel, missing access, bad token).
    Permanent(String),
}

impl SendError {
    pub fn transient(reason: impl Into<String>) -> SendError {
        SendError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            SendError::Transient { reason, .. } | SendError::Permanent(reason) => reason,
        }
    }
}

/// A request error from reqwest, classified: nothing reached the platform or no answer came.
fn network_error(platform: &str, e: reqwest::Error) -> SendError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    SendError::transient(format!("{platform}: {what}: {e}"))
}

/// The `Retry-After` header, in seconds (Slack and Discord both send it).
fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

/// One sender per platform; a platform without a token has none.
pub struct Senders {
    pub discord: Option<discord::Discord>,
    pub slack: Option<slack::Slack>,
    pub console: console::Console,
}

impl Senders {
    /// Posts `msg`; the answer is the platform's id for the new message.
    pub async fn send(
        &self,
        channel: &Channel,
        delivery_id: i64,
        msg: &Message,
    ) -> Result<String, SendError> {
        let off = |key: &str| {
            SendError::Permanent(format!(
                "{key} is not set in the config, so this channel cannot be reached"
            ))
        };
        match channel.platform {
            Platform::Discord => match &self.discord {
                Some(d) => d.send(&channel.id, delivery_id, msg).await,
                None => Err(off("discord.token")),
            },
            Platform::Slack => match &self.slack {
                Some(s) => s.send(&channel.id, msg).await,
                None => Err(off("slack.bot_token")),
            },
            Platform::Console => Ok(self.console.send(&channel.id, delivery_id, msg)),
        }
    }
}
