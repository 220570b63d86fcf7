//! One lane per channel: at most one message in flight, and none before the channel's
//! rate limit allows. A backlog in one lane never holds up another.

use crate::route::Platform;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Lane {
    busy: bool,
    next_at: Option<Instant>,
}

#[derive(Default)]
pub struct Lanes {
    lanes: Mutex<HashMap<String, Lane>>,
    /// A platform-wide wait (Slack's per-workspace limits; Discord's global one is held by
    /// its sender).
    paused: Mutex<HashMap<Platform, Instant>>,
}

impl Lanes {
    /// Takes the lane if it is idle and allowed to send now.
    pub fn take(&self, channel: &str, platform: Platform, now: Instant) -> bool {
        if self
            .paused
            .lock()
            .unwrap()
            .get(&platform)
            .is_some_and(|t| *t > now)
        {
            return false;
        }
        let mut lanes = self.lanes.lock().unwrap();
        let lane = lanes.entry(channel.to_string()).or_default();
        if lane.busy || lane.next_at.is_some_and(|t| t > now) {
            return false;
        }
        lane.busy = true;
        true
    }

    /// Gives the lane back; it may send again after `wait`.
    pub fn release(&self, channel: &str, wait: Option<Duration>) {
        let mut lanes = self.lanes.lock().unwrap();
        let lane = lanes.entry(channel.to_string()).or_default();
        lane.busy = false;
        lane.next_at = wait.map(|w| Instant::now() + w);
    }

    pub fn pause(&self, platform: Platform, wait: Duration) {
        self.paused
            .lock()
            .unwrap()
            .insert(platform, Instant::now() + wait);
    }

    /// When the next throttled lane (or platform) may send again.
    pub fn next_ready(&self, now: Instant) -> Option<Instant> {
        let lanes = self.lanes.lock().unwrap();
        let paused = self.paused.lock().unwrap();
        lanes
            .values()
            .filter(|l| !l.busy)
            .filter_map(|l| l.next_at)
            .chain(paused.values().copied())
            .filter(|t| *t > now)
            .min()
    }

    /// How long the channel's lane still waits (for bursts: a throttled channel merges).
    pub fn waiting(&self, channel: &str, platform: Platform, now: Instant) -> bool {
        let lane = self
            .lanes
            .lock()
            .unwrap()
            .get(channel)
            .and_then(|l| l.next_at)
            .is_some_and(|t| t > now);
        lane || self
            .paused
            .lock()
            .unwrap()
            .get(&platform)
            .is_some_and(|t| *t > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_sends_one_at_a_time_and_waits_its_turn() {
        let lanes = Lanes::default();
        let now = Instant::now();
        assert!(lanes.take("discord:1", Platform::Discord, now));
        assert!(!lanes.take("discord:1", Platform::Discord, now), "busy");
        assert!(
            lanes.take("discord:2", Platform::Discord, now),
            "other lanes go on"
        );
        lanes.release("discord:1", Some(Duration::from_secs(5)));
        assert!(
            !lanes.take("discord:1", Platform::Discord, Instant::now()),
            "throttled"
        );
        assert!(lanes.next_ready(Instant::now()).is_some());
        lanes.pause(Platform::Slack, Duration::from_secs(5));
        assert!(!lanes.take("slack:C1", Platform::Slack, Instant::now()));
    }
}
