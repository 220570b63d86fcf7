//! `why <event id | Hub link>`: for each subscription that could have had the event, whether
//! it did and, if not, why. In chat only the asking workspace's subscriptions, and only
//! events it could have received, are shown.

use super::{owns, plain};
use crate::chat::{internal, Actor, Chat, Failure, Outcome, Reply};
use crate::hub::api::facts::Enriched;
use crate::hub::event::NOTICES;
use crate::hub::Event;
use crate::route::{judge, Bots, Look, Origin, Platform, Subscription, Target, Verdict, Why};
use crate::store::deliveries::{self, Delivery, Status};
use crate::store::events::{self, StoredEvent};
use crate::store::{enrichment, subscriptions};
use std::sync::Arc;

/// Subscriptions explained one by one, at most, in chat (a reply holds 2,000 characters)
/// and on the command line; the rest are counted.
const LINES_MAX: usize = 10;
const LINES_MAX_CLI: usize = 500;
/// A link's repo's latest events looked through for the one it names, at most.
const LINKED_MAX: i64 = 50;

pub async fn run(chat: &Chat, actor: &Actor, what: &str, channel: Option<&str>) -> Outcome {
    let pool = &chat.store.pool;
    let (stored, mut event) = find(chat, actor, what).await?;
    if let Some((facts, missing)) = enrichment::get(pool, stored.id).await.map_err(internal)? {
        let facts = serde_json::from_str(&facts).unwrap_or_default();
        event.facts = Some(Arc::new(Enriched { facts, missing }));
    }
    if let (Some(d), "discussion") = (&event.discussion, event.scope.as_str()) {
        let before =
            events::discussion_status_before(pool, &stored.endpoint, &event, d.num, stored.id);
        event.status_before = before.await.map_err(internal)?;
    }
    let origin = match stored.endpoint.as_str() {
        "operator" => Origin::Operator,
        ws => Origin::Workspace(ws.to_string()),
    };
    let all = match &actor.workspace {
        Some(ws) => subscriptions::list_for(pool, Some(ws)).await,
        None => subscriptions::list(pool).await,
    }
    .map_err(internal)?;
    let all: Vec<&Subscription> = all
        .iter()
        .filter(|s| owns(actor, s))
        .filter(|s| channel.is_none_or(|c| s.channel.to_string() == c))
        .collect();
    let delivered = deliveries::for_event(pool, stored.id)
        .await
        .map_err(internal)?;
    let bots = Bots::new(&chat.settings.hub.bots);
    let look = Look::settled(&bots);
    let mut lines = vec![headline(&stored, &event)];
    let (mut near, far): (Vec<&Subscription>, Vec<&Subscription>) =
        all.iter().partition(|s| s.target.matches(&event));
    // This channel's first.
    near.sort_by_key(|s| (actor.channel.as_ref() != Some(&s.channel), s.id));
    let max = match actor.platform {
        Platform::Console => LINES_MAX_CLI,
        _ => LINES_MAX,
    };
    for sub in near.iter().take(max) {
        let verdict = judge(&event, &origin, sub, all.iter().copied(), &look);
        let told = delivered
            .iter()
            .find(|d| d.channel == sub.channel.to_string());
        let mut line = format!("#{} {} → {}: ", sub.id, sub.target, sub.channel);
        let own = |id: i64| all.iter().any(|s| s.id == id);
        let filter = sub
            .rules
            .filter
            .as_ref()
            .filter(|_| verdict == Verdict::No(Why::Filter));
        match filter {
            Some(f) => line.push_str(&format!(
                "no: its filter left it out at `{}`.",
                f.failing_term(&event, &look)
            )),
            None => line.push_str(&explain(chat, sub, &verdict, told, stored.received_at, own)),
        }
        lines.push(line);
    }
    if near.len() > max {
        let more = near.len() - max;
        lines.push(format!(
            "… and {more} more that follow this repo (this channel's come first)"
        ));
    }
    match (near.is_empty(), far.len()) {
        (true, 0) => lines.push("No subscription could have had it: none exists here.".into()),
        (true, n) => lines.push(format!(
            "No subscription follows {}; the {n} here follow other repos.",
            event.repo.name
        )),
        (false, 0) => {}
        (false, n) => lines.push(format!("{n} other subscriptions follow other repos.")),
    }
    Ok(Reply::Text(plain(actor, &lines.join("\n"))))
}

