//! Chat commands: one core (grammar, validation, replies) with a Discord front, a Slack
//! front and the CLI. Every reply says exactly what is now active, or how to fix a mistake.

pub mod audit;
pub mod command;
pub(crate) mod commands;
pub mod discord;
pub mod slack;
mod words;

pub use command::{Command, TemplateAction};

use crate::config::Settings;
use crate::render::Renderer;
use crate::route::{Channel, Platform};
use crate::store::deliveries::Status;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Who typed a command, and where.
#[derive(Debug, Clone)]
pub struct Actor {
    /// How replies are formatted.
    pub platform: Platform,
    /// `discord:<guild id>` or `slack:<team id>`; `None` for the operator (the CLI).
    pub workspace: Option<String>,
    /// The channel the command was typed in.
    pub channel: Option<Channel>,
    /// `discord:<user id>`, `slack:<user id>` or `cli:<login>`.
    pub user: String,
    /// Manage Server on Discord, a workspace admin on Slack, or the operator.
    pub admin: bool,
    /// Channel ids the platform itself vouched for as the workspace's (Discord's resolved
    /// channel options); others are checked with the platform before they are used.
    pub vouched: Vec<String>,
}

impl Actor {
    pub fn operator() -> Actor {
        Actor {
            platform: Platform::Console,
            workspace: None,
            channel: None,
            user: format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "operator".into())
            ),
            admin: true,
            vouched: vec![],
        }
    }
}

/// What the front should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// An answer only the user sees.
    Text(String),
    /// Open the template editor, prefilled.
    Editor {
        scope: String,
        subscription: Option<i64>,
        current: String,
    },
    /// The answer now, and a follow-up once this delivery is sent or failed.
    Sending { text: String, delivery_id: i64 },
}

impl Reply {
    pub fn text(&self) -> &str {
        match self {
            Reply::Text(t) | Reply::Sending { text: t, .. } => t,
            Reply::Editor { current, .. } => current,
        }
    }
}

/// Why a command did not do what was asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The user's mistake: the text says how to fix it.
    Mistake(String),
    /// herald's own failure (the database, a platform): logged in full, and the user reads
    /// only that it failed, never an error's text, a URL or a token.
    Internal,
}

impl Failure {
    pub fn text(&self) -> &str {
        match self {
            Failure::Mistake(t) => t,
            Failure::Internal => INTERNAL,
        }
    }

    /// A mistake said in other words; an internal failure stays as it is.
    pub fn reworded(self, f: impl FnOnce(&str) -> String) -> Failure {
        match self {
            Failure::Mistake(t) => Failure::Mistake(f(&t)),
            Failure::Internal => Failure::Internal,
        }
    }
}

impl From<String> for Failure {
    fn from(text: String) -> Failure {
        Failure::Mistake(text)
    }
}

impl From<&str> for Failure {
    fn from(text: &str) -> Failure {
        Failure::Mistake(text.to_string())
    }
}

const INTERNAL: &str =
    "Something went wrong on herald's side; the operator's log has the details. Please try again.";

pub type Outcome = Result<Reply, Failure>;

/// What the command core needs; built once at start.
#[derive(Clone)]
pub struct Chat {
    pub store: Store,
    pub renderer: Arc<Renderer>,
    pub settings: Arc<Settings>,
    /// Wakes the delivery worker (for `test`).
    pub wake: Arc<Notify>,
    /// For replies that go through the platforms' APIs (follow-ups, modals, user lookups).
    pub http: reqwest::Client,
    /// The platforms' senders, which also say whose a channel is.
    pub senders: Arc<crate::deliver::Senders>,
    /// The Hub's API (with the operator's token): sign-ins, and webhooks to delete.
    pub hub: crate::hub::api::HubApi,
    /// Seals connected accounts' tokens; `None` without `security.key`.
    pub sealer: Option<Arc<crate::store::sealed::Sealer>>,
}

