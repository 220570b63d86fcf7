//! The accept loop: hyper's HTTP/1 server with a header read timeout, and a cap on open
//! connections that closes the oldest idle one when full, so that clients which connect
//! and send nothing (or half a request) cannot hold the server's connections or files.

use crate::config::Limits;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// A connection's requests in flight, and a way to close it.
type Handle = (Arc<AtomicUsize>, Arc<Notify>);

/// Open connections, oldest first.
#[derive(Default)]
struct Open {
    conns: Mutex<BTreeMap<u64, Handle>>,
    /// Signalled whenever a connection ends.
    ended: Notify,
}

impl Open {
    fn len(&self) -> usize {
        self.conns.lock().expect("not poisoned").len()
    }

    /// Closes the oldest connection that has no request in flight, if any.
    fn close_oldest_idle(&self) {
        let conns = self.conns.lock().expect("not poisoned");
        let idle = conns
            .values()
            .find(|(busy, _)| busy.load(Ordering::Acquire) == 0);
        if let Some((_, close)) = idle {
            close.notify_one();
        }
    }
}

/// Counts a request in flight on its connection for as long as it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(busy: &Arc<AtomicUsize>) -> InFlight {
        busy.fetch_add(1, Ordering::AcqRel);
        InFlight(busy.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// As many connections as `wanted`, if the open-files limit allows (it is raised to its
/// hard maximum first); fewer, with a warning, if not.
fn usable_connections(wanted: usize) -> usize {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return wanted;
    }
    let need = (wanted as u64 + 256).min(lim.rlim_max);
    if lim.rlim_cur < need {
        let raised = libc::rlimit {
            rlim_cur: need,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = need;
        }
    }
    // Files for the database, the log and outbound requests stay free.
    let fits = (lim.rlim_cur as usize).saturating_sub(256).max(16);
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
    let open = Arc::new(Open::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of files or similar: wait for connections to end, never spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        while open.len() >= max {
            // When every connection is in a request (each bounded by the request timeout),
            // this waits for one to end.
            open.close_oldest_idle();
            let _ = tokio::time::timeout(Duration::from_millis(20), open.ended.notified()).await;
        }
        next_id += 1;
        let (busy, close) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        open.conns
            .lock()
            .expect("not poisoned")
            .insert(next_id, (busy.clone(), close.clone()));
        let svc = service.clone();
        let handler = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let in_flight = InFlight::new(&busy);
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
            open.ended.notify_waiters();
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(drain, async {
        while open.len() > 0 {
            let _ = tokio::time::timeout(Duration::from_millis(20), open.ended.notified()).await;
        }
    })
    .await;
}
