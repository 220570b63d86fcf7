//! Prometheus metrics (`GET /metrics`) and the worker's heartbeat for `GET /readyz`.

use crate::http::refusal::Outcome;
use crate::route::Platform;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    /// v3, v2, legacy, draft; `unknown` when the body could not be read.
    pub format: String,
    /// A documented scope, `other` for scopes added later, `unknown` when unread.
    pub scope: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub platform: Platform,
    pub outcome: DeliveryOutcome,
}

/// What became of one try of a delivery.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent,
    /// Sent inside another delivery's message (a burst).
    Merged,
    Retried,
    RateLimited,
    Failed,
}

impl EncodeLabelValue for DeliveryOutcome {
    fn encode(&self, out: &mut LabelValueEncoder) -> std::fmt::Result {
        out.write_str(match self {
            DeliveryOutcome::Sent => "sent",
            DeliveryOutcome::Merged => "merged",
            DeliveryOutcome::Retried => "retried",
            DeliveryOutcome::RateLimited => "rate_limited",
            DeliveryOutcome::Failed => "failed",
        })
    }
}

impl EncodeLabelValue for Platform {
    fn encode(&self, out: &mut LabelValueEncoder) -> std::fmt::Result {
        out.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HubLabels {
    pub answer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OwnerLabels {
    /// `operator`, or the workspace whose webhook it is.
    pub owner: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PlatformLabels {
    pub platform: Platform,
}

pub struct Metrics {
    registry: Registry,
    pub events: Family<EventLabels, Counter>,
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub rate_limit_waits: Family<PlatformLabels, Counter>,
    pub template_failures: Counter,
    pub queue_depth: Gauge,
    /// Calls to the Hub's API, by answer: a status code, `timeout`, `unreachable`, or
    /// `paused` (not made: the rate limit is spent).
    pub hub_requests: Family<HubLabels, Counter>,
    /// Events each managed Hub webhook sent in the last 24 hours, against its quota.
    pub hub_webhook_triggers: Family<OwnerLabels, Gauge>,
    /// When the delivery worker last went round its loop (unix ms).
    heartbeat: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("herald");
        let events = Family::<EventLabels, Counter>::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let rate_limit_waits = Family::<PlatformLabels, Counter>::default();
        let template_failures = Counter::default();
        let queue_depth = Gauge::default();
        let hub_requests = Family::<HubLabels, Counter>::default();
        let hub_webhook_triggers = Family::<OwnerLabels, Gauge>::default();
        registry.register(
            "hub_webhook_triggers",
            "Events each managed Hub webhook sent in the last 24 hours (the Hub allows 1000)",
            hub_webhook_triggers.clone(),
        );
        registry.register(
            "hub_requests",
            "Calls to the Hub's API, by answer (status code, timeout, unreachable, or paused: not made)",
            hub_requests.clone(),
        );
        registry.register(
            "events",
            "Webhooks received, by payload format, scope and outcome",
            events.clone(),
        );
        registry.register(
            "deliveries",
            "Delivery outcomes, by platform",
            deliveries.clone(),
        );
        registry.register(
            "rate_limit_waits",
            "Times a platform asked herald to wait (429)",
            rate_limit_waits.clone(),
        );
        registry.register(
            "template_failures",
            "Messages whose template (a user's or the operator's) failed, so that another was used",
            template_failures.clone(),
        );
        registry.register(
            "queue_depth",
            "Deliveries waiting to be sent",
            queue_depth.clone(),
        );
        Metrics {
            registry,
            events,
            deliveries,
            rate_limit_waits,
            template_failures,
            queue_depth,
            hub_requests,
            hub_webhook_triggers,
            heartbeat: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    pub fn event(&self, format: &str, scope: &str, outcome: Outcome) {
        let labels = EventLabels {
            format: format.into(),
            scope: scope.into(),
            outcome,
        };
        self.events.get_or_create(&labels).inc();
    }

    pub fn delivery(&self, platform: Platform, outcome: DeliveryOutcome, n: u64) {
        let labels = DeliveryLabels { platform, outcome };
        self.deliveries.get_or_create(&labels).inc_by(n);
    }

    pub fn hub_webhook_triggers(&self, owner: &str, n: i64) {
        let labels = OwnerLabels {
            owner: owner.into(),
        };
        self.hub_webhook_triggers.get_or_create(&labels).set(n);
    }

    pub fn hub_request(&self, answer: &str) {
        let labels = HubLabels {
            answer: answer.into(),
        };
        self.hub_requests.get_or_create(&labels).inc();
    }

    pub fn beat(&self, now_ms: i64) {
        self.heartbeat.store(now_ms, Ordering::Relaxed);
    }

    /// The worker is alive if it went round its loop in the last few seconds.
    pub fn worker_alive(&self, now_ms: i64) -> bool {
        now_ms - self.heartbeat.load(Ordering::Relaxed) < 5_000
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_counts_as_alive_only_while_it_beats() {
        let m = Metrics::default();
        assert!(!m.worker_alive(10_000), "never started");
        m.beat(10_000);
        assert!(m.worker_alive(12_000));
        assert!(!m.worker_alive(16_000), "stopped going round");
    }
}
