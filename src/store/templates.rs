//! Templates stored per workspace, optionally per subscription (id 0: the whole workspace).

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredTemplate {
    pub subscription_id: i64,
    pub scope: String,
    pub body: String,
}

pub async fn get(
    pool: &SqlitePool,
    workspace: &str,
    subscription_id: i64,
    scope: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT body FROM templates WHERE workspace = ? AND subscription_id = ? AND scope = ?",
    )
    .bind(workspace)
    .bind(subscription_id)
    .bind(scope)
    .fetch_optional(pool)
    .await
}

pub async fn set(
    pool: &SqlitePool,
    workspace: &str,
    subscription_id: i64,
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
    .bind(subscription_id)
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
    subscription_id: i64,
    scope: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM templates WHERE workspace = ? AND subscription_id = ? AND scope = ?",
    )
    .bind(workspace)
    .bind(subscription_id)
    .bind(scope)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The templates that apply to a subscription: its own and its workspace's.
pub async fn for_subscription(
    pool: &SqlitePool,
    workspace: &str,
    subscription_id: i64,
) -> sqlx::Result<Vec<StoredTemplate>> {
    sqlx::query_as(
        "SELECT subscription_id, scope, body FROM templates
         WHERE workspace = ? AND subscription_id IN (0, ?)",
    )
    .bind(workspace)
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
        ("the workspace's", 0),
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
