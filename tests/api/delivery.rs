//! The outbox: retries, permanent failures, platform ids, and restarts.

use crate::helpers::*;
use serde_json::json;

const PAYLOAD: &str = "hf/v3-discussion-create-pr.json";

#[tokio::test]
async fn discord_gets_an_authorized_post_with_a_nonce_and_the_message_id_is_kept() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    let d = app.settled(id).await;
    let got = app.discord.posts();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].headers["authorization"], "Bot discord-test-token");
    assert_eq!(got[0].body["nonce"], json!(format!("herald-{}", d[0].id)));
    assert_eq!(d[0].status, Status::Sent);
    assert_eq!(d[0].message_id.as_deref(), Some("2000000"));
}

#[tokio::test]
async fn a_platform_answering_500_then_200_gets_the_message_once() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    app.discord.script(vec![Reply(
        500,
        vec![],
        json!({ "message": "500: Internal Server Error", "code": 0 }),
    )]);
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Sent);
    assert_eq!(d[0].attempts, 2);
    let got = app.discord.posts();
    assert_eq!(got.len(), 2, "one failed try, one success");
    assert_eq!(
        got[0].body["nonce"], got[1].body["nonce"],
        "a retry reuses the nonce"
    );
}

#[tokio::test]
async fn a_429_waits_the_time_discord_asks_for() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let mut limited = fixture_json("discord/ratelimit_429_user_scope_body_docs.json");
    limited["retry_after"] = json!(0.3);
    app.discord
        .script(vec![Reply(429, vec![("retry-after", "1".into())], limited)]);
    let start = std::time::Instant::now();
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Sent);
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(300),
        "the body's retry_after was honoured"
    );
}

#[tokio::test]
async fn a_permanent_discord_error_stops_at_once_with_the_reason() {
    let unknown_channel = Reply(
        404,
        vec![],
        json!({ "message": "Unknown Channel", "code": 10003 }),
    );
    let bad_token = Reply(
        401,
        vec![],
        fixture_json("discord/error_json_example_invalid_auth_token_docs.json"),
    );
    for (reply, reason) in [
        (unknown_channel, "10003"),
        (bad_token, "Invalid authentication token"),
    ] {
        let app = spawn_app().await;
        app.subscribe("*", DISCORD_CHANNEL, &[]).await;
        app.discord.script(vec![reply]);
        let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
        let d = app.settled(id).await;
        assert_eq!(d[0].status, Status::Failed);
        assert_eq!(d[0].attempts, 1);
        assert!(
            d[0].last_error.as_deref().unwrap().contains(reason),
            "{:?}",
            d[0].last_error
        );
        assert_eq!(app.discord.posts().len(), 1);
    }
}

#[tokio::test]
async fn slack_ok_false_is_a_failure_with_its_error_code() {
    let app = spawn_app().await;
    app.subscribe("*", SLACK_CHANNEL, &[]).await;
    let errors = fixture_json("slack/web_api_error_bodies_DERIVED.json");
    app.slack.script(vec![Reply(
        200,
        vec![],
        errors["examples"]["channel_not_found"]["body"].clone(),
    )]);
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Failed);
    assert_eq!(d[0].last_error.as_deref(), Some("slack: channel_not_found"));
}

#[tokio::test]
async fn slack_success_keeps_the_message_ts() {
    let app = spawn_app().await;
    app.subscribe("*", SLACK_CHANNEL, &[]).await;
    app.slack.script(vec![Reply(
        200,
        vec![],
        fixture_json("slack/chat_postMessage_success_response_docs.json"),
    )]);
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Sent);
    assert_eq!(d[0].message_id.as_deref(), Some("1503435956.000247"));
}

#[tokio::test]
async fn transient_failures_give_up_after_the_configured_attempts() {
    let app = spawn_app_with(|s| s.delivery.max_attempts = 3).await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let boom = Reply(502, vec![], json!({ "message": "Bad Gateway", "code": 0 }));
    app.discord.script(vec![boom.clone(), boom.clone(), boom]);
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Failed);
    assert_eq!(d[0].attempts, 3);
    assert!(d[0]
        .last_error
        .as_deref()
        .unwrap()
        .starts_with("gave up after 3 attempts"));
}

#[tokio::test]
async fn a_restart_delivers_what_was_accepted_before_it() {
    // Discord unreachable: the event is accepted and stays queued.
    let app = spawn_app_with(|s| {
        s.discord.api_base = "http://127.0.0.1:9".into();
        s.delivery.max_attempts = 1000;
    })
    .await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pending = app.deliveries(id).await;
    assert_eq!(pending[0].status, Status::Pending);
    assert!(pending[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("discord"));

    let base = app.discord.base.clone();
    let app = app.restart(|s| s.discord.api_base = base).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Sent);
    assert_eq!(app.discord.wait_posts(1).await.len(), 1);
}

#[tokio::test]
async fn events_past_retention_are_forgotten_once_delivered_and_kept_while_pending() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
        app.settled(id).await;
        ids.push(id);
    }
    // Time passes for the first two; the second still has a delivery to make.
    let pool = &app.store.pool;
    sqlx::query("UPDATE events SET received_at = 0 WHERE id IN (?, ?)")
        .bind(ids[0])
        .bind(ids[1])
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE deliveries SET status = 'pending', due_at = 9e15 WHERE event_id = ?")
        .bind(ids[1])
        .execute(pool)
        .await
        .unwrap();
    // The worker purges when it starts (and hourly after).
    let app = app.restart(|_| {}).await;
    let mut left = Vec::new();
    for _ in 0..100 {
        left = sqlx::query_scalar::<_, i64>("SELECT id FROM events ORDER BY id")
            .fetch_all(&app.store.pool)
            .await
            .unwrap();
        if left.len() < 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, vec![ids[1], ids[2]]);
    assert!(
        app.deliveries(ids[0]).await.is_empty(),
        "deliveries go with their event"
    );
    assert_eq!(app.deliveries(ids[1]).await[0].status, Status::Pending);
}

#[tokio::test]
async fn a_damaged_channel_fails_its_delivery_once_and_never_stops_webhooks() {
    // Deliveries wait a minute, so that the database can be damaged by hand meanwhile.
    let app = spawn_app_with(|s| s.delivery.burst_window_ms = 60_000).await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    // A channel no command would accept.
    for table in ["subscriptions", "deliveries"] {
        sqlx::query(&format!("UPDATE {table} SET channel = 'pigeon:roof'"))
            .execute(&app.store.pool)
            .await
            .unwrap();
    }
    let next: serde_json::Value = app
        .post_webhook(&fixture(PAYLOAD))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        next["deliveries"], 0,
        "the damaged subscription is skipped: {next}"
    );
    let app = app.restart(|s| s.delivery.burst_window_ms = 0).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Failed);
    assert_eq!(
        d[0].last_error.as_deref(),
        Some("unreadable channel \"pigeon:roof\"")
    );
    assert!(app.discord.posts().is_empty());
}
