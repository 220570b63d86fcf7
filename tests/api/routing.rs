//! Who receives what: targets, scopes, the scope rule, and one message per channel.

use crate::helpers::*;
use serde_json::json;

const OTHER_DISCORD: &str = "discord:223456789012345678";

fn repo_event(kind: &str, name: &str, scope: &str, action: &str) -> Vec<u8> {
    json!({
        "event": { "action": action, "scope": scope },
        "repo": { "type": kind, "name": name, "private": false },
        "webhook": { "id": "w", "version": 3 }
    })
    .to_string()
    .into_bytes()
}

/// The channels (by Discord path) that received the event.
async fn channels_for(app: &TestApp, payload: Vec<u8>) -> Vec<String> {
    let id = event_id(app.post_webhook(&payload).await).await;
    let mut got: Vec<String> = app
        .settled(id)
        .await
        .into_iter()
        .map(|d| d.channel)
        .collect();
    got.sort();
    got
}

#[tokio::test]
async fn each_target_kind_receives_exactly_its_events() {
    let app = spawn_app().await;
    app.subscribe("datasets/acme/*", "console:datasets", &[])
        .await;
    app.subscribe("acme/*", "console:acme", &[]).await;
    app.subscribe(
        "https://huggingface.co/acme/llama/tree/main",
        "console:llama",
        &[],
    )
    .await;
    let out = app.subscribe("gpt2", "console:gpt2", &[]).await;
    assert!(
        out.contains("gpt2 is openai-community/gpt2 on the Hub now"),
        "{out}"
    );
    app.subscribe("*", "console:all", &[]).await;
    let out = app
        .subscribe("acme/*", "console:dois", &["repo.config.dois"])
        .await;
    assert!(
        out.contains("The Hub does not send repo.config.dois today; herald routes it as soon as the Hub does."),
        "{out}"
    );

    let got = channels_for(&app, repo_event("dataset", "acme/data", "repo", "create")).await;
    assert_eq!(got, ["console:acme", "console:all", "console:datasets"]);
    let got = channels_for(
        &app,
        repo_event("model", "acme/llama", "repo.content", "update"),
    )
    .await;
    assert_eq!(got, ["console:acme", "console:all", "console:llama"]);
    let got = channels_for(&app, repo_event("space", "ACME/Llama", "repo", "create")).await;
    assert_eq!(
        got,
        ["console:acme", "console:all"],
        "a Space is not the model of the same name"
    );
    // A legacy model follows the name the Hub sends now.
    let got = channels_for(
        &app,
        repo_event("model", "openai-community/gpt2", "repo.content", "update"),
    )
    .await;
    assert_eq!(got, ["console:all", "console:gpt2"]);
    let got = channels_for(&app, repo_event("model", "other/llama", "repo", "create")).await;
    assert_eq!(got, ["console:all"]);
}

#[tokio::test]
async fn scopes_filter_and_narrower_scopes_reach_broader_subscribers() {
    let app = spawn_app().await;
    app.subscribe("acme/llama", "console:content", &["repo.content"])
        .await;
    app.subscribe("acme/llama", "console:config", &["repo.config"])
        .await;
    app.subscribe("acme/llama", "console:repo", &["repo"]).await;
    app.subscribe("acme/llama", "console:talk", &["community.discussion"])
        .await;

    let got = channels_for(
        &app,
        repo_event("model", "acme/llama", "repo.content", "update"),
    )
    .await;
    assert_eq!(got, ["console:content", "console:repo"]);
    let got = channels_for(
        &app,
        repo_event("model", "acme/llama", "repo.config.dois", "update"),
    )
    .await;
    assert_eq!(
        got,
        ["console:config", "console:repo"],
        "a future scope reaches its ancestors"
    );
    let got = channels_for(
        &app,
        fixture_for(
            "acme/llama",
            "hf/assembled-v3-discussion-comment-create.json",
        ),
    )
    .await;
    assert_eq!(got, ["console:talk"]);
}

fn fixture_for(name: &str, file: &str) -> Vec<u8> {
    let mut p = fixture_json(file);
    p["repo"]["name"] = json!(name);
    p.to_string().into_bytes()
}

