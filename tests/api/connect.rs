//! `/herald connect`: a workspace signs in with Hugging Face (a fake Hub with the OAuth
//! token endpoint and the webhook settings API on a real port) and herald manages a Hub
//! webhook under that account for the workspace's own endpoint; `disconnect` undoes it.

use crate::fakehooks::OPERATOR_USER;
use crate::fakehub::*;
use crate::fakeoauth::{CLIENT_ID, CLIENT_SECRET};
use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const PUBLIC: &str = "https://herald.example";
const KEY: &str = "5d41402abc4b2a76b9719d911017c592ae2f8e5c2a7d0b1f3c6e9a8b7d6c5e4f";
const ANN_TOKEN: &str = "hf_oauth_ann_secret_token";

async fn connectable(hub: &FakeHub) -> TestApp {
    let base = hub.base.clone();
    spawn_app_with(move |s| {
        s.hub.api_base = base;
        s.hub.token = HUB_TOKEN.into();
        s.server.public_url = PUBLIC.into();
        s.hub.reconcile_interval_ms = 60_000;
        s.hub.oauth.client_id = CLIENT_ID.into();
        s.hub.oauth.client_secret = CLIENT_SECRET.into();
        s.security.key = KEY.into();
        s.hub.enrich_timeout_ms = 3000;
    })
    .await
}

/// The sign-in link of a `connect` reply, and its query.
fn sign_in(reply: &Value) -> (String, HashMap<String, String>) {
    let text = content(reply);
    let url = text
        .split("](")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("no link in {text}"))
        .to_string();
    let query = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    (url, query)
}

async fn callback(app: &TestApp, query: &[(&str, &str)]) -> (u16, String) {
    let resp = app
        .client
        .get(format!("{}/oauth/hf/callback", app.address))
        .query(query)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// The endpoint id ann's webhook posts to, and the secret herald gave it.
fn anns_hook(hub: &FakeHub) -> (String, String) {
    let hook = hub
        .hooks()
        .into_iter()
        .find(|h| h["owner"] == "ann")
        .unwrap();
    let url = hook["url"].as_str().unwrap();
    let endpoint = url.strip_prefix(&format!("{PUBLIC}/webhooks/hf/")).unwrap();
    (
        endpoint.to_string(),
        hook["secret"].as_str().unwrap().to_string(),
    )
}

/// Signs the guild in as ann; returns the sign-in's query.
async fn connect_as_ann(app: &TestApp, hub: &FakeHub) -> HashMap<String, String> {
    let reply = answer(app, &interaction(MANAGE_GUILD, command("connect"))).await;
    assert_eq!(
        reply["data"]["flags"], 64,
        "only the admin sees the link: {reply}"
    );
    let (url, q) = sign_in(&reply);
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", hub.base)),
        "{url}"
    );
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], format!("{PUBLIC}/oauth/hf/callback"));
    assert_eq!(q["scope"], "openid profile webhooks read-repos");
    assert_eq!(q["code_challenge_method"], "S256");
    hub.grant("code-ann", &q["code_challenge"], "ann", ANN_TOKEN);
    let (status, page) = callback(app, &[("code", "code-ann"), ("state", &q["state"])]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Signed in on Hugging Face as ann"), "{page}");
    let code = confirmation(&page);
    let reply = answer(app, &interaction(MANAGE_GUILD, connect_with(&code))).await;
    assert!(
        content(&reply).contains("Connected to Hugging Face as ann"),
        "{reply}"
    );
    q
}

/// The code a sign-in page asks to type in chat.
fn confirmation(page: &str) -> String {
    page.split("/herald connect code:")
        .nth(1)
        .map(|r| r.chars().take(9).collect())
        .unwrap_or_else(|| panic!("no code in {page}"))
}

fn connect_with(code: &str) -> Value {
    json!({ "type": 1, "name": "connect", "options": [{ "type": 3, "name": "code", "value": code }] })
}

