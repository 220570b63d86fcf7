//! herald's own Hub webhook: created, kept equal to what the subscriptions follow, found
//! again after a restart, recreated when deleted and enabled when disabled on the Hub
//! (a fake Hub on a real port with the settings/webhooks API; tests/api/fakehooks.rs).

use crate::fakehub::*;
use crate::helpers::*;
use herald::cli::{self, Command, HubCommand};
use serde_json::json;
use serde_json::Value;
use std::time::Duration;

const PUBLIC: &str = "https://herald.example";

async fn managed(hub: &FakeHub, customize: impl FnOnce(&mut herald::config::Settings)) -> TestApp {
    let base = hub.base.clone();
    spawn_app_with(move |s| {
        s.hub.api_base = base;
        s.hub.token = HUB_TOKEN.into();
        s.server.public_url = format!("{PUBLIC}/");
        s.hub.reconcile_interval_ms = 60_000;
        customize(s);
    })
    .await
}

/// The watched list of the account's only webhook, as `type:name`, sorted.
fn watched(hub: &FakeHub) -> Vec<String> {
    assert!(hub.hooks().len() <= 1, "one webhook: {:?}", hub.hooks());
    hub.watched_by(crate::fakehooks::OPERATOR_USER)
}

fn changes(hub: &FakeHub) -> usize {
    hub.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/api/settings/webhooks"))
        .count()
}

async fn status(app: &TestApp) -> String {
    cli::run(&app.settings, Command::Hub(HubCommand::Status))
        .await
        .unwrap()
}

