//! Hub accounts connected by workspaces, and the sign-ins in progress (migrations/0012).
//! Tokens are stored sealed (sealed.rs) and leave this module only opened, never logged.

use super::sealed::Sealer;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

/// Sign-ins one workspace may have in progress; an older one is forgotten.
const PENDING_MAX: i64 = 5;

/// A connected account, its secrets opened.
pub struct Account {
    pub workspace: String,
    pub username: String,
    pub token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<i64>,
    pub webhook_secret: String,
    pub revoked: Option<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("workspace", &self.workspace)
            .field("username", &self.username)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

type Row = (
    String,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<i64>,
    Vec<u8>,
    Option<String>,
);

fn open(sealer: &Sealer, r: Row) -> anyhow::Result<Account> {
    let ws = &r.0;
    Ok(Account {
        username: r.1.clone(),
        token: sealer.open(&r.2, &format!("{ws}/token"))?,
        refresh_token: r
            .3
            .as_deref()
            .map(|t| sealer.open(t, &format!("{ws}/refresh")))
            .transpose()?,
        expires_at: r.4,
        webhook_secret: sealer.open(&r.5, &format!("{ws}/webhook"))?,
        revoked: r.6,
        workspace: r.0,
    })
}

const COLUMNS: &str =
    "workspace, username, token, refresh_token, expires_at, webhook_secret, revoked";

pub async fn get(pool: &SqlitePool, sealer: &Sealer, ws: &str) -> anyhow::Result<Option<Account>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM hub_accounts WHERE workspace = ?"
    ))
    .bind(ws)
    .fetch_optional(pool)
    .await?;
    row.map(|r| open(sealer, r)).transpose()
}

/// The workspaces with an account, and whether it was revoked.
pub async fn connected(pool: &SqlitePool) -> sqlx::Result<Vec<(String, bool)>> {
    sqlx::query_as("SELECT workspace, revoked IS NOT NULL FROM hub_accounts ORDER BY workspace")
        .fetch_all(pool)
        .await
}

pub async fn any(pool: &SqlitePool) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM hub_accounts)")
        .fetch_one(pool)
        .await
}

/// Tokens as the Hub gave them.
pub struct Tokens<'a> {
    pub access: &'a str,
    pub refresh: Option<&'a str>,
    pub expires_at: Option<i64>,
}

/// A newly connected account.
pub struct Connected<'a> {
    pub workspace: &'a str,
    pub username: &'a str,
    pub tokens: Tokens<'a>,
    /// The secret of the webhook herald will manage under it.
    pub webhook_secret: &'a str,
    pub by: &'a str,
}

/// Stores (or replaces) the workspace's account.
pub async fn put(
    pool: &SqlitePool,
    sealer: &Sealer,
    c: &Connected<'_>,
    now: i64,
) -> sqlx::Result<()> {
    let ws = c.workspace;
    sqlx::query(
        "INSERT INTO hub_accounts (workspace, username, token, refresh_token, expires_at,
             webhook_secret, connected_by, connected_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workspace) DO UPDATE SET username = excluded.username,
             token = excluded.token, refresh_token = excluded.refresh_token,
             expires_at = excluded.expires_at, webhook_secret = excluded.webhook_secret,
             connected_by = excluded.connected_by, connected_at = excluded.connected_at,
             revoked = NULL",
    )
    .bind(ws)
    .bind(c.username)
    .bind(sealer.seal(c.tokens.access.as_bytes(), &format!("{ws}/token")))
    .bind(
        c.tokens
            .refresh
            .map(|t| sealer.seal(t.as_bytes(), &format!("{ws}/refresh"))),
    )
    .bind(c.tokens.expires_at)
    .bind(sealer.seal(c.webhook_secret.as_bytes(), &format!("{ws}/webhook")))
    .bind(c.by)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// New tokens after a refresh.
pub async fn refreshed(
    pool: &SqlitePool,
    sealer: &Sealer,
    ws: &str,
    tokens: &Tokens<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE hub_accounts SET token = ?, refresh_token = COALESCE(?, refresh_token),
             expires_at = ? WHERE workspace = ?",
    )
    .bind(sealer.seal(tokens.access.as_bytes(), &format!("{ws}/token")))
    .bind(
        tokens
            .refresh
            .map(|t| sealer.seal(t.as_bytes(), &format!("{ws}/refresh"))),
    )
    .bind(tokens.expires_at)
    .bind(ws)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks the token revoked; true the first time (the channels are told once).
pub async fn revoke(pool: &SqlitePool, ws: &str, why: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE hub_accounts SET revoked = ? WHERE workspace = ? AND revoked IS NULL")
            .bind(why)
            .bind(ws)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn forget(pool: &SqlitePool, ws: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM hub_accounts WHERE workspace = ?")
        .bind(ws)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Before a sign-in is stored in `table` (keyed by `key`): the expired ones go, and the
/// workspace's oldest beyond [`PENDING_MAX`] - 1, so that it never holds more.
async fn make_room(
    tx: &mut sqlx::SqliteConnection,
    table: &'static str,
    key: &'static str,
    ws: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < ?"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table}
         WHERE workspace = ? ORDER BY expires_at DESC LIMIT -1 OFFSET ?)"
    ))
    .bind(ws)
    .bind(PENDING_MAX - 1)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// A sign-in begun by `user` of `ws`: stores its state (hashed) and sealed verifier.
