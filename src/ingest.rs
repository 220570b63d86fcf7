//! The data's path for webhooks: parse (hub), then store and route in one transaction
//! (store, route), so that a 2xx always means the event and its deliveries are on disk.
//!
//! One writer takes the webhooks of every connection and commits them in groups: a burst
//! costs one disk flush per group, not one per event, and each answer still waits for its
//! own commit.

use crate::hub::{payload, Event};
use crate::route::{self, Origin};
use crate::store::{deliveries, events, now_ms, subscriptions, Store};
use axum::body::Bytes;
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
        tokio::spawn(writer(store, rx));
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

async fn writer(store: Store, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let items: Vec<(&Origin, &[u8], &Event)> = group
            .iter()
            .map(|j| (&j.origin, &j.raw[..], &j.event))
            .collect();
        match store_group(&store, &items).await {
            Ok(done) => {
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
/// A group costs a handful of statements, however many events it holds.
async fn store_group(
    store: &Store,
    items: &[(&Origin, &[u8], &Event)],
) -> anyhow::Result<Vec<(i64, usize)>> {
    let now = now_ms();
    // IMMEDIATE: take the write lock now, so the ids read below stay ours (a read that
    // turns into a write fails at once in WAL mode if another connection wrote between).
    let mut tx = store.pool.begin_with("BEGIN IMMEDIATE").await?;
    let rows: Vec<(&str, &[u8], &Event)> = items
        .iter()
        .map(|(o, raw, e)| (o.as_str(), *raw, *e))
        .collect();
    let ids = events::insert_many(&mut tx, &rows, now).await?;
    let evs: Vec<&Event> = items.iter().map(|(_, _, e)| *e).collect();
    let candidates = subscriptions::candidates_many(&mut tx, &evs).await?;
    let mut queued = Vec::new();
    let mut done = Vec::with_capacity(items.len());
    for ((origin, _, event), id) in items.iter().zip(&ids) {
        let chosen = route::select(event, origin, &candidates);
        queued.extend(chosen.iter().map(|s| (*id, s.id, s.channel.to_string())));
        done.push((*id, chosen.len()));
    }
    deliveries::enqueue_many(&mut tx, &queued, now).await?;
    tx.commit().await?;
    Ok(done)
}

/// Stores one event directly (replays, and tools without a running writer).
pub async fn accept(store: &Store, origin: &Origin, raw: &[u8]) -> Result<Accepted, IngestError> {
    let event = payload::parse(raw)?;
    let (event_id, deliveries) = store_group(store, &[(origin, raw, &event)]).await?[0];
    Ok(Accepted {
        event_id,
        event,
        deliveries,
    })
}
