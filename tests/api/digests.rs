//! Digests through the real server: a period's events are held, then go out as one
//! message per channel, once, even across a restart past the due time; a period where
//! nothing is left to tell sends nothing.

use crate::filters::{cli_subscribe, pr, push_to};
use crate::helpers::*;
use herald::cli::RuleFlags;
use herald::store::deliveries::Status;
use serde_json::json;
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

fn daily(filter: Option<&str>) -> RuleFlags {
    RuleFlags {
        filter: filter.map(String::from),
        mode: Some("daily 09:00".into()),
        tz: Some("Europe/Paris".into()),
        ..RuleFlags::default()
    }
}

async fn statuses(app: &TestApp, ids: &[i64]) -> Vec<Status> {
    let mut out = Vec::new();
    for id in ids {
        out.extend(app.deliveries(*id).await.into_iter().map(|d| d.status));
    }
    out
}

#[tokio::test]
async fn a_daily_digest_is_one_message_once_even_across_a_restart() {
    let app = spawn_app().await;
    let channel = "discord:123456789012345678";
    let out = cli_subscribe(&app, "acme/*", channel, daily(None)).await;
    assert!(
        out.contains("digest daily 09:00 Europe/Paris") && out.contains("the next goes out"),
        "{out}"
    );
    let mut comment = fixture_json("hf/assembled-v3-discussion-comment-create.json");
    comment["repo"]["name"] = json!("acme/m");
    comment["discussion"]["num"] = json!(7);
    let bodies = [
        push_to("acme/m", "refs/heads/main", 1),
        pr("acme/m", 7, "create", "open", "Add <@everyone> weights"),
        comment.to_string().into_bytes(),
        comment.to_string().into_bytes(),
        pr("acme/other", 2, "update", "merged", "Fix **bold** card"),
    ];
    let mut ids = Vec::new();
    for b in &bodies {
        ids.push(event_id(app.post_webhook(b).await).await);
    }
    assert!(statuses(&app, &ids)
        .await
        .iter()
        .all(|s| *s == Status::Held));
    let why = herald::cli::Command::Why {
        event_id: ids[0],
        channel: None,
    };
    let out = herald::cli::run(&app.settings, why).await.unwrap();
    assert!(
        out.contains("yes: held for its digest, due ") && out.contains("09:00 Europe/Paris"),
        "{out}"
    );
    // Not due yet: nothing is made, nothing is posted.
    assert_eq!(app.digests.flush(herald::store::now_ms()).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.discord.posts().is_empty());

    // herald is down across the due time, and makes the digest once back.
    let app = app.restart(|_| {}).await;
    let later = herald::store::now_ms() + 2 * DAY_MS;
    assert_eq!(app.digests.flush(later).await.unwrap(), 1);
    assert_eq!(app.digests.flush(later).await.unwrap(), 0, "made once");
    let posts = app.discord.wait_posts(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.discord.posts().len(), 1, "one message for the period");
    let embed = &posts[0].body["embeds"][0];
    let title = unescaped(embed["title"].as_str().unwrap());
    let text = unescaped(embed["description"].as_str().unwrap());
    assert!(
        title.starts_with("Daily digest, ")
            && title.ends_with("09:00 Europe/Paris: 5 events in 2 repos"),
        "{title}"
    );
    assert!(
        text.contains("acme/m") && text.contains("acme/other"),
        "{text}"
    );
    assert!(text.contains("main: "), "the push: {text}");
    assert!(text.contains("new PR #7"), "{text}");
    assert!(
        text.contains("2 comments on PR #7"),
        "comments counted as one line: {text}"
    );
    assert!(text.contains("PR #2 merged"), "{text}");
    let raw = embed["description"].as_str().unwrap();
    assert!(
        !raw.contains("<@everyone>") && !raw.contains("**bold**"),
        "escaped: {raw}"
    );
    assert_eq!(posts[0].body["allowed_mentions"]["parse"], json!([]));
    assert!(statuses(&app, &ids)
        .await
        .iter()
        .all(|s| *s == Status::Digested));
    let digest = herald::store::activity::events(&app.store.pool, 1)
        .await
        .unwrap()[0]
        .id;
    let why = herald::cli::Command::Why {
        event_id: digest,
        channel: None,
    };
    let err = herald::cli::run(&app.settings, why)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("herald's own notice"), "{err}");
}

#[tokio::test]
async fn a_period_with_nothing_left_to_tell_sends_nothing() {
    let app = spawn_app().await;
    // Every event is left out at once: nothing is held.
    cli_subscribe(&app, "acme/*", "console:d", daily(Some("is:tag"))).await;
    let id = event_id(
        app.post_webhook(&push_to("acme/m", "refs/heads/main", 1))
            .await,
    )
    .await;
    assert!(app.deliveries(id).await.is_empty());
    let later = herald::store::now_ms() + 2 * DAY_MS;
    assert_eq!(app.digests.flush(later).await.unwrap(), 0);
    assert_eq!(app.events_stored().await, 1, "no digest event either");
}

#[tokio::test]
async fn instant_and_digest_subscriptions_of_one_channel_still_give_one_message_per_event() {
    let app = spawn_app().await;
    cli_subscribe(&app, "acme/m", "console:c", RuleFlags::default()).await;
    cli_subscribe(&app, "acme/*", "console:c", daily(None)).await;
    let id = event_id(
        app.post_webhook(&push_to("acme/m", "refs/heads/main", 1))
            .await,
    )
    .await;
    let d = app.settled(id).await;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].status,
        Status::Sent,
        "the repo's own subscription is the more specific"
    );
    let id = event_id(
        app.post_webhook(&push_to("acme/n", "refs/heads/main", 1))
            .await,
    )
    .await;
    let d = app.deliveries(id).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].status, Status::Held);
}

#[tokio::test]
async fn a_paused_subscription_is_left_out_of_its_channels_digest_and_the_rest_still_goes_out() {
    let app = spawn_app().await;
    let channel = "discord:123456789012345678";
    let paused = sub_id(&cli_subscribe(&app, "acme/a", channel, daily(None)).await);
    cli_subscribe(&app, "acme/b", channel, daily(None)).await;
    let a = event_id(
        app.post_webhook(&push_to("acme/a", "refs/heads/main", 1))
            .await,
    )
    .await;
    let b = event_id(
        app.post_webhook(&push_to("acme/b", "refs/heads/main", 1))
            .await,
    )
    .await;
    // Paused as the delivery worker pauses one after its permanent failures.
    herald::store::subscriptions::record_outcome(
        &app.store.pool,
        paused,
        Some("Unknown Channel"),
        1,
    )
    .await
    .unwrap();
    let later = herald::store::now_ms() + 2 * DAY_MS;
    assert_eq!(app.digests.flush(later).await.unwrap(), 1);
    let posts = app.discord.wait_posts(1).await;
    assert_eq!(posts.len(), 1);
    let text = unescaped(posts[0].body["embeds"][0]["description"].as_str().unwrap());
    assert!(
        text.contains("acme/b") && !text.contains("acme/a"),
        "{text}"
    );
    let left = app.deliveries(a).await;
    assert_eq!(left[0].status, Status::Skipped);
    assert!(
        left[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("subscription paused"),
        "{left:?}"
    );
    assert_eq!(app.deliveries(b).await[0].status, Status::Digested);
}
