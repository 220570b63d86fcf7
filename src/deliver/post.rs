//! Posting a channel's message where its thread mode wants it, and recording what happened
//! to every delivery of the burst: sent, or waiting for a retry, or failed with the reason.

use super::process::Ready;
use super::worker::Worker;
use super::{threads, Place, Post, SendError};
use crate::hub::Event;
use crate::metrics::{DeliveryOutcome, PlatformLabels};
use crate::render::Message;
use crate::route::subscription::Threads;
use crate::route::{Channel, Platform, Subscription};
use crate::store::deliveries::{self, Claimed};
use crate::store::{now_ms, subscriptions, threads as thread_store};
use std::time::Duration;

/// Where a message goes: the thread mode, the event's thread and the one already started.
struct Where {
    mode: Threads,
    key: Option<String>,
    existing: Option<String>,
    /// An opening, close, merge or reopening: shown in the channel too, by `thread+channel`.
    status: bool,
}

impl Where {
    fn place(&self) -> Place {
        match &self.existing {
            Some(id) => Place::Thread {
                id: id.clone(),
                broadcast: self.mode == Threads::ThreadAndChannel && self.status,
            },
            None => Place::Channel,
        }
    }
}

impl Worker {
    /// Posts the message where the subscription's thread mode wants it, and records it.
    pub(super) async fn post(
        &self,
        burst: &[Ready],
        msg: Message,
        channel: &Channel,
        sub: Option<&Subscription>,
    ) -> anyhow::Result<Option<Duration>> {
        let head = &burst[0];
        let at = self.where_to(&head.event, channel, sub).await?;
        let post = Post {
            channel,
            owner: sub
                .and_then(|s| s.workspace.as_deref())
                .unwrap_or("operator"),
            place: at.place(),
            nonce: format!("herald-{}", head.claimed.id),
            msg: &msg,
        };
        let sent = match self.senders.send(&post).await {
            Ok(sent) => sent,
            Err(e) => return self.failed(burst, channel, e).await,
        };
        let mut notes: Vec<String> = burst.iter().filter_map(|r| r.note.clone()).collect();
        notes.extend(self.thread_after(&post, &at, &sent.id, &head.event).await?);
        self.record_sent(burst, channel, &sent.id, &notes).await?;
        Ok(sent.wait)
    }

    async fn where_to(
        &self,
        event: &Event,
        channel: &Channel,
        sub: Option<&Subscription>,
    ) -> anyhow::Result<Where> {
        let mode = sub.map(|s| s.threads).unwrap_or(Threads::None);
        let key = threads::key(event)
            .filter(|_| mode != Threads::None && channel.platform != Platform::Console);
        let existing = match &key {
            Some(k) => thread_store::get(&self.store.pool, &channel.to_string(), k).await?,
            None => None,
        };
        Ok(Where {
            mode,
            key,
            existing,
            status: threads::is_status(event),
        })
    }

    /// After a post: start the event's thread under it, or show a status change in the
    /// channel too. What could not be done is a note, not a failure: the message is out.
    async fn thread_after(
        &self,
        post: &Post<'_>,
        at: &Where,
        message_id: &str,
        event: &Event,
    ) -> anyhow::Result<Option<String>> {
        let channel = post.channel;
        match (&at.key, &at.existing) {
            (Some(k), None) => {
                match self
                    .senders
                    .start_thread(post, message_id, &threads::name(event))
                    .await
                {
                    Ok(Some(tid)) => {
                        let ch = channel.to_string();
                        thread_store::set(&self.store.pool, &ch, k, &tid, now_ms()).await?;
                    }
                    Ok(None) => {}
                    Err(e) => return Ok(Some(format!("no thread was started: {}", e.reason()))),
                }
            }
            // Discord has no broadcast: the change is posted to the channel as well.
            (Some(_), Some(_))
                if at.status
                    && at.mode == Threads::ThreadAndChannel
                    && channel.platform == Platform::Discord =>
            {
                let also = Post {
                    place: Place::Channel,
                    nonce: format!("{}-c", post.nonce),
                    ..*post
                };
                if let Err(e) = self.senders.send(&also).await {
                    return Ok(Some(format!("not shown in the channel: {}", e.reason())));
                }
            }
            _ => {}
        }
        Ok(None)
    }