#[tokio::test]
async fn from_connect_and_subscribe_to_messages_with_no_step_on_the_hub() {
    let hub = FakeHub::start().await;
    let app = connectable(&hub).await;
    answer(
        &app,
        &interaction(MANAGE_GUILD, subscribe("acme/private-model")),
    )
    .await;
    until("on the operator's webhook first", || {
        hub.watched_by(OPERATOR_USER) == ["model:acme/private-model"]
    })
    .await;

    let public_push = || {
        let mut p = fixture_json("hf/assembled-v3-repo-content-update.json");
        p["repo"]["name"] = json!("acme/private-model");
        p["repo"]["private"] = json!(false);
        p.to_string().into_bytes()
    };
    let via_operator = event_id(app.post_webhook(&public_push()).await).await;
    assert_eq!(
        app.settled(via_operator).await.len(),
        1,
        "through herald's webhook before"
    );

    let q = connect_as_ann(&app, &hub).await;
    until("ann's webhook watches the guild's repo", || {
        hub.watched_by("ann") == ["model:acme/private-model"]
    })
    .await;
    until("and the operator's no longer does", || {
        hub.watched_by(OPERATOR_USER).is_empty()
    })
    .await;
    // Now the workspace hears of its repos from ann's webhook only: not twice.
    let via_operator = event_id(app.post_webhook(&public_push()).await).await;
    assert!(app.deliveries(via_operator).await.is_empty());
    let (endpoint, secret) = anns_hook(&hub);
    assert!(
        hub.requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/settings")
                && r.auth.as_deref() == Some(&format!("Bearer {ANN_TOKEN}")))
            .count()
            >= 1
    );

    // The Hub posts a private repo's push with the secret herald gave it: delivered.
    hub.private("acme/private-model");
    let ids = hub.linear("acme/private-model", 3, 2, "ann");
    let mut push = fixture_json("hf/assembled-v3-repo-content-update.json");
    push["repo"]["name"] = json!("acme/private-model");
    push["repo"]["private"] = json!(true);
    push["updatedRefs"] = json!([{ "ref": "refs/heads/main", "oldSha": ids[0], "newSha": ids[1] }]);
    let resp = post_endpoint(&app, &endpoint, &secret, push.to_string().as_bytes()).await;
    let id = event_id(resp).await;
    let done = app.settled(id).await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].channel, format!("discord:{GUILD_CHANNEL}"));

    // Read with ann's own token: the commit is named.
    let told = app.discord.wait_posts(3).await;
    assert!(
        told.iter().any(|p| p
            .body
            .to_string()
            .contains("1 commit to `main` of **acme/private\\\\-model** by ann")),
        "{told:?}"
    );
    assert!(hub.requests().iter().any(|r| r.path.contains("/commits/")
        && r.auth.as_deref() == Some(&format!("Bearer {ANN_TOKEN}"))));
    // The channel was told, and list says whose webhook it is.
    assert!(
        told.iter().any(|p| p
            .body
            .to_string()
            .contains("Connected to Hugging Face as ann")),
        "{told:?}"
    );
    let listed = answer(&app, &interaction(MANAGE_GUILD, command("list"))).await;
    assert!(
        content(&listed).contains("Hub webhook of ann's account\\: in sync, watching 1 items"),
        "{listed}"
    );

    // The token, its refresh token and the webhook secret are nowhere in the files in clear.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(app.dir.path()).unwrap() {
        stored.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    for clear in [ANN_TOKEN, "refresh-ann", &secret, CLIENT_SECRET] {
        assert!(
            !stored.windows(clear.len()).any(|w| w == clear.as_bytes()),
            "{clear} stored in clear"
        );
    }

    // The same sign-in again: refused, and nothing changes.
    let (status, page) = callback(&app, &[("code", "code-ann"), ("state", &q["state"])]).await;
    assert_eq!(status, 400);
    assert!(page.contains("already used"), "{page}");

    let reply = answer(&app, &interaction(MANAGE_GUILD, command("disconnect"))).await;
    assert!(
        content(&reply).contains("Disconnected from Hugging Face (ann)"),
        "{reply}"
    );
    until("ann's webhook deleted", || {
        hub.hooks().iter().all(|h| h["owner"] != "ann")
    })
    .await;
    until("the operator's webhook watches it again", || {
        hub.watched_by(OPERATOR_USER) == ["model:acme/private-model"]
    })
    .await;
    let reply = answer(&app, &interaction(MANAGE_GUILD, command("disconnect"))).await;
    assert!(content(&reply).contains("not connected"), "{reply}");
}

