//! The Hub API check: reachable, and the token (if any) accepted (`GET /api/whoami-v2`,
//! which answers 401 without a valid token and names the token's owner with one).

use super::Check;
use crate::config::Settings;
use crate::hub::api::{ApiError, HubApi};
use crate::metrics::Metrics;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize)]
struct WhoAmI {
    #[serde(default)]
    name: String,
}

pub async fn check(settings: &Settings) -> Check {
    let hub = &settings.hub;
    if hub.enrich_timeout_ms == 0 {
        return Check::pass(
            "Hub API: off (hub.enrich_timeout_ms = 0): messages name no one and list no commit titles",
        );
    }
    let api = match HubApi::new(&hub.api_base, &hub.token, Arc::new(Metrics::default())) {
        Ok(api) => api,
        Err(e) => return Check::fail(format!("Hub API: {e}")),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let asked = api.json::<WhoAmI>(api.url(&["whoami-v2"]), deadline).await;
    let base = &hub.api_base;
    match (api.has_token(), asked) {
        (true, Ok((me, _))) => Check::pass(format!(
            "Hub API: {base} accepts hub.token (it reads as {}): the operator's private repos are enriched too",
            me.name
        )),
        (true, Err(ApiError::Status { status: 401, .. })) => Check::fail(
            "Hub API: hub.token is refused (401): make a read token at huggingface.co → Settings → Access Tokens and set HERALD_HUB__TOKEN",
        ),
        // Without a token the Hub answers 401: reachable, which is all this asks.
        (false, Err(ApiError::Status { status: 401, .. })) | (false, Ok(_)) => Check::pass(format!(
            "Hub API: {base} answers; no hub.token, so public repos only, at the anonymous rate limit"
        )),
        (_, Err(e)) => Check::fail(format!(
            "Hub API: {base}: {e}; messages go out without names, commit titles or files until it answers"
        )),
    }
}
