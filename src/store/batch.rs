//! Writing a group of webhooks: one transaction, in as few round trips to SQLite as
//! possible (`BEGIN` rides with the first insert, `COMMIT` with the last), because each
//! round trip is a hop to the connection's thread, and a burst pays for every one.

use crate::hub::Event;
use sqlx::{Sqlite, SqliteConnection};

type Builder<'a> = sqlx::QueryBuilder<'a, Sqlite>;

/// Rows per statement (SQLite allows 32,766 parameters; an event row has 9).
const EVENTS_PER_STATEMENT: usize = 100;
const DELIVERIES_PER_STATEMENT: usize = 150;

/// Opens the write transaction and inserts the events. Returns their ids, in order, and
/// the subscriptions' version (see migrations/0004), read under the same lock.
pub async fn begin(
    conn: &mut SqliteConnection,
    events: &[(&str, &[u8], &Event)],
    now: i64,
) -> sqlx::Result<(Vec<i64>, i64)> {
    let mut ids = Vec::with_capacity(events.len());
    let mut version = 0;
    for (n, chunk) in events.chunks(EVENTS_PER_STATEMENT).enumerate() {
        // IMMEDIATE takes the write lock at once, and under it SQLite numbers the rows of
        // one statement one after the other: the last id gives them all.
        let begin = if n == 0 { "BEGIN IMMEDIATE; " } else { "" };
        let mut q = Builder::new(format!(
            "{begin}INSERT INTO events (received_at, endpoint, format, scope, action, repo_type, repo_name, normalized, raw) "
        ));
        q.push_values(chunk, |mut row, (endpoint, raw, event)| {
            row.push_bind(now)
                .push_bind(*endpoint)
                .push_bind(event.format.as_str())
                .push_bind(event.scope.as_str())
                .push_bind(event.action.as_str())
                .push_bind(event.repo.kind.as_str())
                .push_bind(event.repo.name.as_str())
                .push_bind(serde_json::to_string(event).expect("events serialize"))
                .push_bind(*raw);
        });
        q.push("; SELECT last_insert_rowid(), value FROM meta WHERE key = 'subscriptions'");
        let (last, v): (i64, i64) = q.build_query_as().fetch_one(&mut *conn).await?;
        ids.extend(last - chunk.len() as i64 + 1..=last);
        version = v;
    }
    Ok((ids, version))
}

/// Inserts the deliveries `(event, subscription, channel)` and commits.
pub async fn commit(
    conn: &mut SqliteConnection,
    rows: &[(i64, i64, String)],
    now: i64,
) -> sqlx::Result<()> {
    let chunks: Vec<&[(i64, i64, String)]> = rows.chunks(DELIVERIES_PER_STATEMENT).collect();
    if chunks.is_empty() {
        sqlx::query("COMMIT").execute(&mut *conn).await?;
    }
    for (n, chunk) in chunks.iter().enumerate() {
        let mut q = Builder::new(
            "INSERT INTO deliveries (event_id, subscription_id, channel, due_at, created_at) ",
        );
        q.push_values(chunk.iter(), |mut row, (event, sub, channel)| {
            row.push_bind(*event)
                .push_bind(*sub)
                .push_bind(channel.clone())
                .push_bind(now)
                .push_bind(now);
        });
        q.push(" ON CONFLICT (event_id, channel) DO NOTHING");
        if n + 1 == chunks.len() {
            q.push("; COMMIT");
        }
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Leaves no transaction open on the connection, whatever step failed.
pub async fn rollback(conn: &mut SqliteConnection) {
    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
}