#[tokio::test]
async fn forged_replayed_or_expired_sign_ins_store_nothing() {
    let hub = FakeHub::start().await;
    let app = connectable(&hub).await;
    let accounts = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM hub_accounts")
            .fetch_one(&app.store.pool)
            .await
            .unwrap()
    };
    let (status, page) = callback(&app, &[("code", "x"), ("state", "forged")]).await;
    assert_eq!(status, 400);
    assert!(page.contains("unknown or was already used"), "{page}");
    let (status, _) = callback(&app, &[("code", "x")]).await;
    assert_eq!(status, 400);
    let (status, page) =
        callback(&app, &[("code", "<script>"), ("state", &"s".repeat(5000))]).await;
    assert_eq!(status, 400);
    assert!(!page.contains("<script>"));

    // Expired: a link older than 10 minutes.
    let reply = answer(&app, &interaction(MANAGE_GUILD, command("connect"))).await;
    let (_, q) = sign_in(&reply);
    sqlx::query("UPDATE oauth_states SET expires_at = 0")
        .execute(&app.store.pool)
        .await
        .unwrap();
    hub.grant("code-late", &q["code_challenge"], "ann", ANN_TOKEN);
    let (status, page) = callback(&app, &[("code", "code-late"), ("state", &q["state"])]).await;
    assert_eq!(status, 400);
    assert!(page.contains("expired"), "{page}");

    // A code whose verifier is not the link's (someone else's sign-in): the Hub refuses.
    let reply = answer(&app, &interaction(MANAGE_GUILD, command("connect"))).await;
    let (_, q) = sign_in(&reply);
    hub.grant("code-other", "another-challenge", "mallory", "hf_mallory");
    let (status, page) = callback(&app, &[("code", "code-other"), ("state", &q["state"])]).await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("did not accept the sign-in"), "{page}");
    // The user said no on the Hub.
    let reply = answer(&app, &interaction(MANAGE_GUILD, command("connect"))).await;
    let (_, q) = sign_in(&reply);
    let (status, page) =
        callback(&app, &[("error", "access_denied"), ("state", &q["state"])]).await;
    assert_eq!(status, 400);
    assert!(page.contains("access_denied"), "{page}");
    assert_eq!(accounts().await, 0);

    // However often an admin asks, the workspace holds at most 5 sign-ins in progress.
    for _ in 0..12 {
        answer(&app, &interaction(MANAGE_GUILD, command("connect"))).await;
    }
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_states")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(pending, 5);

    // Only admins may connect.
    let reply = answer(&app, &interaction("0", command("connect"))).await;
    assert!(content(&reply).starts_with("Only "), "{reply}");
}

