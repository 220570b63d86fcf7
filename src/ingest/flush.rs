//! The flusher: makes committed groups durable, then answers them. One `fdatasync` of the
//! WAL covers every group the writer committed before it, and the writer goes on with the
//! next group meanwhile, so the disk's latency is paid once per round, not once per group.

use super::{Accepted, IngestError, Job};
use std::fs::File;
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// A group the writer has committed: stored, but not acknowledged until its WAL is synced.
pub(super) struct Committed {
    pub jobs: Vec<Job>,
    /// Each event's id and delivery count, in the order of `jobs`.
    pub done: Vec<(i64, usize)>,
    /// The WAL holding the commit; None when the commit was durable by itself.
    pub wal: Option<Arc<File>>,
    pub started: Instant,
}

pub(super) struct Flusher {
    tx: mpsc::Sender<Committed>,
}

impl Flusher {
    pub fn start() -> Flusher {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("herald-flush".into())
            .spawn(move || run(rx))
            .expect("a thread for the ingest flusher");
        Flusher { tx }
    }

    pub fn send(&self, group: Committed) {
        if let Err(mpsc::SendError(group)) = self.tx.send(group) {
            answer(group, &Err("the flusher has stopped".into()));
        }
    }
}

fn run(rx: mpsc::Receiver<Committed>) {
    while let Ok(first) = rx.recv() {
        let mut round = vec![first];
        round.extend(rx.try_iter());
        let synced = sync(&round);
        for group in round {
            answer(group, &synced);
        }
    }
}

/// Syncs each WAL of the round once (there is one, unless the writer reconnected).
fn sync(round: &[Committed]) -> Result<(), String> {
    let mut files: Vec<&Arc<File>> = Vec::new();
    for wal in round.iter().filter_map(|g| g.wal.as_ref()) {
        if !files.iter().any(|f| Arc::ptr_eq(f, wal)) {
            files.push(wal);
        }
    }
    for wal in files {
        wal.sync_data()
            .map_err(|e| format!("the write-ahead log could not be flushed to disk: {e}"))?;
    }
    Ok(())
}

fn answer(group: Committed, synced: &Result<(), String>) {
    let Committed {
        jobs,
        done,
        started,
        ..
    } = group;
    match synced {
        Ok(()) => {
            let (first, last) = (done[0].0, done[done.len() - 1].0);
            tracing::info!(
                events = jobs.len(),
                first,
                last,
                deliveries = done.iter().map(|d| d.1).sum::<usize>(),
                us = started.elapsed().as_micros() as u64,
                "events stored"
            );
            for (job, (event_id, deliveries)) in jobs.into_iter().zip(done) {
                let accepted = Accepted {
                    event_id,
                    event: job.event,
                    deliveries,
                };
                let _ = job.reply.send(Ok(accepted));
            }
        }
        Err(e) => {
            // Committed but not known to be on disk: the sender is told to try again.
            tracing::error!(error = %e, events = jobs.len(), first = done[0].0, "events not acknowledged");
            for job in jobs {
                let _ = job.reply.send(Err(IngestError::Store(e.clone())));
            }
        }
    }
}
