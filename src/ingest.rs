//! The data's path for one webhook: parse (hub), store and route in one transaction
//! (store, route), so that a 2xx always means the event and its deliveries are on disk.

use crate::hub::{payload, Event};
use crate::route::{self, Origin};
use crate::store::{deliveries, events, now_ms, subscriptions, Store};

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
    Store(#[from] anyhow::Error),
}

impl From<sqlx::Error> for IngestError {
    fn from(e: sqlx::Error) -> Self {
        IngestError::Store(e.into())
    }
}

pub async fn accept(store: &Store, origin: &Origin, raw: &[u8]) -> Result<Accepted, IngestError> {
    let event = payload::parse(raw)?;
    let now = now_ms();
    let mut tx = store.pool.begin().await?;
    let event_id = events::insert(&mut tx, origin.as_str(), raw, &event, now).await?;
    let candidates = subscriptions::candidates(&mut tx, &event).await?;
    let chosen = route::select(&event, origin, candidates);
    for sub in &chosen {
        deliveries::enqueue(&mut tx, event_id, sub.id, &sub.channel.to_string(), now).await?;
    }
    tx.commit().await?;
    Ok(Accepted {
        event_id,
        event,
        deliveries: chosen.len(),
    })
}
