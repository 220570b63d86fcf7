//! The data's path for webhooks: parse (hub), then store and route in one transaction
//! (store, route), so that a 2xx always means the event and its deliveries are on disk.
//!
//! One writer takes the webhooks of every connection and commits them in groups: a burst
//! costs one disk flush per group, not one per event, and each answer still waits for its
//! own commit.

pub mod budget;
mod writer;

use crate::hub::{payload, Event};
use crate::route::{Bots, Origin};
use crate::store::direct::Direct;
use crate::store::Store;
use axum::body::Bytes;
use std::sync::Arc;
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
    /// The endpoint spent its daily budget.
    #[error("{0}")]
    OverBudget(String),
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
    /// `bots`: who `author:bot` means in filters.
    pub fn start(store: Store, budget: budget::Budget, bots: Arc<Bots>) -> Ingest {
        let (jobs, rx) = mpsc::channel(4 * GROUP_MAX);
        // The writer is the bottleneck of a burst: it gets a thread of its own, so that it
        // never waits in line behind the request tasks. Called from within the runtime.
        let rt = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("herald-ingest".into())
            .spawn(move || writer::run(store, rx, rt, budget, bots))
            .expect("a thread for the ingest writer");
        Ingest { jobs }
    }

    /// Whether the writer thread is still taking webhooks.
    pub fn alive(&self) -> bool {
        !self.jobs.is_closed()
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

/// Stores one event without the writer (replays, and tools beside a running server), on a
/// connection of its own whose commit is itself durable.
pub async fn accept(
    store: &Store,
    origin: &Origin,
    raw: &[u8],
    bots: &Bots,
) -> Result<Accepted, IngestError> {
    let event = payload::parse(raw)?;
    let mut direct = Direct::open(&store.path)?;
    let item = writer::Item::new(origin, &event, raw);
    let mut cache = writer::RouteCache::default();
    let (event_id, deliveries) =
        writer::store_group(store, &mut direct, &mut cache, &[item], bots).await?[0];
    Ok(Accepted {
        event_id,
        event,
        deliveries,
    })
}
