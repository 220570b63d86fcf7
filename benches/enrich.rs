//! Enrichment benchmark: the time from a webhook's receipt to its post on a fake Discord,
//! with the Hub API off, and on against a local fake Hub (pushes: every push asks for new
//! commits and files; discussion events: cold, then warm caches), and the Hub API calls
//! made per event. The fake Hub answers at once: this measures herald, not the Hub.
//!
//! Run: `cargo bench --bench enrich` (results go in docs/benchmarks.md).

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use herald::config::{DeclaredSubscription, Settings};
use herald::startup::Application;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EVENTS: usize = 200;
const CHANNEL: &str = "111111111111111111";

#[derive(Default)]
struct Fakes {
    hub_calls: AtomicUsize,
    posts: Mutex<Vec<Instant>>,
    arrived: tokio::sync::Notify,
}

/// The commit every push starts from.
const OLD: &str = "ce9a4674fa833a68d5a73ec355f0ea95eedd60b7";

fn sha(i: usize) -> String {
    format!("{:040x}", i + 0xabc)
}

async fn hub(State(f): State<Arc<Fakes>>, uri: Uri) -> Response {
    f.hub_calls.fetch_add(1, Ordering::Relaxed);
    let path = uri.path();
    let rl = [("ratelimit", "\"api\";r=900;t=100")];
    if path.contains("/commits/") {
        // Three new commits, then the old one.
        let commits: Vec<Value> = (0..4)
            .map(|i| json!({ "id": if i == 3 { OLD.to_string() } else { format!("{i:x}{}", "b".repeat(39)) },
                "title": format!("Update the weights, part {i}"), "message": "",
                "authors": [{ "user": "someone", "avatar": "https://cdn-avatars.huggingface.co/a.png" }] }))
            .collect();
        (rl, [("x-total-count", "40")], axum::Json(commits)).into_response()
    } else if path.contains("/compare/") {
        let raw = "T 4000000000\t:100644 100644 97e7432a448baa9e97ec5e4f03c57b09b8e116ed... 30a03d21620ebc6167e350aef9e2ac2774cf372d... M\tmodel.safetensors\n\
                   T 7000\t:100644 100644 97e7432a448baa9e97ec5e4f03c57b09b8e116ed... 30a03d21620ebc6167e350aef9e2ac2774cf372d... M\tREADME.md\n";
        (rl, raw).into_response()
    } else if path.contains("/discussions/") {
        let details: Value = serde_json::from_str(include_str!(
            "../tests/fixtures/hf-api/discussion-details-pr-merged-assembled.json"
        ))
        .unwrap();
        (rl, axum::Json(details)).into_response()
    } else {
        (
            axum::http::StatusCode::NOT_FOUND,
            rl,
            axum::Json(json!({"error": "not found"})),
        )
            .into_response()
    }
}

async fn discord(State(f): State<Arc<Fakes>>) -> Response {
    f.posts.lock().unwrap().push(Instant::now());
    f.arrived.notify_one();
    axum::Json(json!({ "id": "1", "type": 0 })).into_response()
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

fn push(i: usize) -> String {
    json!({
        "event": { "action": "update", "scope": "repo.content" },
        "repo": { "type": "model", "name": format!("acme/model-{i}"), "private": false },
        "updatedRefs": [{ "ref": "refs/heads/main", "oldSha": OLD, "newSha": sha(i) }],
        "webhook": { "id": "bench", "version": 3 }
    })
    .to_string()
}

fn comment(i: usize) -> String {
    let mut v: Value = serde_json::from_str(include_str!(
        "../tests/fixtures/hf/v3-discussion-create-pr.json"
    ))
    .unwrap();
    v["event"]["scope"] = json!("discussion.comment");
    v["comment"]["content"] = json!(format!("Comment {i}"));
    v.to_string()
}

struct Row {
    p50: Duration,
    p95: Duration,
    calls: f64,
}

/// Sends `events` one at a time and measures each from its POST to its post.
async fn run(enrich: bool, events: &[String]) -> Row {
    let fakes = Arc::new(Fakes::default());
    let hub_base = serve(axum::Router::new().fallback(hub).with_state(fakes.clone())).await;
    let discord_base = serve(
        axum::Router::new()
            .fallback(discord)
            .with_state(fakes.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings::default();
    s.server.listen = "127.0.0.1:0".into();
    s.database.url = format!("sqlite://{}", dir.path().join("bench.db").display());
    s.hub.secret = "bench".into();
    s.hub.api_base = hub_base;
    s.hub.enrich_timeout_ms = if enrich { 5000 } else { 0 };
    s.discord.token = "bench".into();
    s.discord.api_base = discord_base;
    s.delivery.merge_bursts = false;
    s.subscriptions.push(DeclaredSubscription {
        target: "*".into(),
        channel: format!("discord:{CHANNEL}"),
        scopes: vec![],
        threads: Some("none".into()),
        ..Default::default()
    });
    let app = Application::build(&s).await.unwrap();
    let url = format!("http://127.0.0.1:{}/webhooks/hf", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    for body in events {
        let before = fakes.posts.lock().unwrap().len();
        let sent = Instant::now();
        let resp = client
            .post(&url)
            .header("X-Webhook-Secret", "bench")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
        loop {
            let next = fakes.arrived.notified();
            if let Some(at) = fakes.posts.lock().unwrap().get(before) {
                latencies.push(*at - sent);
                break;
            }
            tokio::time::timeout(Duration::from_secs(10), next)
                .await
                .expect("posted");
        }
    }
    latencies.sort();
    Row {
        p50: latencies[latencies.len() / 2],
        p95: latencies[latencies.len() * 95 / 100],
        calls: fakes.hub_calls.load(Ordering::Relaxed) as f64 / events.len() as f64,
    }
}

#[tokio::main]
async fn main() {
    let pushes: Vec<String> = (0..EVENTS).map(push).collect();
    let comments: Vec<String> = (0..EVENTS).map(comment).collect();
    println!("| events | Hub API | receipt → post p50 | p95 | Hub API calls per event |");
    println!("|---|---|---|---|---|");
    let cases: [(&str, bool, &[String]); 4] = [
        ("pushes", false, &pushes),
        ("pushes (new commits each)", true, &pushes),
        ("comments on one PR, off", false, &comments),
        ("comments on one PR (details cached 30 s)", true, &comments),
    ];
    for (name, enrich, events) in cases {
        let r = run(enrich, events).await;
        println!(
            "| {EVENTS} {name} | {} | {:.1} ms | {:.1} ms | {:.2} |",
            if enrich { "on" } else { "off" },
            r.p50.as_secs_f64() * 1000.0,
            r.p95.as_secs_f64() * 1000.0,
            r.calls
        );
    }
    // Cold caches: each comment on a discussion of its own repo, asked once.
    let cold: Vec<String> = (0..EVENTS)
        .map(|i| {
            let mut v: Value = serde_json::from_str(&comment(i)).unwrap();
            v["repo"]["name"] = json!(format!("acme/repo-{i}"));
            v.to_string()
        })
        .collect();
    let r = run(true, &cold).await;
    println!(
        "| {EVENTS} comments, each on another repo (cold) | on | {:.1} ms | {:.1} ms | {:.2} |",
        r.p50.as_secs_f64() * 1000.0,
        r.p95.as_secs_f64() * 1000.0,
        r.calls
    );
}
