//! Sending one channel's head: gather the burst behind it and render it; `post.rs` posts
//! it and records what happened.

use super::burst;
use super::worker::Worker;
use crate::hub::Event;
use crate::render::Message;
use crate::route::filter::Truth;
use crate::route::{judge, Bots, Channel, Look, Origin, Platform, Subscription, Verdict};
use crate::store::deliveries::{self, Claimed};
use crate::store::{events, lookup, now_ms, subscriptions, templates};
use sqlx::SqlitePool;
use std::sync::Arc;
use std::time::Duration;

/// Why a delivery will not be sent.
pub(crate) enum NotReady {
    /// For good, with the reason (a failure).
    Failed(String),
    /// A filter left it out once the facts were in.
    Skipped(String),
    /// The database failed us: tried again once the lease runs out.
    Retry(String),
}

impl From<String> for NotReady {
    fn from(reason: String) -> Self {
        NotReady::Failed(reason)
    }
}

/// One claimed delivery, ready to send.
pub(super) struct Ready {
    pub claimed: Claimed,
    pub event: Arc<Event>,
    pub msg: Message,
    pub note: Option<String>,
    /// The subscription it serves, if it is still there.
    pub sub: Option<Subscription>,
}

impl Worker {
    /// Sends the head (and the burst behind it); returns how long the lane must wait.
    pub(super) async fn process(&self, head: Claimed, channel: Channel) -> Option<Duration> {
        match self.try_process(&head, &channel).await {
            Ok(wait) => wait,
            Err(e) => {
                // The database failed us: the lease runs out and the delivery is retried.
                tracing::error!(delivery = head.id, error = %format!("{e:#}"), "delivery could not be recorded");
                Some(Duration::from_secs(1))
            }
        }
    }

    async fn try_process(
        &self,
        head: &Claimed,
        channel: &Channel,
    ) -> anyhow::Result<Option<Duration>> {
        let pool = &self.store.pool;
        let age_s = (now_ms() - head.created_at) / 1000;
        if age_s > self.settings.max_age_s as i64 {
            let reason = format!(
                "gave up: not delivered within {} s",
                self.settings.max_age_s
            );
            self.fail(head, &reason).await?;
            return Ok(None);
        }
        let first = match self.ready(head.clone(), channel.platform).await {
            Ok(r) => r,
            Err(NotReady::Skipped(reason)) => {
                tracing::info!(delivery = head.id, event = head.event_id, channel = %head.channel, %reason, "delivery skipped");
                deliveries::mark_skipped(pool, head.id, &reason).await?;
                return Ok(None);
            }
            Err(NotReady::Failed(reason)) => {
                self.fail(head, &reason).await?;
                return Ok(None);
            }
            Err(NotReady::Retry(e)) => anyhow::bail!(e),
        };
        // A digest or notice only counts for its subscription's workspace: the events of a
        // paused subscription were left out of it already.
        let sub = first.sub.clone();
        let paused = sub.as_ref().and_then(|s| s.paused.clone());
        if let Some(why) = paused.filter(|_| first.event.notice.is_none()) {
            deliveries::mark_failed(pool, head.id, &format!("subscription paused: {why}")).await?;
            return Ok(None);
        }
        let mut burst = vec![first];
        if self.settings.merge_bursts {
            self.gather(&mut burst, channel).await?;
        }
        let (msg, used) = if burst.len() > 1 {
            let evs: Vec<&Event> = burst.iter().map(|r| r.event.as_ref()).collect();
            let msgs: Vec<Message> = burst.iter().map(|r| r.msg.clone()).collect();
            burst::merge(channel.platform, &evs, &msgs)
        } else {
            (burst[0].msg.clone(), 1)
        };
        let rest: Vec<i64> = burst.iter().skip(used).map(|r| r.claimed.id).collect();
        deliveries::release(pool, &rest).await?;
        burst.truncate(used);
        // Seal the burst (the head included) before the message can exist.
        let ids: Vec<i64> = burst.iter().map(|r| r.claimed.id).collect();
        deliveries::assign(pool, &ids, head.id).await?;
        self.post(&burst, msg, channel, sub.as_ref()).await
    }

    /// Loads and renders one delivery; the error is a permanent reason.
    async fn ready(&self, claimed: Claimed, platform: Platform) -> Result<Ready, NotReady> {
        let pool = &self.store.pool;
        let event = self.renders.event(pool, claimed.event_id).await?;
        let sub = match claimed.subscription_id {
            Some(id) => subscriptions::get(pool, id)
                .await
                .map_err(|e| NotReady::Retry(format!("{e:#}")))?,
            None => None,
        };
        let unchecked = look_again(pool, &self.bots, &claimed, &event, sub.as_ref()).await?;
        let overrides = match claimed.subscription_id {
            Some(id) => templates::overrides(pool, id)
                .await
                .map_err(|e| e.to_string())?,
            None => Default::default(),
        };
        let (msg, note) = self
            .renders
            .message(claimed.event_id, event.clone(), platform, overrides)
            .await?;
        // What the Hub's API could not add is the operator's to know, not the channel's.
        let missing = event.facts.as_ref().and_then(|f| f.missing.clone());
        let note = [note, missing, unchecked]
            .into_iter()
            .flatten()
            .reduce(|a, b| format!("{a}; {b}"));
        Ok(Ready {
            claimed,
            event,
            msg,
            note,
            sub,
        })
    }

