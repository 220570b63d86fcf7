//! What replies say about the managed webhooks: `subscribe` (what will be watched, and
//! whether the last change failed) and `list` (the webhook's state; its triggers to whoever
//! owns it).

use super::{OPERATOR, QUOTA, QUOTA_WINDOW_MS};
use crate::route::Target;
use crate::store::{now_ms, webhooks};
use sqlx::SqlitePool;

/// Whose webhook serves `workspace` (`None`: the operator): its own when connected;
/// `None` when that is the operator's and herald does not manage it.
async fn managed_owner(
    pool: &SqlitePool,
    workspace: Option<&str>,
    operator_managed: bool,
) -> Option<(String, Option<(String, Option<String>)>)> {
    let (owner, account) = owner(pool, workspace).await;
    (owner != OPERATOR || operator_managed).then_some((owner, account))
}

async fn owner(
    pool: &SqlitePool,
    workspace: Option<&str>,
) -> (String, Option<(String, Option<String>)>) {
    let Some(ws) = workspace else {
        return (OPERATOR.into(), None);
    };
    let account: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT username, revoked FROM hub_accounts WHERE workspace = ?")
            .bind(ws)
            .fetch_optional(pool)
            .await
            .ok()
            .flatten();
    match account {
        Some((name, None)) => (ws.to_string(), Some((name, None))),
        Some(revoked) => (OPERATOR.into(), Some(revoked)),
        None => (OPERATOR.into(), None),
    }
}

/// Whose webhook it is, in words.
fn whose(account: &Option<(String, Option<String>)>) -> String {
    match account {
        Some((name, None)) => format!("the Hub webhook of {name}'s account"),
        Some((name, Some(_))) => {
            format!("herald's Hub webhook ({name}'s account no longer works: run connect again)")
        }
        None => "herald's Hub webhook".into(),
    }
}

/// What a subscribe reply says about the Hub webhook that will hear the target.
pub async fn subscribe_note(
    pool: &SqlitePool,
    target: &Target,
    workspace: Option<&str>,
    operator_managed: bool,
) -> Option<String> {
    let (owner, account) = managed_owner(pool, workspace, operator_managed).await?;
    let whose = whose(&account);
    let mut note = match target {
        Target::All => format!("The Hub cannot watch all of its repos, so {whose} does not ask for everything: this subscription hears what it watches for the others."),
        t => format!("{} will watch {t} in a few seconds.", capitalized(&whose)),
    };
    let last = webhooks::get(pool, &owner).await.ok().flatten();
    if let Some(hook) = last.filter(|h| !h.ok && h.reconciled_at.is_some()) {
        let shown = owner != OPERATOR || workspace.is_none();
        note.push_str(" Its last update failed, and herald keeps trying");
        match shown {
            true => note.push_str(&format!(
                ": {}",
                hook.outcome.as_deref().unwrap_or_default()
            )),
            false => note.push_str("; herald's operator can see why."),
        }
    }
    Some(note)
}

/// One line for `list` on the webhook serving `workspace` (`None`: the operator). Its
/// owner sees its triggers; a workspace served by the operator's only whether it works
/// (the count is every tenant's activity).
pub async fn state_line(
    pool: &SqlitePool,
    workspace: Option<&str>,
    operator_managed: bool,
) -> Option<String> {
    let (owner, account) = managed_owner(pool, workspace, operator_managed).await?;
    let whose = capitalized(&whose(&account));
    let Ok(Some(hook)) = webhooks::get(pool, &owner).await else {
        return Some(format!("{whose}: not created yet"));
    };
    let state = match (hook.hub_id.is_some(), hook.disabled, hook.ok) {
        (false, _, _) => "not created yet",
        (true, true, _) => "DISABLED on the Hub",
        (true, false, true) => "in sync",
        (true, false, false) => "its last update FAILED, herald keeps trying",
    };
    if owner == OPERATOR && workspace.is_some() {
        return Some(format!("{whose}: {state}"));
    }
    let since = now_ms() - QUOTA_WINDOW_MS;
    let triggers = webhooks::triggers(pool, &owner, since, 0)
        .await
        .map(|(n, _)| n)
        .unwrap_or_default();
    let more = if workspace.is_none() {
        " (herald hub status)"
    } else {
        ""
    };
    Some(format!(
        "{whose}: {state}, watching {} items, {triggers} of {QUOTA} events in the last 24 h{more}",
        hook.watched().len()
    ))
}

/// The first letter upper-case, but never herald's own name.
fn capitalized(s: &str) -> String {
    if s.starts_with("herald") {
        return s.to_string();
    }
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
