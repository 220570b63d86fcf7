//! What a managed webhook's channels are told: that the Hub disabled it (and whether
//! herald could enable it again), and that its daily quota is nearly spent. Each is said
//! once per occurrence, through the outbox.

use super::{Watcher, QUOTA, QUOTA_WINDOW_MS};
use crate::render::notice::Notice;
use crate::store::{notices, now_ms, webhooks};

/// The Hub's page for a user's webhooks.
const SETTINGS: &str = "https://huggingface.co/settings/webhooks";
/// Warned at 80% of the quota; warned again only once below 70%.
const WARN_AT: i64 = QUOTA * 8 / 10;
const REARM_BELOW: i64 = QUOTA * 7 / 10;

impl Watcher {
    /// The channels of the subscriptions this webhook serves (not paused), at most
    /// [`notices::CHANNELS_MAX`].
    pub(super) async fn channels(&self) -> anyhow::Result<Vec<String>> {
        let subs = self.serves.subscriptions(&self.base.pool).await?;
        let mut channels: Vec<String> = subs
            .iter()
            .filter(|s| s.paused.is_none())
            .map(|s| s.channel.to_string())
            .collect();
        channels.sort();
        channels.dedup();
        channels.truncate(notices::CHANNELS_MAX);
        Ok(channels)
    }

    /// Tells every channel the webhook serves.
    pub(super) async fn tell_all(&self, notice: Notice) {
        self.tell(notice).await
    }

    /// Tells every channel the webhook serves; failures are logged, never fatal.
    async fn tell(&self, notice: Notice) {
        let sent = async {
            let channels = self.channels().await?;
            if !channels.is_empty() {
                notices::post(&self.base.pool, &notice, &channels).await?;
                self.base.wake.notify_one();
            }
            anyhow::Ok(channels.len())
        };
        match sent.await {
            Ok(n) => {
                tracing::warn!(owner = %self.owner, kind = %notice.kind, channels = n, headline = %notice.headline, "channels told")
            }
            Err(e) => {
                tracing::error!(owner = %self.owner, error = %e, "a notice could not be queued")
            }
        }
    }

    /// The Hub had disabled the webhook: `enabled` says whether herald enabled it again
    /// (else `failed` says why not). Said again only after it worked in between.
    pub(super) async fn disabled(&self, reason: Option<&str>, failed: Option<&str>) {
        let row = webhooks::get(&self.base.pool, &self.owner)
            .await
            .ok()
            .flatten();
        let told = row.and_then(|r| r.announced).as_deref() == Some("disabled");
        let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
        let headline = format!("The Hub disabled herald's webhook{why}");
        let lines = match failed {
            None => vec![
                "herald enabled it again. Events from while it was disabled were not sent, so some may be missing here.".to_string(),
            ],
            Some(_) if told => return,
            Some(e) => vec![
                format!("herald could not enable it again: {e}."),
                "Until it is enabled, no events arrive here. The operator can enable it in the Hub's webhook settings.".to_string(),
            ],
        };
        self.tell(Notice::new("webhook-disabled", headline, lines, SETTINGS))
            .await;
        let now = failed.map(|_| "disabled");
        if let Err(e) = webhooks::announced(&self.base.pool, &self.owner, now).await {
            tracing::warn!(error = %e, "notice not remembered");
        }
    }

    /// A webhook the channels were told is disabled works again.
    pub(super) async fn working_again(&self) {
        let row = webhooks::get(&self.base.pool, &self.owner)
            .await
            .ok()
            .flatten();
        if row.and_then(|r| r.announced).as_deref() != Some("disabled") {
            return;
        }
        let lines = vec![
            "Events arrive again. Those sent while it was disabled are missing here.".to_string(),
        ];
        let headline = "herald's Hub webhook is enabled again".to_string();
        self.tell(Notice::new("webhook-disabled", headline, lines, SETTINGS))
            .await;
        if let Err(e) = webhooks::announced(&self.base.pool, &self.owner, None).await {
            tracing::warn!(error = %e, "notice not remembered");
        }
    }

    /// Warns each channel once when the last 24 hours' events pass 80% of the quota,
    /// naming the repos it hears most of.
    pub(super) async fn check_quota(&self, triggers: i64) {
        let Ok(Some(row)) = webhooks::get(&self.base.pool, &self.owner).await else {
            return;
        };
        match (row.quota_warned_at, triggers) {
            (Some(_), n) if n < REARM_BELOW => {
                let _ = webhooks::quota_warned(&self.base.pool, &self.owner, None).await;
                return;
            }
            (None, n) if n >= WARN_AT => {}
            _ => return,
        }
        match webhooks::quota_warned(&self.base.pool, &self.owner, Some(now_ms())).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => return tracing::warn!(error = %e, "quota warning not remembered; not sent"),
        }
        let since = now_ms() - QUOTA_WINDOW_MS;
        let channels = self.channels().await.unwrap_or_default();
        // The count is every tenant's activity: channels are told the threshold only.
        let headline = format!(
            "herald's Hub webhook has used over {}% of its {QUOTA} events for the last 24 hours",
            WARN_AT * 100 / QUOTA
        );
        for channel in channels {
            let busiest = notices::busiest_for(&self.base.pool, &self.owner, &channel, since)
                .await
                .unwrap_or_default();
            let mut lines = vec![format!(
                "At {QUOTA} the Hub stops sending until the oldest are a day old, and messages stop."
            )];
            if !busiest.is_empty() {
                let named: Vec<String> =
                    busiest.iter().map(|(r, n)| format!("{r} ({n})")).collect();
                lines.push(format!("Busiest here: {}.", named.join(", ")));
            }
            lines.push("To narrow it: follow single repos instead of owner/*, or unsubscribe from the busiest.".into());
            let notice = Notice::new("quota", headline.clone(), lines, SETTINGS);
            if let Err(e) = notices::post(&self.base.pool, &notice, &[channel]).await {
                tracing::error!(error = %e, "a quota warning could not be queued");
            }
        }
        self.base.wake.notify_one();
        tracing::warn!(owner = %self.owner, triggers, "Hub webhook past 80% of its daily quota; channels warned");
    }
}
