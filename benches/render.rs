//! Rendering benchmark: messages rendered per second on one core, per platform, from the
//! real sample payloads of every scope.
//!
//! Run: `cargo bench --bench render` (results go in docs/benchmarks.md).

use herald::hub::Scope;
use herald::render::{samples, Renderer};
use herald::route::Platform;
use std::time::{Duration, Instant};

fn main() {
    let renderer = Renderer::load(None).unwrap();
    let events: Vec<_> = [
        "repo",
        "repo.content",
        "repo.config",
        "discussion",
        "discussion.comment",
    ]
    .iter()
    .map(|s| samples::event(&Scope::parse(s).unwrap()))
    .collect();
    println!("| platform | messages per second (one core) | per message |");
    println!("|---|---|---|");
    for p in [Platform::Discord, Platform::Slack, Platform::Console] {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(3) {
            for e in &events {
                std::hint::black_box(renderer.render(e, p).unwrap());
                n += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "| {} | {:.0} | {:.1} µs |",
            p.as_str(),
            n as f64 / secs,
            secs / n as f64 * 1e6
        );
    }
}