/// `herald hub status` once it shows `part` (what the Hub answered is recorded just after).
async fn status_with(app: &TestApp, part: &str) -> String {
    for _ in 0..200 {
        let shown = status(app).await;
        if shown.contains(part) {
            return shown;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "herald hub status never showed {part:?}:\n{}",
        status(app).await
    );
}

#[tokio::test]
async fn a_subscription_made_in_chat_is_watched_by_the_hub_webhook_and_leaves_with_it() {
    let hub = FakeHub::start().await;
    let app = managed(&hub, |_| {}).await;
    let reply = answer(&app, &interaction(MANAGE_GUILD, subscribe("acme/model"))).await;
    assert!(
        content(&reply).contains("herald's Hub webhook will watch acme/model"),
        "{reply}"
    );
    until("acme/model watched", || {
        watched(&hub) == ["model:acme/model"]
    })
    .await;
    let hook = &hub.hooks()[0];
    assert_eq!(hook["url"], format!("{PUBLIC}/webhooks/hf"));
    assert_eq!(
        hook["secret"], SECRET,
        "the operator's secret, which herald checks"
    );
    assert_eq!(hook["domains"], json!(["discussion", "repo"]));
    assert!(hub
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/settings"))
        .all(|r| r.auth.as_deref() == Some(&format!("Bearer {HUB_TOKEN}"))));

    app.subscribe("datasets/acme/data", "console:ops", &[])
        .await;
    until("both watched", || {
        watched(&hub) == ["dataset:acme/data", "model:acme/model"]
    })
    .await;

    let subs = herald::store::subscriptions::list(&app.store.pool)
        .await
        .unwrap();
    let id = subs
        .iter()
        .find(|s| s.target.to_string() == "acme/model")
        .unwrap()
        .id;
    cli::run(&app.settings, Command::Unsubscribe { id })
        .await
        .unwrap();
    until("acme/model no longer watched", || {
        watched(&hub) == ["dataset:acme/data"]
    })
    .await;
    let listed = cli::run(&app.settings, Command::Subscriptions { json: false })
        .await
        .unwrap();
    assert!(
        listed.contains("herald's Hub webhook: in sync, watching 1 items, 0 of 1000 events"),
        "{listed}"
    );
    let shown = status_with(&app, "ok: watched list updated").await;
    for part in [
        hub.hooks()[0]["id"].as_str().unwrap(),
        "url:        https://herald.example/webhooks/hf",
        "domains:    discussion repo",
        "watched:    dataset:acme/data",
        "disabled:   no",
        "triggers:   0 of 1000 in the last 24 h",
        "ok: watched list updated",
    ] {
        assert!(shown.contains(part), "{part:?} in:\n{shown}");
    }
}

#[tokio::test]
async fn twenty_subscribes_in_a_second_change_the_hub_webhook_at_most_twice() {
    let hub = FakeHub::start().await;
    let app = managed(&hub, |_| {}).await;
    app.subscribe("acme/first", "console:ops", &[]).await;
    until("the webhook created", || watched(&hub).len() == 1).await;
    let before = changes(&hub);
    let started = std::time::Instant::now();
    let targets: Vec<String> = (0..20).map(|i| format!("acme/m{i}")).collect();
    let bodies: Vec<_> = targets
        .iter()
        .map(|t| interaction(MANAGE_GUILD, subscribe(t)))
        .collect();
    let subscribes = bodies.iter().map(|b| answer(&app, b));
    futures_util::future::join_all(subscribes).await;
    // A stream of changes is put on the Hub at most every 2 s (a loaded machine may take
    // longer than a second for the 20).
    let allowed = 2 + started.elapsed().as_secs() as usize / 2;
    until("all 21 watched", || watched(&hub).len() == 21).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let made = changes(&hub) - before;
    assert!(
        (1..=allowed).contains(&made),
        "{made} updates for 20 subscribes"
    );
}

#[tokio::test]
async fn owners_are_watched_as_the_hub_says_they_are_and_what_cannot_be_watched_says_why() {
    let hub = FakeHub::start().await;
    hub.org("acme");
    hub.username("ann");
    let app = managed(&hub, |_| {}).await;
    for target in [
        "acme/*",
        "datasets/ann/*",
        "acme/model",
        "ghost/*",
        "bob/model",
    ] {
        app.subscribe(target, "console:ops", &[]).await;
    }
    let everything = app.subscribe("*", "console:all", &[]).await;
    assert!(
        everything.contains("The Hub cannot watch all of its repos"),
        "{everything}"
    );
    until("owners watched", || {
        watched(&hub) == ["model:bob/model", "org:acme", "user:ann"]
    })
    .await;
    let shown = status_with(&app, "not watched: *:").await;
    assert!(
        shown.contains("not watched: ghost/*: the Hub has no user or organisation named ghost"),
        "{shown}"
    );
    assert!(
        shown.contains("not watched: *: the Hub cannot watch all"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_restart_finds_its_webhook_and_one_deleted_or_disabled_on_the_hub_is_put_back() {
    let hub = FakeHub::start().await;
    let app = managed(&hub, |_| {}).await;
    app.subscribe("acme/model", "console:ops", &[]).await;
    until("created", || watched(&hub).len() == 1).await;
    let first = hub.hooks()[0]["id"].clone();

    // A crash between the Hub's answer and storing its id: found by its url.
    sqlx::query("UPDATE hub_webhooks SET hub_id = NULL")
        .execute(&app.store.pool)
        .await
        .unwrap();
    let app = app.restart(|s| s.hub.reconcile_interval_ms = 150).await;
    let pool = app.store.pool.clone();
    let stored = || async {
        sqlx::query_scalar::<_, Option<String>>("SELECT hub_id FROM hub_webhooks")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    for _ in 0..200 {
        if stored().await.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(stored().await.as_deref(), first.as_str());
    assert_eq!(hub.hooks().len(), 1, "no second webhook");

    hub.edit_hooks(|l| l.clear());
    until("created again", || hub.hooks().len() == 1).await;
    assert_eq!(watched(&hub), ["model:acme/model"]);
    hub.edit_hooks(|l| {
        l[0]["disabled"] = json!(true);
        l[0]["watched"] = json!([]);
    });
    until("enabled again", || {
        hub.hooks()[0]["disabled"] == json!(false) && watched(&hub).len() == 1
    })
    .await;
    // The channels were told (the status line may already read "in sync" again).
    let mut told = false;
    for _ in 0..200 {
        let raws: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT raw FROM events WHERE endpoint = 'herald'")
                .fetch_all(&app.store.pool)
                .await
                .unwrap();
        told = raws
            .iter()
            .any(|r| String::from_utf8_lossy(r).contains("herald enabled it again"));
        if told {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(told, "the channels were told");
    assert_eq!(hub.hooks().len(), 1);
}

#[tokio::test]
async fn a_token_that_may_not_manage_webhooks_never_blocks_a_subscription() {
    let hub = FakeHub::start().await;
    hub.forbid_hooks(true);
    let app = managed(&hub, |s| s.hub.reconcile_interval_ms = 100).await;
    app.subscribe("acme/model", "console:ops", &[]).await;
    let pool = app.store.pool.clone();
    let mut outcome = None;
    for _ in 0..200 {
        outcome = sqlx::query_scalar::<_, Option<String>>("SELECT outcome FROM hub_webhooks")
            .fetch_optional(&pool)
            .await
            .unwrap()
            .flatten();
        if outcome.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        outcome
            .as_deref()
            .unwrap_or_default()
            .contains("\"webhooks\" permission"),
        "{outcome:?}"
    );
    // The next subscription still succeeds, and its reply says what is wrong.
    let reply = app.subscribe("acme/other", "console:ops", &[]).await;
    assert!(reply.starts_with("Subscribed"), "{reply}");
    assert!(reply.contains("\"webhooks\" permission"), "{reply}");
    let shown = status(&app).await;
    assert!(shown.contains("FAILED"), "{shown}");

    hub.forbid_hooks(false);
    until("in sync once allowed", || {
        watched(&hub) == ["model:acme/model", "model:acme/other"]
    })
    .await;
}

#[tokio::test]
async fn without_a_token_herald_manages_no_webhook_and_says_so() {
    let hub = FakeHub::start().await;
    let app = spawn_app_with(|s| s.hub.api_base = hub.base.clone()).await;
    let reply = app.subscribe("acme/model", "console:ops", &[]).await;
    assert!(!reply.contains("Hub webhook"), "{reply}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(hub.requests().is_empty());
    let shown = status(&app).await;
    assert!(shown.contains("herald manages no Hub webhook"), "{shown}");

    // A token, but an address the Hub cannot reach: no webhook to this machine's loopback.
    let app = spawn_app_with(|s| {
        s.hub.api_base = hub.base.clone();
        s.hub.token = HUB_TOKEN.into();
    })
    .await;
    assert!(app
        .settings
        .server
        .public_url
        .starts_with("http://127.0.0.1"));
    app.subscribe("acme/model", "console:ops", &[]).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(hub.hooks().is_empty() && hub.requests().is_empty());
}

/// Waits until the fake platform got a post whose JSON contains `part`; returns it.
async fn post_with(api: &FakeApi, part: &str) -> Value {
    for _ in 0..400 {
        if let Some(p) = api
            .posts()
            .into_iter()
            .find(|p| p.body.to_string().contains(part))
        {
            return p.body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no post with {part:?}: {:?}", api.posts());
}

#[tokio::test]
async fn the_channels_are_told_when_the_hub_disabled_the_webhook_once_and_when_it_works_again() {
    let hub = FakeHub::start().await;
    let app = managed(&hub, |s| s.hub.reconcile_interval_ms = 100).await;
    answer(&app, &interaction(MANAGE_GUILD, subscribe("acme/model"))).await;
    until("created", || watched(&hub).len() == 1).await;

    hub.edit_hooks(|l| l[0]["disabled"] = json!(true));
    let told = post_with(&app.discord, "The Hub disabled herald").await;
    assert!(
        told.to_string().contains("herald enabled it again"),
        "{told}"
    );
    assert_eq!(hub.hooks()[0]["disabled"], json!(false));

    // Suspended for good: said once, however often herald tries.
    hub.stuck_hooks(true);
    hub.edit_hooks(|l| l[0]["disabled"] = json!(true));
    let stuck = post_with(&app.discord, "could not enable it again").await;
    assert!(
        stuck.to_string().contains("suspended") || stuck.to_string().contains("400"),
        "{stuck}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = app
        .discord
        .posts()
        .iter()
        .filter(|p| p.body.to_string().contains("could not enable it again"))
        .count();
    assert_eq!(again, 1, "told once");

    // Enabled on the Hub by someone, while a check may be under way: the channels hear
    // that it works again, in the words of whichever check saw it first ("is enabled
    // again", or "herald enabled it again" when that check's own try went through).
    let before = app.discord.posts().len();
    hub.edit_hooks(|l| l[0]["disabled"] = json!(false));
    hub.stuck_hooks(false);
    let working = |p: &crate::helpers::Recorded| {
        let text = p.body.to_string();
        text.contains("herald's Hub webhook is enabled again")
            || text.contains("herald enabled it again")
    };
    until("told it works again", || {
        app.discord.posts().iter().skip(before).any(working)
    })
    .await;
    status_with(&app, "disabled:   no").await;
}

#[tokio::test]
async fn past_800_events_a_day_each_channel_is_warned_once_about_the_repos_it_hears_of() {
    let hub = FakeHub::start().await;
    let app = managed(&hub, |_| {}).await;
    // The operator follows a busy repo on the console; a guild follows a quiet one.
    app.subscribe("acme/busy", "console:ops", &["repo.content"])
        .await;
    answer(&app, &interaction(MANAGE_GUILD, subscribe("acme/quiet"))).await;
    let push = |repo: &str, i: usize| {
        let mut p = fixture_json("hf/assembled-v3-repo-content-update.json");
        p["repo"]["name"] = json!(repo);
        p["repo"]["private"] = json!(false);
        p["updatedRefs"] = json!([{ "ref": "refs/heads/main", "oldSha": format!("{i:040x}"), "newSha": format!("{:040x}", i + 1) }]);
        p.to_string().into_bytes()
    };
    assert!(app
        .post_webhook(&push("acme/quiet", 0))
        .await
        .status()
        .is_success());
    for i in 1..800 {
        assert!(app
            .post_webhook(&push("acme/busy", i))
            .await
            .status()
            .is_success());
    }
    let warned = post_with(&app.discord, "over 80% of its 1000 events").await;
    let text = warned.to_string();
    assert!(
        text.contains("Busiest here\\\\: acme/quiet \\\\(1\\\\)"),
        "{text}"
    );
    assert!(
        !text.contains("acme/busy"),
        "a guild never hears of the operator's repos: {text}"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("herald_hub_webhook_triggers{owner=\"operator\"} 800"),
        "{metrics}"
    );
    // More events: no second warning.
    for i in 800..810 {
        app.post_webhook(&push("acme/busy", i)).await;
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    let notices: Vec<(String, i64)> = sqlx::query_as(
        "SELECT d.channel, COUNT(*) FROM deliveries d JOIN events e ON e.id = d.event_id
         WHERE e.endpoint = 'herald' GROUP BY d.channel ORDER BY d.channel",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        notices.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [1, 1],
        "one warning per channel: {notices:?}"
    );
    let console: String = sqlx::query_scalar(
        "SELECT e.raw FROM events e JOIN deliveries d ON d.event_id = e.id
         WHERE e.endpoint = 'herald' AND d.channel = 'console:ops'",
    )
    .fetch_one(&app.store.pool)
    .await
    .map(|b: Vec<u8>| String::from_utf8(b).unwrap())
    .unwrap();
    assert!(console.contains("acme/busy (799)"), "{console}");
}
