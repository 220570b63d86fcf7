//! Delivery under load and faults: per-channel queues, rate limits, bursts, threads,
//! paused subscriptions and given-up deliveries.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

const OTHER_DISCORD: &str = "discord:223456789012345678";

/// A push of `sha` to `main` of `repo`.
fn push(repo: &str, sha: &str) -> Vec<u8> {
    let mut p = fixture_json("hf/assembled-v3-repo-content-update.json");
    p["repo"]["name"] = json!(repo);
    p["updatedRefs"] = json!([{ "ref": "refs/heads/main", "oldSha": "ce9a4674fa833a68d5a73ec355f0ea95eedd60b7", "newSha": sha }]);
    p.to_string().into_bytes()
}

fn sha(i: usize) -> String {
    format!("{i:07x}{}", "b".repeat(33))
}

async fn subscribe_no_threads(app: &TestApp, target: &str, channel: &str) {
    let cmd = herald::cli::Command::Subscribe {
        target: target.into(),
        channel: channel.into(),
        scopes: vec![],
        threads: Some("none".into()),
        rules: Default::default(),
    };
    herald::cli::run(&app.settings, cmd).await.unwrap();
}

/// Waits until every delivery of these events is settled.
async fn settle_all(app: &TestApp, ids: &[i64]) {
    for id in ids {
        app.settled(*id).await;
    }
}

