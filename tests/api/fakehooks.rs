//! The fake Hub's webhook settings, `/api/settings/webhooks`, as shared HUB-API.md's
//! table (from hfh `hf_api.py`) describes them: a bare list, `{"webhook": …}` for one,
//! POST to create and to update (which replaces `watched` whole), `/enable`, `/disable`,
//! DELETE; 401 without the account's token, 403 when the token may not manage webhooks.

use crate::fakehub::HUB_TOKEN;
use crate::helpers::fixture_json;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// Whose the operator's token is (the whoami-v2 fixture's user).
pub const OPERATOR_USER: &str = "hub.js";

#[derive(Default)]
pub struct Hooks {
    /// Every account's webhooks; each names its `owner` (the account's username).
    pub list: Mutex<Vec<Value>>,
    /// Tokens other than the operator's (`hub.token`), and whose they are.
    pub tokens: Mutex<HashMap<String, String>>,
    /// Answer 403 to every call (a token without the webhooks permission).
    pub forbidden: Mutex<bool>,
    /// `/enable` is refused (a webhook the Hub suspended for its failures).
    pub stuck: Mutex<bool>,
    /// Names of organisations (any other name with an overview is a user).
    pub orgs: Mutex<Vec<String>>,
    pub users: Mutex<Vec<String>>,
    next: Mutex<u64>,
}

fn refuse(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

fn one(hook: &Value) -> Response {
    axum::Json(json!({ "webhook": hook })).into_response()
}

/// A create or update body as the Hub would check it.
fn checked(body: &Value) -> Result<(), String> {
    let watched = body["watched"].as_array().ok_or("watched must be a list")?;
    for w in watched {
        let kind = w["type"].as_str().unwrap_or_default();
        if !["user", "org", "model", "dataset", "space"].contains(&kind) {
            return Err(format!("invalid watched type {kind:?}"));
        }
        if w["name"].as_str().is_none_or(str::is_empty) {
            return Err("a watched item needs a name".into());
        }
    }
    for d in body["domains"].as_array().into_iter().flatten() {
        if !["repo", "discussion"].contains(&d.as_str().unwrap_or_default()) {
            return Err(format!("invalid domain {d}"));
        }
    }
    match body["url"].as_str() {
        Some(u) if u.starts_with("http") => Ok(()),
        _ => Err("url must be an http(s) address".into()),
    }
}

impl Hooks {
    /// The account a `Bearer` header is of.
    pub fn user(&self, auth: Option<&str>) -> Option<String> {
        let token = auth?.strip_prefix("Bearer ")?;
        if token == HUB_TOKEN {
            return Some(OPERATOR_USER.into());
        }
        self.tokens.lock().unwrap().get(token).cloned()
    }

    pub fn answer(
        &self,
        method: &Method,
        rest: &[&str],
        auth: Option<&str>,
        body: &[u8],
    ) -> Response {
        let Some(user) = self.user(auth) else {
            let fx = fixture_json("hf-api/error-401-invalid-token-assembled.http.json");
            return refuse(401, fx["body"]["error"].as_str().unwrap());
        };
        if *self.forbidden.lock().unwrap() {
            return refuse(403, "You don't have the rights to manage webhooks");
        }
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut list = self.list.lock().unwrap();
        let at = |id: &str| {
            list.iter()
                .position(|h| h["id"] == id && h["owner"] == user)
        };
        match (method.as_str(), rest) {
            ("GET", []) => {
                let own: Vec<&Value> = list.iter().filter(|h| h["owner"] == user).collect();
                axum::Json(own).into_response()
            }
            ("POST", []) => {
                if let Err(e) = checked(&body) {
                    return refuse(400, &e);
                }
                let mut next = self.next.lock().unwrap();
                *next += 1;
                let hook = json!({
                    "id": format!("{:024x}", 0x654bbbc1_u64 << 32 | *next),
                    "url": body["url"],
                    "watched": body["watched"],
                    "domains": body.get("domains").cloned().unwrap_or(json!(["repo", "discussion"])),
                    "secret": body["secret"],
                    "disabled": false,
                    "owner": user,
                });
                list.push(hook.clone());
                one(&hook)
            }
            (m, [id, tail @ ..]) => {
                let Some(i) = at(id) else {
                    return refuse(404, "Webhook not found");
                };
                match (m, tail) {
                    ("GET", []) => one(&list[i]),
                    ("DELETE", []) => {
                        list.remove(i);
                        axum::Json(json!({})).into_response()
                    }
                    ("POST", []) => {
                        if let Err(e) = checked(&body) {
                            return refuse(400, &e);
                        }
                        for key in ["url", "watched", "domains", "secret"] {
                            if let Some(v) = body.get(key) {
                                list[i][key] = v.clone();
                            }
                        }
                        one(&list[i])
                    }
                    ("POST", ["enable"]) if *self.stuck.lock().unwrap() => {
                        refuse(400, "This webhook was suspended and cannot be enabled")
                    }
                    ("POST", ["enable"]) => {
                        list[i]["disabled"] = json!(false);
                        one(&list[i])
                    }
                    ("POST", ["disable"]) => {
                        list[i]["disabled"] = json!(true);
                        one(&list[i])
                    }
                    _ => refuse(404, "Sorry, we can't find the page you are looking for."),
                }
            }
            _ => refuse(404, "Sorry, we can't find the page you are looking for."),
        }
    }

    /// `/api/organizations/{name}/overview` and `/api/users/{name}/overview` by name.
    pub fn overview(&self, org: bool, name: &str) -> Option<Response> {
        let (names, fx) = match org {
            true => (&self.orgs, "hf-api/organization-overview-assembled.json"),
            false => (&self.users, "hf-api/user-overview-with-orgs-assembled.json"),
        };
        let known = names
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name));
        known.then(|| {
            let mut v = fixture_json(fx);
            v[if org { "name" } else { "user" }] = json!(name);
            axum::Json(v).into_response()
        })
    }
}