#[tokio::test]
async fn a_revoked_account_is_said_once_and_not_retried() {
    let hub = FakeHub::start().await;
    let app = connectable(&hub).await;
    answer(&app, &interaction(MANAGE_GUILD, subscribe("acme/model"))).await;
    connect_as_ann(&app, &hub).await;
    until("ann's webhook", || hub.watched_by("ann").len() == 1).await;

    hub.revoke(ANN_TOKEN);
    answer(&app, &interaction(MANAGE_GUILD, subscribe("acme/other"))).await;
    let mut told = None;
    for _ in 0..400 {
        told = app
            .discord
            .posts()
            .into_iter()
            .find(|p| p.body.to_string().contains("lost access"));
        if told.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(told.is_some(), "{:?}", app.discord.posts());
    until("the operator's webhook serves the workspace again", || {
        hub.watched_by(OPERATOR_USER) == ["model:acme/model", "model:acme/other"]
    })
    .await;
    let with_ann = || {
        hub.requests()
            .iter()
            .filter(|r| r.auth.as_deref() == Some(&format!("Bearer {ANN_TOKEN}")))
            .count()
    };
    let before = with_ann();
    answer(&app, &interaction(MANAGE_GUILD, subscribe("acme/third"))).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(with_ann(), before, "a revoked token is not tried again");
    let lost = app
        .discord
        .posts()
        .iter()
        .filter(|p| p.body.to_string().contains("lost access"))
        .count();
    assert_eq!(lost, 1, "said once");
    let listed = answer(&app, &interaction(MANAGE_GUILD, command("list"))).await;
    assert!(content(&listed).contains("no longer works"), "{listed}");
}

#[tokio::test]
async fn connect_says_what_the_operator_must_set_up_first() {
    let hub = FakeHub::start().await;
    let app = spawn_app_with(|s| s.hub.api_base = hub.base.clone()).await;
    let reply = answer(&app, &interaction(MANAGE_GUILD, command("connect"))).await;
    assert!(
        content(&reply).contains("[hub.oauth] client_id and client_secret"),
        "{reply}"
    );
    let (status, _) = callback(&app, &[("code", "x"), ("state", "y")]).await;
    assert_eq!(status, 400);
}

/// Connects ann, lets her token near its expiry, and waits for a change made with the
/// renewed one.
async fn renewed_after_connecting(app: &TestApp, hub: &FakeHub) {
    answer(app, &interaction(MANAGE_GUILD, subscribe("acme/model"))).await;
    connect_as_ann(app, hub).await;
    until("ann's webhook", || hub.watched_by("ann").len() == 1).await;
    sqlx::query("UPDATE hub_accounts SET expires_at = 1")
        .execute(&app.store.pool)
        .await
        .unwrap();
    answer(app, &interaction(MANAGE_GUILD, subscribe("acme/other"))).await;
    until("watched with the renewed token", || {
        hub.watched_by("ann") == ["model:acme/model", "model:acme/other"]
    })
    .await;
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_it_is_used() {
    let hub = FakeHub::start().await;
    let app = connectable(&hub).await;
    renewed_after_connecting(&app, &hub).await;
    let asked = hub.requests();
    let renewed = asked
        .iter()
        .position(|r| r.auth.as_deref() == Some("Bearer hf_oauth_ann_renewed"))
        .expect("the renewed token is used");
    assert!(
        !asked[renewed..]
            .iter()
            .any(|r| r.auth.as_deref() == Some(&format!("Bearer {ANN_TOKEN}"))),
        "the old token is not used after it was renewed"
    );
    let expires: i64 = sqlx::query_scalar("SELECT expires_at FROM hub_accounts")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert!(
        expires > herald::store::now_ms() + 3_600_000,
        "the new expiry is kept"
    );
}

/// A signed `/herald` interaction posted to a server at `addr`; its JSON answer.
async fn interact(addr: &str, sub: Value) -> Value {
    let raw = interaction(MANAGE_GUILD, sub).to_string();
    let ts = now_s().to_string();
    let sig = discord_signature(&ts, &raw);
    reqwest::Client::new()
        .post(format!("{addr}/discord/interactions"))
        .header("X-Signature-Ed25519", sig)
        .header("X-Signature-Timestamp", ts)
        .header("Content-Type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn no_token_or_secret_reaches_the_log_at_any_level() {
    let hub = FakeHub::start().await;
    let discord = FakeApi::start(Kind::Discord).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    std::fs::write(
        dir.path().join("bot.toml"),
        format!(
            "[database]\nurl = \"sqlite://{}\"\n[hub]\nsecret = \"s\"\n",
            db.display()
        ),
    )
    .unwrap();
    let public_key = hex::encode(discord_key().verifying_key().to_bytes());
    let env = [
        ("HERALD_LOG", "trace"),
        ("HERALD_HUB__API_BASE", hub.base.as_str()),
        ("HERALD_HUB__TOKEN", HUB_TOKEN),
        ("HERALD_HUB__OAUTH__CLIENT_ID", CLIENT_ID),
        ("HERALD_HUB__OAUTH__CLIENT_SECRET", CLIENT_SECRET),
        ("HERALD_SECURITY__KEY", KEY),
        ("HERALD_SERVER__PUBLIC_URL", PUBLIC),
        ("HERALD_DISCORD__TOKEN", "discord-test-token"),
        ("HERALD_DISCORD__APPLICATION_ID", "1111111111111111111"),
        ("HERALD_DISCORD__PUBLIC_KEY", public_key.as_str()),
        ("HERALD_DISCORD__API_BASE", discord.base.as_str()),
    ];
    let (child, addr, logs) = serve_env(dir.path(), &[], &env);
    interact(&addr, subscribe("acme/model")).await;
    let reply = interact(&addr, command("connect")).await;
    let (_, q) = sign_in(&reply);
    hub.grant("code-ann", &q["code_challenge"], "ann", ANN_TOKEN);
    let page = reqwest::Client::new()
        .get(format!("{addr}/oauth/hf/callback"))
        .query(&[("code", "code-ann"), ("state", q["state"].as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let code = confirmation(&page.text().await.unwrap());
    interact(&addr, connect_with(&code)).await;
    until("ann's webhook", || hub.watched_by("ann").len() == 1).await;
    let store = herald::store::Store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE hub_accounts SET expires_at = 1")
        .execute(&store.pool)
        .await
        .unwrap();
    interact(&addr, subscribe("acme/other")).await;
    until("renewed", || hub.watched_by("ann").len() == 2).await;
    let secret = hub
        .hooks()
        .into_iter()
        .find(|h| h["owner"] == "ann")
        .unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    interact(&addr, command("disconnect")).await;
    terminate(child);
    let text = drain(&logs).join("\n");
    assert!(
        text.contains("a workspace connected its Hugging Face account"),
        "the log is read"
    );
    for clear in [
        ANN_TOKEN,
        "hf_oauth_ann_renewed",
        "refresh-ann",
        &secret,
        CLIENT_SECRET,
        HUB_TOKEN,
        KEY,
    ] {
        assert!(!text.contains(clear), "{clear} in the log");
    }
}

#[tokio::test]
async fn two_processes_on_one_database_keep_one_webhook_between_them() {
    let hub = FakeHub::start().await;
    let app = connectable(&hub).await;
    let second = herald::startup::Application::build(&app.settings)
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let other = tokio::spawn(second.run_until_stopped(async {
        let _ = stopped.await;
    }));
    for i in 0..5 {
        app.subscribe(&format!("acme/m{i}"), "console:ops", &[])
            .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    until("all five watched", || {
        hub.watched_by(OPERATOR_USER).len() == 5
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(hub.hooks().len(), 1, "one webhook: {:?}", hub.hooks());
    let creates = hub
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/settings/webhooks")
        .count();
    assert_eq!(creates, 1);
    let _ = stop.send(());
    other.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_sign_in_link_clicked_by_someone_else_connects_nothing() {
    let hub = FakeHub::start().await;
    let app = connectable(&hub).await;
    // The admin sends their link to a victim, who signs in on the Hub.
    let reply = answer(&app, &interaction(MANAGE_GUILD, command("connect"))).await;
    let (_, q) = sign_in(&reply);
    hub.grant(
        "code-victim",
        &q["code_challenge"],
        "victim",
        "hf_victim_token",
    );
    let (status, page) = callback(&app, &[("code", "code-victim"), ("state", &q["state"])]).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("If you did not ask for this there, close this page: nothing is connected"),
        "{page}"
    );
    let accounts = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM hub_accounts")
            .fetch_one(&app.store.pool)
            .await
            .unwrap()
    };
    assert_eq!(
        accounts().await,
        0,
        "nothing connected before the code is typed"
    );
    // Guessing the code does not work, and five wrong guesses drop the sign-in.
    for guess in [
        "AAAA-AAAA",
        "BBBB-BBBB",
        "CCCC-CCCC",
        "DDDD-DDDD",
        "EEEE-EEEE",
    ] {
        let r = answer(&app, &interaction(MANAGE_GUILD, connect_with(guess))).await;
        assert!(content(&r).contains("not one of your sign-ins"), "{r}");
    }
    let r = answer(
        &app,
        &interaction(MANAGE_GUILD, connect_with(&confirmation(&page))),
    )
    .await;
    assert!(
        content(&r).contains("not one of your sign-ins"),
        "dropped after 5 misses: {r}"
    );
    assert_eq!(accounts().await, 0);
    assert!(hub.watched_by("victim").is_empty());
}

#[tokio::test]
async fn signing_in_again_gives_the_hub_the_new_secret_and_setup_cannot_take_it_away() {
    let hub = FakeHub::start().await;
    let app = connectable(&hub).await;
    answer(&app, &interaction(MANAGE_GUILD, subscribe("acme/model"))).await;
    connect_as_ann(&app, &hub).await;
    until("ann's webhook", || hub.watched_by("ann").len() == 1).await;
    let secret_of = || {
        hub.hooks()
            .into_iter()
            .find(|h| h["owner"] == "ann")
            .unwrap()["secret"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = secret_of();
    let reply = answer(&app, &interaction(MANAGE_GUILD, setup(true))).await;
    assert!(content(&reply).contains("Run disconnect first"), "{reply}");

    // Signing in again rotates the endpoint's secret: the Hub is given the new one.
    let reply = answer(&app, &interaction(MANAGE_GUILD, command("connect"))).await;
    let (_, q) = sign_in(&reply);
    hub.grant("code-again", &q["code_challenge"], "ann", ANN_TOKEN);
    let (_, page) = callback(&app, &[("code", "code-again"), ("state", &q["state"])]).await;
    answer(
        &app,
        &interaction(MANAGE_GUILD, connect_with(&confirmation(&page))),
    )
    .await;
    until("the new secret on the Hub", || secret_of() != first).await;
    let (endpoint, secret) = anns_hook(&hub);
    let mut push = fixture_json("hf/assembled-v3-repo-content-update.json");
    push["repo"]["name"] = json!("acme/model");
    let resp = post_endpoint(&app, &endpoint, &secret, push.to_string().as_bytes()).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let anns = hub.hooks().iter().filter(|h| h["owner"] == "ann").count();
    assert_eq!(anns, 1, "still one webhook under ann's account");
}