#[tokio::test]
async fn a_burst_to_a_rate_limited_channel_is_paced_by_its_headers_and_never_delays_another_channel(
) {
    let app = spawn_app_with(|s| s.delivery.merge_bursts = false).await;
    app.discord.rate_limit(5, Duration::from_millis(1000));
    subscribe_no_threads(&app, "acme/busy", DISCORD_CHANNEL).await;
    subscribe_no_threads(&app, "acme/quiet", OTHER_DISCORD).await;
    let mut ids = vec![];
    for i in 0..15 {
        ids.push(event_id(app.post_webhook(&push("acme/busy", &sha(i))).await).await);
    }
    let quiet = event_id(app.post_webhook(&push("acme/quiet", &sha(99))).await).await;
    app.settled(quiet).await;
    let busy_done_before_quiet = app
        .discord
        .posts()
        .iter()
        .filter(|r| r.path.contains("123456789012345678"))
        .count();
    assert!(
        busy_done_before_quiet < 15,
        "the quiet channel did not wait for the busy one's backlog"
    );
    settle_all(&app, &ids).await;
    assert!(app.discord.limited() <= 1, "{} 429s", app.discord.limited());
    let busy: Vec<String> = app
        .discord
        .created()
        .iter()
        .filter(|r| r.path.contains("123456789012345678"))
        .map(|r| {
            r.body["embeds"][0]["description"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(busy.len(), 15, "each event once");
    for (i, desc) in busy.iter().enumerate() {
        assert!(
            desc.contains(&format!("[{}]", &sha(i)[..7])),
            "in order: {i} {desc}"
        );
    }
}

#[tokio::test]
async fn a_429_from_the_platform_is_waited_out_and_not_counted_as_a_failed_try() {
    let app = spawn_app_with(|s| s.delivery.max_attempts = 1).await;
    subscribe_no_threads(&app, "acme/busy", DISCORD_CHANNEL).await;
    let limited = fixture_json("discord/ratelimit_429_user_scope_body_docs.json");
    let mut fast = limited.clone();
    fast["retry_after"] = json!(0.2);
    app.discord.script(vec![
        Reply(429, vec![("retry-after", "1".into())], fast.clone()),
        Reply(429, vec![], fast),
    ]);
    let id = event_id(app.post_webhook(&push("acme/busy", &sha(1))).await).await;
    let d = app.settled(id).await;
    assert_eq!(
        d[0].status,
        Status::Sent,
        "two 429s with max_attempts = 1 still deliver"
    );
    assert_eq!(d[0].attempts, 1);
}

#[tokio::test]
async fn a_global_429_holds_every_channel_until_it_has_passed() {
    let app = spawn_app().await;
    subscribe_no_threads(&app, "acme/first", DISCORD_CHANNEL).await;
    subscribe_no_threads(&app, "acme/second", OTHER_DISCORD).await;
    let mut global = fixture_json("discord/ratelimit_429_global_body_docs.json");
    global["retry_after"] = json!(1.5);
    app.discord.script(vec![Reply(
        429,
        vec![("x-ratelimit-global", "true".into())],
        global,
    )]);
    let first = event_id(app.post_webhook(&push("acme/first", &sha(1))).await).await;
    app.discord.wait_posts(1).await;
    let limited_at = std::time::Instant::now();
    // Another channel's message, after the 429: it waits too, as Discord asked.
    let second = event_id(app.post_webhook(&push("acme/second", &sha(2))).await).await;
    app.discord.wait_posts(2).await;
    let waited = limited_at.elapsed();
    assert!(
        waited >= Duration::from_millis(1300),
        "the next request came {waited:?} after a global 429 of 1.5 s"
    );
    settle_all(&app, &[first, second]).await;
    assert_eq!(app.discord.created().len(), 2, "both delivered, once each");
}

#[tokio::test]
async fn a_global_discord_pause_never_holds_slack_messages_back() {
    let app = spawn_app().await;
    subscribe_no_threads(&app, "acme/first", DISCORD_CHANNEL).await;
    // More Discord channels than sends may be in flight, and one Slack channel after them.
    for i in 0..40 {
        let channel = format!("discord:{}", 300_000_000_000_000_000u64 + i);
        subscribe_no_threads(&app, "acme/many", &channel).await;
    }
    subscribe_no_threads(&app, "acme/many", SLACK_CHANNEL).await;
    let mut global = fixture_json("discord/ratelimit_429_global_body_docs.json");
    global["retry_after"] = json!(5.0);
    app.discord.script(vec![Reply(429, vec![], global)]);
    event_id(app.post_webhook(&push("acme/first", &sha(1))).await).await;
    app.discord.wait_posts(1).await;
    let paused_at = std::time::Instant::now();
    event_id(app.post_webhook(&push("acme/many", &sha(2))).await).await;
    app.slack.wait_posts(1).await;
    let waited = paused_at.elapsed();
    assert!(
        waited < Duration::from_millis(2500),
        "the Slack message waited {waited:?} for Discord's pause"
    );
    assert_eq!(
        app.discord.posts().len(),
        1,
        "no Discord request during the pause"
    );
}

#[tokio::test]
async fn queued_pushes_to_one_repo_become_one_message_that_lists_every_commit() {
    let app = spawn_app_with(|s| s.delivery.slack_interval_ms = 400).await;
    subscribe_no_threads(&app, "acme/busy", SLACK_CHANNEL).await;
    let mut ids = vec![];
    for i in 0..12 {
        ids.push(event_id(app.post_webhook(&push("acme/busy", &sha(i))).await).await);
    }
    settle_all(&app, &ids).await;
    let created = app.slack.created();
    assert!(
        created.len() < 12,
        "the burst was merged: {} messages",
        created.len()
    );
    let all = app.slack.shown();
    for i in 0..12 {
        assert_eq!(
            all.matches(&format!("|{}>", &sha(i)[..7])).count(),
            1,
            "commit {i} shown exactly once:\n{all}"
        );
    }
    let merged = created.iter().find(|r| {
        r.body["text"]
            .as_str()
            .unwrap()
            .contains("pushes to `main` of *acme/busy*")
    });
    assert!(merged.is_some(), "{all}");
    let merged_rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries WHERE merged_into != id AND status = 'sent'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(merged_rows as usize, 12 - created.len());
}

#[tokio::test]
async fn order_holds_in_a_channel_across_a_retry() {
    let app = spawn_app_with(|s| s.delivery.merge_bursts = false).await;
    subscribe_no_threads(&app, "acme/*", DISCORD_CHANNEL).await;
    app.discord.script(vec![Reply(
        502,
        vec![],
        json!({ "message": "Bad Gateway", "code": 0 }),
    )]);
    let mut ids = vec![];
    for (i, repo) in ["acme/a", "acme/b", "acme/c"].iter().enumerate() {
        ids.push(event_id(app.post_webhook(&push(repo, &sha(i))).await).await);
    }
    settle_all(&app, &ids).await;
    let titles: Vec<String> = app
        .discord
        .created()
        .iter()
        .map(|r| r.body["embeds"][0]["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(titles.len(), 3);
    for (t, repo) in titles.iter().zip(["acme/a", "acme/b", "acme/c"]) {
        assert!(t.contains(repo), "{titles:?}");
    }
}

fn discussion(file: &str, action: &str, status: &str) -> Vec<u8> {
    let mut p = fixture_json(file);
    p["event"]["action"] = json!(action);
    p["discussion"]["status"] = json!(status);
    p["discussion"]["num"] = json!(3);
    p.to_string().into_bytes()
}

const OPENED: (&str, &str, &str) = (
    "hf/assembled-v3-discussion-update-pr-merged.json",
    "create",
    "open",
);
const COMMENT: (&str, &str, &str) = (
    "hf/assembled-v3-discussion-comment-create.json",
    "create",
    "open",
);
const MERGED: (&str, &str, &str) = (
    "hf/assembled-v3-discussion-update-pr-merged.json",
    "update",
    "merged",
);

async fn send_all(app: &TestApp, events: &[(&str, &str, &str)]) {
    for (file, action, status) in events {
        let id = event_id(app.post_webhook(&discussion(file, action, status)).await).await;
        app.settled(id).await;
    }
}

#[tokio::test]
async fn a_pull_requests_events_go_into_one_discord_thread_with_status_changes_also_in_the_channel()
{
    let app = spawn_app().await;
    app.subscribe("some-user/some-repo", DISCORD_CHANNEL, &[])
        .await;
    send_all(&app, &[OPENED, COMMENT, MERGED]).await;
    let start = app.discord.wait_at("/threads").await;
    assert_eq!(
        start.path,
        "/api/v10/channels/123456789012345678/messages/2000000/threads"
    );
    assert_eq!(start.body["name"], "PR #3: Hello!");
    let thread: String = sqlx::query_scalar("SELECT thread_id FROM threads")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    let posts: Vec<(String, String)> = app
        .discord
        .created()
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.body["embeds"][0]["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let in_channel = "/api/v10/channels/123456789012345678/messages";
    let in_thread = format!("/api/v10/channels/{thread}/messages");
    assert_eq!(
        posts[0].0, in_channel,
        "opened: in the channel, starting the thread"
    );
    assert_eq!(posts[1].0, in_thread, "comment: in the thread only");
    assert!(posts[1].1.starts_with("New comment on PR #3"));
    assert_eq!(posts[2].0, in_thread, "merged: in the thread...");
    assert_eq!(posts[3].0, in_channel, "...and in the channel");
    assert!(posts[3].1.contains("merged"));
    assert_eq!(posts.len(), 4);
}

#[tokio::test]
async fn slack_threads_reply_under_the_first_message_and_broadcast_status_changes() {
    let app = spawn_app_with(|s| s.delivery.slack_interval_ms = 50).await;
    app.subscribe("some-user/some-repo", SLACK_CHANNEL, &[])
        .await;
    send_all(&app, &[OPENED, COMMENT, MERGED]).await;
    let posts = app.slack.created();
    assert_eq!(posts.len(), 3);
    assert!(posts[0].body.get("thread_ts").is_none());
    let parent = "1503435956.000000";
    assert_eq!(posts[1].body["thread_ts"], parent);
    assert_eq!(posts[1].body["reply_broadcast"], false);
    assert_eq!(posts[2].body["thread_ts"], parent);
    assert_eq!(
        posts[2].body["reply_broadcast"], true,
        "a merge also shows in the channel"
    );
}

#[tokio::test]
async fn threads_none_keeps_every_event_in_the_channel() {
    let app = spawn_app().await;
    subscribe_no_threads(&app, "some-user/some-repo", DISCORD_CHANNEL).await;
    send_all(&app, &[OPENED, COMMENT]).await;
    assert!(app.discord.received_at("/threads").is_empty());
    assert!(app
        .discord
        .created()
        .iter()
        .all(|r| r.path == "/api/v10/channels/123456789012345678/messages"));
}

#[tokio::test]
async fn repeated_permanent_failures_pause_the_subscription_and_the_reason_is_listed() {
    let app = spawn_app_with(|s| s.delivery.merge_bursts = false).await;
    subscribe_no_threads(&app, "acme/*", DISCORD_CHANNEL).await;
    let denied = Reply(
        403,
        vec![],
        json!({ "message": "Missing Access", "code": 50001 }),
    );
    app.discord
        .script(vec![denied.clone(), denied.clone(), denied]);
    let mut ids = vec![];
    for i in 0..3 {
        ids.push(event_id(app.post_webhook(&push("acme/x", &sha(i))).await).await);
    }
    settle_all(&app, &ids).await;
    let list = herald::cli::run(
        &app.settings,
        herald::cli::Command::Subscriptions { json: false },
    )
    .await
    .unwrap();
    assert!(
        list.contains("PAUSED: discord: HTTP 403 (code 50001): Missing Access"),
        "{list}"
    );
    let resp: Value = app
        .post_webhook(&push("acme/x", &sha(9)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        resp["deliveries"], 0,
        "a paused subscription gets nothing new"
    );

    let again = herald::cli::Command::Subscribe {
        target: "acme/*".into(),
        channel: DISCORD_CHANNEL.into(),
        scopes: vec![],
        threads: Some("none".into()),
        rules: Default::default(),
    };
    let out = herald::cli::run(&app.settings, again).await.unwrap();
    assert!(!out.contains("PAUSED"), "subscribing again resumes: {out}");
    let resp: Value = app
        .post_webhook(&push("acme/x", &sha(10)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resp["deliveries"], 1);
}

#[tokio::test]
async fn a_delivery_that_cannot_be_made_in_time_is_given_up_with_the_reason() {
    let app = spawn_app_with(|s| {
        s.discord.api_base = "http://127.0.0.1:9".into();
        s.delivery.max_attempts = 1000;
        s.delivery.max_age_s = 1;
    })
    .await;
    subscribe_no_threads(&app, "acme/*", DISCORD_CHANNEL).await;
    let id = event_id(app.post_webhook(&push("acme/x", &sha(1))).await).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Failed);
    assert_eq!(
        d[0].last_error.as_deref(),
        Some("gave up: not delivered within 1 s")
    );
}

#[tokio::test]
async fn a_timed_out_post_is_retried_under_the_same_nonce_and_shows_once() {
    let app = spawn_app_with(|s| s.delivery.http_timeout_ms = 300).await;
    subscribe_no_threads(&app, "acme/*", DISCORD_CHANNEL).await;
    app.discord.slow(1, Duration::from_secs(2));
    let id = event_id(app.post_webhook(&push("acme/x", &sha(1))).await).await;
    let d = app.settled(id).await;
    assert_eq!(d[0].status, Status::Sent);
    assert_eq!(d[0].attempts, 2, "the first try timed out");
    let posts = app.discord.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body["nonce"], posts[1].body["nonce"]);
    assert_eq!(
        app.discord.created().len(),
        1,
        "Discord kept one message for the nonce"
    );
}

#[tokio::test]
async fn a_retry_after_an_unknown_outcome_sends_the_same_burst_so_nothing_is_hidden() {
    let app = spawn_app_with(|s| s.delivery.http_timeout_ms = 300).await;
    subscribe_no_threads(&app, "acme/busy", DISCORD_CHANNEL).await;
    // The first message is made, but its answer comes too late: herald cannot know.
    app.discord.slow(1, Duration::from_secs(2));
    let mut ids = vec![event_id(app.post_webhook(&push("acme/busy", &sha(0))).await).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Meanwhile more pushes queue up behind it.
    for i in 1..6 {
        ids.push(event_id(app.post_webhook(&push("acme/busy", &sha(i))).await).await);
    }
    settle_all(&app, &ids).await;
    let shown = app.discord.shown();
    for i in 0..6 {
        assert_eq!(
            shown.matches(&format!("[{}]", &sha(i)[..7])).count(),
            1,
            "commit {i} shown once:\n{shown}"
        );
    }
}
