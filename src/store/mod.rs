//! SQLite storage: events, subscriptions and the delivery outbox.

pub mod accounts;
pub mod activity;
pub mod deliveries;
pub mod direct;
pub mod endpoints;
pub mod enrichment;
pub mod events;
pub mod lookup;
pub mod notices;
mod raw;
pub mod sealed;
pub mod seen;
pub mod subscriptions;
pub mod templates;
pub mod threads;
pub mod usage;
pub mod webhooks;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// The schema's migrations, compiled in.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Store {
    pub pool: SqlitePool,
    /// The database file.
    pub path: std::path::PathBuf,
}

impl Store {
    /// Opens (creating if needed, readable by its owner only) and migrates the database.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        if url.starts_with("postgres") {
            anyhow::bail!(
                "database.url: PostgreSQL is not supported by this build yet; use sqlite://FILE"
            );
        }
        let opts = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("database.url \"{url}\" is not a sqlite:// URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged event survives a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let file = opts.get_filename();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if in_memory || file.as_os_str().is_empty() {
            anyhow::bail!("database.url \"{url}\" must name a file: events are kept on disk");
        }
        create_private(file)?;
        let path = file.to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.clone())
            .await
            .with_context(|| format!("cannot open the database {url}"))?;
        MIGRATOR
            .run(&pool)
            .await
            .context("cannot apply database migrations")?;
        Ok(Store { pool, path })
    }

    /// The versions of the migrations applied to the database at `pool`.
    pub async fn applied(pool: &SqlitePool) -> sqlx::Result<Vec<i64>> {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(pool)
            .await
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// Creates the file with mode 0600 before SQLite does, so that webhook bodies and
/// channel ids are never world-readable.
fn create_private(path: &std::path::Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(path)
        .with_context(|| format!("cannot create the database file {}", path.display()))?;
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn an_in_memory_database_is_refused_with_the_reason() {
        for url in ["sqlite::memory:", "sqlite://x.db?mode=memory"] {
            let e = super::Store::open(url).await.unwrap_err().to_string();
            assert!(e.contains("must name a file"), "{url}: {e}");
        }
        assert!(!std::path::Path::new("file:sqlx-in-memory-0").exists());
    }
}
