//! Sending one channel's head: gather the burst behind it, render, pick the thread, post,
//! and record what happened to every delivery involved.

use super::worker::Worker;
use super::{burst, threads, Place, Post, SendError};
use crate::hub::Event;
use crate::metrics::DeliveryOutcome;
use crate::render::Message;
use crate::route::subscription::Threads;
use crate::route::{Channel, Platform, Subscription};
use crate::store::deliveries::{self, Claimed};
use crate::store::{now_ms, subscriptions, templates, threads as thread_store};
use std::sync::Arc;
use std::time::Duration;

/// One claimed delivery, ready to send.
struct Ready {
    claimed: Claimed,
    event: Arc<Event>,
    msg: Message,
    note: Option<String>,
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
        let sub = match head.subscription_id {
            Some(id) => subscriptions::get(pool, id).await?,
            None => None,
        };
        if let Some(why) = sub.as_ref().and_then(|s| s.paused.clone()) {
            deliveries::mark_failed(pool, head.id, &format!("subscription paused: {why}")).await?;
            return Ok(None);
        }
        let first = match self.ready(head.clone(), channel.platform).await {
            Ok(r) => r,
            Err(reason) => {
                self.fail(head, &reason).await?;
                return Ok(None);
            }
        };
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
    async fn ready(&self, claimed: Claimed, platform: Platform) -> Result<Ready, String> {
        let pool = &self.store.pool;
        let event = self.renders.event(pool, claimed.event_id).await?;
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
        Ok(Ready {
            claimed,
            event,
            msg,
            note,
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
        let mut unused = Vec::new();
        for f in followers {
            let id = f.id;
            // The burst ends at the first one that does not join it; the rest wait their
            // turn without being loaded and rendered here.
            if !unused.is_empty() {
                unused.push(id);
                continue;
            }
            match self.ready(f, channel.platform).await {
                Ok(r) if burst::key(&r.event) == key => burst.push(r),
                _ => unused.push(id),
            }
        }
        deliveries::release(&self.store.pool, &unused).await?;
        Ok(())
    }

    /// Posts the message where the subscription's thread mode wants it, and records it.
    async fn post(
        &self,
        burst: &[Ready],
        msg: Message,
        channel: &Channel,
        sub: Option<&Subscription>,
    ) -> anyhow::Result<Option<Duration>> {
        let pool = &self.store.pool;
        let head = &burst[0];
        let mode = sub.map(|s| s.threads).unwrap_or(Threads::None);
        let key = threads::key(&head.event)
            .filter(|_| mode != Threads::None && channel.platform != Platform::Console);
        let existing = match &key {
            Some(k) => thread_store::get(pool, &channel.to_string(), k).await?,
            None => None,
        };
        let status = threads::is_status(&head.event);
        let place = match &existing {
            Some(id) => Place::Thread {
                id: id.clone(),
                broadcast: mode == Threads::ThreadAndChannel && status,
            },
            None => Place::Channel,
        };
        let owner = sub
            .and_then(|s| s.workspace.as_deref())
            .unwrap_or("operator");
        let post = Post {
            channel,
            owner,
            place,
            nonce: format!("herald-{}", head.claimed.id),
            msg: &msg,
        };
        let sent = match self.senders.send(&post).await {
            Ok(sent) => sent,
            Err(e) => return self.failed(burst, channel, e).await,
        };
        let mut notes: Vec<String> = burst.iter().filter_map(|r| r.note.clone()).collect();
        match (&key, &existing) {
            (Some(k), None) => match self
                .senders
                .start_thread(&post, &sent.id, &threads::name(&head.event))
                .await
            {
                Ok(Some(tid)) => {
                    thread_store::set(pool, &channel.to_string(), k, &tid, now_ms()).await?
                }
                Ok(None) => {}
                Err(e) => notes.push(format!("no thread was started: {}", e.reason())),
            },
            // Discord has no broadcast: the change is posted to the channel as well.
            (Some(_), Some(_))
                if status
                    && mode == Threads::ThreadAndChannel
                    && channel.platform == Platform::Discord =>
            {
                let also = Post {
                    channel,
                    owner,
                    place: Place::Channel,
                    nonce: format!("herald-{}-c", head.claimed.id),
                    msg: &msg,
                };
                if let Err(e) = self.senders.send(&also).await {
                    notes.push(format!("not shown in the channel: {}", e.reason()));
                }
            }
            _ => {}
        }
        let note = (!notes.is_empty()).then(|| notes.join("; "));
        deliveries::mark_sent(pool, head.claimed.id, &sent.id, note.as_deref(), now_ms()).await?;
        let merged = burst.len() - 1;
        let platform = channel.platform;
        self.metrics.delivery(platform, DeliveryOutcome::Sent, 1);
        self.metrics
            .delivery(platform, DeliveryOutcome::Merged, merged as u64);
        if let Some(id) = head.claimed.subscription_id {
            subscriptions::record_outcome(pool, id, None, self.settings.pause_after).await?;
        }
        tracing::info!(delivery = head.claimed.id, event = head.claimed.event_id, channel = %channel,
            merged, "delivered");
        Ok(sent.wait)
    }

    /// A failed send: wait and retry, or give up with the reason.
    async fn failed(
        &self,
        burst: &[Ready],
        channel: &Channel,
        e: SendError,
    ) -> anyhow::Result<Option<Duration>> {
        let pool = &self.store.pool;
        let head = &burst[0].claimed;
        let others: Vec<i64> = burst.iter().skip(1).map(|r| r.claimed.id).collect();
        // After a transient failure the message may exist (a timeout): the burst stays tied
        // to it, so the retry sends the same burst under the same nonce. Otherwise it was
        // not posted, and the others go back to the queue.
        let retried =
            matches!(&e, SendError::Transient { .. }) && head.attempts < self.policy.max_attempts;
        if !retried {
            deliveries::release(pool, &others).await?;
        }
        let outcome = match &e {
            SendError::RateLimited { .. } => DeliveryOutcome::RateLimited,
            _ if retried => DeliveryOutcome::Retried,
            _ => DeliveryOutcome::Failed,
        };
        self.metrics.delivery(channel.platform, outcome, 1);
        if outcome == DeliveryOutcome::RateLimited {
            let platform = crate::metrics::PlatformLabels {
                platform: channel.platform,
            };
            self.metrics.rate_limit_waits.get_or_create(&platform).inc();
        }
        match e {
            SendError::RateLimited {
                reason,
                retry_after,
                global,
            } => {
                let due = now_ms() + retry_after.as_millis() as i64;
                deliveries::retry_at(pool, head.id, &reason, due, false).await?;
                if global {
                    self.lanes.pause(channel.platform, retry_after);
                }
                tracing::warn!(delivery = head.id, channel = %channel, wait_ms = retry_after.as_millis() as u64, global, "rate limited");
                Ok(Some(retry_after))
            }
            SendError::Transient {
                reason,
                retry_after,
            } if head.attempts < self.policy.max_attempts => {
                let delay = self.policy.delay(head.attempts, retry_after);
                deliveries::retry_at(
                    pool,
                    head.id,
                    &reason,
                    now_ms() + delay.as_millis() as i64,
                    true,
                )
                .await?;
                tracing::warn!(delivery = head.id, event = head.event_id, channel = %channel,
                    attempt = head.attempts, retry_in_ms = delay.as_millis() as u64, %reason, "delivery will be retried");
                Ok(None)
            }
            SendError::Transient { reason, .. } => {
                self.fail(
                    head,
                    &format!("gave up after {} attempts: {reason}", head.attempts),
                )
                .await?;
                Ok(None)
            }
            SendError::Permanent(reason) => {
                self.fail(head, &reason).await?;
                if let Some(id) = head.subscription_id {
                    if subscriptions::record_outcome(
                        pool,
                        id,
                        Some(&reason),
                        self.settings.pause_after,
                    )
                    .await?
                    {
                        tracing::error!(subscription = id, %reason, "subscription paused after repeated permanent failures");
                    }
                }
                Ok(None)
            }
        }
    }

    async fn fail(&self, head: &Claimed, reason: &str) -> anyhow::Result<()> {
        tracing::error!(delivery = head.id, event = head.event_id, channel = %head.channel, %reason, "delivery failed");
        deliveries::mark_failed(&self.store.pool, head.id, reason).await?;
        Ok(())
    }
}
