//! Discord over HTTP interactions: verify, turn the interaction into a [`Command`], answer.

mod definition;
pub use definition::command_definition;

use super::{Actor, Chat, Command, Reply, TemplateAction};
use crate::render::limits::cut;
use crate::route::{Channel, Platform};
use crate::store::subscriptions;
use serde_json::{json, Value};
use serenity::interactions_endpoint::Verifier;
use serenity::model::permissions::Permissions;

const EPHEMERAL: u64 = 1 << 6;
const MODAL_PREFIX: &str = "herald:template:";

/// Checks the Ed25519 signature, and that the timestamp is recent (Discord sets no window;
/// a replayed request older than `max_skew_s` is refused all the same).
pub fn verify(
    verifier: &Verifier,
    signature: &str,
    timestamp: &str,
    body: &[u8],
    now_s: i64,
    max_skew_s: u64,
) -> bool {
    let fresh = super::fresh(timestamp, now_s, max_skew_s);
    fresh && verifier.verify(signature, timestamp, body).is_ok()
}

/// The answer to one verified interaction body, and what to do after answering.
pub async fn handle(chat: &Chat, body: &Value) -> (Value, Option<FollowUp>) {
    let kind = body["type"].as_u64().unwrap_or(0);
    if kind == 1 {
        return (json!({ "type": 1 }), None);
    }
    let Some(actor) = actor(body) else {
        return (
            message("herald works in servers, not in direct messages."),
            None,
        );
    };
    match kind {
        2 => match command(&body["data"]) {
            Ok(cmd) => respond(chat, &actor, cmd, body).await,
            Err(e) => (message(&e), None),
        },
        4 => (autocomplete(chat, &actor, &body["data"]).await, None),
        5 => match modal_command(&body["data"]) {
            Some(cmd) => respond(chat, &actor, cmd, body).await,
            None => (message("That form is not herald's."), None),
        },
        _ => (
            message("herald does not handle that kind of interaction."),
            None,
        ),
    }
}

/// Edits the deferred answer once a test message is sent or has failed.
pub struct FollowUp {
    pub url: String,
    pub delivery_id: i64,
}

async fn respond(
    chat: &Chat,
    actor: &Actor,
    cmd: Command,
    body: &Value,
) -> (Value, Option<FollowUp>) {
    let reply = match chat.execute(actor, cmd).await {
        Ok(r) => r,
        Err(e) => return (message(&e), None),
    };
    match reply {
        Reply::Text(t) => (message(&t), None),
        Reply::Editor {
            scope,
            subscription,
            current,
        } => (editor(&scope, subscription, &current), None),
        Reply::Sending {
            text: _,
            delivery_id,
        } => {
            let app = body["application_id"]
                .as_str()
                .filter(|a| !a.is_empty())
                .unwrap_or(&chat.settings.discord.application_id);
            let token = body["token"].as_str().unwrap_or_default();
            let base = chat.settings.discord.api_base.trim_end_matches('/');
            let url = format!("{base}/api/v10/webhooks/{app}/{token}/messages/@original");
            (
                json!({ "type": 5, "data": { "flags": EPHEMERAL } }),
                Some(FollowUp { url, delivery_id }),
            )
        }
    }
}

/// Waits (up to two minutes) for the delivery to settle and says how it went.
pub async fn follow_up(chat: Chat, f: FollowUp) {
    let text = super::settled_text(&chat, f.delivery_id).await;
    let body = json!({ "content": cut(Platform::Discord, &text, 2000), "allowed_mentions": { "parse": [] } });
    let sent = chat.http.patch(&f.url).json(&body).send().await;
    if let Err(e) = sent.and_then(|r| r.error_for_status()) {
        tracing::warn!(error = %e, "could not edit the Discord interaction answer");
    }
}

/// An ephemeral answer that pings nobody.
fn message(text: &str) -> Value {
    json!({
        "type": 4,
        "data": {
            "content": cut(Platform::Discord, text, 2000),
            "flags": EPHEMERAL,
            "allowed_mentions": { "parse": [] }
        }
    })
}

fn editor(scope: &str, subscription: Option<i64>, current: &str) -> Value {
    let title = match subscription {
        Some(id) => format!("Template {scope} of #{id}"),
        None => format!("Template for {scope}"),
    };
    json!({
        "type": 9,
        "data": {
            "custom_id": format!("{MODAL_PREFIX}{scope}:{}", subscription.unwrap_or(0)),
            "title": cut(Platform::Console, &title, 45),
            "components": [{
                "type": 1,
                "components": [{
                    "type": 4, "custom_id": "body", "style": 2, "label": "Handlebars template",
                    "value": current, "min_length": 1, "max_length": crate::render::custom::MAX_LEN, "required": true
                }]
            }]
        }
    })
}

