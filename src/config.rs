//! Settings: built-in defaults, then the config file (bot.toml), then `HERALD_<SECTION>__<KEY>`
//! environment variables, then validation.

use crate::hub::secret::Secrets;
use crate::hub::Scope;
use crate::route::subscription::Threads;
use crate::route::{Channel, Platform, Target};
use crate::store::subscriptions::NewSubscription;
use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The shipped bot.toml, used when the default config path does not exist.
pub const SHIPPED: &str = include_str!("../bot.toml");
pub const DEFAULT_PATH: &str = "bot.toml";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: Server,
    pub database: Database,
    pub hub: Hub,
    pub discord: Discord,
    pub slack: Slack,
    pub templates: Templates,
    pub delivery: Delivery,
    pub chat: Chat,
    pub limits: Limits,
    pub subscriptions: Vec<DeclaredSubscription>,
}

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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Hub {
    pub secret: String,
    /// Several secrets accepted at once, while the Hub's webhook is being rotated.
    pub secrets: Vec<String>,
}

impl Hub {
    pub fn secrets(&self) -> Secrets {
        Secrets::new(std::iter::once(self.secret.clone()).chain(self.secrets.iter().cloned()))
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeclaredSubscription {
    pub target: String,
    pub channel: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `none`, `thread` or `thread+channel` (the default).
    #[serde(default)]
    pub threads: Option<String>,
}

impl Settings {
    /// Loads `path`; the default path falls back to the shipped bot.toml when missing.
    pub fn load(path: &Path) -> anyhow::Result<Settings> {
        let file = if path.exists() {
            Toml::file(path)
        } else if path == Path::new(DEFAULT_PATH) {
            Toml::string(SHIPPED)
        } else {
            anyhow::bail!("config file {} does not exist", path.display());
        };
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(file)
            .merge(Env::prefixed("HERALD_").split("__"))
            .extract()
            .with_context(|| {
                format!(
                    "cannot read the config from {} and HERALD_* variables",
                    path.display()
                )
            })?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn platform_enabled(&self, p: Platform) -> bool {
        match p {
            Platform::Discord => !self.discord.token.is_empty(),
            Platform::Slack => !self.slack.bot_token.is_empty(),
            Platform::Console => true,
        }
    }

    /// Refuses a channel on a platform that has no token: it could never be delivered.
    pub fn check_channel(&self, channel: &Channel) -> anyhow::Result<()> {
        let key = match channel.platform {
            Platform::Discord => "discord.token (or HERALD_DISCORD__TOKEN)",
            Platform::Slack => "slack.bot_token (or HERALD_SLACK__BOT_TOKEN)",
            Platform::Console => return Ok(()),
        };
        if self.platform_enabled(channel.platform) {
            Ok(())
        } else {
            anyhow::bail!(
                "{channel}: {} is disabled because {key} is empty",
                channel.platform.as_str()
            )
        }
    }

    /// The `[[subscriptions]]` of the config, parsed.
    pub fn declared(&self) -> anyhow::Result<Vec<NewSubscription>> {
        self.subscriptions
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let at = || format!("[[subscriptions]] number {} in the config", i + 1);
                let channel = Channel::parse(&s.channel).with_context(at)?;
                self.check_channel(&channel).with_context(at)?;
                Ok(NewSubscription {
                    target: Target::parse(&s.target).with_context(at)?,
                    scopes: s
                        .scopes
                        .iter()
                        .map(|x| Scope::parse_subscribable(x))
                        .collect::<Result<_, _>>()
                        .with_context(at)?,
                    channel,
                    workspace: None,
                    source: "config".into(),
                    created_by: "bot.toml".into(),
                    threads: s
                        .threads
                        .as_deref()
                        .map(Threads::parse)
                        .transpose()
                        .map_err(anyhow::Error::msg)
                        .with_context(at)?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.hub.secrets().is_empty() {
            anyhow::bail!("hub.secret is empty: set it (or HERALD_HUB__SECRET) to the secret entered in the Hub's webhook settings");
        }
        if self.server.body_limit < 1024 {
            anyhow::bail!("server.body_limit must be at least 1024 bytes");
        }
        let l = &self.limits;
        if !(100..=30_000).contains(&l.header_timeout_ms) {
            anyhow::bail!("limits.header_timeout_ms must be between 100 and 30000");
        }
        if l.max_connections < 16 {
            anyhow::bail!("limits.max_connections must be at least 16");
        }
        // A body counts for what parsing it takes (src/http/budget.rs).
        if l.body_memory_bytes < self.server.body_limit * crate::http::PARSED {
            anyhow::bail!(
                "limits.body_memory_bytes must be at least {} × server.body_limit",
                crate::http::PARSED
            );
        }
        if self.delivery.max_attempts < 1 {
            anyhow::bail!("delivery.max_attempts must be at least 1");
        }
        self.declared()?;
        Ok(())
    }
}
