//! The ingest writer's own SQLite connection: its few statements are prepared once and run
//! on the writer's thread. sqlx runs every statement on a thread of the connection's own;
//! under a burst those hand-offs cost more than the SQL, so this hot path, and only this
//! one, calls SQLite (the same library sqlx links) directly.

use super::raw::{Db, Stmt};
use crate::hub::Event;
use anyhow::Context;
use std::path::Path;

/// An event to store: the columns that routing and listings use, and the body.
pub struct EventRow<'a> {
    pub endpoint: &'a str,
    pub event: &'a Event,
    pub raw: &'a [u8],
}

/// A delivery to queue.
pub struct DeliveryRow<'a> {
    /// The index of its event in the group.
    pub event: usize,
    pub subscription: i64,
    pub channel: &'a str,
    /// Held for a digest due then (unix ms), rather than sent.
    pub held_until: Option<i64>,
}

pub struct Direct {
    begin: Stmt,
    commit: Stmt,
    rollback: Stmt,
    version: Stmt,
    event: Stmt,
    delivery: Stmt,
    usage: Stmt,
    db: Db,
}

impl Direct {
    /// Opens an existing, migrated database. A commit returns once it is on disk
    /// (`synchronous = FULL`): an acknowledged event survives a power cut.
    pub fn open(path: &Path) -> anyhow::Result<Direct> {
        let mut db = Db::open(path)?;
        db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        Ok(Direct {
            begin: db.prepare("BEGIN IMMEDIATE")?,
            commit: db.prepare("COMMIT")?,
            rollback: db.prepare("ROLLBACK")?,
            version: db.prepare("SELECT value FROM meta WHERE key = 'subscriptions'")?,
            event: db.prepare(super::events::INSERT)?,
            // Unlike `deliveries::enqueue`, which returns the id of a delivery already
            // there, this one needs no id back: a duplicate is simply not queued twice.
            delivery: db.prepare(
                "INSERT INTO deliveries (event_id, subscription_id, channel, status, due_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (event_id, channel) DO NOTHING",
            )?,
            usage: db.prepare(
                "INSERT INTO endpoint_usage (endpoint, day, events, bytes) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (endpoint, day) DO UPDATE
                 SET events = events + excluded.events, bytes = bytes + excluded.bytes",
            )?,
            db,
        })
    }

    /// Stores events and their deliveries in one transaction, if the subscriptions are
    /// still at `version` (the one they were routed with). Returns the events' ids, or
    /// None, having written nothing, when the subscriptions changed in the meantime.
    pub fn write(
        &mut self,
        version: i64,
        events: &[&EventRow],
        deliveries: &[DeliveryRow],
        now: i64,
    ) -> anyhow::Result<Option<Vec<i64>>> {
        self.db.stmt(self.begin)?.run()?;
        let written = self.insert(version, events, deliveries, now);
        let committed = match written {
            Ok(Some(ids)) => self.db.stmt(self.commit)?.run().map(|_| Some(ids)),
            other => other,
        };
        if !matches!(committed, Ok(Some(_))) {
            // Nothing is left half-done, whatever step failed.
            let _ = self.db.stmt(self.rollback).and_then(|s| s.run());
        }
        committed
    }