#[tokio::test]
async fn a_channel_gets_an_event_once_even_when_several_subscriptions_match() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    app.subscribe("acme/*", DISCORD_CHANNEL, &[]).await;
    app.subscribe("acme/llama", DISCORD_CHANNEL, &["repo"])
        .await;
    app.subscribe("acme/llama", OTHER_DISCORD, &[]).await;
    let id = event_id(
        app.post_webhook(&repo_event("model", "acme/llama", "repo", "create"))
            .await,
    )
    .await;
    let deliveries = app.settled(id).await;
    assert_eq!(deliveries.len(), 2);
    let got = app.discord.wait_posts(2).await;
    let mut paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v10/channels/123456789012345678/messages",
            "/api/v10/channels/223456789012345678/messages"
        ]
    );
}

#[tokio::test]
async fn a_move_reaches_subscribers_of_the_new_name() {
    let app = spawn_app().await;
    app.subscribe("some-user/some-new-repo", "console:new", &[])
        .await;
    let got = channels_for(&app, fixture("hf/assembled-v3-repo-move.json")).await;
    assert_eq!(got, ["console:new"]);
}

#[tokio::test]
async fn an_unknown_scope_is_rendered_by_the_nearest_template() {
    let app = spawn_app().await;
    app.subscribe("acme/llama", DISCORD_CHANNEL, &["repo.config"])
        .await;
    let mut p: serde_json::Value = serde_json::from_slice(&repo_event(
        "model",
        "acme/llama",
        "repo.config.dois",
        "create",
    ))
    .unwrap();
    p["updatedConfig"] = json!({ "doi": "10.57967/hf/1234" });
    event_id(app.post_webhook(p.to_string().as_bytes()).await).await;
    let got = app.discord.wait_posts(1).await;
    let embed = &got[0].body["embeds"][0];
    assert_eq!(
        embed["title"],
        "Settings changed on **acme/llama** (`repo.config.dois`)"
    );
    assert!(embed["description"]
        .as_str()
        .unwrap()
        .contains("`doi`: 10.57967/hf/1234"));
}

#[tokio::test]
async fn a_subscription_made_while_serving_applies_to_the_very_next_event() {
    let app = spawn_app().await;
    let body = repo_event("model", "acme/llama", "repo", "create");
    let first: serde_json::Value = app.post_webhook(&body).await.json().await.unwrap();
    assert_eq!(first["deliveries"], 0);
    app.subscribe("acme/llama", "console:new", &[]).await;
    let second: serde_json::Value = app.post_webhook(&body).await.json().await.unwrap();
    assert_eq!(
        second["deliveries"], 1,
        "routing lookups are not served stale"
    );
    let out = herald::cli::run(&app.settings, herald::cli::Command::Unsubscribe { id: 1 })
        .await
        .unwrap();
    assert!(out.starts_with("Removed"));
    let third: serde_json::Value = app.post_webhook(&body).await.json().await.unwrap();
    assert_eq!(third["deliveries"], 0);
}

#[tokio::test]
async fn subscriptions_stored_by_an_earlier_herald_still_load_and_route() {
    use herald::route::{Channel, Target};
    use herald::store::subscriptions::{add, NewSubscription};
    let app = spawn_app().await;
    // Names today's parser refuses or reads otherwise, as an earlier herald stored them.
    for (i, name) in ["acme", "gpt2", "acme/bad--name"].iter().enumerate() {
        let new = NewSubscription {
            target: Target::parse_stored(name).unwrap(),
            scopes: vec![],
            channel: Channel::parse(&format!("console:old{i}")).unwrap(),
            workspace: None,
            source: herald::route::subscription::Source::Cli,
            created_by: "an earlier herald".into(),
            threads: Default::default(),
            rules: Default::default(),
        };
        let mut conn = app.store.pool.acquire().await.unwrap();
        add(&mut conn, &new, 0).await.unwrap();
    }
    let list = herald::cli::run(
        &app.settings,
        herald::cli::Command::Subscriptions { json: false },
    )
    .await
    .unwrap();
    assert!(
        list.contains("the model gpt2 ") && list.contains("the model acme "),
        "{list}"
    );
    let got = channels_for(&app, repo_event("model", "gpt2", "repo.content", "update")).await;
    assert_eq!(got, ["console:old1"]);
    let got = channels_for(
        &app,
        repo_event("model", "acme/bad--name", "repo", "create"),
    )
    .await;
    assert_eq!(got, ["console:old2"]);
}
