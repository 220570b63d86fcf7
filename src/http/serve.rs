//! The accept loop: hyper's HTTP/1 server with a header read timeout, and a cap on open
//! connections that, when full, closes one of the client holding the most (or the oldest
//! idle one, or the oldest slow request), so that clients which connect and send nothing,
//! half a request or a trickle of body cannot hold the server's connections or files.

use crate::config::Limits;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// A connection: its client (see [`super::peer_key`]), since when its request has been
/// running (0: none, it is idle), and a way to close it.
type Handle = (Arc<str>, Arc<AtomicU64>, Arc<Notify>);

/// A request running this long is slow (every real one takes milliseconds): when the
/// server is full and nothing is idle, the oldest slow one gives way.
const SLOW_MS: u64 = 1000;

/// Open connections, oldest first.
struct Open {
    conns: Mutex<BTreeMap<u64, Handle>>,
    started: Instant,
}

impl Open {
    fn len(&self) -> usize {
        self.conns.lock().expect("not poisoned").len()
    }

    /// Milliseconds since the server started, from 1 (0 means idle).
    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64 + 1
    }

    /// Closes a connection to make room for a new one, and says whether it could. A client
    /// holding more than a quarter of the connections gives up its own: its oldest idle one,
    /// else its longest request if past [`SLOW_MS`]. Otherwise the oldest idle connection
    /// goes, or else the request that has run longest, if past [`SLOW_MS`].
    fn make_room(&self, max: usize) -> bool {
        let now = self.now();
        let mut conns = self.conns.lock().expect("not poisoned");
        let since = |h: &Handle| h.1.load(Ordering::Acquire);
        let mut held: HashMap<&str, usize> = HashMap::new();
        for h in conns.values() {
            *held.entry(&h.0).or_default() += 1;
        }
        let heaviest = held.into_iter().max_by_key(|(_, n)| *n);
        let hog = heaviest
            .filter(|(_, n)| *n > max / 4)
            .map(|(peer, _)| peer.to_string());
        let victim = match hog {
            // Its idle connections, else its requests running past SLOW_MS (behind a proxy
            // every client is the proxy: its fast requests are never cut).
            Some(peer) => {
                let own = || conns.iter().filter(|(_, h)| *h.0 == *peer);
                let idle = own().find(|(_, h)| since(h) == 0).map(|(id, _)| *id);
                idle.or_else(|| {
                    let (id, h) = own().min_by_key(|(_, h)| since(h))?;
                    (now.saturating_sub(since(h)) >= SLOW_MS).then_some(*id)
                })
            }
            None => {
                let idle = conns.iter().find(|(_, h)| since(h) == 0).map(|(id, _)| *id);
                idle.or_else(|| {
                    let (id, h) = conns.iter().min_by_key(|(_, h)| since(h))?;
                    (now.saturating_sub(since(h)) >= SLOW_MS).then_some(*id)
                })
            }
        };
        let Some(victim) = victim else {
            return false;
        };
        if let Some((_, _, close)) = conns.remove(&victim) {
            close.notify_one();
        }
        true
    }
}

/// Marks its connection busy for as long as the request lives.
struct InFlight(Arc<AtomicU64>);

impl InFlight {
    fn new(since: &Arc<AtomicU64>, now: u64) -> InFlight {
        since.store(now, Ordering::Release);
        InFlight(since.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.store(0, Ordering::Release);
    }
}

/// As many connections as `wanted`, if the open-files limit allows (it is raised to its
/// hard maximum first); fewer, with a warning, if not.
fn usable_connections(wanted: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let lim = getrlimit(Resource::Nofile);
    let (Some(mut current), max) = (lim.current, lim.maximum) else {
        return wanted; // unlimited
    };
    let need = max.map_or(wanted as u64 + 256, |m| (wanted as u64 + 256).min(m));
    if current < need {
        let raised = Rlimit {
            current: Some(need),
            maximum: max,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            current = need;
        }
    }
    // Files for the database, the log and outbound requests stay free.
    let fits = (current as usize).saturating_sub(256).max(16);
    if fits < wanted {
        tracing::warn!(
            wanted,
            fits,
            "limits.max_connections is above what the open-files limit allows; using {fits}"
        );
    }
    wanted.min(fits)
}

/// Serves `router` until `shutdown` resolves, then lets requests in flight finish (for
/// up to `drain`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let max = usable_connections(limits.max_connections);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_timeout_ms));
    let service = TowerToHyperService::new(router);
    let open = Arc::new(Open {
        conns: Mutex::default(),
        started: Instant::now(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files or similar: wait for connections to end, never spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Never waits: a full server sheds its least useful connection, or this new one.
        if open.len() >= max && !open.make_room(max) {
            if super::error::may_log() {
                tracing::warn!(max, "connection refused: every connection is in a request");
            }
            continue;
        }
        next_id += 1;
        let (since, close) = (Arc::new(AtomicU64::new(0)), Arc::new(Notify::new()));
        open.conns.lock().expect("not poisoned").insert(
            next_id,
            (
                super::peer_key(peer.ip()).into(),
                since.clone(),
                close.clone(),
            ),
        );
        let (svc, clock) = (service.clone(), open.clone());
        let handler = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = InFlight::new(&since, clock.now());
            let call = hyper::service::Service::call(&svc, req);
            async move {
                let resp = call.await;
                drop(in_flight);
                resp
            }
        });
        let conn = http.serve_connection(TokioIo::new(stream), handler);
        let (open, id, mut stop) = (open.clone(), next_id, stop_rx.clone());
        tokio::spawn(async move {
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    _ = close.notified() => break,
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            open.conns.lock().expect("not poisoned").remove(&id);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(drain, async {
        while open.len() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