    fn insert(
        &mut self,
        version: i64,
        events: &[&EventRow],
        deliveries: &[DeliveryRow],
        now: i64,
    ) -> anyhow::Result<Option<Vec<i64>>> {
        if self.db.stmt(self.version)?.query_i64()? != version {
            return Ok(None);
        }
        let mut ids = Vec::with_capacity(events.len());
        for e in events {
            let mut s = self.db.stmt(self.event)?;
            s.bind_i64(1, now)?;
            s.bind_text(2, e.endpoint)?;
            s.bind_text(3, e.event.format.as_str())?;
            s.bind_text(4, e.event.scope.as_str())?;
            s.bind_text(5, e.event.action.as_str())?;
            s.bind_text(6, e.event.repo.kind.as_str())?;
            s.bind_text(7, e.event.repo.name.as_str())?;
            s.bind_blob(8, e.raw)?;
            s.run().context("cannot store an event")?;
            ids.push(self.db.last_insert_rowid());
        }
        // Each endpoint's use of its daily budget, counted with the events themselves: their
        // bodies and their deliveries.
        let mut used: Vec<(&str, i64, i64)> = Vec::new();
        let mut fanout = vec![0i64; events.len()];
        for d in deliveries {
            if let Some(n) = fanout.get_mut(d.event) {
                *n += 1;
            }
        }
        for (i, e) in events.iter().enumerate() {
            let bytes = e.raw.len() as i64 + super::usage::followed_bytes(fanout[i]);
            match used.iter_mut().find(|u| u.0 == e.endpoint) {
                Some(u) => (u.1, u.2) = (u.1 + 1, u.2 + bytes),
                None => used.push((e.endpoint, 1, bytes)),
            }
        }
        for (endpoint, count, bytes) in used {
            let mut s = self.db.stmt(self.usage)?;
            s.bind_text(1, endpoint)?;
            s.bind_i64(2, super::usage::day(now))?;
            s.bind_i64(3, count)?;
            s.bind_i64(4, bytes)?;
            s.run().context("cannot count an endpoint's use")?;
        }
        for d in deliveries {
            let id = ids.get(d.event).context("a delivery of no event")?;
            let mut s = self.db.stmt(self.delivery)?;
            s.bind_i64(1, *id)?;
            s.bind_i64(2, d.subscription)?;
            s.bind_text(3, d.channel)?;
            s.bind_text(
                4,
                if d.held_until.is_some() {
                    "held"
                } else {
                    "pending"
                },
            )?;
            s.bind_i64(5, d.held_until.unwrap_or(now))?;
            s.bind_i64(6, now)?;
            s.run().context("cannot queue a delivery")?;
        }
        Ok(Some(ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::payload;
    use crate::store::Store;

    const BODY: &[u8] = include_bytes!("../../templates/samples/discussion.json");

    async fn setup() -> (tempfile::TempDir, Store, Direct, Event) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let store = Store::open(&url).await.unwrap();
        let direct = Direct::open(&store.path).unwrap();
        (dir, store, direct, payload::parse(BODY).unwrap())
    }

    fn row(event: &Event) -> EventRow<'_> {
        EventRow {
            endpoint: "operator",
            event,
            raw: BODY,
        }
    }

    async fn count(store: &Store, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_group_is_stored_with_its_deliveries_under_consecutive_ids() {
        let (_dir, store, mut direct, event) = setup().await;
        let (a, b) = (row(&event), row(&event));
        let d = |event, subscription, channel| DeliveryRow {
            event,
            subscription,
            channel,
            held_until: None,
        };
        let deliveries = [
            d(0, 7, "console:a"),
            d(1, 7, "console:a"),
            d(1, 8, "console:b"),
        ];
        let ids = direct.write(0, &[&a, &b], &deliveries, 1).unwrap().unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[1], ids[0] + 1);
        assert_eq!(count(&store, "deliveries").await, 3);
        let stored = crate::store::events::get(&store.pool, ids[1])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.event().unwrap(),
            event,
            "the body reads back as the event"
        );
    }

    #[tokio::test]
    async fn nothing_is_written_when_the_subscriptions_moved_or_a_row_is_bad() {
        let (_dir, store, mut direct, event) = setup().await;
        let a = row(&event);
        let stale = direct.write(41, &[&a], &[], 1).unwrap();
        assert!(stale.is_none(), "routed at another version");
        let stray = DeliveryRow {
            event: 3,
            subscription: 7,
            channel: "console:a",
            held_until: None,
        };
        let bad = direct.write(0, &[&a], &[stray], 1);
        assert!(bad.is_err());
        assert_eq!(count(&store, "events").await, 0, "rolled back");
        // The connection is still usable after both.
        assert!(direct.write(0, &[&a], &[], 1).unwrap().is_some());
        assert_eq!(count(&store, "events").await, 1);
    }
}
