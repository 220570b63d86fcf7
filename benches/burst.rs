//! Burst benchmark: 500 events to one rate-limited Discord channel, plus one event to
//! another channel. Reports drain time against the rate limit's optimum, 429s received,
//! messages posted, and the other channel's latency.
//!
//! Run: `cargo bench --bench burst` (results go in docs/benchmarks.md).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use herald::config::{DeclaredSubscription, Settings};
use herald::startup::Application;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BURST: usize = 500;
/// The fake's limit: 5 messages per 500 ms per channel (Discord's shape, 10 times faster).
const LIMIT: usize = 5;
const WINDOW: Duration = Duration::from_millis(500);
const BUSY: &str = "111111111111111111";
const QUIET: &str = "222222222222222222";

#[derive(Default)]
struct Fake {
    windows: Mutex<HashMap<String, (Instant, usize)>>,
    posted: Mutex<HashMap<String, Vec<Instant>>>,
    limited: Mutex<usize>,
}

/// A Discord stand-in that enforces a per-channel bucket and answers with its headers.
async fn discord(State(f): State<Arc<Fake>>, uri: Uri, _h: HeaderMap) -> Response {
    let channel = uri
        .path()
        .trim_end_matches("/messages")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let now = Instant::now();
    let mut windows = f.windows.lock().unwrap();
    let w = windows.entry(channel.clone()).or_insert((now, 0));
    if now.duration_since(w.0) >= WINDOW {
        *w = (now, 0);
    }
    let reset = (WINDOW - now.duration_since(w.0)).as_secs_f64();
    if w.1 >= LIMIT {
        *f.limited.lock().unwrap() += 1;
        let body = json!({ "message": "You are being rate limited.", "retry_after": reset, "global": false });
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            axum::Json(body),
        )
            .into_response();
    }
    w.1 += 1;
    let remaining = (LIMIT - w.1).to_string();
    f.posted
        .lock()
        .unwrap()
        .entry(channel)
        .or_default()
        .push(now);
    let headers = [
        ("x-ratelimit-limit", LIMIT.to_string()),
        ("x-ratelimit-remaining", remaining),
        ("x-ratelimit-reset-after", format!("{reset:.3}")),
    ];
    (headers, axum::Json(json!({ "id": "1", "type": 0 }))).into_response()
}

fn push(repo: &str, i: usize) -> String {
    json!({
        "event": { "action": "update", "scope": "repo.content" },
        "repo": { "type": "model", "name": repo, "private": false },
        "updatedRefs": [{ "ref": "refs/heads/main", "oldSha": "ce9a4674fa833a68d5a73ec355f0ea95eedd60b7",
                          "newSha": format!("{i:07x}{}", "a".repeat(33)) }],
        "webhook": { "id": "bench", "version": 3 }
    })
    .to_string()
}

struct Outcome {
    drain: Duration,
    optimum: Duration,
    posted: usize,
    limited: usize,
    quiet_latency: Duration,
}

async fn run(merge: bool) -> Outcome {
    let fake = Arc::new(Fake::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .fallback(discord)
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings::default();
    s.server.listen = "127.0.0.1:0".into();
    s.database.url = format!("sqlite://{}", dir.path().join("bench.db").display());
    s.hub.secret = "bench".into();
    s.discord.token = "bench".into();
    s.discord.api_base = base;
    s.delivery.merge_bursts = merge;
    for (repo, channel) in [("acme/busy", BUSY), ("acme/quiet", QUIET)] {
        s.subscriptions.push(DeclaredSubscription {
            target: repo.into(),
            channel: format!("discord:{channel}"),
            scopes: vec![],
            threads: Some("none".into()),
            ..Default::default()
        });
    }
    let app = Application::build(&s).await.unwrap();
    let url = format!("http://127.0.0.1:{}/webhooks/hf", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::new();
    let post = |body: String| {
        client
            .post(&url)
            .header("X-Webhook-Secret", "bench")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    let start = Instant::now();
    for i in 0..BURST {
        assert!(post(push("acme/busy", i))
            .await
            .unwrap()
            .status()
            .is_success());
    }
    let quiet_sent = Instant::now();
    assert!(post(push("acme/quiet", 0))
        .await
        .unwrap()
        .status()
        .is_success());
    let store = herald::store::Store::open(&s.database.url).await.unwrap();
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending')",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let posted = fake.posted.lock().unwrap().clone();
    let busy = &posted[BUSY];
    let last = *busy.last().unwrap();
    let windows = busy.len().div_ceil(LIMIT);
    let limited = *fake.limited.lock().unwrap();
    Outcome {
        drain: last - start,
        optimum: WINDOW * (windows as u32 - 1),
        posted: busy.len(),
        limited,
        quiet_latency: posted[QUIET][0] - quiet_sent,
    }
}

#[tokio::main]
async fn main() {
    println!("| bursts merged | events | messages posted | drain time | optimum at {LIMIT}/{}ms | 429s | other channel's latency |", WINDOW.as_millis());
    println!("|---|---|---|---|---|---|---|");
    for merge in [true, false] {
        let o = run(merge).await;
        println!(
            "| {} | {BURST} | {} | {:.2} s | {:.2} s | {} | {:.1} ms |",
            if merge { "yes (default)" } else { "no" },
            o.posted,
            o.drain.as_secs_f64(),
            o.optimum.as_secs_f64(),
            o.limited,
            o.quiet_latency.as_secs_f64() * 1000.0
        );
    }
}
