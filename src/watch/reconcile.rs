//! One reconcile: make the Hub's webhook what herald wants, whatever happened to it on the
//! Hub meanwhile (deleted, edited, disabled), and record what was done or what went wrong.

use super::wanted::{self, Plan};
use super::{Access, Watcher};
use crate::hub::api::webhooks::{self, Wanted, Webhook};
use crate::hub::api::ApiError;
use crate::store::{now_ms, webhooks as stored};
use std::time::Duration;
use tokio::time::Instant;

/// Longest one reconcile may take, every call to the Hub included.
const DEADLINE: Duration = Duration::from_secs(30);

/// Why a reconcile did not finish, in words for `herald hub status` and the log;
/// `operator`: the token is `hub.token` (else a connected account's).
pub fn explain(e: &ApiError, operator: bool) -> String {
    match (e, operator) {
        (ApiError::Status { status: 401, .. }, true) => {
            "the Hub refused hub.token (401): is it still valid?".into()
        }
        (ApiError::Status { status: 401, .. }, false) => {
            "the Hub refused the connected account's token (401): run connect again".into()
        }
        (ApiError::Status { status: 403, .. }, true) => {
            "hub.token may not manage webhooks (403): give it the \"webhooks\" permission (a fine-grained token with webhooks write access)".into()
        }
        (ApiError::Status { status: 403, .. }, false) => {
            "the connected account may not manage webhooks (403): run connect again and allow \"webhooks\"".into()
        }
        (e, _) => e.to_string(),
    }
}

/// What a watcher does after a reconcile.
pub(super) enum Flow {
    Go,
    /// The workspace's account is gone or stopped working: the watcher ends.
    Stop,
}

impl Watcher {
    /// Reconciles now, holding the webhook's lease throughout (the account is read, and
    /// its token renewed, under it too). `full`: ask the Hub even when nothing changed
    /// here (drift). `Err` means try again soon.
    pub(super) async fn reconcile(&mut self, full: bool, version: i64) -> Result<Flow, String> {
        let pool = self.base.pool.clone();
        let now = now_ms();
        // Longer than all that runs under it: a token renewal, the reconcile's deadline,
        // and a check of the account.
        let until = now + DEADLINE.as_millis() as i64 * 4;
        let held = stored::hold(&pool, &self.owner, &self.base.holder, now, until)
            .await
            .map_err(|e| e.to_string())?;
        if !held {
            // Another process (or a disconnect) has it: tried again shortly, so that a
            // change it did not see is not left for the next full check.
            return Err("held by another process".into());
        }
        let done = match self.access().await {
            Ok(Some(access)) => {
                let done = self.reconcile_held(&access, full, version).await;
                if done.is_err() {
                    self.check_account(&access).await;
                }
                done.map(|_| Flow::Go)
            }
            Ok(None) => {
                // Its row, made by `hold`, goes too unless a webhook is still recorded.
                let _ = stored::forget_unmade(&pool, &self.owner).await;
                Ok(Flow::Stop)
            }
            Err(e) => Err(e),
        };
        // Held only while reconciling: a process that stops lets another take over at once.
        let _ = stored::release(&pool, &self.owner, &self.base.holder).await;
        done
    }

