//! `spawn_app()` starts the real application on port 0 with a fresh SQLite file, and fake
//! Discord and Slack APIs that record what they receive and answer like the real ones.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use herald::cli::{self, Command};
use herald::config::Settings;
use herald::startup::Application;
use herald::store::Store;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, Notify};

pub const SECRET: &str = "test-secret";
pub const DISCORD_CHANNEL: &str = "discord:123456789012345678";
pub const SLACK_CHANNEL: &str = "slack:C0123ABCDEF";

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
    received: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
    arrived: Notify,
}

/// A fake platform API on a real port.
#[derive(Clone)]
pub struct FakeApi {
    pub base: String,
    state: Arc<FakeState>,
}

async fn record(
    State(s): State<Arc<FakeState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n = {
        let mut r = s.received.lock().unwrap();
        r.push(Recorded {
            path: uri.path().to_string(),
            headers,
            body,
        });
        r.len()
    };
    s.arrived.notify_waiters();
    let reply = s
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| match s.kind {
            Kind::Discord => Reply(
                200,
                vec![],
                json!({ "id": format!("{}", 1_000_000 + n), "type": 0 }),
            ),
            Kind::Slack => Reply(
                200,
                vec![],
                json!({ "ok": true, "channel": "C0123ABCDEF", "ts": format!("1503435956.{n:06}") }),
            ),
        });
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
            received: Mutex::new(vec![]),
            script: Mutex::new(VecDeque::new()),
            arrived: Notify::new(),
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

    /// Waits until at least `n` requests arrived (or 10 s passed), and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.state.arrived.notified();
            if self.received().len() >= n || tokio::time::Instant::now() > deadline {
                return self.received();
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), arrived).await;
        }
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
    s.slack.api_base = slack.base.clone();
    s.templates.dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates");
    s.delivery.retry_base_ms = 50;
    s.delivery.retry_max_ms = 200;
    s.delivery.http_timeout_ms = 2000;
    s.delivery.lease_ms = 2000;
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
        };
        cli::run(&self.settings, command).await.expect("subscribed")
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
        for _ in 0..200 {
            let d = self.deliveries(event_id).await;
            if d.iter().all(|d| d.status == "sent" || d.status == "failed") {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
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
    assert!(
        resp.status().is_success(),
        "webhook answered {}",
        resp.status()
    );
    let body: Value = resp.json().await.unwrap();
    body["event_id"].as_i64().expect("event_id in the answer")
}
