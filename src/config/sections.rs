//! The sections of bot.toml, with their defaults (documented line by line in bot.toml).

use crate::hub::secret::Secrets;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Server {
    pub listen: String,
    pub public_url: String,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Longest a request may take, body included, in milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            body_limit: 1024 * 1024,
            request_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Database {
    pub url: String,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: "sqlite://herald.db".into(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Hub {
    pub secret: String,
    /// Several secrets accepted at once, while the Hub's webhook is being rotated.
    pub secrets: Vec<String>,
    /// Where the Hub's API is; the token is sent there and nowhere else.
    pub api_base: String,
    /// Optional: a higher rate limit, and private repos' names and commits.
    pub token: String,
    /// Longest the Hub API may take to add names, commit titles and files to one event's
    /// messages; 0 turns that off.
    pub enrich_timeout_ms: u64,
    /// Whether herald creates and keeps the operator's Hub webhook in sync with the
    /// subscriptions; unset: when a token is set.
    pub manage_webhook: Option<bool>,
    /// How often a managed webhook is compared with the Hub's, to undo changes made there.
    pub reconcile_interval_ms: u64,
    /// "Sign in with Hugging Face", for `/herald connect`.
    pub oauth: OAuth,
    /// Hub usernames `author:bot` matches besides the Hub's own bots.
    pub bots: Vec<String>,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuth {
    pub client_id: String,
    pub client_secret: String,
}

impl OAuth {
    pub fn is_set(&self) -> bool {
        !self.client_id.trim().is_empty() && !self.client_secret.trim().is_empty()
    }
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &(!self.client_secret.is_empty()).then_some("<hidden>"),
            )
            .finish()
    }
}

/// Keys for what herald stores encrypted.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Security {
    /// 32 bytes as 64 hex characters (`openssl rand -hex 32`): encrypts stored Hub tokens.
    pub key: String,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security")
            .field("key", &(!self.key.is_empty()).then_some("<hidden>"))
            .finish()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            secret: String::new(),
            secrets: Vec::new(),
            api_base: "https://huggingface.co".into(),
            token: String::new(),
            enrich_timeout_ms: 5000,
            manage_webhook: None,
            reconcile_interval_ms: 300_000,
            oauth: OAuth::default(),
            bots: Vec::new(),
        }
    }
}

/// Secrets and the token stay out of every debug print.
impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &str| if s.is_empty() { "" } else { "<hidden>" };
        f.debug_struct("Hub")
            .field("secret", &hidden(&self.secret))
            .field("secrets", &self.secrets.len())
            .field("api_base", &self.api_base)
            .field("token", &hidden(&self.token))
            .field("enrich_timeout_ms", &self.enrich_timeout_ms)
            .field("manage_webhook", &self.manage_webhook)
            .field("reconcile_interval_ms", &self.reconcile_interval_ms)
            .field("oauth", &self.oauth)
            .finish()
    }
}

impl Hub {
    pub fn secrets(&self) -> Secrets {
        Secrets::new(std::iter::once(self.secret.clone()).chain(self.secrets.iter().cloned()))
    }

    /// The secret a webhook herald creates is given: `secret`, else the first of `secrets`.
    pub fn current_secret(&self) -> String {
        std::iter::once(&self.secret)
            .chain(&self.secrets)
            .find(|s| !s.is_empty())
            .cloned()
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Discord {
    pub token: String,
    pub application_id: String,
    pub public_key: String,
    pub api_base: String,
}

impl Default for Discord {
    fn default() -> Self {
        Discord {
            token: String::new(),
            application_id: String::new(),
            public_key: String::new(),
            api_base: "https://discord.com".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Slack {
    pub bot_token: String,
    pub signing_secret: String,
    pub api_base: String,
}

impl Default for Slack {
    fn default() -> Self {
        Slack {
            bot_token: String::new(),
            signing_secret: String::new(),
            api_base: "https://slack.com/api".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Templates {
    pub dir: PathBuf,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            dir: "templates".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Delivery {
    /// Tries per delivery before it is marked failed.
    pub max_attempts: i64,
    /// First retry delay in milliseconds; doubles each try, up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Timeout of each request to Discord or Slack, in milliseconds.
    pub http_timeout_ms: u64,
    /// How long a claimed delivery stays with its worker before another may take it.
    pub lease_ms: u64,
    /// A delivery not made within this many seconds is given up (and recorded as failed).
    pub max_age_s: u64,
    /// Wait this long after an event before sending, so that a burst arriving together
    /// becomes one message; 0: merge only what queues up while a channel is throttled.
    pub burst_window_ms: u64,
    /// Merge queued events of one kind for one repo into one message.
    pub merge_bursts: bool,
    /// Permanent failures in a row after which a subscription is paused.
    pub pause_after: i64,
    /// Slack: time between two messages to one channel.
    pub slack_interval_ms: u64,
    /// Events and their deliveries are kept this many days (for `herald events` and replays).
    pub retention_days: u64,
    /// The body of an event that reached no subscription is kept this many hours (for a
    /// late `replay`); then only its metadata stays.
    pub unfollowed_body_hours: u64,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            max_attempts: 8,
            retry_base_ms: 1000,
            retry_max_ms: 600_000,
            http_timeout_ms: 10_000,
            lease_ms: 60_000,
            max_age_s: 86_400,
            burst_window_ms: 0,
            merge_bursts: true,
            pause_after: 3,
            slack_interval_ms: 1000,
            retention_days: 30,
            unfollowed_body_hours: 24,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Chat {
    /// Users who may change things in any workspace, besides its admins:
    /// `discord:<user id>` or `slack:<user id>`.
    pub admins: Vec<String>,
    /// How long a workspace's old webhook secret keeps working after `setup rotate`.
    pub rotation_grace_hours: u64,
    /// Oldest accepted signature timestamp on chat requests, in seconds.
    pub max_clock_skew_s: u64,
}

impl Default for Chat {
    fn default() -> Self {
        Chat {
            admins: vec![],
            rotation_grace_hours: 24,
            max_clock_skew_s: 300,
        }
    }
}

/// The server's protections against clients and tenants (README, "Security model").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// A client must send a request's headers within this (idle keep-alive connections too).
    pub header_timeout_ms: u64,
    /// Open connections at most; past it, the oldest idle connection is closed.
    pub max_connections: usize,
    /// Request bodies being read at once may take at most this many bytes in all.
    pub body_memory_bytes: usize,
    /// Events one webhook endpoint may store per UTC day.
    pub endpoint_events_per_day: u64,
    /// Bytes of events one webhook endpoint may store per UTC day.
    pub endpoint_bytes_per_day: u64,
    /// Subscriptions one Discord server or Slack workspace may have.
    pub subscriptions_per_workspace: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout_ms: 10_000,
            max_connections: 4096,
            body_memory_bytes: 64 * 1024 * 1024,
            endpoint_events_per_day: 20_000,
            endpoint_bytes_per_day: 200 * 1024 * 1024,
            subscriptions_per_workspace: 200,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeclaredSubscription {
    pub target: String,
    pub channel: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `none`, `thread` or `thread+channel` (the default).
    #[serde(default)]
    pub threads: Option<String>,
    /// A filter (README, "Filters"), e.g. `is:pr is:merged`.
    #[serde(default)]
    pub filter: Option<String>,
    /// Turns the noise defaults off.
    #[serde(default)]
    pub all: bool,
    /// `instant` (the default), `daily HH:MM` or `weekly DAY HH:MM`, in `tz`.
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub tz: Option<String>,
}
