//! The fake Hub's OAuth token endpoint (shared HUB-API.md, OAuth): the app's credentials
//! in Basic auth, the code once, the PKCE verifier checked against the challenge the
//! sign-in link carried; answers `{access_token, token_type, expires_in, refresh_token}`.

use crate::fakehooks::Hooks;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

pub const CLIENT_ID: &str = "herald-test-app";
pub const CLIENT_SECRET: &str = "oauth-app-secret-never-shown";

#[derive(Default)]
pub struct OAuth {
    /// code → (challenge, user, token).
    codes: Mutex<HashMap<String, (String, String, String)>>,
    /// Forms the token endpoint received.
    pub forms: Mutex<Vec<HashMap<String, String>>>,
}

fn refuse(status: u16, error: &str) -> Response {
    let body = json!({ "error": error, "error_description": error });
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

impl OAuth {
    pub fn grant(&self, code: &str, challenge: &str, user: &str, token: &str) {
        let v = (challenge.into(), user.into(), token.into());
        self.codes.lock().unwrap().insert(code.into(), v);
    }

    pub fn token(&self, headers: &HeaderMap, body: &[u8], hooks: &Hooks) -> Response {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Basic {basic}")) {
            return refuse(401, "invalid_client");
        }
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(body).into_owned().collect();
        self.forms.lock().unwrap().push(form.clone());
        let field = |k: &str| form.get(k).cloned().unwrap_or_default();
        let (user, token) = match field("grant_type").as_str() {
            "authorization_code" => {
                let Some((challenge, user, token)) =
                    self.codes.lock().unwrap().remove(&field("code"))
                else {
                    return refuse(400, "invalid_grant");
                };
                let digest = Sha256::digest(field("code_verifier").as_bytes());
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
                if computed != challenge {
                    return refuse(400, "invalid_grant");
                }
                (user, token)
            }
            "refresh_token" => {
                let Some(user) = field("refresh_token")
                    .strip_prefix("refresh-")
                    .map(str::to_string)
                else {
                    return refuse(400, "invalid_grant");
                };
                (user.clone(), format!("hf_oauth_{user}_renewed"))
            }
            _ => return refuse(400, "unsupported_grant_type"),
        };
        hooks
            .tokens
            .lock()
            .unwrap()
            .insert(token.clone(), user.clone());
        axum::Json(json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": 28800,
            "refresh_token": format!("refresh-{user}"),
            "scope": "openid profile webhooks read-repos",
        }))
        .into_response()
    }
}
