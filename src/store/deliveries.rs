//! The outbox: one row per (event, channel), claimed with a lease, finished as sent,
//! failed or skipped with the reason; or held for a digest, then told in it.

use sqlx::{Sqlite, SqliteConnection, SqlitePool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub event_id: i64,
    pub subscription_id: Option<i64>,
    pub channel: String,
    /// Including this one.
    pub attempts: i64,
    pub created_at: i64,
    /// Set on a head once its message was tried: the burst is then fixed (see [`assign`]).
    pub merged_into: Option<i64>,
}

/// Where a delivery is: waiting, leased to a send, or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Sending,
    Sent,
    Failed,
    /// Left out by a filter once the Hub API's facts were in (`last_error` says which).
    Skipped,
    /// Waiting, until `due_at`, for its channel's digest.
    Held,
    /// Told in the digest delivery `merged_into`.
    Digested,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Held => "held",
            Status::Digested => "digested",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Status::Sent | Status::Failed | Status::Skipped | Status::Digested
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub subscription_id: Option<i64>,
    pub channel: String,
    pub status: Status,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub note: Option<String>,
}

/// Adds a delivery; returns its id (that of the existing one if the event already goes
/// to this channel).
pub async fn enqueue(
    conn: &mut SqliteConnection,
    event_id: i64,
    subscription_id: Option<i64>,
    channel: &str,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO deliveries (event_id, subscription_id, channel, due_at, created_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (event_id, channel) DO UPDATE SET channel = excluded.channel
         RETURNING id",
    )
    .bind(event_id)
    .bind(subscription_id)
    .bind(channel)
    .bind(now)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn get(pool: &SqlitePool, id: i64) -> sqlx::Result<Option<Delivery>> {
    sqlx::query_as(
        "SELECT id, event_id, subscription_id, channel, status, attempts, last_error, message_id, note
         FROM deliveries WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The head of a channel's queue: its lowest delivery still to send (or being sent).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Head {
    pub id: i64,
    pub channel: String,
    pub status: Status,
    pub due_at: i64,
    pub lease_until: Option<i64>,
    pub created_at: i64,
    /// Whose subscription it serves: a workspace, or empty for the operator.
    pub owner: String,
}

/// Every channel's head, oldest first. Later deliveries of a channel wait behind it, so
/// order holds.
pub async fn heads(pool: &SqlitePool) -> sqlx::Result<Vec<Head>> {
    sqlx::query_as(
        "SELECT d.id, d.channel, d.status, d.due_at, d.lease_until, d.created_at,
                COALESCE(s.workspace, '') AS owner
         FROM deliveries d LEFT JOIN subscriptions s ON s.id = d.subscription_id
         WHERE d.id IN (SELECT MIN(id) FROM deliveries WHERE status IN ('pending', 'sending') GROUP BY channel)
         ORDER BY d.id",
    )
    .fetch_all(pool)
    .await
}

const CLAIMED: &str = "id, event_id, subscription_id, channel, attempts, created_at, merged_into";

/// Claims one delivery if it is due, or its sender's lease ran out (the sender died). One
/// statement, so two workers never share a row.
pub async fn claim(
    pool: &SqlitePool,
    id: i64,
    now: i64,
    lease_ms: i64,
) -> sqlx::Result<Option<Claimed>> {
    sqlx::query_as(&format!(
        "UPDATE deliveries SET status = 'sending', lease_until = ?1, attempts = attempts + 1
         WHERE id = ?3 AND ((status = 'pending' AND due_at <= ?2) OR (status = 'sending' AND lease_until <= ?2))
         RETURNING {CLAIMED}"
    ))
    .bind(now + lease_ms)
    .bind(now)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The deliveries queued right behind `after` in its channel, due now, oldest first, each
/// claimed (a burst to merge into one message).
pub async fn claim_followers(
    pool: &SqlitePool,
    channel: &str,
    after: i64,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> sqlx::Result<Vec<Claimed>> {
    let mut rows: Vec<Claimed> = sqlx::query_as(&format!(
        "UPDATE deliveries SET status = 'sending', lease_until = ?1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM deliveries WHERE channel = ?2 AND id > ?3 AND status = 'pending' AND due_at <= ?4
                      ORDER BY id LIMIT ?5)
         RETURNING {CLAIMED}"
    ))
    .bind(now + lease_ms)
    .bind(channel)
    .bind(after)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Ties deliveries to the message of `head` before it is sent, so that after a crash the
/// same burst is sent again under the same nonce, and no event is lost or doubled.
pub async fn assign(pool: &SqlitePool, ids: &[i64], head: i64) -> sqlx::Result<()> {
    let mut update = sqlx::QueryBuilder::new("UPDATE deliveries SET merged_into = ");
    update.push_bind(head);
    update_ids(pool, update, ids).await
}

/// Claims again the deliveries already tied to `head`'s message (a burst interrupted by a
/// crash or a retry).
pub async fn claim_assigned(
    pool: &SqlitePool,
    head: i64,
    now: i64,
    lease_ms: i64,
) -> sqlx::Result<Vec<Claimed>> {
    let mut rows: Vec<Claimed> = sqlx::query_as(&format!(
        "UPDATE deliveries SET status = 'sending', lease_until = ?1, attempts = attempts + 1
         WHERE merged_into = ?2 AND id != ?2 AND status IN ('pending', 'sending') RETURNING {CLAIMED}"
    ))
    .bind(now + lease_ms)
    .bind(head)
    .fetch_all(pool)
    .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Puts deliveries back in the queue untouched (not sent, and not counted as a try).
pub async fn release(pool: &SqlitePool, ids: &[i64]) -> sqlx::Result<()> {
    let update = sqlx::QueryBuilder::new(
        "UPDATE deliveries SET status = 'pending', lease_until = NULL, merged_into = NULL, attempts = attempts - 1",
    );
    update_ids(pool, update, ids).await
}

/// Runs `UPDATE … WHERE id IN (ids)`: one statement, so one commit (one disk flush) for
/// all of them.
async fn update_ids(
    pool: &SqlitePool,
    mut update: sqlx::QueryBuilder<'_, Sqlite>,
    ids: &[i64],
) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    update.push(" WHERE id IN (");
    let mut list = update.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    update.push(")").build().execute(pool).await?;
    Ok(())
}

/// Marks a delivery sent, with every delivery tied to its message (a merged burst).
pub async fn mark_sent(
    pool: &SqlitePool,
    id: i64,
    message_id: &str,
    note: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    // One statement for the message's whole burst: a crash can never leave part of it
    // open, to be sent a second time on its own.
    sqlx::query(
        "UPDATE deliveries SET status = 'sent', message_id = ?1, sent_at = ?2, lease_until = NULL, last_error = NULL,
             note = CASE WHEN id = ?3 THEN ?4 ELSE note END
         WHERE id = ?3 OR (merged_into = ?3 AND status = 'sending')",
    )
    .bind(message_id)
    .bind(now)
    .bind(id)
    .bind(note)
    .execute(pool)
    .await?;
    Ok(())
}

/// Puts a delivery back in the queue, to be tried again at `due_at`. A rate limit is not
/// a failed try, and its message was not posted: `counted: false` gives the try back and
/// lets the burst be gathered anew.
pub async fn retry_at(
    pool: &SqlitePool,
    id: i64,
    reason: &str,
    due_at: i64,
    counted: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 'pending', due_at = ?1, lease_until = NULL, last_error = ?2,
             attempts = attempts - ?3, merged_into = CASE WHEN ?3 = 1 THEN NULL ELSE merged_into END WHERE id = ?4",
    )
    .bind(due_at)
    .bind(reason)
    .bind(i64::from(!counted))
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Finishes a delivery that a filter left out, with which and why.
pub async fn mark_skipped(pool: &SqlitePool, id: i64, reason: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 'skipped', lease_until = NULL, last_error = ? WHERE id = ?",
    )
    .bind(reason)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn mark_failed(pool: &SqlitePool, id: i64, reason: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 'failed', lease_until = NULL, last_error = ? WHERE id = ?",
    )
    .bind(reason)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn for_event(pool: &SqlitePool, event_id: i64) -> sqlx::Result<Vec<Delivery>> {
    sqlx::query_as(
        "SELECT id, event_id, subscription_id, channel, status, attempts, last_error, message_id, note
         FROM deliveries WHERE event_id = ? ORDER BY id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await
}
