//! `list [all]`

use super::plain;
use crate::chat::{internal, Actor, Chat, Outcome, Reply};
use crate::route::Platform;
use crate::store::subscriptions;
use crate::watch;

/// Said under every list with a subscription that keeps them.
const NOISE_DEFAULTS: &str = "Noise defaults: pushes to refs/convert/* (the Hub's Parquet and DuckDB exports) are left out, and so are pushes to a pull request's ref when the channel follows that repo's discussions; subscribe again with all:true (--all) to get them.";

/// Characters of subscriptions on one page: under Discord's 2,000 per message and Slack's
/// 3,000 per section, with room for the footer. The operator's console has no pages.
fn page_chars(p: Platform) -> usize {
    match p {
        Platform::Discord => 1400,
        Platform::Slack => 2300,
        Platform::Console => usize::MAX,
    }
}

/// Lines in pages of at most `max` characters (a longer line is a page of its own).
fn pages(lines: Vec<String>, max: usize) -> Vec<Vec<String>> {
    let mut pages: Vec<Vec<String>> = vec![];
    let mut len = 0;
    for line in lines {
        let n = line.chars().count() + 1;
        match pages.last_mut() {
            Some(page) if len + n <= max => page.push(line),
            _ => {
                len = 0;
                pages.push(vec![line]);
            }
        }
        len += n;
    }
    pages
}

pub async fn run(chat: &Chat, actor: &Actor, everywhere: bool, page: usize) -> Outcome {
    let pool = &chat.store.pool;
    let subs = match &actor.workspace {
        None => subscriptions::list(pool).await,
        Some(ws) => subscriptions::list_for(pool, Some(ws)).await,
    }
    .map_err(internal)?;
    let here: Vec<_> = subs
        .iter()
        .filter(|s| everywhere || actor.channel.as_ref().is_none_or(|c| &s.channel == c))
        .collect();
    if here.is_empty() {
        let text = match (&actor.workspace, everywhere) {
            (None, _) => "No subscriptions. Add one with: herald subscribe OWNER/NAME --channel discord:CHANNEL_ID",
            (Some(_), true) => "No subscriptions in this workspace. Add one with: subscribe owner/name",
            (Some(_), false) => {
                "No subscriptions in this channel (list all shows the whole workspace's). Add one with: subscribe owner/name"
            }
        };
        return Ok(Reply::Text(text.into()));
    }
    let lines: Vec<String> = here
        .iter()
        .map(|s| {
            plain(
                actor,
                &format!("{}  [{}, by {}]", s.describe(), s.source, s.created_by),
            )
        })
        .collect();
    let total = lines.len();
    let pages = pages(lines, page_chars(actor.platform));
    let Some(shown) = pages.get(page.saturating_sub(1)) else {
        return Err(format!(
            "There are {} pages of subscriptions here; ask for one of them (list page 1).",
            pages.len()
        )
        .into());
    };
    let mut text = shown.join("\n");
    if pages.len() > 1 {
        let all = if everywhere { "all " } else { "" };
        text.push_str(&format!(
            "\nPage {page} of {}, {total} subscriptions",
            pages.len()
        ));
        if page < pages.len() {
            text.push_str(&format!("; next: list {all}page {}", page + 1));
        }
    }
    if here.iter().any(|s| !s.rules.all) {
        text.push_str(&format!("\n{}", plain(actor, NOISE_DEFAULTS)));
    }
    let managed = chat.settings.manages_webhook();
    if let Some(state) = watch::state_line(pool, actor.workspace.as_deref(), managed).await {
        text.push_str(&format!("\n{}", plain(actor, &state)));
    }
    Ok(Reply::Text(text))
}