/// The stored event an id or link names, if the actor could have received it.
async fn find(chat: &Chat, actor: &Actor, what: &str) -> Result<(StoredEvent, Event), Failure> {
    let pool = &chat.store.pool;
    let hidden = || -> Failure {
        match actor.workspace {
            Some(_) => format!("There is no event {what} this workspace could have received; herald keeps events for delivery.retention_days.").into(),
            None => format!("There is no event {what}; herald events lists the latest.").into(),
        }
    };
    let candidates = match what.trim_start_matches('#').parse::<i64>() {
        Ok(id) => events::get(pool, id)
            .await
            .map_err(internal)?
            .into_iter()
            .collect(),
        Err(_) => {
            let Ok(Target::Repo { kind, name }) = Target::parse(what) else {
                return Err(format!(
                    "\"{what}\" is neither an event id nor a link to a Hub repo, discussion or commit."
                )
                .into());
            };
            events::latest_of(pool, kind.as_str(), name.as_str(), LINKED_MAX)
                .await
                .map_err(internal)?
        }
    };
    let wanted = Link::of(what);
    for stored in candidates {
        if stored.endpoint == NOTICES {
            if actor.workspace.is_none() {
                return Err(format!(
                    "Event #{} is herald's own notice (a digest, or news of a Hub webhook): it goes to the channels it names, not through subscriptions.",
                    stored.id
                )
                .into());
            }
            continue;
        }
        let Ok(event) = stored.event() else {
            continue;
        };
        let visible = match &actor.workspace {
            None => true,
            Some(ws) => {
                stored.endpoint == *ws
                    || (stored.endpoint == "operator" && event.repo.private == Some(false))
            }
        };
        if visible && wanted.fits(&event) {
            return Ok((stored, event));
        }
    }
    Err(hidden())
}

/// What a link points into: a discussion, a commit, or the repo.
enum Link {
    Repo,
    Discussion(u64),
    Commit(String),
}

impl Link {
    fn of(what: &str) -> Link {
        let path = what.split(['?', '#']).next().unwrap_or_default();
        let mut parts = path
            .split('/')
            .skip_while(|p| *p != "discussions" && *p != "commit");
        match (parts.next(), parts.next()) {
            (Some("discussions"), Some(n)) => n.parse().map_or(Link::Repo, Link::Discussion),
            (Some("commit"), Some(sha)) if sha.len() >= 7 => Link::Commit(sha.to_lowercase()),
            _ => Link::Repo,
        }
    }

    fn fits(&self, event: &Event) -> bool {
        match self {
            Link::Repo => true,
            Link::Discussion(n) => event.discussion.as_ref().is_some_and(|d| d.num == *n),
            Link::Commit(sha) => event.refs.iter().any(|r| {
                r.new_sha
                    .as_deref()
                    .is_some_and(|s| s.to_lowercase().starts_with(sha.as_str()))
            }),
        }
    }
}

fn headline(stored: &StoredEvent, event: &Event) -> String {
    let from = match stored.endpoint.as_str() {
        "operator" => "the operator's webhook".to_string(),
        ws => format!("the webhook of {ws}"),
    };
    let discussion = event
        .discussion
        .as_ref()
        .map(|d| format!(" #{}", d.num))
        .unwrap_or_default();
    format!(
        "Event #{}: {} {} on {}{discussion}, from {from}.",
        stored.id, event.scope, event.action, event.repo.name
    )
}

/// One subscription's answer: what became of the event in its channel, or why not.
fn explain(
    chat: &Chat,
    sub: &Subscription,
    verdict: &Verdict,
    told: Option<&Delivery>,
    received_at: i64,
    own: impl Fn(i64) -> bool,
) -> String {
    let why = match verdict {
        Verdict::No(why) => return format!("no: {why}."),
        Verdict::Yes { .. } => match told {
            None if sub.created_at > received_at => {
                return "it matches, but it was made after the event arrived.".into()
            }
            None => return "it matches now, but did not when the event arrived (its filter or scopes changed since).".into(),
            Some(d) if d.subscription_id != Some(sub.id) => {
                // Another owner's subscription in the same channel is not named.
                let by = match d.subscription_id.filter(|i| own(*i)) {
                    Some(i) => format!("#{i}"),
                    None => "another subscription".into(),
                };
                return format!("the channel had it through {by} (one message per channel).");
            }
            Some(d) => d,
        },
    };
    let disabled = chat.settings.check_channel(&sub.channel).err();
    let state = match why.status {
        Status::Sent => "yes: sent".to_string(),
        Status::Pending | Status::Sending => "yes: waiting to be sent".into(),
        Status::Held => {
            let s = &sub.rules.schedule;
            match s.next_due(received_at) {
                Some(due) => format!("yes: held for its digest, due {}", s.local(due)),
                None => "yes: held for its digest".into(),
            }
        }
        Status::Digested => "yes: told in its digest".into(),
        Status::Skipped => format!("no: {}", why.last_error.as_deref().unwrap_or("skipped")),
        Status::Failed => format!(
            "yes, but it failed: {}",
            why.last_error.as_deref().unwrap_or("no reason kept")
        ),
    };
    let note = why
        .note
        .as_deref()
        .map(|n| format!(" (note: {n})"))
        .unwrap_or_default();
    match disabled {
        Some(e) => format!("{state}{note}; {e}."),
        None => format!("{state}{note}."),
    }
}