    /// Claims the deliveries queued right behind the head that share its kind, or those
    /// already tied to its message by an earlier try.
    async fn gather(&self, burst: &mut Vec<Ready>, channel: &Channel) -> anyhow::Result<()> {
        let head = &burst[0];
        let pool = &self.store.pool;
        // A head whose message was tried before sends exactly the same burst again.
        if head.claimed.merged_into.is_some() {
            let assigned =
                deliveries::claim_assigned(pool, head.claimed.id, now_ms(), self.lease_ms())
                    .await?;
            for f in assigned {
                let id = f.id;
                match self.ready(f, channel.platform).await {
                    Ok(r) => burst.push(r),
                    Err(_) => deliveries::release(pool, &[id]).await?,
                }
            }
            return Ok(());
        }
        let key = burst::key(&head.event);
        let limit = (burst::MAX_MERGED - 1) as i64;
        let followers = deliveries::claim_followers(
            &self.store.pool,
            &head.claimed.channel,
            head.claimed.id,
            now_ms(),
            self.lease_ms(),
            limit,
        )
        .await?;
        // Made ready together, so that each one's wait for the Hub API overlaps the
        // others' and the burst waits no longer than its slowest.
        let ids: Vec<i64> = followers.iter().map(|f| f.id).collect();
        let ready = futures_util::future::join_all(
            followers
                .into_iter()
                .map(|f| self.ready(f, channel.platform)),
        )
        .await;
        let mut unused = Vec::new();
        for (id, r) in ids.into_iter().zip(ready) {
            // The burst ends at the first one that does not join it; the rest wait their
            // turn.
            match r {
                Ok(r) if unused.is_empty() && burst::key(&r.event) == key => burst.push(r),
                _ => unused.push(id),
            }
        }
        deliveries::release(&self.store.pool, &unused).await?;
        Ok(())
    }
}

/// A filter that could not decide when the event arrived (who did it, which files)
/// decides now that the Hub API's facts are in: for a message, and for each event of a
/// digest. `Ok(Some(note))`: it still cannot, and the event goes out with that note,
/// never dropped on a guess.
pub(crate) async fn look_again(
    pool: &SqlitePool,
    bots: &Bots,
    claimed: &Claimed,
    event: &Event,
    sub: Option<&Subscription>,
) -> Result<Option<String>, NotReady> {
    // herald's own notices and digests are not filtered; a burst tried before is sent again
    // as it was (its message may exist).
    let Some(id) = claimed.subscription_id.filter(|_| event.notice.is_none()) else {
        return Ok(None);
    };
    if claimed.merged_into.is_some() {
        return Ok(None);
    }
    let retry = |e: anyhow::Error| NotReady::Retry(format!("{e:#}"));
    let Some(filter) = sub.and_then(|s| s.rules.filter.as_ref()) else {
        return Ok(None);
    };
    let look = Look::settled(bots);
    match filter.eval(event, &look) {
        Truth::Yes => return Ok(None),
        Truth::Unknown if look.spent() => {
            return Ok(Some(
                "the filter took more work than herald gives one event; delivered".into(),
            ));
        }
        Truth::Unknown => {
            let terms = filter.unknown_terms(event, &look).join(", ");
            let why = event.facts.as_ref().and_then(|f| f.missing.clone());
            let why = why.unwrap_or_else(|| "the Hub API was not asked".into());
            return Ok(Some(format!(
                "filter {terms} could not be checked ({why}); delivered"
            )));
        }
        Truth::No => {}
    }
    // Another subscription of this channel may still want it.
    let stored = events::get(pool, claimed.event_id)
        .await
        .map_err(|e| retry(e.into()))?;
    let origin = match stored.as_ref().map(|s| s.endpoint.as_str()) {
        Some("operator") | None => Origin::Operator,
        Some(ws) => Origin::Workspace(ws.to_string()),
    };
    let mut conn = pool.acquire().await.map_err(|e| retry(e.into()))?;
    let all = lookup::candidates(&mut conn, event).await.map_err(retry)?;
    let mine: Vec<&Subscription> = all
        .iter()
        .filter(|s| s.channel.to_string() == claimed.channel)
        .collect();
    let wanted = |s: &&&Subscription| {
        let verdict = judge(event, &origin, s, mine.iter().copied(), &look);
        s.id != id && matches!(verdict, Verdict::Yes { .. })
    };
    match mine.iter().find(wanted) {
        Some(_) => Ok(None),
        None => Err(NotReady::Skipped(format!(
            "the filter of subscription #{id} left it out at `{}`",
            filter.failing_term(event, &look)
        ))),
    }
}
