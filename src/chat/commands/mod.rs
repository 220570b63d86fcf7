//! One file per command; shared checks here.

pub mod connect;
pub mod filter;
pub mod list;
pub mod setup;
pub mod subscribe;
pub mod template;
pub mod test;
pub mod unsubscribe;
pub mod why;

use super::{command::USAGE, Actor, Chat};
use crate::render::escape;
use crate::route::{Channel, Platform, Subscription};
use crate::store::now_ms;

pub fn help(actor: &Actor) -> String {
    let intro = "herald posts Hugging Face Hub events (new repos, pushes, settings, discussions, pull requests, comments) to this channel.";
    format!("{intro}\n{}", block(actor.platform, USAGE))
}

/// Text from a user or the store, made inert for the actor's platform. On Slack the
/// markers stay as typed (`acme/*` must read as itself): what is stored was validated,
/// and a reply is seen only by the one who asked.
pub fn plain(actor: &Actor, s: &str) -> String {
    match actor.platform {
        Platform::Slack => escape::entities(s),
        p => escape::escape(p, s),
    }
}

/// A code block: nothing inside is formatted, and it cannot be closed early.
pub fn block(p: Platform, s: &str) -> String {
    match p {
        Platform::Console => s.to_string(),
        Platform::Discord => format!("```\n{}\n```", s.replace("```", "`\u{200b}``")),
        Platform::Slack => {
            let t = escape::entities(s);
            format!("```\n{}\n```", t.replace("```", "`\u{200b}``"))
        }
    }
}

/// Where a subscription goes: the channel named (of the actor's own platform, and for the
/// operator one whose platform is configured), or the channel the command was typed in.
pub fn resolve_channel(chat: &Chat, actor: &Actor, named: Option<&str>) -> Result<Channel, String> {
    let channel = match named {
        None => actor
            .channel
            .clone()
            .ok_or("name a channel: discord:<channel id>, slack:<channel id> or console:<label>")?,
        // Slack writes a channel typed as #name as <#C0123|name>.
        Some(s) if s.starts_with("<#") => {
            let id = s
                .trim_start_matches("<#")
                .trim_end_matches('>')
                .split('|')
                .next()
                .unwrap_or_default();
            Channel::parse(&format!("slack:{id}")).map_err(|e| e.to_string())?
        }
        Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
            Channel::parse(&format!("discord:{s}")).map_err(|e| e.to_string())?
        }
        Some(s) => Channel::parse(s).map_err(|e| e.to_string())?,
    };
    if actor.workspace.is_some() && channel.platform != actor.platform {
        return Err(format!(
            "{channel} is not a channel of this workspace; name one of this {} workspace",
            actor.platform.as_str()
        ));
    }
    chat.settings
        .check_channel(&channel)
        .map_err(|e| e.to_string())?;
    Ok(channel)
}

/// What a subscription's rules mean for its channel, said when they are set: terms the
/// Hub API must answer while it is off, and when a digest goes out.
pub fn rules_notes(chat: &Chat, sub: &Subscription) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(f) = &sub.rules.filter {
        let needs: Vec<String> = f
            .needs_hub_api()
            .iter()
            .map(|f| format!("{}:", f.as_str()))
            .collect();
        if !needs.is_empty() && chat.settings.hub.enrich_timeout_ms == 0 {
            notes.push(format!(
                "{} need the Hub API, which this herald does not ask (hub.enrich_timeout_ms = 0): events they would decide are delivered, with a note, rather than dropped.",
                needs.join(", ")
            ));
        }
    }
    if let Some(due) = sub.rules.schedule.next_due(now_ms()) {
        notes.push(format!(
            "Its events are gathered into one digest per period ({}); the next goes out {}.",
            sub.rules.schedule,
            sub.rules.schedule.local(due)
        ));
    }
    notes
}

/// The answer when `id` names no subscription the actor may see, in the actor's terms.
pub fn no_such(actor: &Actor, id: i64) -> String {
    match actor.workspace {
        Some(_) => format!("There is no subscription #{id} here; list shows this channel's."),
        None => format!("There is no subscription #{id}; herald subscriptions lists them."),
    }
}

pub fn owns(actor: &Actor, sub: &Subscription) -> bool {
    actor.workspace.is_none() || sub.workspace == actor.workspace
}
