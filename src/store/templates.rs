//! Templates stored per workspace, optionally per subscription (`None`: the whole
//! workspace).

use sqlx::SqlitePool;

/// How "the whole workspace" is stored: the column is part of the primary key, where NULLs
/// would never conflict.
const WHOLE_WORKSPACE: i64 = 0;

fn level(subscription: Option<i64>) -> i64 {
    subscription.unwrap_or(WHOLE_WORKSPACE)
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredTemplate {
    subscription_id: i64,
    scope: String,
    body: String,
}

pub async fn get(
    pool: &SqlitePool,
    workspace: &str,
    subscription: Option<i64>,
    scope: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT body FROM templates WHERE workspace = ? AND subscription_id = ? AND scope = ?",
    )
    .bind(workspace)
    .bind(level(subscription))
    .bind(scope)
    .fetch_optional(pool)
    .await
}

pub async fn set(
    pool: &SqlitePool,
    workspace: &str,
    subscription: Option<i64>,
    scope: &str,
    body: &str,
    by: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO templates (workspace, subscription_id, scope, body, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (workspace, subscription_id, scope) DO UPDATE SET body = excluded.body,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(workspace)
    .bind(level(subscription))
    .bind(scope)
    .bind(body)
    .bind(now)
    .bind(by)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn reset(
    pool: &SqlitePool,
    workspace: &str,
    subscription: Option<i64>,
    scope: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM templates WHERE workspace = ? AND subscription_id = ? AND scope = ?",
    )
    .bind(workspace)
    .bind(level(subscription))
    .bind(scope)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The templates that apply to a subscription: its own and its workspace's.
async fn for_subscription(
    pool: &SqlitePool,
    workspace: &str,
    subscription_id: i64,
) -> sqlx::Result<Vec<StoredTemplate>> {
    sqlx::query_as(
        "SELECT subscription_id, scope, body FROM templates
         WHERE workspace = ? AND subscription_id IN (?, ?)",
    )
    .bind(workspace)
    .bind(WHOLE_WORKSPACE)
    .bind(subscription_id)
    .fetch_all(pool)
    .await
}

/// The user templates for a delivery through `subscription_id`, as render layers: the
/// subscription's own first, then its workspace's. Empty for the operator's subscriptions.
pub async fn overrides(
    pool: &SqlitePool,
    subscription_id: i64,
) -> sqlx::Result<crate::render::Overrides> {
    let workspace: Option<String> =
        sqlx::query_scalar("SELECT workspace FROM subscriptions WHERE id = ?")
            .bind(subscription_id)
            .fetch_optional(pool)
            .await?
            .flatten();
    let mut out = crate::render::Overrides::default();
    let Some(ws) = workspace else {
        return Ok(out);
    };
    out.workspace = ws.clone();
    let rows = for_subscription(pool, &ws, subscription_id).await?;
    // Labels name no subscription, so that channels with the same templates share a render.
    for (label, level) in [
        ("the subscription's", subscription_id),
        ("the workspace's", WHOLE_WORKSPACE),
    ] {
        let layer: std::collections::BTreeMap<String, String> = rows
            .iter()
            .filter(|t| t.subscription_id == level)
            .map(|t| (t.scope.clone(), t.body.clone()))
            .collect();
        if !layer.is_empty() {
            out.layers.push((label.to_string(), layer));
        }
    }
    Ok(out)
}
