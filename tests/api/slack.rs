//! `/herald` on Slack: signed slash commands, admin checks and the template modal.

use crate::helpers::*;
use serde_json::{json, Value};

const ADMIN: &str = "U0ADMIN";
const MEMBER: &str = "U0MEMBER";

fn text(answer: &Value) -> &str {
    answer["text"].as_str().unwrap_or_default()
}

async fn app_with_admin() -> TestApp {
    let app = spawn_app().await;
    app.slack.make_admin(ADMIN);
    app
}

#[test]
fn the_signature_check_matches_a_published_vector() {
    let v = fixture_json("slack/signature_vector_url_verification_slack-ruby-client_test.json");
    let (secret, ts, body) = (
        v["signing_secret"].as_str().unwrap(),
        v["timestamp"].as_str().unwrap(),
        v["body"].as_str().unwrap(),
    );
    let sig = v["headers"]["X-Slack-Signature"].as_str().unwrap();
    let at: i64 = ts.parse().unwrap();
    assert!(herald::chat::slack::verify(
        secret,
        sig,
        ts,
        body.as_bytes(),
        at,
        300
    ));
    assert!(!herald::chat::slack::verify(
        secret,
        "v0=invalid",
        ts,
        body.as_bytes(),
        at,
        300
    ));
    assert!(!herald::chat::slack::verify(
        secret,
        sig,
        ts,
        format!("{body} ").as_bytes(),
        at,
        300
    ));
    assert!(
        !herald::chat::slack::verify(secret, sig, ts, body.as_bytes(), at + 301, 300),
        "stale"
    );
    assert!(!herald::chat::slack::verify(
        "",
        sig,
        ts,
        body.as_bytes(),
        at,
        300
    ));
}

#[tokio::test]
async fn bad_or_stale_signatures_are_a_401() {
    let app = spawn_app().await;
    let form = fixture("slack/slash_command_body_bolt-python_test.form.txt");
    let form = String::from_utf8(form).unwrap();
    let stale = app
        .slack_signed("/slack/commands", &form, now_s() - 301)
        .await;
    assert_eq!(stale.status(), 401);
    let forged = app
        .client
        .post(format!("{}/slack/commands", app.address))
        .header("X-Slack-Signature", "v0=00")
        .header("X-Slack-Request-Timestamp", now_s().to_string())
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let unsigned = app
        .client
        .post(format!("{}/slack/interactions", app.address))
        .body("payload={}")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let fresh = app.slack_signed("/slack/commands", &form, now_s()).await;
    assert_eq!(
        fresh.status(),
        200,
        "the published slash-command body, signed now, is answered"
    );
    let answer: Value = fresh.json().await.unwrap();
    assert!(
        text(&answer).contains("Usage:"),
        "\"Hi\" is not a command: {answer}"
    );
}

#[tokio::test]
async fn a_workspace_admin_subscribes_and_the_next_event_arrives_in_slack() {
    let app = app_with_admin().await;
    let a = app
        .slack_command(ADMIN, "subscribe datasets/AresEkb/* repo.content")
        .await;
    assert_eq!(a["response_type"], "ephemeral");
    assert!(
        text(&a).contains("Subscribed. Now active:") && text(&a).contains("slack:C0123ABCDEF"),
        "{a}"
    );
    assert!(
        text(&a).contains("setup"),
        "points to setup for private repos: {a}"
    );
    let info = app.slack.wait_at("/users.info").await;
    assert_eq!(info.headers["authorization"], "Bearer xoxb-test-token");

    event_id(
        app.post_webhook(&fixture("hf/v2-repo-content-update-dataset.json"))
            .await,
    )
    .await;
    let got = app.slack.wait_at("chat.postMessage").await;
    assert_eq!(got.body["channel"], "C0123ABCDEF");
}

#[tokio::test]
async fn a_named_channel_is_used_instead_of_this_one() {
    let app = app_with_admin().await;
    app.slack.own_channel("C0999ZZZZZZ", "T1");
    let a = app
        .slack_command(ADMIN, "subscribe acme/llama <#C0999ZZZZZZ|releases>")
        .await;
    assert!(text(&a).contains("slack:C0999ZZZZZZ"), "{a}");
}

#[tokio::test]
async fn members_may_list_preview_and_ask_for_help_but_not_change_anything() {
    let app = app_with_admin().await;
    let a = app.slack_command(MEMBER, "subscribe acme/llama").await;
    assert!(text(&a).starts_with("Only workspace admins"), "{a}");
    let a = app.slack_command(MEMBER, "list").await;
    assert!(
        text(&a).starts_with("No subscriptions in this channel"),
        "{a}"
    );
    let a = app
        .slack_command(MEMBER, "template preview discussion")
        .await;
    assert!(
        text(&a).contains("New pull request #19 on *openai-community/gpt2*"),
        "{a}"
    );
    let a = app.slack_command(MEMBER, "").await;
    assert!(
        text(&a).contains("subscribe &lt;target&gt;"),
        "help, escaped for Slack: {a}"
    );
    let allowed = spawn_app_with(|s| s.chat.admins = vec![format!("slack:{MEMBER}")]).await;
    let a = allowed.slack_command(MEMBER, "subscribe acme/llama").await;
    assert!(
        text(&a).starts_with("Subscribed"),
        "the allow-list lets them: {a}"
    );
}

