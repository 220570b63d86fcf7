//! The data's path for webhooks: parse (hub), then store and route in one transaction
//! (store, route), so that a 2xx always means the event and its deliveries are on disk.
//!
//! One writer takes the webhooks of every connection and commits them in groups: a burst
//! costs one disk flush per group, not one per event, and each answer still waits for its
//! own commit.

use crate::hub::{payload, Event};
use crate::route::Subscription;
use crate::route::{self, Origin};
use crate::store::lookup::{self, LookupKey};
use crate::store::{batch, now_ms, Store};
use axum::body::Bytes;
use std::collections::{BTreeSet, HashMap};
use tokio::sync::{mpsc, oneshot};

/// Most events committed in one transaction.
const GROUP_MAX: usize = 256;

#[derive(Debug)]
pub struct Accepted {
    pub event_id: i64,
    pub event: Event,
    /// How many channels will receive it.
    pub deliveries: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Payload(#[from] payload::PayloadError),
    #[error("storage failed: {0}")]
    Store(String),
}

impl From<sqlx::Error> for IngestError {
    fn from(e: sqlx::Error) -> Self {
        IngestError::Store(e.to_string())
    }
}

impl From<anyhow::Error> for IngestError {
    fn from(e: anyhow::Error) -> Self {
        IngestError::Store(format!("{e:#}"))
    }
}

struct Job {
    origin: Origin,
    raw: Bytes,
    event: Event,
    reply: oneshot::Sender<Result<Accepted, IngestError>>,
}

/// The handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    jobs: mpsc::Sender<Job>,
}

impl Ingest {
    pub fn start(store: Store) -> Ingest {
        let (jobs, rx) = mpsc::channel(4 * GROUP_MAX);
        // The writer is the bottleneck of a burst: it gets a thread of its own, so that it
        // never waits in line behind the request tasks.
        std::thread::Builder::new()
            .name("herald-ingest".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match rt {
                    Ok(rt) => rt.block_on(writer(store, rx)),
                    Err(e) => tracing::error!(error = %e, "the ingest writer could not start"),
                }
            })
            .expect("a thread for the ingest writer");
        Ingest { jobs }
    }

    /// Parses the body here (on the request's own task), then waits for the commit.
    pub async fn submit(&self, origin: Origin, raw: Bytes) -> Result<Accepted, IngestError> {
        let event = payload::parse(&raw)?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            origin,
            raw,
            event,
            reply,
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| IngestError::Store("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| IngestError::Store("the writer dropped the event".into()))?
    }
}

/// Routing lookups kept between groups, valid while the subscriptions' version holds.
#[derive(Default)]
struct RouteCache {
    version: Option<i64>,
    by_key: HashMap<LookupKey, Vec<Subscription>>,
}

/// Keys kept at most; past this the cache starts again.
const CACHE_KEYS: usize = 10_000;

async fn writer(store: Store, mut rx: mpsc::Receiver<Job>) {
    // One connection for the writer's whole life: no pool round trip per group.
    let mut conn = None;
    let mut cache = RouteCache::default();
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let items: Vec<(&Origin, &[u8], &Event)> = group
            .iter()
            .map(|j| (&j.origin, &j.raw[..], &j.event))
            .collect();
        if conn.is_none() {
            conn = store
                .pool
                .acquire()
                .await
                .map_err(|e| tracing::error!(error = %e, "no database connection"))
                .ok();
        }
        let stored = match conn.as_mut() {
            Some(c) => store_group(c, &mut cache, &items).await,
            None => Err(anyhow::anyhow!("no database connection")),
        };
        if stored.is_err() {
            conn = None; // a broken connection is not kept
        }
        match stored {
            Ok(done) => {
                let (first, last) = (done[0].0, done[done.len() - 1].0);
                let queued: usize = done.iter().map(|d| d.1).sum();
                tracing::info!(
                    events = group.len(),
                    first,
                    last,
                    deliveries = queued,
                    us = started.elapsed().as_micros() as u64,
                    "events stored"
                );
                for (job, (event_id, deliveries)) in group.into_iter().zip(done) {
                    let accepted = Accepted {
                        event_id,
                        event: job.event,
                        deliveries,
                    };
                    let _ = job.reply.send(Ok(accepted));
                }
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), events = group.len(), "events could not be stored");
                for job in group {
                    let _ = job.reply.send(Err(IngestError::Store(format!("{e:#}"))));
                }
            }
        }
    }
}

/// Stores and routes events in one transaction; returns each one's id and delivery count.
/// A group costs two round trips to SQLite (the events with `BEGIN`, the deliveries with
/// `COMMIT`), plus one for routing lookups that are not cached.
async fn store_group(
    conn: &mut sqlx::SqliteConnection,
    cache: &mut RouteCache,
    items: &[(&Origin, &[u8], &Event)],
) -> anyhow::Result<Vec<(i64, usize)>> {
    let now = now_ms();
    let rows: Vec<(&str, &[u8], &Event)> = items
        .iter()
        .map(|(o, raw, e)| (o.as_str(), *raw, *e))
        .collect();
    let (ids, version) = batch::begin(conn, &rows, now).await?;
    let routed = route_group(conn, cache, version, items, &ids).await;
    let result = match routed {
        Ok((deliveries, done)) => batch::commit(conn, &deliveries, now)
            .await
            .map(|_| done)
            .map_err(Into::into),
        Err(e) => Err(e),
    };
    if result.is_err() {
        batch::rollback(conn).await;
    }
    result
}

/// The deliveries of each event, from cached lookups where the version allows.
async fn route_group(
    conn: &mut sqlx::SqliteConnection,
    cache: &mut RouteCache,
    version: i64,
    items: &[(&Origin, &[u8], &Event)],
    ids: &[i64],
) -> anyhow::Result<(Vec<(i64, i64, String)>, Vec<(i64, usize)>)> {
    if cache.version != Some(version) || cache.by_key.len() > CACHE_KEYS {
        cache.by_key.clear();
        cache.version = Some(version);
    }
    let keys: Vec<Vec<LookupKey>> = items
        .iter()
        .map(|(_, _, e)| LookupKey::for_event(e))
        .collect();
    let missing: BTreeSet<LookupKey> = keys
        .iter()
        .flatten()
        .filter(|k| !cache.by_key.contains_key(k))
        .cloned()
        .collect();
    if !missing.is_empty() {
        cache.by_key.extend(lookup::lookup(conn, &missing).await?);
    }
    let mut deliveries = Vec::new();
    let mut done = Vec::with_capacity(items.len());
    for (((origin, _, event), id), keys) in items.iter().zip(ids).zip(&keys) {
        let candidates = keys.iter().flat_map(|k| cache.by_key[k].iter());
        let chosen = route::select(event, origin, candidates);
        deliveries.extend(chosen.iter().map(|s| (*id, s.id, s.channel.to_string())));
        done.push((*id, chosen.len()));
    }
    Ok((deliveries, done))
}

/// Stores one event directly (replays, and tools without a running writer).
pub async fn accept(store: &Store, origin: &Origin, raw: &[u8]) -> Result<Accepted, IngestError> {
    let event = payload::parse(raw)?;
    let mut conn = store.pool.acquire().await?;
    let mut cache = RouteCache::default();
    let (event_id, deliveries) =
        store_group(&mut conn, &mut cache, &[(origin, raw, &event)]).await?[0];
    Ok(Accepted {
        event_id,
        event,
        deliveries,
    })
}
