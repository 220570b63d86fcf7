//! A thin safe layer over the SQLite C API, for the ingest writer (see `direct`): a
//! connection that owns its prepared statements, each call checked, nothing else. The only
//! `unsafe` code of the crate is here.
//!
//! A statement is named by a [`Stmt`] key and used through [`Db::stmt`], which borrows the
//! connection: a statement cannot outlive its connection, nor run on another one.
#![allow(unsafe_code)]

use anyhow::{anyhow, bail, Context};
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Db {
    conn: NonNull<ffi::sqlite3>,
    /// Finalized before the connection closes.
    stmts: Vec<NonNull<ffi::sqlite3_stmt>>,
    /// Tells this connection's statement keys from another's.
    serial: u64,
}

/// A statement prepared on one connection: its key there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stmt {
    serial: u64,
    index: usize,
}

// SAFETY: `open` refuses a SQLite built without thread safety, and opens the connection in
// "multi-thread" mode (NOMUTEX): a connection and its statements may move between threads
// as long as one thread uses them at a time, which `&mut self` on every use guarantees.
unsafe impl Send for Db {}

impl Db {
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: a query of how the library was built.
        if unsafe { ffi::sqlite3_threadsafe() } == 0 {
            bail!("this SQLite is built single-threaded; herald needs SQLITE_THREADSAFE=1 or 2");
        }
        let name = CString::new(path.as_os_str().as_bytes())
            .with_context(|| format!("database path {} contains a NUL byte", path.display()))?;
        let mut conn = std::ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX;
        // SAFETY: a valid C string and out-pointer; on failure SQLite may still hand back a
        // handle, which `Db` then closes.
        let rc = unsafe { ffi::sqlite3_open_v2(name.as_ptr(), &mut conn, flags, std::ptr::null()) };
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        let db = Db {
            conn: NonNull::new(conn).ok_or_else(|| anyhow!("SQLite is out of memory"))?,
            stmts: Vec::new(),
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
        };
        if rc != ffi::SQLITE_OK {
            bail!("cannot open {}: {}", path.display(), db.error());
        }
        // SAFETY: an open connection.
        unsafe { ffi::sqlite3_busy_timeout(db.conn.as_ptr(), 10_000) };
        Ok(db)
    }

    pub fn exec(&mut self, sql: &str) -> anyhow::Result<()> {
        let sql = CString::new(sql)?;
        // SAFETY: an open connection and a C string; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.conn.as_ptr(),
                sql.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        self.check(rc)
    }

    /// Prepares `sql` on this connection, which keeps it until it closes.
    pub fn prepare(&mut self, sql: &str) -> anyhow::Result<Stmt> {
        let mut stmt = std::ptr::null_mut();
        let len = c_int::try_from(sql.len())?;
        // SAFETY: an open connection; the SQL is read within its length only.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.conn.as_ptr(),
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        self.check(rc)
            .with_context(|| format!("cannot prepare {sql}"))?;
        let stmt = NonNull::new(stmt).ok_or_else(|| anyhow!("empty statement: {sql}"))?;
        self.stmts.push(stmt);
        Ok(Stmt {
            serial: self.serial,
            index: self.stmts.len() - 1,
        })
    }

    /// A statement of this connection, ready to bind and run.
    pub fn stmt(&mut self, key: Stmt) -> anyhow::Result<Running<'_>> {
        if key.serial != self.serial {
            bail!("a statement of another connection");
        }
        let stmt = *self
            .stmts
            .get(key.index)
            .ok_or_else(|| anyhow!("no such statement"))?;
        Ok(Running { db: self, stmt })
    }

    pub fn last_insert_rowid(&self) -> i64 {
        // SAFETY: an open connection.
        unsafe { ffi::sqlite3_last_insert_rowid(self.conn.as_ptr()) }
    }

    fn check(&self, rc: c_int) -> anyhow::Result<()> {
        match rc {
            ffi::SQLITE_OK | ffi::SQLITE_ROW | ffi::SQLITE_DONE => Ok(()),
            _ => Err(anyhow!("{}", self.error())),
        }
    }

    fn error(&self) -> String {
        // SAFETY: SQLite returns a valid C string owned by the connection.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.conn.as_ptr())) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        for stmt in self.stmts.drain(..) {
            // SAFETY: each statement is finalized once, before its connection closes.
            unsafe { ffi::sqlite3_finalize(stmt.as_ptr()) };
        }
        // SAFETY: closed once; every statement is finalized, so it can close.
        let rc = unsafe { ffi::sqlite3_close(self.conn.as_ptr()) };
        if rc != ffi::SQLITE_OK {
            tracing::error!(
                code = rc,
                "the ingest writer's database connection did not close"
            );
        }
    }
}

