//! The Discord and Slack checks: the token, `/herald`'s registration, and every subscribed
//! channel, asked of each platform's API the way herald's senders ask it.

use super::{without_url, Check};
use crate::chat::discord::command_definition;
use crate::config::Settings;
use crate::route::{Platform, Subscription};
use serde_json::Value;
use std::collections::BTreeMap;

/// The channels of `platform` that subscriptions send to, with a subscription id each.
fn channels(subs: &[Subscription], platform: Platform) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for s in subs.iter().filter(|s| s.channel.platform == platform) {
        out.entry(s.channel.id.clone()).or_insert(s.id);
    }
    out
}

pub async fn check(settings: &Settings, subs: &[Subscription]) -> Vec<Check> {
    let http = match crate::startup::http_client(settings) {
        Ok(h) => h,
        Err(e) => return vec![Check::fail(format!("{e:#}"))],
    };
    let mut checks = Vec::new();
    for (platform, key) in [
        (Platform::Discord, "HERALD_DISCORD__TOKEN"),
        (Platform::Slack, "HERALD_SLACK__BOT_TOKEN"),
    ] {
        let used = channels(subs, platform);
        if settings.platform_enabled(platform) {
            let done = match platform {
                Platform::Discord => discord(settings, &http, &used).await,
                _ => slack(settings, &http, &used).await,
            };
            checks.extend(done);
        } else if !used.is_empty() {
            checks.push(Check::fail(format!(
                "{} subscriptions send to {} channels, but {} has no token: set {key}",
                used.len(),
                platform.as_str(),
                platform.as_str()
            )));
        }
    }
    checks
}

/// GET `url` with `auth`: the status and the JSON body (Null if none).
async fn get(http: &reqwest::Client, url: &str, auth: &str) -> Result<(u16, Value), String> {
    let resp = http
        .get(url)
        .header("Authorization", auth)
        .send()
        .await
        .map_err(|e| without_url(&e))?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

async fn discord(
    settings: &Settings,
    http: &reqwest::Client,
    used: &BTreeMap<String, i64>,
) -> Vec<Check> {
    let d = &settings.discord;
    let api = format!("{}/api/v10", d.api_base.trim_end_matches('/'));
    let auth = format!("Bot {}", d.token);
    let mut checks = vec![match get(http, &format!("{api}/users/@me"), &auth).await {
        Ok((200, me)) => Check::pass(format!(
            "Discord: the bot token is valid ({})",
            me["username"].as_str().unwrap_or("the bot")
        )),
        Ok((401, _)) => {
            return vec![Check::fail(
                "Discord refuses the bot token (401): reset it in the Developer Portal → Bot, and set HERALD_DISCORD__TOKEN",
            )]
        }
        Ok((status, body)) => Check::fail(format!("Discord: users/@me answers HTTP {status}: {body}")),
        Err(e) => return vec![Check::fail(format!("Discord cannot be reached at {api}: {e}"))],
    }];
    checks.push(if d.application_id.is_empty() || d.public_key.is_empty() {
        Check::fail("Discord: discord.application_id or discord.public_key is empty, so /herald cannot work: set HERALD_DISCORD__APPLICATION_ID and HERALD_DISCORD__PUBLIC_KEY")
    } else {
        let url = format!("{api}/applications/{}/commands", d.application_id);
        let ours = serde_json::to_value(command_definition()).unwrap_or_default();
        match get(http, &url, &auth).await {
            Ok((200, Value::Array(registered))) => {
                match registered.iter().find(|c| c["name"] == "herald") {
                    Some(c) if shape(c) == shape(&ours) => Check::pass("Discord: /herald is registered, as this version defines it"),
                    Some(_) => Check::fail("Discord: /herald is registered with another version's options: run herald discord register-commands"),
                    None => Check::fail("Discord: /herald is not registered (globally): run herald discord register-commands"),
                }
            }
            Ok((status, body)) => Check::fail(format!("Discord: the commands of application {} cannot be read (HTTP {status}: {body}); is discord.application_id this bot's?", d.application_id)),
            Err(e) => Check::fail(format!("Discord: the commands cannot be read: {e}")),
        }
    });
    for (id, sub) in used {
        let answer = get(http, &format!("{api}/channels/{id}"), &auth).await;
        checks.push(match answer {
            Ok((200, _)) => Check::pass(format!("Discord: the bot sees discord:{id}")),
            Ok((status, body)) => Check::fail(format!(
                "Discord: discord:{id} (subscription #{sub}) answers HTTP {status} {}: invite the bot to its server and let it view the channel, or herald unsubscribe {sub}",
                body["message"].as_str().unwrap_or_default()
            )),
            Err(e) => Check::fail(format!("Discord: discord:{id} cannot be checked: {e}")),
        });
    }
    checks
}

/// What makes two `/herald` definitions the same command: names, types and options, all
/// the way down (Discord adds ids, versions and defaults of its own).
fn shape(v: &Value) -> Value {
    let options: Vec<Value> = v["options"]
        .as_array()
        .map(|o| o.iter().map(shape).collect())
        .unwrap_or_default();
    let choices: Vec<&Value> = v["choices"]
        .as_array()
        .map(|c| c.iter().map(|c| &c["value"]).collect())
        .unwrap_or_default();
    serde_json::json!([v["name"], v["type"].as_u64().unwrap_or(1), options, choices])
}

async fn slack(
    settings: &Settings,
    http: &reqwest::Client,
    used: &BTreeMap<String, i64>,
) -> Vec<Check> {
    let s = &settings.slack;
    let api = s.api_base.trim_end_matches('/');
    let auth = format!("Bearer {}", s.bot_token);
    let mut checks = vec![match get(http, &format!("{api}/auth.test"), &auth).await {
        Ok((_, v)) if v["ok"] == true => Check::pass(format!(
            "Slack: the bot token is valid (team {})",
            v["team"].as_str().unwrap_or("?")
        )),
        Ok((_, v)) => {
            return vec![Check::fail(format!(
                "Slack refuses the bot token ({}): reinstall the app and set HERALD_SLACK__BOT_TOKEN to its xoxb- token",
                v["error"].as_str().unwrap_or("no answer")
            ))]
        }
        Err(e) => return vec![Check::fail(format!("Slack cannot be reached at {api}: {e}"))],
    }];
    if s.signing_secret.is_empty() {
        checks.push(Check::fail(
            "Slack: slack.signing_secret is empty, so /herald cannot work: set HERALD_SLACK__SIGNING_SECRET",
        ));
    }
    for (id, sub) in used {
        let url = format!("{api}/conversations.info?channel={id}");
        checks.push(match get(http, &url, &auth).await {
            Ok((_, v)) if v["ok"] == true && v["channel"]["is_member"] == true => {
                Check::pass(format!("Slack: the bot is in slack:{id}"))
            }
            Ok((_, v)) if v["ok"] == true => Check::fail(format!(
                "Slack: the bot is not in slack:{id} (subscription #{sub}): type /invite @herald in that channel"
            )),
            Ok((_, v)) => Check::fail(format!(
                "Slack: slack:{id} (subscription #{sub}): {}; invite the bot, or herald unsubscribe {sub}",
                v["error"].as_str().unwrap_or("no answer")
            )),
            Err(e) => Check::fail(format!("Slack: slack:{id} cannot be checked: {e}")),
        });
    }
    checks
}