#[tokio::test]
async fn mistakes_are_answered_with_the_fix() {
    let app = app_with_admin().await;
    let a = app.slack_command(ADMIN, "subscribe acme/llama repos").await;
    assert!(text(&a).contains("did you mean repo?"), "{a}");
    let a = app.slack_command(ADMIN, "frobnicate").await;
    assert!(
        text(&a).contains("unknown command") && text(&a).contains("Usage:"),
        "{a}"
    );
    let a = app.slack_command(ADMIN, "unsubscribe acme/llama").await;
    assert!(text(&a).contains("does not follow"), "{a}");
}

fn submission(text: &str) -> Value {
    let mut p = fixture_json("slack/view_submission_payload_bolt-python_test.json");
    p["team"]["id"] = json!("T1");
    p["user"]["id"] = json!(ADMIN);
    p["view"]["callback_id"] = json!("herald_template");
    p["view"]["private_metadata"] =
        json!(json!({ "scope": "discussion", "subscription": null }).to_string());
    p["view"]["state"]["values"] =
        json!({ "template": { "body": { "type": "plain_text_input", "value": text } } });
    p
}

#[tokio::test]
async fn template_edit_opens_a_prefilled_modal_and_the_submission_is_saved() {
    let app = app_with_admin().await;
    let a = app.slack_command(ADMIN, "template edit discussion").await;
    assert_eq!(a, json!({}), "a plain ack; the modal is the answer");
    let open = app.slack.wait_at("/views.open").await;
    let trigger = open.body["trigger_id"].as_str().unwrap();
    assert!(
        trigger.starts_with("111.222."),
        "the command's own trigger: {trigger}"
    );
    let element = &open.body["view"]["blocks"][0]["element"];
    assert_eq!(
        element["initial_value"],
        include_str!("../../templates/discussion.hbs")
    );
    assert_eq!(element["max_length"], 3000);

    let done = app
        .slack_interaction(&submission("💬 {{discussion.title}} in {{bold repo.name}}"))
        .await;
    assert_eq!(done["response_action"], "update", "{done}");
    assert!(
        done.to_string()
            .contains("💬 Update co2 emissions in *openai-community/gpt2*"),
        "{done}"
    );
    let saved = herald::store::templates::get(&app.store.pool, "slack:T1", None, "discussion")
        .await
        .unwrap();
    assert_eq!(
        saved.as_deref(),
        Some("💬 {{discussion.title}} in {{bold repo.name}}")
    );
}

#[tokio::test]
async fn a_hostile_submission_is_shown_its_error_in_the_modal_and_nothing_is_saved() {
    let app = app_with_admin().await;
    let done = app.slack_interaction(&submission("{{> discussion}}")).await;
    assert_eq!(done["response_action"], "errors");
    assert!(
        done["errors"]["template"]
            .as_str()
            .unwrap()
            .contains("partials"),
        "{done}"
    );
    let saved = herald::store::templates::get(&app.store.pool, "slack:T1", None, "discussion")
        .await
        .unwrap();
    assert!(saved.is_none());
}

#[tokio::test]
async fn a_form_missing_what_herald_needs_is_named_and_nothing_changes() {
    let app = app_with_admin().await;
    let form = format!(
        "channel_id=C0123ABCDEF&user_id={ADMIN}&command=%2Fherald&text=subscribe+acme%2F%2A"
    );
    let resp = app.slack_signed("/slack/commands", &form, now_s()).await;
    assert_eq!(resp.status(), 400);
    let error = resp.json::<Value>().await.unwrap()["error"].to_string();
    assert!(error.contains("team_id"), "{error}");
    let listed = app.slack_command(ADMIN, "list").await;
    assert!(!text(&listed).contains("acme/*"), "{listed}");

    let mut empty = submission("unused");
    empty["view"]["state"]["values"] = json!({});
    let done = app.slack_interaction(&empty).await;
    assert_eq!(done["response_action"], "errors", "{done}");
    assert!(done["errors"]["template"]
        .as_str()
        .unwrap()
        .contains("no template text"));
    let mut foreign = submission("{{discussion.title}}");
    foreign["view"]["private_metadata"] = json!("This is for you!");
    let done = app.slack_interaction(&foreign).await;
    assert!(done["errors"]["template"]
        .as_str()
        .unwrap()
        .contains("not opened by herald"));
    let saved = herald::store::templates::get(&app.store.pool, "slack:T1", None, "discussion")
        .await
        .unwrap();
    assert!(saved.is_none());

    let other = app
        .slack_interaction(&json!({ "type": "block_actions", "actions": [] }))
        .await;
    assert_eq!(
        other,
        json!({}),
        "another kind of interaction is acknowledged and ignored"
    );
}

#[tokio::test]
async fn test_answers_at_once_and_reports_the_outcome_to_the_response_url() {
    let app = app_with_admin().await;
    let a = app.slack_command(ADMIN, "test").await;
    assert!(text(&a).starts_with("Posting a sample message"), "{a}");
    let follow = app.slack.wait_at("/response/1").await;
    assert!(
        follow.body["text"]
            .as_str()
            .unwrap()
            .starts_with("Posted the sample message here"),
        "{:?}",
        follow.body
    );
    assert_eq!(app.slack.received_at("chat.postMessage").len(), 1);
}

#[tokio::test]
async fn setup_on_slack_makes_an_endpoint_of_the_team() {
    let app = app_with_admin().await;
    let a = app.slack_command(ADMIN, "setup").await;
    assert!(
        text(&a).contains("/webhooks/hf/") && text(&a).contains("Secret: "),
        "{a}"
    );
    let ep = herald::store::endpoints::for_workspace(&app.store.pool, "slack:T1")
        .await
        .unwrap();
    assert!(ep.is_some());
}
