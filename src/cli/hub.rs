//! `herald hub status`: each Hub webhook herald manages, as the Hub last described it,
//! with its triggers in the last 24 hours and how the last reconcile went.

use super::activity::when;
use crate::config::Settings;
use crate::store::{now_ms, webhooks, Store};
use crate::watch::{QUOTA, QUOTA_WINDOW_MS};

pub async fn status(settings: &Settings) -> anyhow::Result<String> {
    let store = Store::open(&settings.database.url).await?;
    let all = webhooks::all(&store.pool).await?;
    let mut out = Vec::new();
    if all.is_empty() {
        out.push(match settings.manages_webhook() {
            true => "No managed Hub webhook yet: herald serve creates it once a subscription names a repo or an owner.".to_string(),
            false => "herald manages no Hub webhook: set hub.token (with the \"webhooks\" permission) and leave hub.manage_webhook on.".to_string(),
        });
    }
    for hook in all {
        let since = now_ms() - QUOTA_WINDOW_MS;
        let (triggers, busiest) = webhooks::triggers(&store.pool, &hook.owner, since, 3).await?;
        let watched: Vec<String> = hook.watched().iter().map(|w| w.describe()).collect();
        out.push(format!("webhook of {}", hook.owner));
        out.push(format!(
            "  id:         {}",
            hook.hub_id.as_deref().unwrap_or("(none yet)")
        ));
        out.push(format!("  url:        {}", hook.url));
        out.push(format!("  domains:    {}", hook.domains));
        out.push(format!(
            "  watched:    {}",
            if watched.is_empty() {
                "(nothing)".into()
            } else {
                watched.join(", ")
            }
        ));
        out.push(format!(
            "  disabled:   {}",
            if hook.disabled { "yes" } else { "no" }
        ));
        let busiest: Vec<String> = busiest.iter().map(|(r, n)| format!("{r} {n}")).collect();
        out.push(format!(
            "  triggers:   {triggers} of {QUOTA} in the last 24 h{}",
            match busiest.is_empty() {
                true => String::new(),
                false => format!(" (most: {})", busiest.join(", ")),
            }
        ));
        let last = match (hook.reconciled_at, &hook.outcome) {
            (Some(at), Some(o)) => format!(
                "{} {}: {o}{}",
                when(at),
                if hook.ok { "ok" } else { "FAILED" },
                match hook.failures {
                    0 | 1 => String::new(),
                    n => format!(" ({n} times in a row)"),
                }
            ),
            _ => "never".into(),
        };
        out.push(format!("  reconciled: {last}"));
        for (target, why) in hook.left_out() {
            out.push(format!("  not watched: {target}: {why}"));
        }
    }
    Ok(out.join("\n"))
}
