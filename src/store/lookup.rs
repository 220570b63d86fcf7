//! Routing lookups: the subscriptions that could match events, found through the
//! `(target_kind, match_key)` index, one probe per key, whatever the size of the table.

use super::subscriptions::{key, Row, TargetKind, COLUMNS};
use crate::hub::repo::repo_key;
use crate::hub::Event;
use crate::route::{Subscription, Target};
use sqlx::SqliteConnection;
use std::collections::{BTreeSet, HashMap};

/// A routing lookup: every subscription sits under exactly one key, from its target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LookupKey {
    All,
    /// `type/owner/name`, lowercase.
    Repo(String),
    /// The owner, lowercase.
    Owner(String),
}

impl LookupKey {
    /// The key a subscription sits under.
    pub fn of(target: &Target) -> LookupKey {
        match key(target) {
            (TargetKind::All, _, _) => LookupKey::All,
            (TargetKind::Namespace, _, k) => LookupKey::Owner(k),
            (TargetKind::Repo, _, k) => LookupKey::Repo(k),
        }
    }

    /// `(target_kind, match_key)`: where the key's subscriptions are in the table.
    fn columns(&self) -> (TargetKind, &str) {
        match self {
            LookupKey::All => (TargetKind::All, "*"),
            LookupKey::Repo(r) => (TargetKind::Repo, r),
            LookupKey::Owner(o) => (TargetKind::Namespace, o),
        }
    }

    /// The keys under which an event's subscriptions may sit: `*`, its repo (and new name
    /// on a move), and their owners.
    pub fn for_event(e: &Event) -> Vec<LookupKey> {
        let mut keys = vec![LookupKey::All];
        for name in e.repo_names() {
            keys.push(LookupKey::Repo(repo_key(&e.repo.kind, name)));
            if let Some(ns) = name.namespace() {
                keys.push(LookupKey::Owner(ns.to_ascii_lowercase()));
            }
        }
        keys
    }
}

/// The subscriptions' version (see migrations/0004): it changes with every change to them.
pub async fn version(pool: &sqlx::SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = 'subscriptions'")
        .fetch_one(pool)
        .await
}

/// The subscriptions' version (see migrations/0004) and the subscriptions under each key,
/// read in one snapshot.
pub async fn lookup_at(
    pool: &sqlx::SqlitePool,
    keys: &BTreeSet<LookupKey>,
) -> anyhow::Result<(i64, HashMap<LookupKey, Vec<Subscription>>)> {
    let mut tx = pool.begin().await?;
    let version = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'subscriptions'")
        .fetch_one(&mut *tx)
        .await?;
    let found = lookup(&mut tx, keys).await?;
    tx.commit().await?;
    Ok((version, found))
}

/// The subscriptions under each key (every key asked for is in the answer, maybe with
/// none): one statement, one index probe per key, whatever the size of the table.
pub async fn lookup(
    conn: &mut SqliteConnection,
    keys: &BTreeSet<LookupKey>,
) -> anyhow::Result<HashMap<LookupKey, Vec<Subscription>>> {
    let mut found: HashMap<LookupKey, Vec<Subscription>> =
        keys.iter().map(|k| (k.clone(), vec![])).collect();
    // SQLite takes an empty `IN ()`: a kind with no key asked for finds nothing.
    // A workspace's subscription whose channel is not yet confirmed to be its own gets
    // nothing until it is (see chat/audit.rs).
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("");
    for kind in [TargetKind::All, TargetKind::Repo, TargetKind::Namespace] {
        if kind != TargetKind::All {
            q.push(" UNION ALL ");
        }
        q.push(format!(
            "SELECT {COLUMNS} FROM subscriptions WHERE target_kind = "
        ));
        q.push_bind(kind);
        q.push(" AND channel_checked = 1 AND match_key IN (");
        let mut list = q.separated(", ");
        for (_, value) in keys.iter().map(LookupKey::columns).filter(|c| c.0 == kind) {
            list.push_bind(value.to_string());
        }
        q.push(")");
    }
    let rows: Vec<Row> = q.build_query_as().fetch_all(&mut *conn).await?;
    for row in rows {
        // One damaged row must not stop every webhook: it is skipped, and said so.
        let sub = match row.into_subscription() {
            Ok(sub) => sub,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "subscription skipped in routing");
                continue;
            }
        };
        found
            .entry(LookupKey::of(&sub.target))
            .or_default()
            .push(sub);
    }
    Ok(found)
}

/// The subscriptions whose target could match the event, found by index.
pub async fn candidates(
    conn: &mut SqliteConnection,
    event: &Event,
) -> anyhow::Result<Vec<Subscription>> {
    let keys = LookupKey::for_event(event).into_iter().collect();
    let mut subs: Vec<Subscription> = lookup(conn, &keys).await?.into_values().flatten().collect();
    subs.sort_by_key(|s| s.id);
    Ok(subs)
}
