//! The writer: takes the webhooks of every connection, routes them and commits each group
//! (events and their deliveries in one transaction, durable at the commit), then answers.
//! It runs on a thread of its own with its own SQLite connection, so that a group costs no
//! hand-off between threads from the first insert to the last answer.

use super::budget::{Budget, Budgets};
use super::{Accepted, IngestError, Job, GROUP_MAX};
use crate::route::{self, Bots, Origin, Subscription};
use crate::store::direct::{DeliveryRow, Direct, EventRow};
use crate::store::lookup::{self, LookupKey};
use crate::store::{now_ms, Store};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// Runs until every sender is gone. `rt` serves the routing lookups, which go through
/// the pool.
pub(super) fn run(
    store: Store,
    mut rx: mpsc::Receiver<Job>,
    rt: Handle,
    budget: Budget,
    bots: Arc<Bots>,
) {
    let mut direct: Option<Direct> = None;
    let mut cache = RouteCache::default();
    let mut budgets = Budgets::new(budget);
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        jobs = within_budget(&store, &rt, &mut budgets, jobs);
        if jobs.is_empty() {
            continue;
        }
        let started = Instant::now();
        let items: Vec<Item> = jobs.iter().map(Job::item).collect();
        let stored = match &mut direct {
            Some(d) => Ok(d),
            None => Direct::open(&store.path).map(|d| direct.insert(d)),
        }
        .and_then(|d| rt.block_on(store_group(&store, d, &mut cache, &items, &bots)));
        drop(items);
        match stored {
            Ok(done) => {
                for (job, (_, deliveries)) in jobs.iter().zip(&done) {
                    budgets.charge(job.origin.as_str(), *deliveries);
                }
                answer(jobs, done, started)
            }
            Err(e) => {
                direct = None; // a broken connection is not kept
                let e = format!("{e:#}");
                tracing::error!(error = %e, events = jobs.len(), "events could not be stored");
                for job in jobs {
                    let _ = job.reply.send(Err(IngestError::Store(e.clone())));
                }
            }
        }
    }
}

/// The jobs whose endpoints have budget left today; the others are answered here.
fn within_budget(store: &Store, rt: &Handle, budgets: &mut Budgets, jobs: Vec<Job>) -> Vec<Job> {
    let now = now_ms();
    let mut kept = Vec::with_capacity(jobs.len());
    for job in jobs {
        let endpoint = job.origin.as_str();
        let refused = match budgets.take(store, rt, endpoint, job.raw.len(), now) {
            Ok(Ok(())) => None,
            Ok(Err(why)) => Some(IngestError::OverBudget(why)),
            Err(e) => Some(IngestError::Store(format!("{e:#}"))),
        };
        match refused {
            None => kept.push(job),
            Some(e) => {
                let _ = job.reply.send(Err(e));
            }
        }
    }
    kept
}

fn answer(jobs: Vec<Job>, done: Vec<(i64, usize)>, started: Instant) {
    let (first, last) = (done[0].0, done[done.len() - 1].0);
    let (events, deliveries) = (jobs.len(), done.iter().map(|d| d.1).sum::<usize>());
    for (job, (event_id, deliveries)) in jobs.into_iter().zip(done) {
        let accepted = Accepted {
            event_id,
            event: job.event,
            deliveries,
        };
        let _ = job.reply.send(Ok(accepted));
    }
    let us = started.elapsed().as_micros() as u64;
    tracing::info!(events, first, last, deliveries, us, "events stored");
}

/// What the writer needs of a webhook.
pub(super) struct Item<'a> {
    pub origin: &'a Origin,
    pub row: EventRow<'a>,
}

impl<'a> Item<'a> {
    pub fn new(origin: &'a Origin, event: &'a crate::hub::Event, raw: &'a [u8]) -> Item<'a> {
        let endpoint = origin.as_str();
        Item {
            origin,
            row: EventRow {
                endpoint,
                event,
                raw,
            },
        }
    }
}

impl Job {
    fn item(&self) -> Item<'_> {
        Item::new(&self.origin, &self.event, &self.raw)
    }
}

/// Routing lookups kept between groups, valid while the subscriptions' version holds.
#[derive(Default)]
pub(super) struct RouteCache {
    version: Option<i64>,
    by_key: HashMap<LookupKey, Vec<Subscription>>,
}

/// Keys kept at most; past this the cache starts again.
const CACHE_KEYS: usize = 10_000;

/// Tries at most, if the subscriptions change between routing and writing each time.
const ATTEMPTS: usize = 5;

/// Routes events and stores them with their deliveries in one transaction; returns each
/// one's id and delivery count. Routing reads the subscriptions outside the write lock
/// (cached while their version holds); the write checks that version under the lock, and
/// routes again if it moved.
pub(super) async fn store_group(
    store: &Store,
    direct: &mut Direct,
    cache: &mut RouteCache,
    items: &[Item<'_>],
    bots: &Bots,
) -> anyhow::Result<Vec<(i64, usize)>> {
    let rows: Vec<&EventRow> = items.iter().map(|i| &i.row).collect();
    let keys: Vec<Vec<LookupKey>> = items
        .iter()
        .map(|i| LookupKey::for_event(i.row.event))
        .collect();
    for _ in 0..ATTEMPTS {
        let version = cache.fill(store, &keys).await?;
        let now = now_ms();
        let mut channels: Vec<(usize, i64, String, Option<i64>)> = Vec::new();
        let mut counts = Vec::with_capacity(items.len());
        for (n, item) in items.iter().enumerate() {
            let candidates: Vec<&Subscription> = cache.candidates(&keys[n]).collect();
            let chosen = route::select(item.row.event, item.origin, &candidates, bots);
            channels.extend(chosen.iter().map(|c| {
                let held = c.sub.rules.schedule.next_due(now);
                (n, c.sub.id, c.sub.channel.to_string(), held)
            }));
            counts.push(chosen.len());
        }
        let deliveries: Vec<DeliveryRow> = channels
            .iter()
            .map(|(n, s, c, held)| DeliveryRow {
                event: *n,
                subscription: *s,
                channel: c,
                held_until: *held,
            })
            .collect();
        if let Some(ids) = direct.write(version, &rows, &deliveries, now)? {
            return Ok(ids.into_iter().zip(counts).collect());
        }
        cache.version = None;
    }
    anyhow::bail!("the subscriptions kept changing while events were routed")
}

impl RouteCache {
    /// Makes sure every key of the events is cached, all at one version; returns it.
    async fn fill(&mut self, store: &Store, keys: &[Vec<LookupKey>]) -> anyhow::Result<i64> {
        if self.by_key.len() > CACHE_KEYS {
            self.version = None;
        }
        loop {
            let missing: BTreeSet<LookupKey> = keys
                .iter()
                .flatten()
                .filter(|k| self.version.is_none() || !self.by_key.contains_key(k))
                .cloned()
                .collect();
            if let (Some(version), true) = (self.version, missing.is_empty()) {
                return Ok(version);
            }
            let (version, found) = lookup::lookup_at(&store.pool, &missing).await?;
            if self.version != Some(version) {
                // Keys read at another version are dropped; the loop reads them again.
                self.by_key.clear();
                self.version = Some(version);
            }
            self.by_key.extend(found);
        }
    }

    fn candidates<'a>(&'a self, keys: &'a [LookupKey]) -> impl Iterator<Item = &'a Subscription> {
        keys.iter()
            .flat_map(|k| self.by_key.get(k).into_iter().flatten())
    }
}