fn actor(body: &Value) -> Option<Actor> {
    let guild = body["guild_id"].as_str()?;
    let member = &body["member"];
    let perms: u64 = member["permissions"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let admin = perms & (Permissions::ADMINISTRATOR.bits() | Permissions::MANAGE_GUILD.bits()) != 0;
    Some(Actor {
        platform: Platform::Discord,
        workspace: Some(format!("discord:{guild}")),
        channel: body["channel_id"]
            .as_str()
            .and_then(|c| Channel::parse(&format!("discord:{c}")).ok()),
        user: format!(
            "discord:{}",
            member["user"]["id"].as_str().unwrap_or("unknown")
        ),
        admin,
        // Discord resolves a channel option only to a channel of the guild.
        vouched: body["data"]["resolved"]["channels"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default(),
    })
}

/// The value of a named option among `options`.
fn opt<'a>(options: &'a Value, name: &str) -> Option<&'a Value> {
    options
        .as_array()?
        .iter()
        .find(|o| o["name"] == name)
        .map(|o| &o["value"])
}

fn opt_str(options: &Value, name: &str) -> Option<String> {
    opt(options, name).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// `/herald <sub> [options]` or `/herald template <action> [options]` as a [`Command`].
fn command(data: &Value) -> Result<Command, String> {
    let top = &data["options"][0];
    let name = top["name"].as_str().unwrap_or_default();
    let o = &top["options"];
    let flag = |n: &str| opt(o, n).and_then(Value::as_bool).unwrap_or(false);
    Ok(match name {
        "subscribe" => Command::Subscribe {
            target: opt_str(o, "target").ok_or("subscribe needs a target")?,
            scopes: opt_str(o, "scope").into_iter().collect(),
            channel: opt_str(o, "channel"),
            threads: opt_str(o, "threads"),
        },
        "unsubscribe" => Command::Unsubscribe {
            what: opt_str(o, "subscription").ok_or("unsubscribe needs a subscription")?,
        },
        "list" => Command::List {
            everywhere: flag("all"),
            page: opt(o, "page").and_then(Value::as_u64).unwrap_or(1) as usize,
        },
        "template" => {
            let action = &o[0];
            let ao = &action["options"];
            Command::Template {
                action: TemplateAction::parse(action["name"].as_str().unwrap_or_default())
                    .ok_or("template needs show, edit, preview or reset")?,
                scope: opt_str(ao, "scope").ok_or("template needs a scope")?,
                subscription: opt(ao, "subscription").and_then(Value::as_i64),
            }
        }
        "setup" => Command::Setup {
            rotate: flag("rotate"),
        },
        "test" => Command::Test,
        _ => Command::Help,
    })
}

/// The submitted template editor, in either layout (an action row, or a label around the input).
fn modal_command(data: &Value) -> Option<Command> {
    let rest = data["custom_id"].as_str()?.strip_prefix(MODAL_PREFIX)?;
    let (scope, sub) = rest.rsplit_once(':')?;
    let sub: i64 = sub.parse().ok()?;
    let body = data["components"].as_array()?.iter().find_map(|row| {
        let inner = row["components"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![row["component"].clone()]);
        inner
            .iter()
            .find(|c| c["custom_id"] == "body")
            .and_then(|c| c["value"].as_str().map(str::to_string))
    })?;
    Some(Command::SaveTemplate {
        scope: scope.to_string(),
        subscription: (sub != 0).then_some(sub),
        body,
    })
}

/// Suggests this channel's subscriptions (then the server's) for `unsubscribe`.
async fn autocomplete(chat: &Chat, actor: &Actor, data: &Value) -> Value {
    let typed = data["options"][0]["options"]
        .as_array()
        .and_then(|os| os.iter().find(|o| o["focused"] == true))
        .and_then(|o| o["value"].as_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let subs = subscriptions::list_for(&chat.store.pool, actor.workspace.as_deref())
        .await
        .unwrap_or_default();
    let mut subs: Vec<_> = subs
        .into_iter()
        .filter(|s| s.source != "config")
        .filter(|s| {
            typed.is_empty()
                || s.id.to_string().starts_with(&typed)
                || s.target.to_string().to_ascii_lowercase().contains(&typed)
        })
        .collect();
    subs.sort_by_key(|s| (actor.channel.as_ref() != Some(&s.channel), s.id));
    let choices: Vec<Value> = subs
        .iter()
        .take(25)
        .map(|s| json!({ "name": cut(Platform::Console, &format!("#{} {} → {}", s.id, s.target, s.channel), 100), "value": s.id.to_string() }))
        .collect();
    json!({ "type": 8, "data": { "choices": choices } })
}
