//! Each webhook endpoint's daily budget (events and bytes stored per UTC day), so that
//! nobody holding an endpoint's secret can fill the disk. Counted by the writer, which
//! sees every webhook in order, and stored with the events (table `endpoint_usage`), so a
//! restart does not reset it.

use crate::store::{usage, Store};
use std::collections::HashMap;
use tokio::runtime::Handle;

#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub events_per_day: u64,
    pub bytes_per_day: u64,
}

/// Today's use of each endpoint seen today.
pub(super) struct Budgets {
    budget: Budget,
    day: i64,
    used: HashMap<String, (u64, u64)>,
}

impl Budgets {
    pub fn new(budget: Budget) -> Budgets {
        Budgets {
            budget,
            day: -1,
            used: HashMap::new(),
        }
    }

    /// Takes one webhook of `bytes` from the endpoint's budget of today, or says why not.
    pub fn take(
        &mut self,
        store: &Store,
        rt: &Handle,
        endpoint: &str,
        bytes: usize,
        now: i64,
    ) -> anyhow::Result<Result<(), String>> {
        let day = usage::day(now);
        if day != self.day {
            self.used.clear();
            self.day = day;
        }
        let used = match self.used.get_mut(endpoint) {
            Some(u) => u,
            None => {
                let stored = rt.block_on(usage::of(&store.pool, endpoint, day))?;
                self.used.entry(endpoint.to_string()).or_insert(stored)
            }
        };
        let b = self.budget;
        if used.0 >= b.events_per_day {
            return Ok(Err(format!(
                "this endpoint stored {} events today, its daily budget (limits.endpoint_events_per_day); \
                 it takes events again at 00:00 UTC",
                used.0
            )));
        }
        if used.1 + bytes as u64 > b.bytes_per_day {
            return Ok(Err(format!(
                "this endpoint stored {} bytes today and this event would pass its daily budget of {} \
                 (limits.endpoint_bytes_per_day); it takes events again at 00:00 UTC",
                used.1, b.bytes_per_day
            )));
        }
        used.0 += 1;
        used.1 += bytes as u64;
        Ok(Ok(()))
    }

    /// Counts an accepted event's deliveries (and the facts the Hub API may add to a
    /// followed event) against its endpoint, known once it is routed.
    pub fn charge(&mut self, endpoint: &str, deliveries: usize) {
        if let Some(used) = self.used.get_mut(endpoint) {
            used.1 += usage::followed_bytes(deliveries as i64) as u64;
        }
    }
}
