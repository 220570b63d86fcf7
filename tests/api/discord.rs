//! `/herald` on Discord over HTTP interactions, signed with a key pair made in the test.

use crate::helpers::*;
use serde_json::{json, Value};

const PUBLIC_PUSH: &str = "hf/assembled-v3-repo-content-update.json";

fn private(file: &str) -> Vec<u8> {
    let mut p = fixture_json(file);
    p["repo"]["private"] = json!(true);
    p.to_string().into_bytes()
}

#[tokio::test]
async fn a_ping_is_answered_with_a_pong() {
    let app = spawn_app().await;
    let a = answer(
        &app,
        &fixture_json("discord/interaction_ping_discord-interactions-js_test.json"),
    )
    .await;
    assert_eq!(a, json!({ "type": 1 }));
}

#[tokio::test]
async fn a_command_with_only_the_fields_discord_always_sends_is_read_and_a_malformed_one_is_named()
{
    let app = spawn_app().await;
    // No guild, no member, no locale or entitlements: still an interaction herald can answer.
    let minimal = fixture_json(
        "discord/interaction_application_command_minimal_discord-interactions-js_test.json",
    );
    let a = answer(&app, &minimal).await;
    assert_eq!(a["type"], 4, "{a}");
    assert!(
        a["data"]["content"]
            .as_str()
            .unwrap()
            .contains("in servers"),
        "{a}"
    );
    let mut no_user = interaction(MANAGE_GUILD, command("list"));
    no_user["member"].as_object_mut().unwrap().remove("user");
    let resp = app.discord(&no_user).await;
    assert_eq!(resp.status(), 400);
    let error = resp.json::<Value>().await.unwrap()["error"].to_string();
    assert!(error.contains("missing field `user`"), "{error}");
    let mut wrong_type = interaction(MANAGE_GUILD, command("list"));
    wrong_type["type"] = json!("command");
    assert_eq!(app.discord(&wrong_type).await.status(), 400);
    let listed = answer(&app, &interaction(MANAGE_GUILD, command("list"))).await;
    assert_eq!(listed["type"], 4, "the next command is answered: {listed}");
}

#[tokio::test]
async fn bad_missing_or_stale_signatures_are_a_401() {
    let app = spawn_app().await;
    let ping = fixture_json("discord/interaction_ping_discord-interactions-js_test.json");
    let flip = |s: String| {
        let mut b = s.into_bytes();
        b[0] = if b[0] == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).unwrap()
    };
    let cases = [
        app.discord_signed(&ping, now_s(), flip).await,
        app.discord_signed(&ping, now_s(), |_| String::new()).await,
        app.discord_signed(&ping, now_s(), |_| "zz".repeat(64))
            .await,
        app.discord_signed(&ping, now_s() - 600, |s| s).await,
    ];
    for resp in cases {
        assert_eq!(resp.status(), 401);
    }
    let unsigned = app
        .client
        .post(format!("{}/discord/interactions", app.address))
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
}

#[tokio::test]
async fn an_admin_subscribes_this_channel_and_the_next_event_arrives_there() {
    let app = spawn_app().await;
    let a = answer(
        &app,
        &interaction(MANAGE_GUILD, subscribe("some-user/some-repo")),
    )
    .await;
    assert_eq!(a["type"], 4);
    assert_eq!(a["data"]["flags"], 64, "only the user sees the answer");
    assert_eq!(a["data"]["allowed_mentions"]["parse"], json!([]));
    assert!(content(&a).contains("Subscribed. Now active:"), "{a}");
    assert!(
        content(&a).contains(&format!("discord\\:{GUILD_CHANNEL}")),
        "{a}"
    );

    event_id(app.post_webhook(&fixture(PUBLIC_PUSH)).await).await;
    let got = app.discord.wait_posts(1).await;
    assert_eq!(
        got[0].path,
        format!("/api/v10/channels/{GUILD_CHANNEL}/messages")
    );
}

#[tokio::test]
async fn a_platform_failure_is_answered_without_its_error_text() {
    // Discord cannot be reached: its address and the client's error stay in the log.
    let app = spawn_app_with(|s| s.discord.api_base = "http://127.0.0.1:9".into()).await;
    let mut sub = subscribe("acme/*");
    with_option(
        &mut sub,
        json!({ "type": 7, "name": "channel", "value": "111111111111111111" }),
    );
    let a = answer(&app, &interaction(MANAGE_GUILD, sub)).await;
    let text = content(&a);
    assert!(text.contains("could not check that channel"), "{a}");
    for leak in ["127.0.0.1", "http", "error sending", "connect"] {
        assert!(!text.contains(leak), "{leak} in {a}");
    }
}

