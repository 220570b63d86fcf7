//! The command line: one file per command family.

mod activity;
mod discord;
pub mod doctor;
mod hub;
mod render;
mod subscriptions;

use crate::config::{Settings, DEFAULT_PATH};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "Hugging Face Hub webhooks, well written, in Discord and Slack"
)]
pub struct Cli {
    /// The config file; a missing default bot.toml falls back to the shipped one.
    #[arg(long, global = true, default_value = DEFAULT_PATH)]
    pub config: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive webhooks and deliver messages until SIGINT or SIGTERM.
    Serve,
    /// Follow a repo, a namespace or everything in a channel.
    Subscribe {
        /// owner/name, datasets/owner/name, spaces/owner/name, a huggingface.co link,
        /// a legacy model such as gpt2, owner/*, datasets/owner/*, or *.
        target: String,
        /// discord:<channel id>, slack:<channel id> or console:<label>.
        #[arg(long)]
        channel: String,
        /// repo, repo.content, repo.config, discussion, discussion.comment (repeatable;
        /// none: every scope).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Where a discussion's events go: none, thread, or thread+channel (the default:
        /// a thread, with openings, closes and merges also in the channel).
        #[arg(long)]
        threads: Option<String>,
        #[command(flatten)]
        rules: RuleFlags,
    },
    /// Set a subscription's filter; an empty EXPR removes it.
    Filter {
        id: i64,
        /// e.g. 'is:pr is:merged' or 'ref:main -author:bot' (README, "Filters").
        #[arg(default_value = "")]
        expr: String,
    },
    /// Why a stored event reached the channels it did, and not others.
    Why {
        event_id: i64,
        /// Only this channel's subscriptions.
        #[arg(long)]
        channel: Option<String>,
    },
    /// Remove a subscription by its id.
    Unsubscribe { id: i64 },
    /// List subscriptions.
    Subscriptions {
        #[arg(long)]
        json: bool,
    },
    /// The latest events, with what became of their deliveries.
    Events {
        /// How many (1 to 10000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// The latest deliveries, with errors and notes.
    Deliveries {
        /// Only those that failed.
        #[arg(long)]
        failed: bool,
        /// How many (1 to 10000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// Route a stored event again and deliver it to whoever follows it now.
    Replay { event_id: i64 },
    /// Discord set-up.
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// The Hub webhooks herald manages.
    #[command(subcommand)]
    Hub(HubCommand),
    /// Check the deployment: config, database, secret, reachability, Discord, Slack and
    /// templates; one line per check, exit 0 only when all pass.
    Doctor,
    /// Render a payload file offline, exactly as it would be posted.
    Render {
        payload: PathBuf,
        #[arg(long, value_enum, default_value = "console")]
        platform: RenderPlatform,
    },
}

/// A subscription's filter, noise defaults and schedule.
#[derive(Debug, Default, clap::Args)]
pub struct RuleFlags {
    /// Only the events this filter selects, e.g. 'is:pr is:merged' (README, "Filters").
    #[arg(long)]
    pub filter: Option<String>,
    /// Also the events the noise defaults leave out (conversion pushes, PR refs);
    /// `--all=false` turns the defaults back on.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub all: Option<bool>,
    /// instant (the default), "daily HH:MM" or "weekly DAY HH:MM": one digest per period.
    #[arg(long)]
    pub mode: Option<String>,
    /// The digest's time zone, an IANA name such as Europe/Paris (default UTC).
    #[arg(long)]
    pub tz: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DiscordCommand {
    /// Registers /herald with Discord: globally, or in one server (instant, for trying it).
    RegisterCommands {
        #[arg(long)]
        guild: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Each managed Hub webhook: id, url, domains, watched, disabled, triggers in the
    /// last 24 hours, and the last reconcile.
    Status,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RenderPlatform {
    Discord,
    Slack,
    Console,
}

/// Runs a command other than `serve`; the text is what to print on success.
pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<String> {
    use crate::chat::Command as Chat;
    match command {
        Command::Serve | Command::Doctor => unreachable!("serve and doctor are run by main"),
        Command::Subscribe {
            target,
            channel,
            scopes,
            threads,
            rules,
        } => {
            let cmd = Chat::Subscribe {
                target,
                scopes,
                channel: Some(channel),
                threads,
                rules: crate::chat::command::RuleArgs {
                    filter: rules.filter,
                    all: rules.all,
                    mode: rules.mode,
                    tz: rules.tz,
                },
            };
            subscriptions::run(settings, cmd).await
        }
        Command::Filter { id, expr } => {
            let cmd = Chat::Filter {
                subscription: id.to_string(),
                expr,
            };
            subscriptions::run(settings, cmd).await
        }
        Command::Why { event_id, channel } => {
            let cmd = Chat::Why {
                what: event_id.to_string(),
                channel,
            };
            subscriptions::run(settings, cmd).await
        }
        Command::Unsubscribe { id } => {
            subscriptions::run(
                settings,
                Chat::Unsubscribe {
                    what: id.to_string(),
                },
            )
            .await
        }
        Command::Subscriptions { json: true } => subscriptions::list_json(settings).await,
        Command::Subscriptions { json: false } => {
            subscriptions::run(
                settings,
                Chat::List {
                    everywhere: true,
                    page: 1,
                },
            )
            .await
        }
        Command::Discord(DiscordCommand::RegisterCommands { guild }) => {
            discord::register(settings, guild.as_deref()).await
        }
        Command::Hub(HubCommand::Status) => hub::status(settings).await,
        Command::Render { payload, platform } => render::render(settings, &payload, platform),
        Command::Events { limit } => activity::events(settings, limit).await,
        Command::Deliveries { failed, limit } => {
            activity::deliveries(settings, failed, limit).await
        }
        Command::Replay { event_id } => activity::replay(settings, event_id).await,
    }
}