/// A statement in use: it borrows its connection for as long as it is bound and run.
pub struct Running<'db> {
    db: &'db mut Db,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

impl Running<'_> {
    pub fn bind_i64(&mut self, i: c_int, v: i64) -> anyhow::Result<()> {
        // SAFETY: a live statement; SQLite checks the index.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.stmt.as_ptr(), i, v) };
        bound(rc)
    }

    pub fn bind_text(&mut self, i: c_int, v: &str) -> anyhow::Result<()> {
        let len = c_int::try_from(v.len()).context("text too long for SQLite")?;
        // SAFETY: a live statement, a length that is the buffer's own (never negative,
        // which would read up to a NUL); TRANSIENT makes SQLite copy the bytes at once.
        let rc = unsafe {
            let (p, d) = (v.as_ptr().cast(), ffi::SQLITE_TRANSIENT());
            ffi::sqlite3_bind_text(self.stmt.as_ptr(), i, p, len, d)
        };
        bound(rc)
    }

    pub fn bind_blob(&mut self, i: c_int, v: &[u8]) -> anyhow::Result<()> {
        let len = c_int::try_from(v.len()).context("body too long for SQLite")?;
        // SAFETY: as for text.
        let rc = unsafe {
            let (p, d) = (v.as_ptr().cast(), ffi::SQLITE_TRANSIENT());
            ffi::sqlite3_bind_blob(self.stmt.as_ptr(), i, p, len, d)
        };
        bound(rc)
    }

    /// Runs a statement that returns no rows, then resets it.
    pub fn run(mut self) -> anyhow::Result<()> {
        // SAFETY: a live statement of the borrowed connection.
        let rc = unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) };
        // The message is read before the reset, which may replace it.
        let done = match rc {
            ffi::SQLITE_DONE => Ok(()),
            _ => self
                .db
                .check(rc)
                .and_then(|_| Err(anyhow!("unexpected row"))),
        };
        self.reset();
        done
    }

    /// Runs a statement that returns one integer, then resets it.
    pub fn query_i64(mut self) -> anyhow::Result<i64> {
        // SAFETY: a live statement of the borrowed connection; the column is read while
        // the row is current.
        let value = unsafe {
            let rc = ffi::sqlite3_step(self.stmt.as_ptr());
            (rc == ffi::SQLITE_ROW).then(|| ffi::sqlite3_column_int64(self.stmt.as_ptr(), 0))
        };
        let value = value.ok_or_else(|| anyhow!("no row: {}", self.db.error()));
        self.reset();
        value
    }

    fn reset(&mut self) {
        // SAFETY: a live statement. Bindings are cleared so none outlives its call.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
            ffi::sqlite3_clear_bindings(self.stmt.as_ptr());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_runs_only_on_its_own_connection() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        for p in [&a, &b] {
            std::fs::File::create(p).unwrap();
        }
        let (mut a, mut b) = (Db::open(&a).unwrap(), Db::open(&b).unwrap());
        let one = a.prepare("SELECT 1").unwrap();
        assert_eq!(a.stmt(one).unwrap().query_i64().unwrap(), 1);
        let err = b.stmt(one).err().expect("refused");
        assert_eq!(err.to_string(), "a statement of another connection");
    }
}