#[tokio::test]
async fn subscribing_another_channel_uses_the_typed_channel_option() {
    let app = spawn_app().await;
    let mut sub = subscribe("acme/*");
    with_option(
        &mut sub,
        json!({ "type": 7, "name": "channel", "value": "111111111111111111" }),
    );
    with_option(
        &mut sub,
        json!({ "type": 3, "name": "scope", "value": "discussion" }),
    );
    let mut body = interaction(MANAGE_GUILD, sub);
    body["data"]["resolved"] =
        json!({ "channels": { "111111111111111111": { "id": "111111111111111111", "type": 0 } } });
    let a = answer(&app, &body).await;
    assert!(content(&a).contains("discord\\:111111111111111111"), "{a}");
    assert!(content(&a).contains("scopes discussion"), "{a}");
}

#[tokio::test]
async fn members_without_manage_server_may_list_and_get_help_but_not_change_anything() {
    let app = spawn_app().await;
    let a = answer(&app, &interaction("0", subscribe("acme/llama"))).await;
    assert!(
        content(&a).contains("Only members with the Manage Server permission"),
        "{a}"
    );
    let a = answer(&app, &interaction("0", command("setup"))).await;
    assert!(content(&a).contains("Manage Server"), "{a}");
    let a = answer(&app, &interaction("0", command("list"))).await;
    assert!(
        content(&a).starts_with("No subscriptions in this channel"),
        "{a}"
    );
    let a = answer(&app, &interaction("0", command("help"))).await;
    assert!(content(&a).contains("subscribe <target>"), "{a}");
    assert!(herald::store::subscriptions::list(&app.store.pool)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn mistakes_get_an_answer_that_says_how_to_fix_them() {
    let app = spawn_app().await;
    let mut bad_scope = subscribe("acme/llama");
    with_option(
        &mut bad_scope,
        json!({ "type": 3, "name": "scope", "value": "repos" }),
    );
    let a = answer(&app, &interaction(MANAGE_GUILD, bad_scope)).await;
    assert!(content(&a).contains("did you mean repo?"), "{a}");
    let a = answer(&app, &interaction(MANAGE_GUILD, subscribe("a/b/c"))).await;
    assert!(content(&a).contains("owner/name"), "{a}");
}

#[tokio::test]
async fn autocomplete_offers_this_channels_subscriptions() {
    let app = spawn_app().await;
    answer(&app, &interaction(MANAGE_GUILD, subscribe("acme/llama"))).await;
    answer(&app, &interaction(MANAGE_GUILD, subscribe("other/thing"))).await;
    let mut ac = interaction(
        MANAGE_GUILD,
        json!({ "type": 1, "name": "unsubscribe",
        "options": [{ "type": 3, "name": "subscription", "value": "llam", "focused": true }] }),
    );
    ac["type"] = json!(4);
    let a = answer(&app, &ac).await;
    assert_eq!(a["type"], 8);
    let choices = a["data"]["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 1);
    assert!(choices[0]["name"].as_str().unwrap().contains("acme/llama"));
    let id = choices[0]["value"].as_str().unwrap().to_string();

    let unsub = json!({ "type": 1, "name": "unsubscribe", "options": [{ "type": 3, "name": "subscription", "value": id }] });
    let a = answer(&app, &interaction(MANAGE_GUILD, unsub)).await;
    assert!(content(&a).starts_with("Removed \\#"), "{a}");
}

#[tokio::test]
async fn a_workspace_cannot_see_or_remove_another_workspaces_subscription() {
    let app = spawn_app().await;
    let mut other = interaction(MANAGE_GUILD, subscribe("acme/llama"));
    other["guild_id"] = json!("999999999999999999");
    other["channel_id"] = json!("888888888888888888");
    answer(&app, &other).await;
    let theirs = herald::store::subscriptions::list(&app.store.pool)
        .await
        .unwrap()[0]
        .id;
    let unsub = json!({ "type": 1, "name": "unsubscribe", "options": [{ "type": 3, "name": "subscription", "value": theirs.to_string() }] });
    let a = answer(&app, &interaction(MANAGE_GUILD, unsub)).await;
    assert!(
        content(&a).contains(&format!("There is no subscription #{theirs} here")),
        "{a}"
    );
    let a = answer(&app, &interaction(MANAGE_GUILD, json!({ "type": 1, "name": "list", "options": [{ "type": 5, "name": "all", "value": true }] }))).await;
    assert!(content(&a).starts_with("No subscriptions"), "{a}");
    assert_eq!(
        herald::store::subscriptions::list(&app.store.pool)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_private_repos_event_on_the_operator_endpoint_never_reaches_a_workspace() {
    let app = spawn_app().await;
    follow_from_workspace_and_operator(&app).await;
    let id = event_id(app.post_webhook(&private(PUBLIC_PUSH)).await).await;
    let d = app.settled(id).await;
    let channels: Vec<&str> = d.iter().map(|d| d.channel.as_str()).collect();
    assert_eq!(channels, ["console:operator"]);
}

/// This server and the operator both follow the sample repo.
async fn follow_from_workspace_and_operator(app: &TestApp) {
    answer(
        app,
        &interaction(MANAGE_GUILD, subscribe("some-user/some-repo")),
    )
    .await;
    app.subscribe("some-user/some-repo", "console:operator", &[])
        .await;
}

/// The status of a public push posted to a workspace endpoint.
async fn status_at(app: &TestApp, id: &str, secret: &str) -> u16 {
    post_endpoint(app, id, secret, &fixture(PUBLIC_PUSH))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn setup_gives_the_workspace_its_own_endpoint_for_its_private_repos() {
    let app = spawn_app().await;
    follow_from_workspace_and_operator(&app).await;
    let a = answer(&app, &interaction(MANAGE_GUILD, setup(false))).await;
    assert!(content(&a).contains("shown only now"), "{a}");
    let (id, secret) = endpoint_of(&a);

    let resp = post_endpoint(&app, &id, &secret, &private(PUBLIC_PUSH)).await;
    let event = event_id(resp).await;
    let d = app.settled(event).await;
    let channels: Vec<&str> = d.iter().map(|d| d.channel.as_str()).collect();
    assert_eq!(
        channels,
        [format!("discord:{GUILD_CHANNEL}")],
        "only this workspace, private repo included"
    );

    assert_eq!(status_at(&app, &id, "wrong").await, 403);
    assert_eq!(
        status_at(&app, &id, SECRET).await,
        403,
        "not the operator's secret"
    );
    assert_eq!(status_at(&app, "nope", &secret).await, 404);

    // Asking again shows the address, never the secret.
    let again = answer(&app, &interaction(MANAGE_GUILD, setup(false))).await;
    assert!(
        content(&again).contains(&id) && !content(&again).contains(&secret),
        "{again}"
    );
}

#[tokio::test]
async fn rotating_keeps_the_old_secret_valid_for_the_grace_period() {
    let app = spawn_app().await;
    let (id, old) = endpoint_of(&answer(&app, &interaction(MANAGE_GUILD, setup(false))).await);
    let a = answer(&app, &interaction(MANAGE_GUILD, setup(true))).await;
    let (same_id, new) = endpoint_of(&a);
    assert_eq!(id, same_id);
    assert_ne!(old, new);
    assert!(content(&a).contains("24 hours"), "{a}");
    assert_eq!(status_at(&app, &id, &new).await, 202);
    assert_eq!(status_at(&app, &id, &old).await, 202);
}

#[tokio::test]
async fn rotation_with_no_grace_refuses_the_old_secret_at_once() {
    let app = spawn_app_with(|s| s.chat.rotation_grace_hours = 0).await;
    let (id, old) = endpoint_of(&answer(&app, &interaction(MANAGE_GUILD, setup(false))).await);
    answer(&app, &interaction(MANAGE_GUILD, setup(true))).await;
    assert_eq!(status_at(&app, &id, &old).await, 403);
}

fn template(action: &str, scope: &str) -> Value {
    json!({ "type": 2, "name": "template", "options": [{ "type": 1, "name": action,
        "options": [{ "type": 3, "name": "scope", "value": scope }] }] })
}

#[tokio::test]
async fn template_edit_opens_a_prefilled_editor_and_saving_changes_the_messages() {
    let app = spawn_app().await;
    answer(
        &app,
        &interaction(MANAGE_GUILD, subscribe("some-user/some-repo")),
    )
    .await;
    let a = answer(
        &app,
        &interaction(MANAGE_GUILD, template("edit", "repo.content")),
    )
    .await;
    assert_eq!(a["type"], 9);
    let input = &a["data"]["components"][0]["components"][0];
    assert_eq!(
        input["value"],
        include_str!("../../templates/repo.content.hbs")
    );
    assert_eq!(input["max_length"], 3000);

    let custom = "🚀 {{ref_count}} refs moved in {{bold repo.name}}\n{{link repo.url \"open\"}}";
    let a = answer(&app, &modal_submit("repo.content", custom)).await;
    assert!(
        content(&a).starts_with("Saved the template for repo.content"),
        "{a}"
    );
    assert!(
        content(&a).contains("🚀 2 refs moved in **some\\-user/some\\-repo**"),
        "the answer previews a real sample: {a}"
    );

    event_id(app.post_webhook(&fixture(PUBLIC_PUSH)).await).await;
    let got = app.discord.wait_posts(1).await;
    assert_eq!(
        got[0].body["embeds"][0]["title"],
        "🚀 2 refs moved in **some\\-user/some\\-repo**"
    );

    let a = answer(&app, &interaction("0", template("show", "repo.content"))).await;
    assert!(
        content(&a).contains("custom template") && content(&a).contains("refs moved"),
        "{a}"
    );
    let a = answer(
        &app,
        &interaction(MANAGE_GUILD, template("reset", "repo.content")),
    )
    .await;
    assert!(content(&a).contains("built-in one again"), "{a}");
}

#[tokio::test]
async fn the_label_layout_of_a_modal_submission_is_read_too() {
    let app = spawn_app().await;
    let mut body = fixture_json("discord/interaction_modal_submit_label_text_input_COMPOSED.json");
    body["guild_id"] = json!(GUILD);
    body["member"]["permissions"] = json!(MANAGE_GUILD);
    body["data"]["custom_id"] = json!("herald:template:repo:0");
    body["data"]["components"][0]["component"]["custom_id"] = json!("body");
    body["data"]["components"][0]["component"]["value"] = json!("Repo news: {{repo.name}}");
    let a = answer(&app, &body).await;
    assert!(
        content(&a).starts_with("Saved the template for repo"),
        "{a}"
    );
}

#[tokio::test]
async fn hostile_templates_are_refused_and_nothing_is_saved() {
    let app = spawn_app().await;
    let explode = "x{{#each refs}}{{#each ../refs}}".to_string()
        + &"{{@root.repo.url}}".repeat(20)
        + "{{/each}}{{/each}}";
    let deep = "{{#if repo}}".repeat(20) + "x" + &"{{/if}}".repeat(20);
    let cases = [
        ("{{> repo}}", "partials"),
        (
            "{{#* inline \"me\"}}{{> me}}{{/inline}}{{> me}}",
            "not allowed",
        ),
        (deep.as_str(), "nested more than"),
        (explode.as_str(), "output is larger than"),
        ("{{lookup (shell) 1}}", "unknown helper"),
    ];
    for (src, why) in cases {
        let a = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            answer(&app, &modal_submit("repo.content", src)),
        )
        .await
        .expect("a hostile template is refused within the bound");
        assert!(content(&a).starts_with("Not saved"), "{src}: {a}");
        assert!(content(&a).contains(why), "{src}: {a}");
    }
    let saved: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM templates")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(saved, 0);
}

#[tokio::test]
async fn a_template_that_fails_at_send_time_falls_back_and_the_event_is_still_delivered() {
    let app = spawn_app().await;
    answer(
        &app,
        &interaction(MANAGE_GUILD, subscribe("some-user/some-repo")),
    )
    .await;
    // As if saved by an older herald: it explodes on this event.
    let explode = "{{#each refs}}{{#each ../refs}}".to_string()
        + &"{{@root.repo.url}}".repeat(20)
        + "{{/each}}{{/each}}";
    herald::store::templates::set(
        &app.store.pool,
        &format!("discord:{GUILD}"),
        None,
        "repo.content",
        &explode,
        "test",
        0,
    )
    .await
    .unwrap();
    let mut big = fixture_json(PUBLIC_PUSH);
    let refs: Vec<Value> = (0..50)
        .map(|i| json!({ "ref": format!("refs/tags/v{i}"), "oldSha": null, "newSha": "575db8b7a51b6f85eb06eee540738584589f131c" }))
        .collect();
    big["updatedRefs"] = json!(refs);
    let id = event_id(app.post_webhook(big.to_string().as_bytes()).await).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Sent);
    assert!(
        d[0].note
            .as_deref()
            .unwrap()
            .contains("output is larger than"),
        "{:?}",
        d[0].note
    );
    let got = app.discord.wait_posts(1).await;
    assert_eq!(
        got[0].body["embeds"][0]["title"],
        "50 refs updated in **some\\-user/some\\-repo**"
    );
}

#[tokio::test]
async fn test_posts_a_sample_here_and_follows_up_with_the_outcome() {
    let app = spawn_app().await;
    let a = answer(&app, &interaction(MANAGE_GUILD, command("test"))).await;
    assert_eq!(a["type"], 5, "deferred: {a}");
    assert_eq!(a["data"]["flags"], 64, "ephemeral: {a}");
    let edit = app.discord.wait_at("/messages/@original").await;
    assert_eq!(edit.method, "PATCH");
    assert_eq!(
        edit.path,
        "/api/v10/webhooks/1111111111111111111/A_UNIQUE_TOKEN/messages/@original"
    );
    assert!(
        edit.body["content"]
            .as_str()
            .unwrap()
            .starts_with("Posted the sample message here"),
        "{:?}",
        edit.body
    );
    let posted = app
        .discord
        .received_at(&format!("/channels/{GUILD_CHANNEL}/messages"));
    assert_eq!(posted.len(), 1);
    assert!(posted[0].body["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .contains("refs updated"));
}

#[tokio::test]
async fn test_follows_up_with_the_fix_when_the_channel_refuses() {
    let app = spawn_app().await;
    app.discord.script(vec![Reply(
        403,
        vec![],
        json!({ "message": "Missing Access", "code": 50001 }),
    )]);
    answer(&app, &interaction(MANAGE_GUILD, command("test"))).await;
    let edit = app.discord.wait_at("/messages/@original").await;
    let text = edit.body["content"].as_str().unwrap();
    assert!(
        text.contains("50001") && text.contains("Send Messages"),
        "{text}"
    );
}

#[tokio::test]
async fn register_commands_puts_the_herald_command_with_manage_server_by_default() {
    let app = spawn_app().await;
    let cmd = herald::cli::Command::Discord(herald::cli::DiscordCommand::RegisterCommands {
        guild: Some(GUILD.into()),
    });
    let out = herald::cli::run(&app.settings, cmd).await.unwrap();
    assert!(out.contains("Registered /herald in server"), "{out}");
    let put = app.discord.wait_at("/commands").await;
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.path,
        format!("/api/v10/applications/1111111111111111111/guilds/{GUILD}/commands")
    );
    assert_eq!(put.headers["authorization"], "Bot discord-test-token");
    let c = &put.body[0];
    assert_eq!(c["name"], "herald");
    assert_eq!(c["default_member_permissions"], "32");
    let subs: Vec<&str> = c["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        subs,
        [
            "subscribe",
            "unsubscribe",
            "filter",
            "why",
            "list",
            "template",
            "setup",
            "test",
            "connect",
            "disconnect",
            "help"
        ]
    );
    let unsub = &c["options"][1]["options"][0];
    assert_eq!(unsub["autocomplete"], true);
    let scope_choices = c["options"][0]["options"][1]["choices"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(scope_choices, 5);
}

#[tokio::test]
async fn one_workspaces_secret_does_not_open_another_workspaces_endpoint() {
    let app = spawn_app().await;
    let (ours, our_secret) =
        endpoint_of(&answer(&app, &interaction(MANAGE_GUILD, setup(false))).await);
    let mut other = interaction(MANAGE_GUILD, setup(false));
    other["guild_id"] = json!("999999999999999999");
    let (theirs, their_secret) = endpoint_of(&answer(&app, &other).await);
    assert_ne!(ours, theirs);
    assert_eq!(status_at(&app, &ours, &their_secret).await, 403);
    assert_eq!(status_at(&app, &theirs, &our_secret).await, 403);
    assert_eq!(status_at(&app, &theirs, &their_secret).await, 202);
}
