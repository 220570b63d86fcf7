//! Slack: signed slash commands (`/herald ...`) and the template editor modal.

use super::{command, Actor, Chat, Command, Reply};
use crate::route::{Channel, Platform};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;

const CALLBACK: &str = "herald_template";

/// `v0=hex(HMAC-SHA256(signing_secret, "v0:{timestamp}:{body}"))`, compared in constant
/// time; a timestamp more than `max_skew_s` from now is refused (replays).
pub fn verify(
    secret: &str,
    signature: &str,
    timestamp: &str,
    body: &[u8],
    now_s: i64,
    max_skew_s: u64,
) -> bool {
    let fresh = super::fresh(timestamp, now_s, max_skew_s);
    let Some(given) = signature
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    fresh && !secret.is_empty() && mac.verify_slice(&given).is_ok()
}

/// Whether a command changes something, so that the user's admin status matters.
fn changes(cmd: &Command) -> bool {
    !matches!(
        cmd,
        Command::Help
            | Command::List { .. }
            | Command::Template {
                action: super::TemplateAction::Show | super::TemplateAction::Preview,
                ..
            }
    )
}

/// Answers a slash command (form fields already parsed). The answer is the HTTP body.
pub async fn command(chat: &Chat, form: &HashMap<String, String>) -> Value {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let cmd = match command::parse(field("text")) {
        Ok(c) => c,
        Err(e) => return ephemeral(&escape(&e)),
    };
    let actor = actor(
        chat,
        field("team_id"),
        field("user_id"),
        Some(field("channel_id")),
        changes(&cmd),
    )
    .await;
    match chat.execute(&actor, cmd).await {
        Err(e) => ephemeral(&e),
        Ok(Reply::Text(t)) => ephemeral(&t),
        Ok(Reply::Editor {
            scope,
            subscription,
            current,
        }) => match open_editor(chat, field("trigger_id"), &scope, subscription, &current).await {
            Ok(()) => json!({}),
            Err(e) => ephemeral(&format!("Could not open the editor: {}", escape(&e))),
        },
        Ok(Reply::Sending { text, delivery_id }) => {
            let url = field("response_url").to_string();
            if trusted_response_url(chat, &url) {
                let chat = chat.clone();
                tokio::spawn(async move {
                    let text = super::settled_text(&chat, delivery_id).await;
                    let _ = chat
                        .http
                        .post(&url)
                        .json(&json!({ "response_type": "ephemeral", "text": text }))
                        .send()
                        .await;
                });
            }
            ephemeral(&text)
        }
    }
}

/// Answers an interaction (`payload=` form field): the template editor's submission.
pub async fn interaction(chat: &Chat, payload: &Value) -> Value {
    if payload["type"] != "view_submission" || payload["view"]["callback_id"] != CALLBACK {
        return json!({});
    }
    let meta: Value =
        serde_json::from_str(payload["view"]["private_metadata"].as_str().unwrap_or("{}"))
            .unwrap_or_default();
    let body = payload["view"]["state"]["values"]["template"]["body"]["value"]
        .as_str()
        .unwrap_or_default();
    let team = payload["team"]["id"]
        .as_str()
        .or(payload["user"]["team_id"].as_str())
        .unwrap_or_default();
    let actor = actor(
        chat,
        team,
        payload["user"]["id"].as_str().unwrap_or_default(),
        None,
        true,
    )
    .await;
    let cmd = Command::SaveTemplate {
        scope: meta["scope"].as_str().unwrap_or_default().to_string(),
        subscription: meta["subscription"].as_i64(),
        body: body.to_string(),
    };
    match chat.execute(&actor, cmd).await {
        // Shown under the text box, which keeps what the user wrote.
        Err(e) => json!({ "response_action": "errors", "errors": { "template": e } }),
        Ok(reply) => json!({
            "response_action": "update",
            "view": {
                "type": "modal",
                "title": { "type": "plain_text", "text": "Template saved" },
                "close": { "type": "plain_text", "text": "Done" },
                "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": reply.text() } }]
            }
        }),
    }
}

fn ephemeral(text: &str) -> Value {
    json!({ "response_type": "ephemeral", "text": text })
}

fn escape(s: &str) -> String {
    crate::render::escape::entities(s)
}

/// Who asked; admin status is looked up with `users.info` only when it matters.
async fn actor(
    chat: &Chat,
    team: &str,
    user: &str,
    channel: Option<&str>,
    need_admin: bool,
) -> Actor {
    let id = format!("slack:{user}");
    let admin =
        need_admin && !chat.settings.chat.admins.contains(&id) && is_admin(chat, user).await;
    Actor {
        platform: Platform::Slack,
        workspace: Some(format!("slack:{team}")),
        channel: channel.and_then(|c| Channel::parse(&format!("slack:{c}")).ok()),
        user: id,
        admin,
        vouched: vec![],
    }
}

/// `users.info`: workspace admins and owners may change things.
async fn is_admin(chat: &Chat, user: &str) -> bool {
    let s = &chat.settings.slack;
    let url = format!("{}/users.info", s.api_base.trim_end_matches('/'));
    let resp = chat
        .http
        .get(url)
        .bearer_auth(&s.bot_token)
        .query(&[("user", user)])
        .send()
        .await;
    let json: Value = match resp {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "users.info failed; treating the user as a non-admin");
            return false;
        }
    };
    let u = &json["user"];
    json["ok"] == true
        && (u["is_admin"] == true || u["is_owner"] == true || u["is_primary_owner"] == true)
}

async fn open_editor(
    chat: &Chat,
    trigger_id: &str,
    scope: &str,
    subscription: Option<i64>,
    current: &str,
) -> Result<(), String> {
    let s = &chat.settings.slack;
    let label = match subscription {
        Some(id) => format!("Template for {scope} of subscription #{id}"),
        None => format!("Template for {scope}"),
    };
    let view = json!({
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": json!({ "scope": scope, "subscription": subscription }).to_string(),
        "title": { "type": "plain_text", "text": "herald template" },
        "submit": { "type": "plain_text", "text": "Save" },
        "close": { "type": "plain_text", "text": "Cancel" },
        "blocks": [
            {
                "type": "input", "block_id": "template",
                "label": { "type": "plain_text", "text": label },
                "element": {
                    "type": "plain_text_input", "action_id": "body", "multiline": true,
                    "initial_value": current, "max_length": crate::render::custom::MAX_LEN
                }
            },
            { "type": "context", "elements": [{ "type": "mrkdwn", "text": "Handlebars; variables and helpers are listed in templates/README.md. Saving checks it against a real sample event." }] }
        ]
    });
    let resp = chat
        .http
        .post(format!("{}/views.open", s.api_base.trim_end_matches('/')))
        .bearer_auth(&s.bot_token)
        .json(&json!({ "trigger_id": trigger_id, "view": view }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let json: Value = resp.json().await.map_err(|e| e.to_string())?;
    if json["ok"] == true {
        Ok(())
    } else {
        Err(json["error"]
            .as_str()
            .unwrap_or("views.open failed")
            .to_string())
    }
}

/// Follow-ups go only to Slack's own hooks (or the configured API host, for tests).
fn trusted_response_url(chat: &Chat, url: &str) -> bool {
    let api = &chat.settings.slack.api_base;
    let origin = api.split('/').take(3).collect::<Vec<_>>().join("/");
    url.starts_with("https://hooks.slack.com/")
        || (!origin.is_empty() && url.starts_with(&format!("{origin}/")))
}
