//! The ingest writer's own SQLite connection: its few statements are prepared once and run
//! on the writer's thread. sqlx runs every statement on a thread of the connection's own;
//! under a burst those hand-offs cost more than the SQL, so this hot path, and only this
//! one, calls SQLite (the same library sqlx links) directly.

use crate::hub::Event;
use anyhow::{anyhow, bail, Context};
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::path::Path;
use std::ptr::NonNull;

/// An event to store: the columns that routing and listings use, and the body.
pub struct EventRow<'a> {
    pub endpoint: &'a str,
    pub event: &'a Event,
    pub raw: &'a [u8],
}

/// A delivery to queue: the index of its event in the group, the subscription, the channel.
pub type DeliveryRow<'a> = (usize, i64, &'a str);

pub struct Direct {
    // Statements are declared first so that they are finalized before the connection closes.
    begin: Stmt,
    commit: Stmt,
    rollback: Stmt,
    version: Stmt,
    event: Stmt,
    delivery: Stmt,
    db: Db,
}

// SAFETY: SQLite is built thread-safe and the connection is opened without a mutex
// ("multi-thread" mode): it may move between threads as long as one uses it at a time,
// which `&mut self` on every method guarantees.
unsafe impl Send for Direct {}

impl Direct {
    /// Opens an existing, migrated database. A commit returns once it is on disk
    /// (`synchronous = FULL`): an acknowledged event survives a power cut.
    pub fn open(path: &Path) -> anyhow::Result<Direct> {
        let db = Db::open(path)?;
        db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        Ok(Direct {
            begin: db.prepare("BEGIN IMMEDIATE")?,
            commit: db.prepare("COMMIT")?,
            rollback: db.prepare("ROLLBACK")?,
            version: db.prepare("SELECT value FROM meta WHERE key = 'subscriptions'")?,
            event: db.prepare(
                "INSERT INTO events (received_at, endpoint, format, scope, action, repo_type, repo_name, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            delivery: db.prepare(
                "INSERT INTO deliveries (event_id, subscription_id, channel, due_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (event_id, channel) DO NOTHING",
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
        self.begin.run(&self.db)?;
        let written = self.insert(version, events, deliveries, now);
        let committed = match written {
            Ok(Some(ids)) => self.commit.run(&self.db).map(|_| Some(ids)),
            other => other,
        };
        if !matches!(committed, Ok(Some(_))) {
            // Nothing is left half-done, whatever step failed.
            let _ = self.rollback.run(&self.db);
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
        if self.version.query_i64(&self.db)? != version {
            return Ok(None);
        }
        let mut ids = Vec::with_capacity(events.len());
        for e in events {
            let s = &mut self.event;
            s.bind_i64(1, now)?;
            s.bind_text(2, e.endpoint)?;
            s.bind_text(3, e.event.format.as_str())?;
            s.bind_text(4, e.event.scope.as_str())?;
            s.bind_text(5, e.event.action.as_str())?;
            s.bind_text(6, e.event.repo.kind.as_str())?;
            s.bind_text(7, e.event.repo.name.as_str())?;
            s.bind_blob(8, e.raw)?;
            s.run(&self.db).context("cannot store an event")?;
            ids.push(self.db.last_insert_rowid());
        }
        for &(event, subscription, channel) in deliveries {
            let s = &mut self.delivery;
            let id = ids.get(event).context("a delivery of no event")?;
            s.bind_i64(1, *id)?;
            s.bind_i64(2, subscription)?;
            s.bind_text(3, channel)?;
            s.bind_i64(4, now)?;
            s.run(&self.db).context("cannot queue a delivery")?;
        }
        Ok(Some(ids))
    }
}

struct Db(NonNull<ffi::sqlite3>);

impl Db {
    fn open(path: &Path) -> anyhow::Result<Db> {
        use std::os::unix::ffi::OsStrExt;
        let name = CString::new(path.as_os_str().as_bytes())
            .with_context(|| format!("database path {} contains a NUL byte", path.display()))?;
        let mut db = std::ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX;
        // SAFETY: a valid C string and out-pointer; on failure SQLite may still hand back a
        // handle, which `Db` then closes.
        let rc = unsafe { ffi::sqlite3_open_v2(name.as_ptr(), &mut db, flags, std::ptr::null()) };
        let db = Db(NonNull::new(db).ok_or_else(|| anyhow!("SQLite is out of memory"))?);
        if rc != ffi::SQLITE_OK {
            bail!("cannot open {}: {}", path.display(), db.error());
        }
        // SAFETY: an open connection.
        unsafe { ffi::sqlite3_busy_timeout(db.0.as_ptr(), 10_000) };
        Ok(db)
    }

    fn exec(&self, sql: &str) -> anyhow::Result<()> {
        let sql = CString::new(sql)?;
        // SAFETY: an open connection and a C string; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.0.as_ptr(),
                sql.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        self.check(rc)
    }

    fn prepare(&self, sql: &str) -> anyhow::Result<Stmt> {
        let mut stmt = std::ptr::null_mut();
        let len = c_int::try_from(sql.len())?;
        // SAFETY: an open connection; the SQL is read within its length only.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.0.as_ptr(),
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        self.check(rc)
            .with_context(|| format!("cannot prepare {sql}"))?;
        NonNull::new(stmt)
            .map(Stmt)
            .ok_or_else(|| anyhow!("empty statement: {sql}"))
    }

    fn last_insert_rowid(&self) -> i64 {
        // SAFETY: an open connection.
        unsafe { ffi::sqlite3_last_insert_rowid(self.0.as_ptr()) }
    }

    fn check(&self, rc: c_int) -> anyhow::Result<()> {
        match rc {
            ffi::SQLITE_OK | ffi::SQLITE_ROW | ffi::SQLITE_DONE => Ok(()),
            _ => Err(anyhow!("{}", self.error())),
        }
    }

    fn error(&self) -> String {
        // SAFETY: SQLite returns a valid C string owned by the connection.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0.as_ptr())) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: closed once, after `Direct`'s statements (declared before it) are finalized.
        unsafe { ffi::sqlite3_close(self.0.as_ptr()) };
    }
}

/// A prepared statement.
struct Stmt(NonNull<ffi::sqlite3_stmt>);

impl Stmt {
    fn bind_i64(&mut self, i: c_int, v: i64) -> anyhow::Result<()> {
        // SAFETY: a live statement; SQLite checks the index.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.0.as_ptr(), i, v) };
        bound(rc)
    }

    fn bind_text(&mut self, i: c_int, v: &str) -> anyhow::Result<()> {
        let len = c_int::try_from(v.len()).context("text too long for SQLite")?;
        // SAFETY: a live statement, a length that is the buffer's own (never negative,
        // which would read up to a NUL); TRANSIENT makes SQLite copy the bytes at once.
        let rc = unsafe {
            let (p, d) = (v.as_ptr().cast(), ffi::SQLITE_TRANSIENT());
            ffi::sqlite3_bind_text(self.0.as_ptr(), i, p, len, d)
        };
        bound(rc)
    }

    fn bind_blob(&mut self, i: c_int, v: &[u8]) -> anyhow::Result<()> {
        let len = c_int::try_from(v.len()).context("body too long for SQLite")?;
        // SAFETY: as for text.
        let rc = unsafe {
            let (p, d) = (v.as_ptr().cast(), ffi::SQLITE_TRANSIENT());
            ffi::sqlite3_bind_blob(self.0.as_ptr(), i, p, len, d)
        };
        bound(rc)
    }

    /// Runs a statement that returns no rows, then resets it.
    fn run(&mut self, db: &Db) -> anyhow::Result<()> {
        // SAFETY: a live statement of `db`.
        let rc = unsafe { ffi::sqlite3_step(self.0.as_ptr()) };
        // The message is read before the reset, which may replace it.
        let done = match rc {
            ffi::SQLITE_DONE => Ok(()),
            _ => db.check(rc).and_then(|_| Err(anyhow!("unexpected row"))),
        };
        self.reset();
        done
    }

    /// Runs a statement that returns one integer, then resets it.
    fn query_i64(&mut self, db: &Db) -> anyhow::Result<i64> {
        // SAFETY: a live statement of `db`; the column is read while the row is current.
        let value = unsafe {
            let rc = ffi::sqlite3_step(self.0.as_ptr());
            (rc == ffi::SQLITE_ROW).then(|| ffi::sqlite3_column_int64(self.0.as_ptr(), 0))
        };
        let value = value.ok_or_else(|| anyhow!("no row: {}", db.error()));
        self.reset();
        value
    }

    fn reset(&mut self) {
        // SAFETY: a live statement. Bindings are cleared so none outlives its call.
        unsafe {
            ffi::sqlite3_reset(self.0.as_ptr());
            ffi::sqlite3_clear_bindings(self.0.as_ptr());
        }
    }
}

fn bound(rc: c_int) -> anyhow::Result<()> {
    match rc {
        ffi::SQLITE_OK => Ok(()),
        // SAFETY: SQLite's static description of a result code.
        _ => Err(anyhow!("{}", unsafe {
            CStr::from_ptr(ffi::sqlite3_errstr(rc)).to_string_lossy()
        })),
    }
}

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: finalized once.
        unsafe { ffi::sqlite3_finalize(self.0.as_ptr()) };
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
        let deliveries = [
            (0, 7, "console:a"),
            (1, 7, "console:a"),
            (1, 8, "console:b"),
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
        let bad = direct.write(0, &[&a], &[(3, 7, "console:a")], 1);
        assert!(bad.is_err());
        assert_eq!(count(&store, "events").await, 0, "rolled back");
        // The connection is still usable after both.
        assert!(direct.write(0, &[&a], &[], 1).unwrap().is_some());
        assert_eq!(count(&store, "events").await, 1);
    }
}
