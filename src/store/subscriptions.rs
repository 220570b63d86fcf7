//! The subscriptions table. Lookups for routing go through its `(target_kind, match_key)`
//! index: one probe per repo name, one per namespace, one for `*`.

use crate::hub::repo::repo_key;
use crate::hub::Scope;
use crate::route::subscription::merge_scopes;
use crate::route::subscription::{Rules, Source, Threads};
use crate::route::Filter;
use crate::route::{Channel, Subscription, Target};
use anyhow::Context;
use sqlx::{SqliteConnection, SqlitePool};

/// What a user asked for, before it has an id.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub target: Target,
    pub scopes: Vec<Scope>,
    pub channel: Channel,
    /// `None`: the operator's; else the workspace that owns it.
    pub workspace: Option<String>,
    pub source: Source,
    pub created_by: String,
    pub threads: Threads,
    pub rules: Rules,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    Created,
    /// The target already went to that channel; its scopes were widened.
    Widened,
    Unchanged,
}

#[derive(sqlx::FromRow)]
pub(super) struct Row {
    id: i64,
    target: String,
    scopes: String,
    channel: String,
    workspace: Option<String>,
    /// Read as text, like `threads`: one row with a value this herald does not know is
    /// skipped, not every row of the query failed (the columns have no CHECK).
    source: String,
    created_at: i64,
    created_by: String,
    threads: String,
    paused_reason: Option<String>,
    own_account: bool,
    filter: String,
    all_events: bool,
    mode: String,
    tz: String,
}

impl Row {
    pub(super) fn into_subscription(self) -> anyhow::Result<Subscription> {
        let tz = self.tz.clone();
        let bad =
            |what: &str| format!("subscription #{} has a bad {what} in the database", self.id);
        Ok(Subscription {
            id: self.id,
            target: Target::parse_stored(&self.target).with_context(|| bad("target"))?,
            scopes: self
                .scopes
                .split_whitespace()
                .map(Scope::parse)
                .collect::<Result<_, _>>()
                .with_context(|| bad("scope"))?,
            channel: Channel::parse(&self.channel).with_context(|| bad("channel"))?,
            workspace: self.workspace,
            source: Source::parse(&self.source).with_context(|| bad("source"))?,
            created_at: self.created_at,
            created_by: self.created_by,
            threads: Threads::parse(&self.threads).with_context(|| bad("threads mode"))?,
            paused: self.paused_reason,
            own_account: self.own_account,
            rules: Rules::parse(
                Some(self.filter.as_str()),
                self.all_events,
                // Most are instant: no zone to look up (the one kept is kept for later).
                Some(self.mode.as_str()).filter(|m| *m != "instant"),
                Some(self.tz.as_str()).filter(|_| self.mode != "instant"),
            )
            .map(|mut r| {
                r.schedule.tz = tz;
                r
            })
            .map_err(anyhow::Error::msg)
            .with_context(|| bad("filter or mode"))?,
        })
    }
}

pub(super) const COLUMNS: &str =
    "id, target, scopes, channel, workspace, source, created_at, created_by, threads, paused_reason,
     filter, all_events, mode, tz,
     EXISTS (SELECT 1 FROM hub_accounts a JOIN hub_webhooks w ON w.owner = a.workspace
             WHERE a.workspace = subscriptions.workspace AND a.revoked IS NULL
             AND w.hub_id IS NOT NULL) AS own_account";

/// The `target_kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
pub enum TargetKind {
    All,
    Repo,
    Namespace,
}

/// `(target_kind, repo_type, match_key)`: how a target is keyed for lookups.
pub(super) fn key(target: &Target) -> (TargetKind, String, String) {
    match target {
        Target::All => (TargetKind::All, String::new(), "*".into()),
        Target::Namespace { owner, kind } => (
            TargetKind::Namespace,
            kind.as_ref().map(|k| k.to_string()).unwrap_or_default(),
            owner.to_ascii_lowercase(),
        ),
        Target::Repo { kind, name } => (TargetKind::Repo, kind.to_string(), repo_key(kind, name)),
    }
}

/// The rules as their text columns.
struct RulesColumns {
    filter: String,
    mode: String,
}

