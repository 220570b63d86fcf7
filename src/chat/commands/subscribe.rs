//! `subscribe <target> [scope…] [channel] [options]`

use super::{plain, resolve_channel, rules_notes};
use crate::chat::command::RuleArgs;
use crate::chat::{internal, Actor, Chat, Outcome, Reply};
use crate::hub::Scope;
use crate::route::subscription::{RulesChange, Source, Threads};
use crate::route::{Channel, Target};
use crate::store::subscriptions::{self, Added, NewSubscription};
use crate::store::{endpoints, now_ms};
use crate::watch;

pub async fn run(
    chat: &Chat,
    actor: &Actor,
    target: &str,
    scopes: &[String],
    channel: Option<&str>,
    threads: Option<&str>,
    rules: &RuleArgs,
) -> Outcome {
    chat.may_change(actor)?;
    let (target, target_note) = Target::parse_noted(target).map_err(|e| e.to_string())?;
    let scopes = scopes
        .iter()
        .map(|s| Scope::parse_subscribable(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let channel = resolve_channel(chat, actor, channel)?;
    let threads = threads
        .map(Threads::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let change = RulesChange::parse(
        rules.filter.as_deref(),
        rules.all,
        rules.mode.as_deref(),
        rules.tz.as_deref(),
    )
    .map_err(|e| plain(actor, &e))?;
    let mut new = NewSubscription {
        target,
        scopes,
        channel,
        workspace: actor.workspace.clone(),
        source: match actor.workspace {
            Some(_) => Source::of(actor.platform),
            None => Source::Cli,
        },
        created_by: actor.user.clone(),
        threads: threads.unwrap_or_default(),
        rules: change.applied_to(&Default::default()),
    };
    // The platform is asked before a database connection is taken (it may be slow); the
    // count, the lookup and the write are one transaction, so the cap holds under races.
    if let Some(ws) = &actor.workspace {
        check_channel(chat, actor, &new.channel, ws).await?;
    }
    let mut tx = chat
        .store
        .pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(internal)?;
    let old = subscriptions::own(&mut tx, &new).await.map_err(internal)?;
    // Subscribing again keeps the threads, filter, noise defaults and mode not given again.
    if let Some(old) = &old {
        new.rules = change.applied_to(&old.rules);
        new.threads = threads.unwrap_or(old.threads);
    }
    if let Some(ws) = &actor.workspace {
        let cap = chat.settings.limits.subscriptions_per_workspace;
        let had = subscriptions::count_for(&mut tx, ws)
            .await
            .map_err(internal)?;
        if had as usize >= cap && old.is_none() {
            return Err(format!(
                "This workspace has {had} subscriptions, the most herald keeps for one (limits.subscriptions_per_workspace); \
                 remove one first (list all shows them), or follow an owner with owner/* instead of each repo."
            ).into());
        }
    }
    let (sub, added) = subscriptions::add(&mut tx, &new, now_ms())
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    let what = match added {
        Added::Created => "Subscribed",
        Added::Widened => "Widened the existing subscription",
        Added::Unchanged => "Already subscribed, nothing changed",
    };
    let mut text = format!("{what}. Now active:\n  {}", plain(actor, &sub.describe()));
    if let Some(note) = target_note {
        text.push_str(&format!("\n{}", plain(actor, &note)));
    }
    for note in rules_notes(chat, &sub) {
        text.push_str(&format!("\n{}", plain(actor, &note)));
    }
    for scope in new.scopes.iter().filter(|s| !s.is_known()) {
        text.push_str(&format!(
            "\nThe Hub does not send {} today; herald routes it as soon as the Hub does.",
            plain(actor, scope.as_str())
        ));
    }
    let managed = chat.settings.manages_webhook();
    let note = watch::subscribe_note(
        &chat.store.pool,
        &sub.target,
        actor.workspace.as_deref(),
        managed,
    );
    if let Some(note) = note.await {
        text.push_str(&format!("\n{}", plain(actor, &note)));
    }
    if let Some(ws) = &actor.workspace {
        let has_endpoint = endpoints::for_workspace(&chat.store.pool, ws)
            .await
            .map_err(internal)?
            .is_some();
        if !has_endpoint {
            text.push_str("\nEvents of public repos arrive through herald's own webhook. For private repos, an admin can run setup to give this workspace a webhook of its own.");
        }
    }
    Ok(Reply::Text(text))
}

/// A channel other than the one typed in must be the workspace's own: vouched for by the
/// platform in the request, or confirmed by asking it.
async fn check_channel(
    chat: &Chat,
    actor: &Actor,
    channel: &Channel,
    ws: &str,
) -> Result<(), String> {
    if actor.channel.as_ref() == Some(channel) || actor.vouched.contains(&channel.id) {
        return Ok(());
    }
    match chat.senders.is_of(channel, ws).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "{} is not a channel of this workspace that herald can see; name one of this workspace's channels, or subscribe in the channel itself.",
            plain(actor, &channel.to_string())
        )),
        // herald's own words for a set-up the workspace can fix.
        Err(e) if e.contains("missing_scope") => Err(format!(
            "herald cannot look up channels here: {}",
            plain(actor, e.trim_start_matches("slack: missing_scope: "))
        )),
        Err(e) => {
            tracing::warn!(error = %e, channel = %channel, "cannot check a channel's workspace");
            // The platform's error stays in the log: it may name internal addresses.
            Err("herald could not check that channel with the platform; please try again, or subscribe in the channel itself.".into())
        }
    }
}
