//! Slack: signed slash commands (`/herald ...`) and the template editor modal.

mod payload;
pub use payload::{Interaction, Probe, SlashCommand};

use super::{command, Actor, Chat, Command, Reply};
use crate::route::{Channel, Platform};
use hmac::{Hmac, Mac};
use payload::Meta;
use serde_json::{json, Value};
use sha2::Sha256;

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

/// Answers a slash command. The answer is the HTTP body.
pub async fn command(chat: &Chat, form: &SlashCommand) -> Value {
    let cmd = match command::parse(&form.text) {
        Ok(c) => c,
        Err(e) => return ephemeral(&escape(&e)),
    };
    let actor = actor(
        chat,
        &form.team_id,
        &form.user_id,
        form.channel_id.as_deref(),
        changes(&cmd),
    )
    .await;
    match chat.execute(&actor, cmd).await {
        Err(e) => ephemeral(e.text()),
        Ok(Reply::Text(t)) => ephemeral(&t),
        Ok(Reply::Editor {
            scope,
            subscription,
            current,
        }) => match open_editor(chat, &form.trigger_id, &scope, subscription, &current).await {
            Ok(()) => json!({}),
            Err(e) => ephemeral(&format!("Could not open the editor: {}", escape(&e))),
        },
        Ok(Reply::Sending { text, delivery_id }) => {
            let url = form.response_url.clone();
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

/// Answers an interaction: the template editor's submission.
pub async fn interaction(chat: &Chat, interaction: &Interaction) -> Value {
    let Interaction::ViewSubmission(form) = interaction else {
        return json!({});
    };
    if form.view.callback_id != CALLBACK {
        return json!({});
    }
    let refuse = |e: &str| json!({ "response_action": "errors", "errors": { "template": e } });
    let Ok(meta) = serde_json::from_str::<Meta>(&form.view.private_metadata) else {
        return refuse(
            "This form was not opened by herald; open it again with /herald template edit.",
        );
    };
    let Some(body) = form.input("template", "body") else {
        return refuse("The form carried no template text; write one and save again.");
    };
    let Some(team) = form.team() else {
        return refuse("Slack did not say which workspace this is; try again.");
    };
    let actor = actor(chat, team, &form.user.id, None, true).await;
    let cmd = Command::SaveTemplate {
        scope: meta.scope,
        subscription: meta.subscription,
        body: body.to_string(),
    };
    match chat.execute(&actor, cmd).await {
        // Shown under the text box, which keeps what the user wrote.
        Err(e) => refuse(e.text()),
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
    let Some(slack) = &chat.senders.slack else {
        return false;
    };
    slack.is_admin(user).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "users.info failed; treating the user as a non-admin");
        false
    })
}

async fn open_editor(
    chat: &Chat,
    trigger_id: &str,
    scope: &str,
    subscription: Option<i64>,
    current: &str,
) -> Result<(), String> {
    let slack = chat
        .senders
        .slack
        .as_ref()
        .ok_or("slack.bot_token is not set")?;
    let label = match subscription {
        Some(id) => format!("Template for {scope} of subscription #{id}"),
        None => format!("Template for {scope}"),
    };
    let meta = Meta {
        scope: scope.to_string(),
        subscription,
    };
    let view = json!({
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": serde_json::to_string(&meta).map_err(|e| e.to_string())?,
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
    slack.open_view(trigger_id, &view).await
}

/// Follow-ups go only to Slack's own hooks (or the configured API host, for tests).
fn trusted_response_url(chat: &Chat, url: &str) -> bool {
    let api = &chat.settings.slack.api_base;
    let origin = api.split('/').take(3).collect::<Vec<_>>().join("/");
    url.starts_with("https://hooks.slack.com/")
        || (!origin.is_empty() && url.starts_with(&format!("{origin}/")))
}
