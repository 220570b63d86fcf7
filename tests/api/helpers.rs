//! `spawn_app()` starts the real application on port 0 with a fresh SQLite file, and fake
//! Discord and Slack APIs that record what they receive and answer like the real ones.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use herald::cli::{self, Command};
use herald::config::Settings;
use herald::startup::Application;
pub use herald::store::deliveries::Status;
use herald::store::Store;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

pub const SECRET: &str = "test-secret";
pub const DISCORD_CHANNEL: &str = "discord:123456789012345678";
pub const SLACK_CHANNEL: &str = "slack:C0123ABCDEF";
pub const SLACK_SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// The Discord application's key pair, made for the tests.
pub fn discord_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
}

/// Slack's signature of a request body sent at `ts`.
/// What Discord's `X-Signature-Ed25519` carries for a body sent at `ts`.
pub fn discord_signature(ts: &str, raw: &str) -> String {
    use ed25519_dalek::Signer;
    hex::encode(
        discord_key()
            .sign(format!("{ts}{raw}").as_bytes())
            .to_bytes(),
    )
}

pub fn slack_signature(form: &str, ts: i64) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(SLACK_SIGNING_SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{form}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn now_s() -> i64 {
    herald::store::now_ms() / 1000
}

/// Reads a fixture copied from ../shared/fixtures (see tests/fixtures/SOURCES.md).
pub fn fixture(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}

pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A canned answer: status, extra headers, JSON body.
#[derive(Clone)]
pub struct Reply(pub u16, pub Vec<(&'static str, String)>, pub Value);

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Discord,
    Slack,
}

struct FakeState {
    kind: Kind,
    /// Slack users whom `users.info` reports as workspace admins.
    admins: Mutex<Vec<String>>,
    /// Channel id → its guild (Discord) or team (Slack); others are unknown.
    channels: Mutex<std::collections::HashMap<String, String>>,
    received: Mutex<Vec<Recorded>>,
    /// Woken at every request, for the tests waiting for one.
    arrived: tokio::sync::Notify,
    script: Mutex<VecDeque<Reply>>,
    /// Rate limit per channel, as the real APIs keep it: at most `n` messages per window.
    limit: Mutex<Option<(usize, Duration)>>,
    windows: Mutex<std::collections::HashMap<String, (std::time::Instant, usize)>>,
    /// 429s answered.
    limited: Mutex<usize>,
    /// Answers to this many next posts come only after this long (the post is made at once).
    slow: Mutex<(usize, Duration)>,
    /// Discord: the application's commands, as last registered.
    commands: Mutex<Value>,
    /// The token was revoked: every request is refused as the platform refuses it.
    revoked: Mutex<bool>,
    /// Slack channels the bot is not a member of.
    outside: Mutex<Vec<String>>,
    /// Messages created, by channel and Discord nonce: a nonce seen before returns the
    /// message it made, as Discord does with `enforce_nonce`.
    created: Mutex<Vec<(String, String, Recorded)>>,
}

/// The channel a post goes to: the Discord path's channel id, or Slack's `channel`.
fn lane_of(path: &str, body: &Value) -> String {
    body["channel"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            path.trim_end_matches("/messages")
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
}

/// A post under the rate limit: `Ok(headers)` to send with the answer, or `Err(reply)` (a 429).
fn rate_limit(s: &FakeState, lane: &str) -> Result<Vec<(&'static str, String)>, Reply> {
    let Some((limit, window)) = *s.limit.lock().unwrap() else {
        return Ok(vec![]);
    };
    let now = std::time::Instant::now();
    let mut windows = s.windows.lock().unwrap();
    let w = windows.entry(lane.to_string()).or_insert((now, 0));
    if now.duration_since(w.0) >= window {
        *w = (now, 0);
    }
    let reset = (window - now.duration_since(w.0)).as_secs_f64();
    if w.1 >= limit {
        *s.limited.lock().unwrap() += 1;
        let headers = vec![
            ("retry-after", format!("{}", reset.ceil() as u64)),
            ("x-ratelimit-scope", "user".to_string()),
        ];
        let body = match s.kind {
            Kind::Discord => {
                json!({ "message": "You are being rate limited.", "retry_after": reset, "global": false })
            }
            Kind::Slack => json!({ "ok": false, "error": "ratelimited" }),
        };
        return Err(Reply(429, headers, body));
    }
    w.1 += 1;
    Ok(vec![
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", (limit - w.1).to_string()),
        ("x-ratelimit-reset-after", format!("{reset:.3}")),
        ("x-ratelimit-bucket", "fake-bucket".to_string()),
    ])
}

/// A fake platform API on a real port.
#[derive(Clone)]
pub struct FakeApi {
    pub base: String,
    state: Arc<FakeState>,
}

async fn record(
    State(s): State<Arc<FakeState>>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    let n = {
        let mut r = s.received.lock().unwrap();
        r.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            headers,
            body,
        });
        r.len()
    };
    s.arrived.notify_waiters();
    if *s.revoked.lock().unwrap() {
        return respond(match s.kind {
            Kind::Discord => Reply(
                401,
                vec![],
                json!({ "message": "401: Unauthorized", "code": 0 }),
            ),
            Kind::Slack => Reply(200, vec![], json!({ "ok": false, "error": "invalid_auth" })),
        });
    }
    // Scripted answers are for posted messages; the other endpoints answer like the real ones.
    let is_post = path.ends_with("/messages") || path.ends_with("chat.postMessage");
    let scripted = if is_post {
        s.script.lock().unwrap().pop_front()
    } else {
        None
    };
    let last = s.received.lock().unwrap().last().cloned().unwrap();
    let mut limit_headers = vec![];
    if is_post && scripted.is_none() {
        let lane = lane_of(&path, &last.body);
        match rate_limit(&s, &lane) {
            Ok(h) => limit_headers = h,
            Err(reply) => return respond(reply),
        }
        let nonce = last.body["nonce"].as_str().unwrap_or_default().to_string();
        let index = {
            let mut created = s.created.lock().unwrap();
            let seen = created
                .iter()
                .position(|(l, n, _)| !n.is_empty() && *l == lane && *n == nonce);
            match seen {
                Some(i) => i,
                None => {
                    created.push((lane.clone(), nonce, last.clone()));
                    created.len() - 1
                }
            }
        };
        let delay = {
            let mut slow = s.slow.lock().unwrap();
            (slow.0 > 0).then(|| {
                slow.0 -= 1;
                slow.1
            })
        };
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let reply = match s.kind {
            Kind::Discord => {
                json!({ "id": format!("{}", 2_000_000 + index), "channel_id": lane, "type": 0 })
            }
            Kind::Slack => {
                json!({ "ok": true, "channel": lane, "ts": format!("1503435956.{index:06}") })
            }
        };
        return respond(Reply(200, limit_headers, reply));
    }
    let reply = scripted.unwrap_or_else(|| match (s.kind, path.as_str()) {
        (Kind::Slack, "/users.info") => {
            let user = query.split("user=").nth(1).unwrap_or_default().to_string();
            let admin = s.admins.lock().unwrap().contains(&user);
            Reply(
                200,
                vec![],
                json!({ "ok": true, "user": { "id": user, "is_admin": admin, "is_owner": false } }),
            )
        }
        (Kind::Slack, "/auth.test") => Reply(
            200,
            vec![],
            json!({ "ok": true, "team": "Acme", "user": "herald", "team_id": "T1", "bot_id": "B1" }),
        ),
        (Kind::Slack, "/conversations.info") => {
            let id = query.split("channel=").nth(1).unwrap_or_default().to_string();
            let member = !s.outside.lock().unwrap().contains(&id);
            match s.channels.lock().unwrap().get(&id) {
                Some(team) => Reply(
                    200,
                    vec![],
                    json!({ "ok": true, "channel": { "id": id, "is_member": member, "context_team_id": team, "shared_team_ids": [team] } }),
                ),
                None => Reply(200, vec![], json!({ "ok": false, "error": "channel_not_found" })),
            }
        }
        (Kind::Discord, p) if p.starts_with("/api/v10/channels/") && !p.contains("/messages") && !p.contains("/threads") => {
            let id = p.rsplit('/').next().unwrap_or_default().to_string();
            match s.channels.lock().unwrap().get(&id) {
                Some(guild) => Reply(200, vec![], json!({ "id": id, "type": 0, "guild_id": guild })),
                None => Reply(404, vec![], json!({ "message": "Unknown Channel", "code": 10003 })),
            }
        }
        (Kind::Slack, "/views.open") => {
            Reply(200, vec![], json!({ "ok": true, "view": { "id": "V123" } }))
        }
        (Kind::Slack, p) if p.starts_with("/response/") => {
            Reply(200, vec![], json!({ "ok": true }))
        }
        (Kind::Discord, "/api/v10/users/@me") => Reply(
            200,
            vec![],
            json!({ "id": "1", "username": "herald", "bot": true }),
        ),
        (Kind::Discord, p) if p.contains("/commands") => {
            let mut commands = s.commands.lock().unwrap();
            if method == axum::http::Method::PUT {
                // Discord answers with what it stored, ids added.
                let mut stored = last.body.clone();
                for (i, c) in stored.as_array_mut().into_iter().flatten().enumerate() {
                    c["id"] = json!(format!("{}", 900 + i));
                    c["version"] = json!("1");
                }
                *commands = stored;
            }
            Reply(200, vec![], commands.clone())
        }
        (Kind::Discord, _) => Reply(
            200,
            vec![],
            json!({ "id": format!("{}", 1_000_000 + n), "type": 0 }),
        ),
        (Kind::Slack, _) => Reply(
            200,
            vec![],
            json!({ "ok": true, "channel": "C0123ABCDEF", "ts": format!("1503435956.{n:06}") }),
        ),
    });
    respond(reply)
}

fn respond(reply: Reply) -> Response {
    let mut resp = (StatusCode::from_u16(reply.0).unwrap(), axum::Json(reply.2)).into_response();
    for (k, v) in reply.1 {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

impl FakeApi {
    pub async fn start(kind: Kind) -> FakeApi {
        let state = Arc::new(FakeState {
            kind,
            admins: Mutex::new(vec![]),
            channels: Mutex::new(Default::default()),
            received: Mutex::new(vec![]),
            arrived: tokio::sync::Notify::new(),
            script: Mutex::new(VecDeque::new()),
            limit: Mutex::new(None),
            windows: Mutex::new(Default::default()),
            limited: Mutex::new(0),
            slow: Mutex::new((0, Duration::ZERO)),
            created: Mutex::new(vec![]),
            commands: Mutex::new(json!([])),
            revoked: Mutex::new(false),
            outside: Mutex::new(vec![]),
        });
        let app = axum::Router::new()
            .fallback(record)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeApi { base, state }
    }

    /// The next answers, in order; after them the fake answers success.
    pub fn script(&self, replies: Vec<Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    pub fn received(&self) -> Vec<Recorded> {
        self.state.received.lock().unwrap().clone()
    }

    /// The messages posted (not threads started, commands registered or users looked up).
    pub fn posts(&self) -> Vec<Recorded> {
        self.received()
            .into_iter()
            .filter(|r| r.path.ends_with("/messages") || r.path.ends_with("/chat.postMessage"))
            .collect()
    }

    /// Waits (woken by each request, at most `limit`) until `check` finds what it wants.
    async fn wait_for<T>(&self, limit: Duration, check: impl Fn() -> Option<T>) -> Option<T> {
        let until = tokio::time::Instant::now() + limit;
        loop {
            // Registered before the check, so a request between the two is not missed.
            let next = self.state.arrived.notified();
            tokio::pin!(next);
            next.as_mut().enable();
            if let Some(found) = check() {
                return Some(found);
            }
            if tokio::time::timeout_at(until, next).await.is_err() {
                return None;
            }
        }
    }

    /// Waits until at least `n` messages were posted (or 10 s passed), and returns them.
    pub async fn wait_posts(&self, n: usize) -> Vec<Recorded> {
        let enough = || Some(self.posts()).filter(|p| p.len() >= n);
        match self.wait_for(Duration::from_secs(10), enough).await {
            Some(posts) => posts,
            None => self.posts(),
        }
    }

    /// The requests to paths containing `part`.
    pub fn received_at(&self, part: &str) -> Vec<Recorded> {
        self.received()
            .into_iter()
            .filter(|r| r.path.contains(part))
            .collect()
    }

    /// Waits until a request to a path containing `part` arrived, and returns it.
    pub async fn wait_at(&self, part: &str) -> Recorded {
        let found = || self.received_at(part).pop();
        match self.wait_for(Duration::from_secs(5), found).await {
            Some(r) => r,
            None => panic!("nothing arrived at {part}: {:?}", self.received()),
        }
    }

    /// Enforces a rate limit of `n` messages per `window` on each channel.
    pub fn rate_limit(&self, n: usize, window: Duration) {
        *self.state.limit.lock().unwrap() = Some((n, window));
    }

    /// The next `n` posts are made, but answered only after `delay`.
    pub fn slow(&self, n: usize, delay: Duration) {
        *self.state.slow.lock().unwrap() = (n, delay);
    }

    /// How many 429s the fake answered.
    pub fn limited(&self) -> usize {
        *self.state.limited.lock().unwrap()
    }

    /// The messages that exist in the channels: one per nonce, as Discord keeps them.
    pub fn created(&self) -> Vec<Recorded> {
        self.state
            .created
            .lock()
            .unwrap()
            .iter()
            .map(|(_, _, r)| r.clone())
            .collect()
    }

    /// The text of every message that exists in the channels, one per line block: what a
    /// reader of the channels would see.
    pub fn shown(&self) -> String {
        self.created()
            .iter()
            .map(|r| {
                let text = r.body["embeds"][0]["description"]
                    .as_str()
                    .or(r.body["blocks"][0]["text"]["text"].as_str())
                    .unwrap_or_default();
                format!("{text}\n")
            })
            .collect()
    }

    /// Makes the platform report `channel` (an id) as one of `owner`'s (guild or team id).
    pub fn own_channel(&self, channel: &str, owner: &str) {
        let mut channels = self.state.channels.lock().unwrap();
        channels.insert(channel.to_string(), owner.to_string());
    }

    /// Revokes the token: every request is refused from now on.
    pub fn revoke_token(&self) {
        *self.state.revoked.lock().unwrap() = true;
    }

    /// Makes `conversations.info` report the bot as not a member of this Slack channel.
    pub fn leave(&self, channel: &str) {
        self.state.outside.lock().unwrap().push(channel.to_string());
    }

    /// Makes `users.info` report this Slack user as a workspace admin.
    pub fn make_admin(&self, user: &str) {
        self.state.admins.lock().unwrap().push(user.to_string());
    }
}

pub struct TestApp {
    pub address: String,
    pub settings: Settings,
    pub store: Store,
    pub discord: FakeApi,
    pub slack: FakeApi,
    pub client: reqwest::Client,
    pub dir: Arc<tempfile::TempDir>,
    /// Makes due digests, at a time the test chooses.
    pub digests: herald::deliver::digest::Digests,
    stop: Option<oneshot::Sender<()>>,
    running: Option<tokio::task::JoinHandle<()>>,
}

/// Settings for a test: a temporary database, fast retries, both fakes configured.
pub fn test_settings(dir: &Path, discord: &FakeApi, slack: &FakeApi) -> Settings {
    let mut s = Settings::default();
    s.server.listen = "127.0.0.1:0".into();
    s.database.url = format!("sqlite://{}", dir.join("herald.db").display());
    s.hub.secret = SECRET.into();
    s.discord.token = "discord-test-token".into();
    s.discord.api_base = discord.base.clone();
    s.slack.bot_token = "xoxb-test-token".into();
    s.slack.signing_secret = SLACK_SIGNING_SECRET.into();
    s.discord.application_id = "1111111111111111111".into();
    s.discord.public_key = hex::encode(discord_key().verifying_key().to_bytes());
    s.slack.api_base = slack.base.clone();
    s.templates.dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates");
    s.delivery.retry_base_ms = 50;
    s.delivery.retry_max_ms = 200;
    s.delivery.http_timeout_ms = 2000;
    s.delivery.lease_ms = 2000;
    // No Hub API unless a test brings its fake (tests/api/enrich.rs).
    s.hub.enrich_timeout_ms = 0;
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let discord = FakeApi::start(Kind::Discord).await;
    let slack = FakeApi::start(Kind::Slack).await;
    let mut settings = test_settings(dir.path(), &discord, &slack);
    customize(&mut settings);
    start(settings, dir, discord, slack).await
}

async fn start(
    settings: Settings,
    dir: Arc<tempfile::TempDir>,
    discord: FakeApi,
    slack: FakeApi,
) -> TestApp {
    let app = Application::build(&settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let digests = app.digests();
    let (tx, rx) = oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = rx.await;
        })
        .await
        .unwrap()
    });
    let store = Store::open(&settings.database.url).await.unwrap();
    TestApp {
        address,
        settings,
        store,
        discord,
        slack,
        client: reqwest::Client::new(),
        dir,
        digests,
        stop: Some(tx),
        running: Some(running),
    }
}

impl TestApp {
    pub async fn post_webhook(&self, body: &[u8]) -> reqwest::Response {
        self.post_webhook_with(body, |r| {
            r.header("X-Webhook-Secret", SECRET)
                .header("Content-Type", "application/json")
        })
        .await
    }

    pub async fn post_webhook_with(
        &self,
        body: &[u8],
        f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> reqwest::Response {
        let req = self
            .client
            .post(format!("{}/webhooks/hf", self.address))
            .body(body.to_vec());
        f(req).send().await.expect("request sent")
    }

    /// Subscribes through the same code path as `herald subscribe`.
    pub async fn subscribe(&self, target: &str, channel: &str, scopes: &[&str]) -> String {
        let command = Command::Subscribe {
            target: target.into(),
            channel: channel.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            threads: None,
            rules: Default::default(),
        };
        cli::run(&self.settings, command).await.expect("subscribed")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    pub async fn events_stored(&self) -> i64 {
        herald::store::events::count(&self.store.pool)
            .await
            .unwrap()
    }

    pub async fn deliveries(&self, event_id: i64) -> Vec<herald::store::deliveries::Delivery> {
        herald::store::deliveries::for_event(&self.store.pool, event_id)
            .await
            .unwrap()
    }

    /// Waits until every delivery of the event is finished (sent or failed).
    pub async fn settled(&self, event_id: i64) -> Vec<herald::store::deliveries::Delivery> {
        // A local SQLite read is cheap: asked every 10 ms, for up to 10 s.
        for _ in 0..1000 {
            let d = self.deliveries(event_id).await;
            if d.iter().all(|d| d.status.is_finished()) {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "deliveries of event {event_id} never settled: {:?}",
            self.deliveries(event_id).await
        );
    }

    /// Stops the server gracefully and starts it again on the same database.
    pub async fn restart(mut self, customize: impl FnOnce(&mut Settings)) -> TestApp {
        self.shutdown().await;
        let mut settings = self.settings.clone();
        customize(&mut settings);
        start(
            settings,
            self.dir.clone(),
            self.discord.clone(),
            self.slack.clone(),
        )
        .await
    }

    pub async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(r) = self.running.take() {
            r.await.unwrap();
        }
    }
}

/// The event id from a 2xx webhook answer.
pub async fn event_id(resp: reqwest::Response) -> i64 {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or_default();
    assert!(status.is_success(), "webhook answered {status}: {body}");
    body["event_id"].as_i64().expect("event_id in the answer")
}

impl TestApp {
    /// Posts an interaction signed with the application's key.
    pub async fn discord(&self, body: &Value) -> reqwest::Response {
        self.discord_signed(body, now_s(), |sig| sig).await
    }

    /// Posts an interaction with a chosen timestamp, and a chance to tamper with the signature.
    pub async fn discord_signed(
        &self,
        body: &Value,
        ts: i64,
        tamper: impl FnOnce(String) -> String,
    ) -> reqwest::Response {
        let raw = body.to_string();
        let ts = ts.to_string();
        let sig = discord_signature(&ts, &raw);
        self.client
            .post(format!("{}/discord/interactions", self.address))
            .header("X-Signature-Ed25519", tamper(sig))
            .header("X-Signature-Timestamp", ts)
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form to a Slack endpoint, signed with the signing secret.
    pub async fn slack_signed(&self, path: &str, form: &str, ts: i64) -> reqwest::Response {
        let sig = slack_signature(form, ts);
        self.client
            .post(format!("{}{path}", self.address))
            .header("X-Slack-Signature", sig)
            .header("X-Slack-Request-Timestamp", ts.to_string())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .await
            .unwrap()
    }

    /// `/herald <text>` typed by `user` in `#C0123ABCDEF` of team T1.
    pub async fn slack_command(&self, user: &str, text: &str) -> Value {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("team_id", "T1")
            .append_pair("channel_id", "C0123ABCDEF")
            .append_pair("user_id", user)
            .append_pair("command", "/herald")
            .append_pair("text", text)
            .append_pair("trigger_id", &format!("111.222.{}", unique_id()))
            .append_pair("response_url", &format!("{}/response/1", self.slack.base))
            .finish();
        let resp = self.slack_signed("/slack/commands", &form, now_s()).await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    /// A Slack interaction payload (`payload=<json>`).
    pub async fn slack_interaction(&self, payload: &Value) -> Value {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish();
        let resp = self
            .slack_signed("/slack/interactions", &form, now_s())
            .await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }
}

/// A `/herald` interaction from the composed subcommand fixture, in guild G1, channel C1.
pub fn interaction(permissions: &str, sub: Value) -> Value {
    let mut body = fixture_json("discord/interaction_application_command_subcommand_COMPOSED.json");
    body["id"] = json!(unique_id());
    body["guild_id"] = json!(GUILD);
    body["channel_id"] = json!(GUILD_CHANNEL);
    body["application_id"] = json!("1111111111111111111");
    body["member"]["permissions"] = json!(permissions);
    body["data"] =
        json!({ "type": 1, "name": "herald", "id": "771825006014889984", "options": [sub] });
    body
}

/// A fresh snowflake-like id: Discord gives every interaction its own.
pub fn unique_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}", 900_000_000_000_000_000u64 + n)
}

pub const GUILD: &str = "290926798626357999";
pub const GUILD_CHANNEL: &str = "645027906669510667";
/// Manage Server, and nothing else.
pub const MANAGE_GUILD: &str = "32";

/// Starts `herald serve` on a free port; returns the child, its address and its log lines.
pub fn serve(
    dir: &Path,
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    serve_with(dir, &[])
}

/// Every line a stopped server logged: read until its stderr closed (the reader thread may
/// still hold the last lines when the process has exited), or 10 s.
pub fn drain(logs: &std::sync::mpsc::Receiver<String>) -> Vec<String> {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let mut lines = Vec::new();
    while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
        match logs.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    lines
}

/// Like [`serve`], with more arguments (e.g. `--log-format json`).
pub fn serve_with(
    dir: &Path,
    extra: &[&str],
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    serve_env(dir, extra, &[])
}

/// Like [`serve_with`], with environment variables.
pub fn serve_env(
    dir: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["--config", "bot.toml"])
        .args(extra)
        .arg("serve")
        .envs(env.iter().copied())
        .env("HERALD_SERVER__LISTEN", "127.0.0.1:0")
        .env("HERALD_HUB__ENRICH_TIMEOUT_MS", "0")
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Keep reading, so the server never writes into a closed pipe.
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let ready = rx
        .iter()
        .find(|l| l.contains("herald ready on http://127.0.0.1:"))
        .expect("serve logs a ready line with the address");
    let addr: String = ready
        .split("herald ready on ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.'))
        .collect();
    (child, addr, rx)
}

pub fn terminate(mut child: std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "SIGTERM stops it cleanly");
}

// Discord commands, as the tests type them.

pub fn subscribe(target: &str) -> Value {
    json!({ "type": 1, "name": "subscribe", "options": [{ "type": 3, "name": "target", "value": target }] })
}

/// A `/herald <name>` subcommand without options.
pub fn command(name: &str) -> Value {
    json!({ "type": 1, "name": name })
}

pub fn with_option(sub: &mut Value, option: Value) {
    sub["options"].as_array_mut().unwrap().push(option);
}

pub async fn answer(app: &TestApp, body: &Value) -> Value {
    let resp = app.discord(body).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

pub fn content(answer: &Value) -> &str {
    answer["data"]["content"].as_str().unwrap_or_default()
}

pub fn setup(rotate: bool) -> Value {
    json!({ "type": 1, "name": "setup", "options": [{ "type": 5, "name": "rotate", "value": rotate }] })
}

/// A guild subscribed to `target` with its own webhook endpoint: the endpoint's id and
/// secret.
pub async fn workspace_endpoint(app: &TestApp, target: &str) -> (String, String) {
    answer(app, &interaction(MANAGE_GUILD, subscribe(target))).await;
    endpoint_of(&answer(app, &interaction(MANAGE_GUILD, setup(false))).await)
}

/// The endpoint path and secret from a setup answer.
pub fn endpoint_of(answer: &Value) -> (String, String) {
    let text = content(answer);
    let url = text.split("URL: ").nth(1).unwrap().lines().next().unwrap();
    let secret = text
        .split("Secret: ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    (
        url.split("/webhooks/hf/").nth(1).unwrap().to_string(),
        secret.to_string(),
    )
}

pub async fn post_endpoint(
    app: &TestApp,
    id: &str,
    secret: &str,
    body: &[u8],
) -> reqwest::Response {
    app.client
        .post(format!("{}/webhooks/hf/{id}", app.address))
        .header("X-Webhook-Secret", secret)
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

pub fn modal_submit(scope: &str, text: &str) -> Value {
    let mut body = fixture_json("discord/interaction_modal_submit_legacy_action_row_COMPOSED.json");
    body["id"] = json!(unique_id());
    body["guild_id"] = json!(GUILD);
    body["channel_id"] = json!(GUILD_CHANNEL);
    body["member"]["permissions"] = json!(MANAGE_GUILD);
    body["data"]["custom_id"] = json!(format!("herald:template:{scope}:0"));
    body["data"]["components"][0]["components"][0]["custom_id"] = json!("body");
    body["data"]["components"][0]["components"][0]["value"] = json!(text);
    body
}

/// Waits (up to 10 s) until `check` holds.
pub async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never happened: {what}");
}

/// Discord text as a reader sees it: the escaping backslashes gone.
pub fn unescaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The id of the subscription a reply names first (`Subscribed. Now active: #12: …`).
pub fn sub_id(reply: &str) -> i64 {
    let after = reply.split('#').nth(1).expect("a subscription id");
    after.split(':').next().unwrap().parse().expect("a number")
}