pub async fn begin(
    pool: &SqlitePool,
    sealer: &Sealer,
    state: &str,
    verifier: &str,
    who: (&str, &str, Option<&str>),
    expires_at: i64,
    now: i64,
) -> sqlx::Result<()> {
    let (ws, user, channel) = who;
    let mut tx = pool.begin().await?;
    make_room(&mut tx, "oauth_states", "state_hash", ws, now).await?;
    let hash = state_hash(state);
    sqlx::query("INSERT INTO oauth_states (state_hash, workspace, user, channel, verifier, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(&hash)
        .bind(ws)
        .bind(user)
        .bind(channel)
        .bind(sealer.seal(verifier.as_bytes(), &hash))
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A sign-in being finished.
pub struct Pending {
    pub workspace: String,
    pub user: String,
    pub channel: Option<String>,
    pub verifier: String,
    pub expired: bool,
}

/// Takes the sign-in `state` names, once: a second use finds nothing.
pub async fn take(
    pool: &SqlitePool,
    sealer: &Sealer,
    state: &str,
    now: i64,
) -> anyhow::Result<Option<Pending>> {
    let hash = state_hash(state);
    type Taken = (String, String, Option<String>, Vec<u8>, i64);
    let row: Option<Taken> = sqlx::query_as(
        "DELETE FROM oauth_states WHERE state_hash = ?
         RETURNING workspace, user, channel, verifier, expires_at",
    )
    .bind(&hash)
    .fetch_optional(pool)
    .await?;
    row.map(|(workspace, user, channel, verifier, expires_at)| {
        Ok(Pending {
            workspace,
            user,
            channel,
            verifier: sealer.open(&verifier, &hash)?,
            expired: expires_at < now,
        })
    })
    .transpose()
}

/// Wrong confirmation codes one user may type before their sign-ins are dropped.
const MISSES_MAX: i64 = 5;

/// A sign-in the Hub accepted, to be confirmed in chat.
pub struct Accepted<'a> {
    pub pending: &'a Pending,
    pub username: &'a str,
    pub access: &'a str,
    pub refresh: Option<&'a str>,
    pub expires_in: Option<i64>,
}

/// Stores an accepted sign-in under `code` until `expires_at`.
pub async fn accepted(
    pool: &SqlitePool,
    sealer: &Sealer,
    code: &str,
    a: &Accepted<'_>,
    expires_at: i64,
    now: i64,
) -> sqlx::Result<()> {
    let hash = state_hash(code);
    let mut tx = pool.begin().await?;
    make_room(
        &mut tx,
        "oauth_confirmations",
        "code_hash",
        &a.pending.workspace,
        now,
    )
    .await?;
    sqlx::query(
        "INSERT INTO oauth_confirmations (code_hash, workspace, user, channel, username, token,
             refresh, expires_in, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&hash)
    .bind(&a.pending.workspace)
    .bind(&a.pending.user)
    .bind(&a.pending.channel)
    .bind(a.username)
    .bind(sealer.seal(a.access.as_bytes(), &format!("{hash}/token")))
    .bind(
        a.refresh
            .map(|r| sealer.seal(r.as_bytes(), &format!("{hash}/refresh"))),
    )
    .bind(a.expires_in)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A confirmed sign-in, opened.
pub struct Confirmed {
    pub channel: Option<String>,
    pub username: String,
    pub access: String,
    pub refresh: Option<String>,
    pub expires_in: Option<i64>,
}

/// Takes the sign-in `code` confirms, if it is this user's of this workspace and not
/// expired; a wrong code counts against the user, whose sign-ins go after
/// [`MISSES_MAX`] of them.
pub async fn confirm(
    pool: &SqlitePool,
    sealer: &Sealer,
    who: (&str, &str),
    code: &str,
    now: i64,
) -> anyhow::Result<Option<Confirmed>> {
    let hash = state_hash(code.trim());
    type Row = (
        Option<String>,
        String,
        Vec<u8>,
        Option<Vec<u8>>,
        Option<i64>,
    );
    let row: Option<Row> = sqlx::query_as(
        "DELETE FROM oauth_confirmations WHERE code_hash = ? AND workspace = ? AND user = ?
             AND expires_at >= ?
         RETURNING channel, username, token, refresh, expires_in",
    )
    .bind(&hash)
    .bind(who.0)
    .bind(who.1)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some((channel, username, token, refresh, expires_in)) = row else {
        sqlx::query(
            "UPDATE oauth_confirmations SET misses = misses + 1 WHERE workspace = ? AND user = ?",
        )
        .bind(who.0)
        .bind(who.1)
        .execute(pool)
        .await?;
        sqlx::query(
            "DELETE FROM oauth_confirmations WHERE workspace = ? AND user = ? AND misses >= ?",
        )
        .bind(who.0)
        .bind(who.1)
        .bind(MISSES_MAX)
        .execute(pool)
        .await?;
        return Ok(None);
    };
    Ok(Some(Confirmed {
        channel,
        username,
        access: sealer.open(&token, &format!("{hash}/token"))?,
        refresh: refresh
            .map(|r| sealer.open(&r, &format!("{hash}/refresh")))
            .transpose()?,
        expires_in,
    }))
}
