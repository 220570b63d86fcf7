//! Routing benchmark: the time to route one event among 100,000 subscriptions, for an
//! event that matches one subscription and for one that matches 100, without filters and
//! with a filter on every subscription; and the time one filter takes to evaluate.
//!
//! Run: `cargo bench --bench routing` (results go in docs/benchmarks.md).

use herald::hub::{payload, Event, RepoType};
use herald::route::subscription::Threads;
use herald::route::{self, Bots, Channel, Filter, Look, Origin, Rules, Target};
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

/// Filters as people write them, one per subscription in turn.
const FILTERS: [&str; 4] = [
    "is:push ref:main -author:bot",
    "is:pr is:merged OR is:tag",
    "(changed:weights OR path:*.gguf) -is:draft",
    "title:\"release notes\" OR ref:v* OR is:push",
];

fn sub(target: Target, i: usize, filtered: bool) -> NewSubscription {
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
        rules: Rules {
            filter: filtered.then(|| {
                Filter::parse_shared(FILTERS[i % FILTERS.len()])
                    .unwrap()
                    .unwrap()
            }),
            ..Rules::default()
        },
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
        matched = route::select(event, &Origin::Operator, &candidates, &Bots::default()).len();
        times.push(start.elapsed());
    }
    times.sort();
    (times[rounds / 2], times[rounds * 99 / 100], matched)
}

/// Nanoseconds one evaluation of `filter` takes on `event`, the median of 21 runs.
fn eval_ns(filter: &Filter, event: &Event) -> f64 {
    let bots = Bots::default();
    let n = 20_000;
    let mut runs: Vec<f64> = (0..21)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                std::hint::black_box(
                    filter.eval(std::hint::black_box(event), &Look::settled(&bots)),
                );
            }
            start.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[10]
}

fn filter_costs() {
    let push = event("owner42/repo42");
    let pr = payload::parse(include_bytes!("../templates/samples/discussion.json")).unwrap();
    println!("| filter | on a push | on a pull request | parse |");
    println!("|---|---|---|---|");
    for text in FILTERS {
        let f = Filter::parse(text).unwrap().unwrap();
        let start = Instant::now();
        for _ in 0..10_000 {
            std::hint::black_box(Filter::parse(std::hint::black_box(text)).unwrap());
        }
        let parse = start.elapsed().as_nanos() as f64 / 10_000.0;
        println!(
            "| `{text}` | {:.0} ns | {:.0} ns | {:.0} ns |",
            eval_ns(&f, &push),
            eval_ns(&f, &pr),
            parse
        );
    }
}

async fn fill(name: &str, total: usize, filtered: bool) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("routing.db").display()
    ))
    .await
    .unwrap();
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
        subscriptions::add(&mut tx, &sub(t, i, filtered), 0)
            .await
            .unwrap();
    }
    for i in 0..100 {
        let t = Target::parse("popular/llama").unwrap();
        subscriptions::add(&mut tx, &sub(t, total + i, filtered), 0)
            .await
            .unwrap();
        let ns = Target::parse(&format!("org{i}/*")).unwrap();
        subscriptions::add(&mut tx, &sub(ns, total + 100 + i, filtered), 0)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    println!(
        "filled {total} subscriptions ({name}) in {:.1} s",
        fill.elapsed().as_secs_f64()
    );
    (dir, store)
}

#[tokio::main]
async fn main() {
    filter_costs();
    let total = total();
    let (_a, plain) = fill("plain", total, false).await;
    let (_b, filtered) = fill("filtered", total, true).await;
    println!();
    println!("| event | subscriptions | filters | matches | median | p99 |");
    println!("|---|---|---|---|---|---|");
    for (label, name) in [
        ("one match", "owner42/repo42"),
        ("100 matches", "popular/llama"),
        ("no match", "nobody/nothing"),
    ] {
        // Taken in turns, so that a slow moment of the machine weighs on both.
        for (store, filters) in [
            (&plain, "none"),
            (&filtered, "one each"),
            (&plain, "none"),
            (&filtered, "one each"),
        ] {
            let (p50, p99, matched) = time_routing(store, &event(name), 1_000).await;
            println!(
                "| {label} | {total} | {filters} | {matched} | {:.1} µs | {:.1} µs |",
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6
            );
        }
    }
}
