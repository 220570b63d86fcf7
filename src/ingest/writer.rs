//! The writer: takes the webhooks of every connection, commits them in groups (events and
//! their deliveries in one transaction) and hands each committed group to the flusher.

use super::flush::{Committed, Flusher};
use super::{IngestError, Job, GROUP_MAX};
use crate::hub::Event;
use crate::route::Subscription;
use crate::route::{self, Origin};
use crate::store::lookup::{self, LookupKey};
use crate::store::{batch, now_ms, Store};
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The writer's one connection for its whole life: no pool round trip per group.
enum Conn {
    /// Commits that do not wait for the disk; the flusher syncs this WAL before answering.
    Unsynced(SqliteConnection, Arc<std::fs::File>),
    /// An in-memory database: nothing to sync.
    Pooled(PoolConnection<Sqlite>),
}

impl Conn {
    async fn open(store: &Store) -> anyhow::Result<Conn> {
        Ok(match store.unsynced().await? {
            Some((conn, wal)) => Conn::Unsynced(conn, Arc::new(wal)),
            None => Conn::Pooled(store.pool.acquire().await?),
        })
    }

    fn sql(&mut self) -> &mut SqliteConnection {
        match self {
            Conn::Unsynced(c, _) => c,
            Conn::Pooled(c) => c,
        }
    }

    fn wal(&self) -> Option<Arc<std::fs::File>> {
        match self {
            Conn::Unsynced(_, wal) => Some(wal.clone()),
            Conn::Pooled(_) => None,
        }
    }
}

pub(super) async fn run(store: Store, mut rx: mpsc::Receiver<Job>, flusher: Flusher) {
    let mut conn = None;
    let mut cache = RouteCache::default();
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        if conn.is_none() {
            conn = Conn::open(&store)
                .await
                .map_err(|e| tracing::error!(error = %format!("{e:#}"), "no database connection"))
                .ok();
        }
        let items: Vec<(&Origin, &[u8], &Event)> = jobs
            .iter()
            .map(|j| (&j.origin, &j.raw[..], &j.event))
            .collect();
        let stored = match conn.as_mut() {
            Some(c) => store_group(c.sql(), &mut cache, &items).await,
            None => Err(anyhow::anyhow!("no database connection")),
        };
        drop(items);
        match stored {
            Ok(done) => flusher.send(Committed {
                wal: conn.as_ref().and_then(Conn::wal),
                jobs,
                done,
                started,
            }),
            Err(e) => {
                conn = None; // a broken connection is not kept
                let e = format!("{e:#}");
                tracing::error!(error = %e, events = jobs.len(), "events could not be stored");
                for job in jobs {
                    let _ = job.reply.send(Err(IngestError::Store(e.clone())));
                }
            }
        }
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

/// Stores and routes events in one transaction; returns each one's id and delivery count.
/// A group costs two round trips to SQLite (the events with `BEGIN`, the deliveries with
/// `COMMIT`), plus one for routing lookups that are not cached.
pub(super) async fn store_group(
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
