//! The command line: one file per command family.

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
    },
    /// Remove a subscription by its id.
    Unsubscribe { id: i64 },
    /// List subscriptions.
    Subscriptions {
        #[arg(long)]
        json: bool,
    },
    /// Render a payload file offline, exactly as it would be posted.
    Render {
        payload: PathBuf,
        #[arg(long, value_enum, default_value = "console")]
        platform: RenderPlatform,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RenderPlatform {
    Discord,
    Slack,
    Console,
}

/// Runs a command other than `serve`; the text is what to print on success.
pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<String> {
    match command {
        Command::Serve => unreachable!("serve is run by main"),
        Command::Subscribe {
            target,
            channel,
            scopes,
        } => subscriptions::subscribe(settings, &target, &channel, &scopes).await,
        Command::Unsubscribe { id } => subscriptions::unsubscribe(settings, id).await,
        Command::Subscriptions { json } => subscriptions::list(settings, json).await,
        Command::Render { payload, platform } => render::render(settings, &payload, platform),
    }
}
