//! A connected workspace's account, as its watcher uses it: the token refreshed before it
//! expires, and a token the Hub no longer accepts marked revoked and said once in the
//! workspace's channels (never retried in a loop).

use super::{Access, Serves, Watcher};
use crate::hub::api::{oauth, ApiError};
use crate::render::notice::Notice;
use crate::store::{accounts, endpoints, now_ms};
use std::time::Duration;
use tokio::time::Instant;

/// A token this close to its expiry is refreshed first.
const REFRESH_BEFORE_MS: i64 = 5 * 60 * 1000;

impl Watcher {
    /// What to call the Hub with; `None` when a workspace's account is gone or revoked.
    pub(super) async fn access(&self) -> Result<Option<Access>, String> {
        let base = &self.base;
        let ws = match &self.serves {
            Serves::Operator => {
                return Ok(Some(Access {
                    api: base.api.clone(),
                    url: format!("{}/webhooks/hf", base.public_url),
                    secret: base.secret.clone(),
                }))
            }
            Serves::Workspace(ws) => ws,
        };
        let sealer = base.sealer.as_ref().ok_or("security.key is not set")?;
        let got = accounts::get(&base.pool, sealer, ws).await;
        let Some(mut account) = got.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        if account.revoked.is_some() {
            return Ok(None);
        }
        let endpoint = endpoints::for_workspace(&base.pool, ws)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the workspace has no endpoint")?;
        let soon = account
            .expires_at
            .is_some_and(|t| t - now_ms() < REFRESH_BEFORE_MS);
        if let (true, Some(refresh)) = (soon, account.refresh_token.clone()) {
            let app = oauth::App {
                client_id: &base.oauth.client_id,
                client_secret: &base.oauth.client_secret,
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            match oauth::refresh(&base.api.anonymous(), &app, &refresh, deadline).await {
                Ok(g) => {
                    let tokens = accounts::Tokens {
                        access: &g.access_token,
                        refresh: g.refresh_token.as_deref(),
                        expires_at: g
                            .expires_in
                            .map(|s| now_ms() + s.clamp(0, 10 * 365 * 86400) * 1000),
                    };
                    accounts::refreshed(&base.pool, sealer, ws, &tokens)
                        .await
                        .map_err(|e| e.to_string())?;
                    account.token = g.access_token;
                }
                Err(ApiError::Status {
                    status: 400 | 401, ..
                }) => {
                    self.revoked("the Hub did not renew its token").await;
                    return Ok(None);
                }
                Err(e) => return Err(format!("the token could not be renewed: {e}")),
            }
        }
        Ok(Some(Access {
            api: base.api.with_token(
                &account.token,
                &format!("account:{ws}:{}", account.username),
            ),
            url: format!("{}/webhooks/hf/{}", base.public_url, endpoint.id),
            secret: account.webhook_secret,
        }))
    }

    /// After a failed reconcile: a workspace's token the Hub refuses is revoked.
    pub(super) async fn check_account(&self, access: &Access) {
        if self.serves == Serves::Operator {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        if let Err(ApiError::Status { status: 401, .. }) =
            oauth::username(&access.api, deadline).await
        {
            self.revoked("the Hub no longer accepts its token").await;
        }
    }

    /// Marks the account revoked and, the first time, tells the workspace's channels.
    async fn revoked(&self, why: &str) {
        let first = accounts::revoke(&self.base.pool, &self.owner, why).await;
        tracing::warn!(workspace = %self.owner, reason = why, "a connected Hub account stopped working");
        if first.unwrap_or(false) {
            let lines = vec![
                format!("The Hugging Face account connected to this workspace stopped working: {why}."),
                "herald's own webhook serves this workspace's public repos again. An admin can run connect to sign in again.".to_string(),
            ];
            let headline =
                "herald lost access to this workspace's Hugging Face account".to_string();
            let notice = Notice::new(
                "account",
                headline,
                lines,
                "https://huggingface.co/settings/connected-applications",
            );
            self.tell_all(notice).await;
        }
    }
}
