//! Ingest benchmark: webhooks accepted (durably stored) per second and their latency, at 32
//! connections and at 1, against the real `herald serve` process, beside a minimal axum
//! server that only checks the secret and parses the JSON (the ceiling on this machine).
//! Also: start-up time to ready, and resident memory idle and under load. At 32 connections
//! the two take turns for several rounds, and the median round is the result.
//!
//! Run: `cargo bench --bench ingest` (results go in docs/benchmarks.md).

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret";
/// Rounds of 10 s each for herald and the ceiling at 32 connections.
const ROUNDS: usize = 5;
const PAYLOAD: &str = include_str!("../templates/samples/discussion.json");

/// The ceiling: what axum does for a webhook with no storage at all.
async fn ceiling_server() {
    use axum::http::{HeaderMap, StatusCode};
    async fn hook(headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
        if headers.get("x-webhook-secret").map(|v| v.as_bytes()) != Some(SECRET.as_bytes()) {
            return StatusCode::FORBIDDEN;
        }
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(_) => StatusCode::ACCEPTED,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }
    let app = axum::Router::new().route("/webhooks/hf", axum::routing::post(hook));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    eprintln!("herald ready on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

/// Starts a server process; returns it, its address and how long it took to be ready.
fn start(mut cmd: Command) -> (Child, String, Duration) {
    let begin = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("herald ready on "))
        .expect("a ready line");
    let took = begin.elapsed();
    // Keep draining the log so that the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let addr = ready
        .split("herald ready on ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    (child, addr.to_string(), took)
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Load {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `conns` connections, each posting one webhook after another for `secs` seconds.
async fn load(addr: &str, conns: usize, secs: u64) -> Load {
    let addr: std::net::SocketAddr = addr.trim_start_matches("http://").parse().unwrap();
    let until = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..conns)
        .map(|_| tokio::spawn(connection(addr, until)))
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    Load {
        per_second: all.len() as f64 / secs as f64,
        p50: all[all.len() / 2],
        p99: all[all.len() * 99 / 100],
    }
}

/// One keep-alive HTTP/1.1 connection, as light as wrk's: the request is built once and
/// each answer read up to its Content-Length, so the load takes little of the CPU that
/// the server under test shares with it.
async fn connection(addr: std::net::SocketAddr, until: Instant) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let request = format!(
        "POST /webhooks/hf HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Webhook-Secret: {SECRET}\r\nContent-Length: {}\r\n\r\n{PAYLOAD}",
        PAYLOAD.len()
    );
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 4096]);
    let mut times = Vec::new();
    while Instant::now() < until {
        let start = Instant::now();
        stream.write_all(request.as_bytes()).await.unwrap();
        buf.clear();
        loop {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if complete(&buf) {
                break;
            }
        }
        times.push(start.elapsed());
    }
    times
}

/// Whether `buf` holds a whole answer; panics unless it is a 2xx.
fn complete(buf: &[u8]) -> bool {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 2"), "{head}");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    buf.len() >= end + 4 + length
}

fn row(name: &str, conns: usize, l: &Load) {
    println!(
        "| {name} | {conns} | {:.0} | {:.2} ms | {:.2} ms |",
        l.per_second,
        ms(l.p50),
        ms(l.p99)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    // The ceiling serves on a multi-threaded runtime, as herald does; the load generator
    // is one thread, like `wrk -t1`.
    if std::env::args().any(|a| a == "--ceiling-server") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        return rt.block_on(ceiling_server());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(measure());
}

async fn measure() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        // Millions of webhooks in a minute: far past an endpoint's daily budget.
        "[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"sqlite://{}\"\n[hub]\nsecret = \"{SECRET}\"\n\
         [limits]\nendpoint_events_per_day = 1000000000\nendpoint_bytes_per_day = 1000000000000\n",
        dir.path().join("ingest.db").display()
    );
    std::fs::write(dir.path().join("bot.toml"), config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.args(["--config", "bot.toml", "serve"])
        .current_dir(dir.path());
    let (mut herald, addr, startup) = start(cmd);
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg("--ceiling-server");
    let (mut ceiling, caddr, _) = start(cmd);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_kib(herald.id(), "VmRSS:");

    // The two take turns, so that a slower minute of this shared machine (the disk's
    // latency varies most) weighs on both alike; every round is printed.
    println!("| round | herald, 32 connections | ceiling, 32 connections | herald / ceiling |");
    println!("|---|---|---|---|");
    let mut rounds = Vec::new();
    for n in 1..=ROUNDS {
        let h = load(&addr, 32, 10).await;
        let c = load(&caddr, 32, 10).await;
        let ratio = h.per_second / c.per_second * 100.0;
        println!(
            "| {n} | {:.0}/s, p50 {:.2} ms, p99 {:.2} ms | {:.0}/s, p50 {:.2} ms, p99 {:.2} ms | {ratio:.0}% |",
            h.per_second,
            ms(h.p50),
            ms(h.p99),
            c.per_second,
            ms(c.p50),
            ms(c.p99)
        );
        rounds.push((ratio, h, c));
    }
    let loaded = rss_kib(herald.id(), "VmHWM:");
    let h1 = load(&addr, 1, 5).await;
    let c1 = load(&caddr, 1, 5).await;
    herald.kill().unwrap();
    ceiling.kill().unwrap();
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ratio, h32, c32) = &rounds[rounds.len() / 2];
    let low = rounds[0].0;

    println!();
    println!("The median round, and one connection:");
    println!();
    println!("| server | connections | webhooks per second | p50 | p99 |");
    println!("|---|---|---|---|---|");
    row("herald (stored before the 2xx)", 32, h32);
    row("ceiling (secret + JSON only)", 32, c32);
    row("herald (stored before the 2xx)", 1, &h1);
    row("ceiling (secret + JSON only)", 1, &c1);
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| start-up to ready | {:.0} ms |",
        startup.as_secs_f64() * 1e3
    );
    println!("| resident memory, idle | {:.1} MB |", idle as f64 / 1024.0);
    println!(
        "| resident memory, peak under load | {:.1} MB |",
        loaded as f64 / 1024.0
    );
    println!("| herald / ceiling at 32 connections | {ratio:.0}% (median of {ROUNDS} rounds; lowest {low:.0}%) |");
}
