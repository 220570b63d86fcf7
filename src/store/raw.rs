//! A thin safe layer over the SQLite C API, for the ingest writer (see `direct`): a
//! connection and its prepared statements, each call checked, nothing else.

use anyhow::{anyhow, bail, Context};
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::path::Path;
use std::ptr::NonNull;

pub struct Db(NonNull<ffi::sqlite3>);

impl Db {
    pub fn open(path: &Path) -> anyhow::Result<Db> {
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

    pub fn exec(&self, sql: &str) -> anyhow::Result<()> {
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

    pub fn prepare(&self, sql: &str) -> anyhow::Result<Stmt> {
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

    pub fn last_insert_rowid(&self) -> i64 {
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
pub struct Stmt(NonNull<ffi::sqlite3_stmt>);

impl Stmt {
    pub fn bind_i64(&mut self, i: c_int, v: i64) -> anyhow::Result<()> {
        // SAFETY: a live statement; SQLite checks the index.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.0.as_ptr(), i, v) };
        bound(rc)
    }

    pub fn bind_text(&mut self, i: c_int, v: &str) -> anyhow::Result<()> {
        let len = c_int::try_from(v.len()).context("text too long for SQLite")?;
        // SAFETY: a live statement, a length that is the buffer's own (never negative,
        // which would read up to a NUL); TRANSIENT makes SQLite copy the bytes at once.
        let rc = unsafe {
            let (p, d) = (v.as_ptr().cast(), ffi::SQLITE_TRANSIENT());
            ffi::sqlite3_bind_text(self.0.as_ptr(), i, p, len, d)
        };
        bound(rc)
    }

    pub fn bind_blob(&mut self, i: c_int, v: &[u8]) -> anyhow::Result<()> {
        let len = c_int::try_from(v.len()).context("body too long for SQLite")?;
        // SAFETY: as for text.
        let rc = unsafe {
            let (p, d) = (v.as_ptr().cast(), ffi::SQLITE_TRANSIENT());
            ffi::sqlite3_bind_blob(self.0.as_ptr(), i, p, len, d)
        };
        bound(rc)
    }

    /// Runs a statement that returns no rows, then resets it.
    pub fn run(&mut self, db: &Db) -> anyhow::Result<()> {
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
    pub fn query_i64(&mut self, db: &Db) -> anyhow::Result<i64> {
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