    async fn record_sent(
        &self,
        burst: &[Ready],
        channel: &Channel,
        message_id: &str,
        notes: &[String],
    ) -> anyhow::Result<()> {
        let pool = &self.store.pool;
        let head = &burst[0].claimed;
        let note = (!notes.is_empty()).then(|| notes.join("; "));
        deliveries::mark_sent(pool, head.id, message_id, note.as_deref(), now_ms()).await?;
        let merged = burst.len() - 1;
        self.metrics
            .delivery(channel.platform, DeliveryOutcome::Sent, 1);
        self.metrics
            .delivery(channel.platform, DeliveryOutcome::Merged, merged as u64);
        if let Some(id) = head.subscription_id {
            subscriptions::record_outcome(pool, id, None, self.settings.pause_after).await?;
        }
        tracing::info!(delivery = head.id, event = head.event_id, channel = %channel,
            merged, "delivered");
        Ok(())
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
        // After a transient failure the message may exist (a timeout): the burst stays tied
        // to it, so the retry sends the same burst under the same nonce. Otherwise it was
        // not posted, and the others go back to the queue.
        let retried =
            matches!(&e, SendError::Transient { .. }) && head.attempts < self.policy.max_attempts;
        if !retried {
            let others: Vec<i64> = burst.iter().skip(1).map(|r| r.claimed.id).collect();
            deliveries::release(pool, &others).await?;
        }
        self.count_failure(&e, retried, channel.platform);
        match e {
            SendError::RateLimited {
                reason,
                retry_after,
                every_lane,
            } => {
                let due = now_ms() + retry_after.as_millis() as i64;
                deliveries::retry_at(pool, head.id, &reason, due, false).await?;
                if every_lane {
                    self.lanes.pause(channel.platform, retry_after);
                }
                tracing::warn!(delivery = head.id, channel = %channel, wait_ms = retry_after.as_millis() as u64, every_lane, "rate limited");
                Ok(Some(retry_after))
            }
            SendError::Transient {
                reason,
                retry_after,
            } if retried => {
                let delay = self.policy.delay(head.attempts, retry_after);
                let due = now_ms() + delay.as_millis() as i64;
                deliveries::retry_at(pool, head.id, &reason, due, true).await?;
                tracing::warn!(delivery = head.id, event = head.event_id, channel = %channel,
                    attempt = head.attempts, retry_in_ms = delay.as_millis() as u64, %reason, "delivery will be retried");
                Ok(None)
            }
            SendError::Transient { reason, .. } => {
                let reason = format!("gave up after {} attempts: {reason}", head.attempts);
                self.fail(head, &reason).await?;
                Ok(None)
            }
            SendError::Permanent(reason) => {
                self.fail(head, &reason).await?;
                self.refused(head, &reason).await?;
                Ok(None)
            }
        }
    }

    fn count_failure(&self, e: &SendError, retried: bool, platform: Platform) {
        let outcome = match e {
            SendError::RateLimited { .. } => DeliveryOutcome::RateLimited,
            _ if retried => DeliveryOutcome::Retried,
            _ => DeliveryOutcome::Failed,
        };
        self.metrics.delivery(platform, outcome, 1);
        if outcome == DeliveryOutcome::RateLimited {
            let labels = PlatformLabels { platform };
            self.metrics.rate_limit_waits.get_or_create(&labels).inc();
        }
    }

    /// A platform's lasting refusal counts against the subscription, which is paused after
    /// too many in a row.
    async fn refused(&self, head: &Claimed, reason: &str) -> anyhow::Result<()> {
        let Some(id) = head.subscription_id else {
            return Ok(());
        };
        let pool = &self.store.pool;
        if subscriptions::record_outcome(pool, id, Some(reason), self.settings.pause_after).await? {
            tracing::error!(subscription = id, %reason, "subscription paused after repeated permanent failures");
        }
        Ok(())
    }

    pub(super) async fn fail(&self, head: &Claimed, reason: &str) -> anyhow::Result<()> {
        tracing::error!(delivery = head.id, event = head.event_id, channel = %head.channel, %reason, "delivery failed");
        deliveries::mark_failed(&self.store.pool, head.id, reason).await?;
        Ok(())
    }
}
