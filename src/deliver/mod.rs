//! Getting messages out: a scheduler with one ordered, rate-limited lane per channel, and
//! one sender per platform.

pub mod burst;
pub mod console;
pub mod digest;
pub mod discord;
mod fair;
pub mod lanes;
mod post;
mod process;
pub mod renders;
pub mod slack;
pub mod threads;
pub mod worker;

use crate::render::Message;
use crate::route::{Channel, Platform};
use std::time::Duration;

/// Why a send did not succeed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// 5xx, timeouts, connection errors: try again, after `retry_after` if given.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// 429: wait, then try again; not a failure of the delivery. `every_lane`: every
    /// channel of the platform waits (Slack's limits are per method and workspace; Discord's
    /// global one is held by its sender, for every request, instead).
    RateLimited {
        reason: String,
        retry_after: Duration,
        every_lane: bool,
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
            SendError::Transient { reason, .. }
            | SendError::RateLimited { reason, .. }
            | SendError::Permanent(reason) => reason,
        }
    }
}

/// A posted message.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The platform's id for it (Discord message id, Slack `ts`).
    pub id: String,
    /// How long this channel must now wait before its next message (an empty rate-limit
    /// bucket, or Slack's one message per second).
    pub wait: Option<Duration>,
}

/// Where in a channel a message goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    Channel,
    /// Discord: the thread's channel id; Slack: the `ts` of the thread's first message.
    /// `broadcast`: Slack also shows the reply in the channel.
    Thread {
        id: String,
        broadcast: bool,
    },
}

/// One message to post.
pub struct Post<'a> {
    pub channel: &'a Channel,
    /// Whose message it is (a workspace, or `operator`): Discord's global limit is shared
    /// in turns between owners.
    pub owner: &'a str,
    pub place: Place,
    /// Discord's `nonce`: the same for every try of one message, so none posts twice.
    pub nonce: String,
    pub msg: &'a Message,
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
    // Without the URL: this reason is stored and shown in chat.
    SendError::transient(format!("{platform}: {what}: {}", e.without_url()))
}

/// A number of seconds from a header or a JSON field, bounded to an hour.
fn seconds(s: Option<f64>) -> Option<Duration> {
    s.filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

fn header_secs(headers: &reqwest::header::HeaderMap, name: &str) -> Option<Duration> {
    seconds(headers.get(name)?.to_str().ok()?.trim().parse().ok())
}

/// One sender per platform; a platform without a token has none.
pub struct Senders {
    pub discord: Option<discord::Discord>,
    pub slack: Option<slack::Slack>,
    pub console: console::Console,
}

impl Senders {
    fn off(key: &str) -> SendError {
        SendError::Permanent(format!(
            "{key} is not set in the config, so this channel cannot be reached"
        ))
    }

    /// How long every send to `platform` still waits (Discord's global limit).
    pub fn paused_for(&self, platform: Platform) -> Option<Duration> {
        match (platform, &self.discord) {
            (Platform::Discord, Some(d)) => d.paused_for(),
            _ => None,
        }
    }

    pub async fn send(&self, post: &Post<'_>) -> Result<Sent, SendError> {
        match post.channel.platform {
            Platform::Discord => match &self.discord {
                Some(d) => d.send(post).await,
                None => Err(Self::off("discord.token")),
            },
            Platform::Slack => match &self.slack {
                Some(s) => s.send(post).await,
                None => Err(Self::off("slack.bot_token")),
            },
            Platform::Console => Ok(self.console.send(post)),
        }
    }

    /// Whether `channel` belongs to `workspace` (`discord:<guild>`, `slack:<team>`), as the
    /// platform says; `Err` when it could not be asked.
    pub async fn is_of(&self, channel: &Channel, workspace: &str) -> Result<bool, String> {
        if workspace.split(':').next() != Some(channel.platform.as_str()) {
            return Ok(false);
        }
        let owners = match (channel.platform, &self.discord, &self.slack) {
            (Platform::Discord, Some(d), _) => d
                .channel_guild(&channel.id)
                .await?
                .map(|g| format!("discord:{g}"))
                .into_iter()
                .collect(),
            (Platform::Slack, _, Some(s)) => s
                .channel_teams(&channel.id)
                .await?
                .into_iter()
                .map(|t| format!("slack:{t}"))
                .collect(),
            _ => vec![],
        };
        Ok(owners.iter().any(|o| o == workspace))
    }

    /// Opens a thread under a posted message; `None` where threads are just replies to it
    /// (Slack: the message's `ts` is the thread) or do not exist (the console).
    pub async fn start_thread(
        &self,
        post: &Post<'_>,
        message_id: &str,
        name: &str,
    ) -> Result<Option<String>, SendError> {
        match (post.channel.platform, &self.discord) {
            (Platform::Discord, Some(d)) => d
                .start_thread(post.owner, &post.channel.id, message_id, name)
                .await
                .map(Some),
            (Platform::Slack, _) => Ok(Some(message_id.to_string())),
            _ => Ok(None),
        }
    }
}