    async fn reconcile_held(
        &mut self,
        access: &Access,
        full: bool,
        version: i64,
    ) -> Result<(), String> {
        let pool = self.base.pool.clone();
        let row = stored::get(&pool, &self.owner)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the webhook's row is gone")?;
        let before = row.watched();
        let deadline = Instant::now() + DEADLINE;
        let subs = self
            .serves
            .subscriptions(&pool)
            .await
            .map_err(|e| e.to_string())?;
        let plan = wanted::plan(&subs, &before, &mut self.kinds, &access.api, deadline).await;
        let want = Wanted {
            url: access.url.clone(),
            domains: vec!["discussion".into(), "repo".into()],
            watched: plan.watched.clone(),
            secret: access.secret.clone(),
        };
        let same = |w: &[webhooks::Watched]| {
            let key = |l: &[webhooks::Watched]| {
                let mut k: Vec<_> = l.iter().map(|w| w.key()).collect();
                k.sort();
                k
            };
            key(w) == key(&want.watched)
        };
        // A secret the Hub was not given yet (a reconnect, a new hub.secret) is sent.
        let secret = stored::secret_hash(&want.secret);
        let new_secret = row.secret_hash.as_deref() != Some(secret.as_str());
        let unchanged = row.ok && row.hub_id.is_some() && !row.disabled && same(&before);
        let result = if !full && unchanged && row.url == want.url && !new_secret {
            Ok((None, "in sync".to_string()))
        } else {
            self.apply(access, row.hub_id.as_deref(), &want, new_secret, deadline)
                .await
        };
        let (hook, outcome, ok) = match &result {
            Ok((hook, said)) => (hook.as_ref(), said.clone(), plan.unsure.is_none()),
            Err(said) => (None, said.clone(), false),
        };
        let done = stored::Outcome {
            hook,
            secret_hash: hook.is_some().then_some(secret.as_str()),
            left_out: &plan.left_out,
            version: result.is_ok().then_some(version),
            outcome: &outcome,
            ok,
        };
        stored::record(&pool, &self.owner, &done, now_ms())
            .await
            .map_err(|e| e.to_string())?;
        self.log(&plan, &outcome, ok);
        match (result, plan.unsure) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(e)) => Err(e.to_string()),
            (Ok(_), None) => Ok(()),
        }
    }

    /// Finds, creates, updates and enables the webhook as needed; says what it did.
    async fn apply(
        &self,
        access: &Access,
        id: Option<&str>,
        want: &Wanted,
        new_secret: bool,
        deadline: Instant,
    ) -> Result<(Option<Webhook>, String), String> {
        let api = &access.api;
        let explain = |e: &ApiError| explain(e, self.serves == super::Serves::Operator);
        let mut did = Vec::new();
        let found = match id {
            Some(id) => match webhooks::get(api, id, deadline).await {
                Ok(h) => Some(h),
                Err(ApiError::Status { status: 404, .. }) => {
                    did.push("it had been deleted on the Hub");
                    None
                }
                Err(e) => return Err(explain(&e)),
            },
            // One created before a crash, or by an earlier database, is found by its url.
            None => webhooks::list(api, deadline)
                .await
                .map_err(|e| explain(&e))?
                .into_iter()
                .find(|h| h.url.as_deref() == Some(&want.url)),
        };
        let hook = match found {
            None if want.watched.is_empty() => {
                self.forget_id().await?;
                return Ok((
                    None,
                    "nothing to watch yet: no subscription names a repo or an owner".into(),
                ));
            }
            None => {
                let h = webhooks::create(api, want, deadline)
                    .await
                    .map_err(|e| explain(&e))?;
                did.push("created");
                h
            }
            Some(h) if want.is(&h) && !new_secret => h,
            Some(h) => {
                self.remember_id(&h.id).await?;
                did.push("watched list updated");
                webhooks::update(api, &h.id, want, deadline)
                    .await
                    .map_err(|e| explain(&e))?
            }
        };
        self.remember_id(&hook.id).await?;
        let hook = match hook.disabled {
            false => hook,
            true => {
                let why = hook
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({})", crate::hub::api::kept(r)))
                    .unwrap_or_default();
                let reason = hook.reason.as_deref().map(crate::hub::api::kept);
                match webhooks::enable(api, &hook.id, deadline).await {
                    Ok(h) => {
                        did.push("it was disabled on the Hub; enabled again");
                        self.disabled(reason.as_deref(), None).await;
                        h
                    }
                    Err(e) => {
                        let e = explain(&e);
                        self.disabled(reason.as_deref(), Some(&e)).await;
                        return Err(format!(
                            "disabled on the Hub{why}, and could not be enabled again: {e}"
                        ));
                    }
                }
            }
        };
        self.working_again().await;
        let said = if did.is_empty() {
            "in sync".into()
        } else {
            did.join("; ")
        };
        Ok((Some(hook), said))
    }

    async fn remember_id(&self, id: &str) -> Result<(), String> {
        stored::set_id(&self.base.pool, &self.owner, Some(id))
            .await
            .map_err(|e| e.to_string())
    }

    async fn forget_id(&self) -> Result<(), String> {
        stored::set_id(&self.base.pool, &self.owner, None)
            .await
            .map_err(|e| e.to_string())
    }

    fn log(&self, plan: &Plan, outcome: &str, ok: bool) {
        let (owner, watched) = (&self.owner, plan.watched.len());
        match ok {
            true if outcome == "in sync" => tracing::debug!(%owner, watched, "Hub webhook in sync"),
            true => tracing::info!(%owner, watched, %outcome, "Hub webhook reconciled"),
            false => {
                tracing::warn!(%owner, watched, %outcome, "Hub webhook not reconciled; trying again")
            }
        }
    }
}