impl RulesColumns {
    fn of(rules: &Rules) -> RulesColumns {
        RulesColumns {
            filter: rules
                .filter
                .as_ref()
                .map(|f| f.to_string())
                .unwrap_or_default(),
            mode: rules.schedule.mode_text(),
        }
    }
}

/// Sets a subscription's filter (`None`: removes it).
pub async fn set_filter(pool: &SqlitePool, id: i64, filter: Option<&Filter>) -> sqlx::Result<()> {
    let text = filter.map(|f| f.to_string()).unwrap_or_default();
    sqlx::query("UPDATE subscriptions SET filter = ? WHERE id = ?")
        .bind(text)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

fn join_scopes(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(Scope::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds a subscription, or widens the scopes of the one that already sends this target
/// to this channel.
pub async fn add(
    conn: &mut SqliteConnection,
    new: &NewSubscription,
    now: i64,
) -> anyhow::Result<(Subscription, Added)> {
    let (id, added) = match own(conn, new).await? {
        Some(old) => {
            let merged = merge_scopes(&old.scopes, &new.scopes);
            let same = merged == old.scopes && new.threads == old.threads && new.rules == old.rules;
            if same && old.paused.is_none() {
                return Ok((old, Added::Unchanged));
            }
            // Subscribing again also resumes a paused subscription; its filter and mode
            // are the latest asked for.
            let rules = RulesColumns::of(&new.rules);
            sqlx::query(
                "UPDATE subscriptions SET scopes = ?, threads = ?, filter = ?, all_events = ?, mode = ?, tz = ?,
                     paused_reason = NULL, failures = 0, channel_checked = 1 WHERE id = ?",
            )
            .bind(join_scopes(&merged))
            .bind(new.threads)
            .bind(&rules.filter)
            .bind(new.rules.all)
            .bind(&rules.mode)
            .bind(&new.rules.schedule.tz)
            .bind(old.id)
            .execute(&mut *conn)
            .await?;
            (old.id, Added::Widened)
        }
        None => (insert(&mut *conn, new, now, false).await?, Added::Created),
    };
    let row: Row = sqlx::query_as(&format!("SELECT {COLUMNS} FROM subscriptions WHERE id = ?"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.into_subscription()?, added))
}

/// The subscription of `new`'s owner that sends its target to its channel, if any. Only
/// the owner's own: another owner's subscription to the same channel is never seen here.
pub async fn own(
    conn: &mut SqliteConnection,
    new: &NewSubscription,
) -> anyhow::Result<Option<Subscription>> {
    let (kind, repo_type, match_key) = key(&new.target);
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions
         WHERE target_kind = ? AND repo_type = ? AND match_key = ? AND channel = ? AND workspace IS ?"
    ))
    .bind(kind)
    .bind(&repo_type)
    .bind(&match_key)
    .bind(new.channel.to_string())
    .bind(&new.workspace)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Row::into_subscription).transpose()
}

/// Counts a delivery's outcome against its subscription: a success clears the count, and
/// `limit` permanent failures in a row pause it with the last reason.
pub async fn record_outcome(
    pool: &SqlitePool,
    id: i64,
    failure: Option<&str>,
    limit: i64,
) -> sqlx::Result<bool> {
    match failure {
        None => {
            sqlx::query("UPDATE subscriptions SET failures = 0 WHERE id = ? AND failures > 0")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(false)
        }
        Some(reason) => {
            let paused: Option<Option<String>> = sqlx::query_scalar(
                "UPDATE subscriptions SET failures = failures + 1,
                     paused_reason = CASE WHEN failures + 1 >= ? THEN ? ELSE paused_reason END
                 WHERE id = ? RETURNING paused_reason",
            )
            .bind(limit)
            .bind(reason)
            .bind(id)
            .fetch_optional(pool)
            .await?;
            Ok(paused.flatten().is_some())
        }
    }
}

