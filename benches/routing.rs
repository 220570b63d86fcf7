//! Routing benchmark: the time to route one event among 100,000 subscriptions, for an
//! event that matches one subscription and for one that matches 100.
//!
//! Run: `cargo bench --bench routing` (results go in docs/benchmarks.md).

use herald::hub::{payload, Event, RepoType};
use herald::route::subscription::Threads;
use herald::route::{self, Channel, Origin, Target};
use herald::store::subscriptions::{self, NewSubscription};
use herald::store::Store;
use std::time::{Duration, Instant};

/// How many subscriptions; `HERALD_BENCH_SUBS` changes it (to show the cost does not grow
/// with the table).
fn total() -> usize {
    std::env::var("HERALD_BENCH_SUBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn sub(target: Target, i: usize) -> NewSubscription {
    NewSubscription {
        target,
        scopes: vec![],
        channel: Channel::parse(&format!(
            "discord:{}",
            100_000_000_000_000_000u64 + i as u64
        ))
        .unwrap(),
        workspace: None,
        source: herald::route::subscription::Source::Cli,
        created_by: "bench".into(),
        threads: Threads::None,
        rules: Default::default(),
    }
}

fn event(name: &str) -> Event {
    let body = serde_json::json!({
        "event": { "action": "update", "scope": "repo.content" },
        "repo": { "type": "model", "name": name, "private": false },
    });
    payload::normalize(&body).unwrap()
}

async fn time_routing(store: &Store, event: &Event, rounds: usize) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut matched = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut conn = store.pool.acquire().await.unwrap();
        let candidates = herald::store::lookup::candidates(&mut conn, event)
            .await
            .unwrap();
        let candidates: Vec<_> = candidates.iter().collect();
        matched = route::select(event, &Origin::Operator, &candidates, &Default::default()).len();
        times.push(start.elapsed());
    }
    times.sort();
    (times[rounds / 2], times[rounds * 99 / 100], matched)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("routing.db").display()
    ))
    .await
    .unwrap();
    let total = total();
    let fill = Instant::now();
    let mut tx = store.pool.begin().await.unwrap();
    let model = RepoType::model();
    // 99,800 single-repo subscriptions over 10,000 owners, 100 for the popular repo,
    // 100 namespace subscriptions.
    for i in 0..total - 200 {
        let name = format!("owner{}/repo{}", i % 10_000, i);
        let t = Target::Repo {
            kind: model.clone(),
            name: herald::hub::RepoName::parse(&name).unwrap(),
        };
        subscriptions::add(&mut tx, &sub(t, i), 0).await.unwrap();
    }
    for i in 0..100 {
        let t = Target::parse("popular/llama").unwrap();
        subscriptions::add(&mut tx, &sub(t, total + i), 0)
            .await
            .unwrap();
        let ns = Target::parse(&format!("org{i}/*")).unwrap();
        subscriptions::add(&mut tx, &sub(ns, total + 100 + i), 0)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    println!(
        "filled {total} subscriptions in {:.1} s",
        fill.elapsed().as_secs_f64()
    );

    println!("| event | subscriptions | matches | median | p99 |");
    println!("|---|---|---|---|---|");
    for (label, name) in [
        ("one match", "owner42/repo42"),
        ("100 matches", "popular/llama"),
        ("no match", "nobody/nothing"),
    ] {
        let (p50, p99, matched) = time_routing(&store, &event(name), 2_000).await;
        println!(
            "| {label} | {total} | {matched} | {:.1} µs | {:.1} µs |",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
    }
}
