//! The Hub webhooks herald manages (migrations/0010): what the Hub last said about each,
//! how the last reconcile went, and who may reconcile it now.

use crate::hub::api::webhooks::{Watched, Webhook};
use sqlx::SqlitePool;

/// How a webhook's secret is remembered: SHA-256, hex.
pub fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// One managed webhook, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Managed {
    pub owner: String,
    pub hub_id: Option<String>,
    pub url: String,
    pub domains: String,
    watched: String,
    pub disabled: bool,
    left_out: String,
    pub version: i64,
    pub reconciled_at: Option<i64>,
    pub outcome: Option<String>,
    pub ok: bool,
    pub failures: i64,
    /// `disabled` while the channels were told it is disabled.
    pub announced: Option<String>,
    pub quota_warned_at: Option<i64>,
    /// SHA-256 of the secret last given to the Hub, hex.
    pub secret_hash: Option<String>,
}

impl Managed {
    pub fn watched(&self) -> Vec<Watched> {
        serde_json::from_str(&self.watched).unwrap_or_default()
    }

    /// Targets that cannot be watched, each with why.
    pub fn left_out(&self) -> Vec<(String, String)> {
        serde_json::from_str(&self.left_out).unwrap_or_default()
    }
}

/// A reconcile's result, as stored.
pub struct Outcome<'a> {
    /// What the Hub said the webhook is now; `None` when it was not reached.
    pub hook: Option<&'a Webhook>,
    /// The secret it was given, hashed (with `hook`).
    pub secret_hash: Option<&'a str>,
    pub left_out: &'a [(String, String)],
    /// The subscriptions' version it put on the Hub; `None` when it did not.
    pub version: Option<i64>,
    pub outcome: &'a str,
    pub ok: bool,
}

pub async fn get(pool: &SqlitePool, owner: &str) -> sqlx::Result<Option<Managed>> {
    sqlx::query_as(
        "SELECT owner, hub_id, url, domains, watched, disabled, left_out, version,
                reconciled_at, outcome, ok, failures, announced, quota_warned_at, secret_hash
         FROM hub_webhooks WHERE owner = ?",
    )
    .bind(owner)
    .fetch_optional(pool)
    .await
}

pub async fn all(pool: &SqlitePool) -> sqlx::Result<Vec<Managed>> {
    sqlx::query_as(
        "SELECT owner, hub_id, url, domains, watched, disabled, left_out, version,
                reconciled_at, outcome, ok, failures, announced, quota_warned_at, secret_hash
         FROM hub_webhooks ORDER BY owner = 'operator' DESC, owner",
    )
    .fetch_all(pool)
    .await
}

/// Takes (or extends) the right to reconcile `owner`'s webhook until `until`, unless
/// another process holds it: several processes on one database never both call the Hub.
pub async fn hold(
    pool: &SqlitePool,
    owner: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> sqlx::Result<bool> {
    sqlx::query("INSERT INTO hub_webhooks (owner) VALUES (?) ON CONFLICT (owner) DO NOTHING")
        .bind(owner)
        .execute(pool)
        .await?;
    let took = sqlx::query(
        "UPDATE hub_webhooks SET holder = ?, held_until = ?
         WHERE owner = ? AND (holder IS NULL OR holder = ? OR held_until < ?)",
    )
    .bind(holder)
    .bind(until)
    .bind(owner)
    .bind(holder)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(took.rows_affected() == 1)
}

/// Remembers what the channels were last told (`None`: nothing to remember).
pub async fn announced(pool: &SqlitePool, owner: &str, what: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE hub_webhooks SET announced = ? WHERE owner = ?")
        .bind(what)
        .bind(owner)
        .execute(pool)
        .await?;
    Ok(())
}

/// Marks the quota warning given (`Some(now)`) or to be given again (`None`); true when
/// this call changed it (of several processes, one gives the warning).
pub async fn quota_warned(pool: &SqlitePool, owner: &str, at: Option<i64>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE hub_webhooks SET quota_warned_at = ?1
         WHERE owner = ?2 AND (quota_warned_at IS NULL) = (?1 IS NOT NULL)",
    )
    .bind(at)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets a webhook that was never made (no id from the Hub).
pub async fn forget_unmade(pool: &SqlitePool, owner: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM hub_webhooks WHERE owner = ? AND hub_id IS NULL")
        .bind(owner)
        .execute(pool)
        .await?;
    Ok(())
}

/// Gives up the right to reconcile, so that another process may at once.
pub async fn release(pool: &SqlitePool, owner: &str, holder: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE hub_webhooks SET holder = NULL WHERE owner = ? AND holder = ?")
        .bind(owner)
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}

/// Remembers the webhook's id as soon as the Hub gives it, before anything else can fail:
/// a restart then finds it instead of creating another.
pub async fn set_id(pool: &SqlitePool, owner: &str, id: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE hub_webhooks SET hub_id = ? WHERE owner = ?")
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn record(
    pool: &SqlitePool,
    owner: &str,
    done: &Outcome<'_>,
    now: i64,
) -> sqlx::Result<()> {
    let left_out = serde_json::to_string(done.left_out).expect("plain strings");
    let hook = done.hook.map(|h| {
        (
            h.url.clone().unwrap_or_default(),
            h.domains.join(" "),
            serde_json::to_string(&h.watched).expect("plain strings"),
            h.disabled,
        )
    });
    sqlx::query(
        "UPDATE hub_webhooks SET
            url = COALESCE(?, url), domains = COALESCE(?, domains),
            watched = COALESCE(?, watched), disabled = COALESCE(?, disabled),
            secret_hash = COALESCE(?, secret_hash),
            left_out = ?, version = COALESCE(?, version), reconciled_at = ?, outcome = ?,
            ok = ?, failures = CASE WHEN ? THEN 0 ELSE failures + 1 END
         WHERE owner = ?",
    )
    .bind(hook.as_ref().map(|h| &h.0))
    .bind(hook.as_ref().map(|h| &h.1))
    .bind(hook.as_ref().map(|h| &h.2))
    .bind(hook.as_ref().map(|h| h.3))
    .bind(done.secret_hash)
    .bind(left_out)
    .bind(done.version)
    .bind(now)
    .bind(done.outcome)
    .bind(done.ok)
    .bind(done.ok)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Events an endpoint received since `since`, in all and for its busiest repos (at most
/// `top`): what the Hub counts against a webhook's daily triggers.
pub async fn triggers(
    pool: &SqlitePool,
    endpoint: &str,
    since: i64,
    top: i64,
) -> sqlx::Result<(i64, Vec<(String, i64)>)> {
    let busiest: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT repo_type, repo_name, COUNT(*) AS n FROM events
         WHERE received_at >= ? AND endpoint = ?
         GROUP BY repo_type, repo_name ORDER BY n DESC, repo_name LIMIT ?",
    )
    .bind(since)
    .bind(endpoint)
    .bind(top)
    .fetch_all(pool)
    .await?;
    let total =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE received_at >= ? AND endpoint = ?")
            .bind(since)
            .bind(endpoint)
            .fetch_one(pool)
            .await?;
    let named = busiest
        .into_iter()
        .map(|(kind, name, n)| match kind.as_str() {
            "model" | "" => (name, n),
            k => (format!("{k}s/{name}"), n),
        })
        .collect();
    Ok((total, named))
}