/// Inserts a row. With `replace`, the row already sending this target to this channel
/// takes the new scopes and source instead (config is the source of truth for its own).
async fn insert(
    conn: &mut SqliteConnection,
    new: &NewSubscription,
    now: i64,
    replace: bool,
) -> sqlx::Result<i64> {
    let (kind, repo_type, match_key) = key(&new.target);
    let rules = RulesColumns::of(&new.rules);
    let upsert = if replace {
        "ON CONFLICT (target_kind, match_key, repo_type, channel, COALESCE(workspace, ''))
         DO UPDATE SET scopes = excluded.scopes, source = excluded.source, threads = excluded.threads,
             filter = excluded.filter, all_events = excluded.all_events, mode = excluded.mode, tz = excluded.tz"
    } else {
        ""
    };
    sqlx::query_scalar(&format!(
        "INSERT INTO subscriptions (target, target_kind, repo_type, match_key, scopes, channel, workspace, source, created_at, created_by, threads,
             filter, all_events, mode, tz, channel_checked)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) {upsert} RETURNING id"
    ))
    .bind(new.target.to_string())
    .bind(kind)
    .bind(repo_type)
    .bind(match_key)
    .bind(join_scopes(&new.scopes))
    .bind(new.channel.to_string())
    .bind(&new.workspace)
    .bind(new.source)
    .bind(now)
    .bind(&new.created_by)
    .bind(new.threads)
    .bind(&rules.filter)
    .bind(new.rules.all)
    .bind(&rules.mode)
    .bind(&new.rules.schedule.tz)
    .fetch_one(conn)
    .await
}

pub async fn get(pool: &SqlitePool, id: i64) -> anyhow::Result<Option<Subscription>> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM subscriptions WHERE id = ?"))
            .bind(id)
            .fetch_optional(pool)
            .await?;
    row.map(Row::into_subscription).transpose()
}

pub async fn remove(pool: &SqlitePool, id: i64) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM subscriptions WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A workspace's subscriptions (`None`: the operator's).
pub async fn list_for(
    pool: &SqlitePool,
    workspace: Option<&str>,
) -> anyhow::Result<Vec<Subscription>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE workspace IS ? ORDER BY id"
    ))
    .bind(workspace)
    .fetch_all(pool)
    .await?;
    Ok(readable(rows))
}

/// How many subscriptions a workspace has.
pub async fn count_for(conn: &mut SqliteConnection, workspace: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE workspace = ?")
        .bind(workspace)
        .fetch_one(conn)
        .await
}

/// Workspace subscriptions whose channel was never confirmed to be of their workspace
/// (stored before herald checked): `(id, workspace, channel)`.
pub async fn unchecked(pool: &SqlitePool) -> sqlx::Result<Vec<(i64, String, String)>> {
    sqlx::query_as(
        "SELECT id, workspace, channel FROM subscriptions
         WHERE channel_checked = 0 AND workspace IS NOT NULL ORDER BY id",
    )
    .fetch_all(pool)
    .await
}

/// Records the check of a subscription's channel: confirmed, or paused with the reason.
pub async fn checked(pool: &SqlitePool, id: i64, refused: Option<&str>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE subscriptions SET channel_checked = 1,
             paused_reason = COALESCE(?, paused_reason) WHERE id = ?",
    )
    .bind(refused)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn list(pool: &SqlitePool) -> anyhow::Result<Vec<Subscription>> {
    let rows: Vec<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM subscriptions ORDER BY id"))
            .fetch_all(pool)
            .await?;
    Ok(readable(rows))
}

/// The rows that read as subscriptions: one damaged row (written by another version, say)
/// is logged and left out, and the others are still listed, reconciled and changed.
fn readable(rows: Vec<Row>) -> Vec<Subscription> {
    rows.into_iter()
        .filter_map(|r| match r.into_subscription() {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "subscription left out of a list");
                None
            }
        })
        .collect()
}

/// Makes the `config` subscriptions exactly those declared in bot.toml, keeping the ids
/// of those that did not change.
pub async fn sync_config(
    pool: &SqlitePool,
    declared: &[NewSubscription],
    now: i64,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let mut kept = Vec::new();
    for new in declared {
        let id = insert(&mut tx, new, now, true).await?;
        kept.push(id.to_string());
    }
    sqlx::query(&format!(
        "DELETE FROM subscriptions WHERE source = 'config' AND id NOT IN ({})",
        kept.join(",")
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
