//! Settings: built-in defaults, then the config file (bot.toml), then `HERALD_<SECTION>__<KEY>`
//! environment variables, then validation.

use crate::hub::Scope;
use crate::route::subscription::{Rules, Source, Threads};
use crate::route::{Channel, Platform, Target};
use crate::store::subscriptions::NewSubscription;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

mod sections;
mod sources;

pub use sections::*;

/// The shipped bot.toml, used when the default config path does not exist.
pub const SHIPPED: &str = include_str!("../../bot.toml");
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
    pub security: Security,
    pub subscriptions: Vec<DeclaredSubscription>,
    /// What was ignored while loading (variables that match no setting), to be logged.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Settings {
    /// Loads `path`; the default path falls back to the shipped bot.toml when missing.
    pub fn load(path: &Path) -> anyhow::Result<Settings> {
        let file = if path.exists() {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?
        } else if path == Path::new(DEFAULT_PATH) {
            SHIPPED.to_string()
        } else {
            anyhow::bail!("config file {} does not exist", path.display());
        };
        // Variables that are not Unicode cannot be settings (and std::env::vars would panic).
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Settings::layered(&file, &path.display().to_string(), vars)
    }

    /// The settings from a config file's text and the environment's variables.
    pub fn layered(
        file: &str,
        file_name: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Settings> {
        let sources = sources::gather(&Settings::default(), file, file_name, vars)?;
        let mut settings: Settings = sources.figment.extract().with_context(|| {
            format!("cannot read the config from {file_name} and HERALD_* variables")
        })?;
        settings.warnings = sources.warnings;
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
                    source: Source::Config,
                    created_by: "bot.toml".into(),
                    threads: s
                        .threads
                        .as_deref()
                        .map(Threads::parse)
                        .transpose()
                        .map_err(anyhow::Error::msg)
                        .with_context(at)?
                        .unwrap_or_default(),
                    rules: Rules::parse(
                        s.filter.as_deref(),
                        s.all,
                        s.mode.as_deref(),
                        s.tz.as_deref(),
                    )
                    .map_err(anyhow::Error::msg)
                    .with_context(at)?,
                })
            })
            .collect()
    }

    /// Whether herald manages the operator's Hub webhook: `hub.manage_webhook`, or unset,
    /// when a token is set and `server.public_url` is an address the Hub can reach (a
    /// webhook to this machine's loopback would never be called).
    pub fn manages_webhook(&self) -> bool {
        let reachable = || {
            let url = url::Url::parse(&self.server.public_url).ok();
            let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or_default();
            !(host.is_empty() || host == "localhost" || host.starts_with("127.") || host == "[::1]")
        };
        let hub = &self.hub;
        hub.manage_webhook
            .unwrap_or_else(|| !hub.token.trim().is_empty() && reachable())
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.hub.secrets().is_empty() {
            anyhow::bail!("hub.secret is empty: set it (or HERALD_HUB__SECRET) to the secret entered in the Hub's webhook settings");
        }
        let api = url::Url::parse(&self.hub.api_base).ok();
        if !api.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
            anyhow::bail!("hub.api_base must be an http(s) address, like https://huggingface.co");
        }
        if self.manages_webhook() && self.hub.token.trim().is_empty() {
            anyhow::bail!("hub.manage_webhook is on but hub.token is empty: set a token with the \"webhooks\" permission, or set hub.manage_webhook = false");
        }
        if !self.security.key.is_empty() {
            crate::store::sealed::Sealer::new(&self.security.key)?;
        }
        if self.hub.reconcile_interval_ms < 100 {
            anyhow::bail!("hub.reconcile_interval_ms must be at least 100");
        }
        if self.hub.enrich_timeout_ms > 60_000 {
            anyhow::bail!("hub.enrich_timeout_ms must be at most 60000 (a message waits for it)");
        }
        // A claimed delivery waits for the Hub, then sends: its lease must outlast both, or
        // another process could claim it meanwhile.
        let held = self.hub.enrich_timeout_ms + self.delivery.http_timeout_ms;
        if self.hub.enrich_timeout_ms > 0 && self.delivery.lease_ms <= held {
            anyhow::bail!(
                "delivery.lease_ms ({}) must be longer than hub.enrich_timeout_ms + delivery.http_timeout_ms ({held})",
                self.delivery.lease_ms
            );
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