impl Chat {
    /// Runs a command; `Err` is a mistake of the user's, with how to fix it.
    pub async fn execute(&self, actor: &Actor, cmd: Command) -> Outcome {
        match cmd {
            Command::Help => Ok(Reply::Text(commands::help(actor))),
            Command::Subscribe {
                target,
                scopes,
                channel,
                threads,
                rules,
            } => {
                let (channel, threads) = (channel.as_deref(), threads.as_deref());
                let run = commands::subscribe::run;
                run(self, actor, &target, &scopes, channel, threads, &rules).await
            }
            Command::Filter { subscription, expr } => {
                commands::filter::run(self, actor, &subscription, &expr).await
            }
            Command::Why { what, channel } => {
                commands::why::run(self, actor, &what, channel.as_deref()).await
            }
            Command::Unsubscribe { what } => commands::unsubscribe::run(self, actor, &what).await,
            Command::List { everywhere, page } => {
                commands::list::run(self, actor, everywhere, page).await
            }
            Command::Template {
                action,
                scope,
                subscription,
            } => commands::template::run(self, actor, action, &scope, subscription).await,
            Command::SaveTemplate {
                scope,
                subscription,
                body,
            } => commands::template::save(self, actor, &scope, subscription, &body).await,
            Command::Setup { rotate } => commands::setup::run(self, actor, rotate).await,
            Command::Test => commands::test::run(self, actor).await,
            Command::Connect { code: None } => commands::connect::connect(self, actor).await,
            Command::Connect { code: Some(code) } => {
                commands::connect::confirm(self, actor, &code).await
            }
            Command::Disconnect => commands::connect::disconnect(self, actor).await,
        }
    }

    pub fn rotation_grace(&self) -> Duration {
        Duration::from_secs(self.settings.chat.rotation_grace_hours * 3600)
    }

    /// Admins of the workspace, or users on the configured allow-list.
    pub fn may_change(&self, actor: &Actor) -> Result<(), String> {
        if actor.admin || self.settings.chat.admins.contains(&actor.user) {
            Ok(())
        } else {
            let who = match actor.platform {
                Platform::Discord => "members with the Manage Server permission",
                Platform::Slack => "workspace admins",
                Platform::Console => "the operator",
            };
            Err(format!(
                "Only {who} (or users the operator allowed) can change subscriptions, templates and endpoints. \
                 Anyone can use list, template show, template preview and help."
            ))
        }
    }
}

/// How far ahead of our clock a signed request's timestamp may be.
pub const FUTURE_SKEW_S: i64 = 60;

/// Whether a signed request's timestamp (unix seconds) is at most `max_skew_s` old and at
/// most [`FUTURE_SKEW_S`] ahead, so that a captured request cannot be replayed later (and
/// replays within the window are caught by [`crate::store::seen`]).
pub fn fresh(timestamp: &str, now_s: i64, max_skew_s: u64) -> bool {
    timestamp.parse::<i64>().is_ok_and(|t| {
        t <= now_s.saturating_add(FUTURE_SKEW_S)
            && now_s.saturating_sub(t) <= max_skew_s.min(i64::MAX as u64) as i64
    })
}

/// Internal failures are logged in full and answered briefly.
fn internal(e: impl std::fmt::Display) -> Failure {
    tracing::error!(error = %e, "chat command failed");
    Failure::Internal
}

/// Waits (up to two minutes) until a delivery is sent or failed, and says how it went,
/// with the fix for the usual refusals.
pub async fn settled_text(chat: &Chat, delivery_id: i64) -> String {
    for _ in 0..480 {
        match crate::store::deliveries::get(&chat.store.pool, delivery_id).await {
            Ok(Some(d)) if d.status == Status::Sent => {
                return "Posted the sample message here: herald can write to this channel.".into()
            }
            Ok(Some(d)) if d.status == Status::Failed => {
                let why = d.last_error.unwrap_or_default();
                let fix = if why.contains("50001") || why.contains("50013") {
                    " Give herald the View Channel, Send Messages and Embed Links permissions in this channel."
                } else if why.contains("not_in_channel") || why.contains("channel_not_found") {
                    " Invite the app to this channel (/invite @herald)."
                } else {
                    ""
                };
                return format!("Could not post here: {why}.{fix}");
            }
            Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(250)).await,
            Ok(None) | Err(_) => break,
        }
    }
    "The sample message is still queued; herald keeps trying and logs why.".into()
}
