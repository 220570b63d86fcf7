//! `POST /webhooks/hf`: check the secret, store the event, then answer.

use super::refusal::{Outcome, Refusal, Refused};
use super::{ApiError, AppState};
use crate::hub::secret::SecretCheck;
use crate::ingest::{Accepted, IngestError};
use crate::route::Origin;
use crate::store::{endpoints, now_ms};
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// The secret from `X-Webhook-Secret`, or else from `?secret=`. Never logged.
fn given_secret(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(h) = headers.get("x-webhook-secret") {
        return Some(String::from_utf8_lossy(h.as_bytes()).into_owned());
    }
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "secret")
        .map(|(_, v)| v.into_owned())
}

fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
    let mime = ct.split(';').next().unwrap_or_default().trim();
    mime == "application/json" || mime.ends_with("+json")
}

/// `POST /webhooks/hf`: the operator's webhook.
pub async fn hub(
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let given = given_secret(req.headers(), req.uri().query());
    let check = state.secrets.check(given.as_deref());
    receive(&state, check, Origin::Operator, req).await
}

/// `POST /webhooks/hf/{endpoint_id}`: a workspace's own webhook, with its own secret.
pub async fn workspace(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ep = endpoints::get(&state.store.pool, &id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot read endpoints");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "endpoint could not be read; try again",
            )
        })?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such webhook endpoint; `setup` in Discord or Slack shows yours",
            )
        })?;
    let given = given_secret(req.headers(), req.uri().query());
    let check = ep.check(given.as_deref(), now_ms());
    receive(&state, check, Origin::Workspace(ep.workspace), req).await
}

/// Checks the secret, then reads and checks the body (never before: a stranger's body is
/// not read), then stores the event and answers with its id. Every outcome is counted.
async fn receive(
    state: &AppState,
    check: SecretCheck,
    origin: Origin,
    req: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match accept(state, check, &origin, req).await {
        Ok(accepted) => {
            let e = &accepted.event;
            let scope = if e.scope.is_known() {
                e.scope.as_str()
            } else {
                "other"
            };
            state
                .metrics
                .event(e.format.as_str(), scope, Outcome::Accepted);
            tracing::debug!(event = accepted.event_id, origin = origin.as_str(), scope = %e.scope,
                action = %e.action, repo = %e.repo.name, deliveries = accepted.deliveries, "event accepted");
            if accepted.deliveries > 0 {
                if let Some(enricher) = &state.enricher {
                    enricher.start(accepted.event_id, accepted.event.clone(), origin.as_str());
                }
                state.wake.notify_one();
            }
            let body = json!({ "event_id": accepted.event_id, "deliveries": accepted.deliveries });
            Ok((StatusCode::ACCEPTED, Json(body)))
        }
        Err(refused) => {
            let outcome = Outcome::Refused(refused.0);
            state.metrics.event("unknown", "unknown", outcome);
            Err(refused.into())
        }
    }
}

async fn accept(
    state: &AppState,
    check: SecretCheck,
    origin: &Origin,
    req: Request,
) -> Result<Accepted, Refused> {
    match check {
        SecretCheck::Valid => {}
        SecretCheck::Missing => {
            let msg = "missing secret: send it in the X-Webhook-Secret header (the Hub does this) or as ?secret=";
            return Err(Refusal::NoSecret.because(msg));
        }
        SecretCheck::Wrong => return Err(Refusal::WrongSecret.because("wrong secret")),
    }
    if !json_content_type(req.headers()) {
        let msg = "content type must be application/json";
        return Err(Refusal::BadContentType.because(msg));
    }
    let mut reserved = state
        .bodies
        .reserve(Some(origin.as_str()), req.headers())
        .await
        .map_err(|e| match e.0 {
            StatusCode::PAYLOAD_TOO_LARGE => Refusal::TooLarge.because(e.1),
            _ => Refusal::NoRoom.because(e.1),
        })?;
    let read = Bytes::from_request(req, &());
    let body = tokio::select! {
        body = read => body,
        _ = reserved.cut() => {
            let msg = "the body stalled while others waited for room; send it at once";
            return Err(Refusal::Stalled.because(msg));
        }
    };
    reserved.arrived();
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal::TooLarge.because("body is larger than server.body_limit")
        } else {
            Refusal::BadPayload.because(format!("cannot read the body: {e}"))
        }
    })?;
    state
        .ingest
        .submit(origin.clone(), body)
        .await
        .map_err(|e| match e {
            IngestError::Payload(e) => Refusal::BadPayload.because(e.to_string()),
            IngestError::OverBudget(e) => Refusal::OverBudget.because(e),
            IngestError::Store(e) => {
                tracing::error!(error = %e, "webhook not stored");
                // Not the client's fault: the Hub retries on 5xx, and nothing was acknowledged.
                Refusal::NotStored.because("event could not be stored; try again")
            }
        })
}
