//! Building and running the application: the HTTP server and the delivery worker side by side.

use crate::config::Settings;
use crate::deliver::worker::{RetryPolicy, Worker};
use crate::deliver::{console::Console, discord::Discord, slack::Slack, Senders};
use crate::http::{self, AppState};
use crate::render::Renderer;
use crate::store::{now_ms, subscriptions, Store};
use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    worker: Worker,
}

/// The senders for every platform that has a token.
pub fn senders(settings: &Settings) -> anyhow::Result<Senders> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_millis(settings.delivery.http_timeout_ms))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .context("cannot build the HTTP client")?;
    let d = &settings.discord;
    let s = &settings.slack;
    Ok(Senders {
        discord: (!d.token.is_empty()).then(|| Discord::new(client.clone(), &d.api_base, &d.token)),
        slack: (!s.bot_token.is_empty())
            .then(|| Slack::new(client.clone(), &s.api_base, &s.bot_token)),
        console: Console,
    })
}

impl Application {
    /// Opens the store, syncs the config's subscriptions, loads templates and binds the
    /// listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let store = Store::open(&settings.database.url).await?;
        subscriptions::sync_config(&store.pool, &settings.declared()?, now_ms()).await?;
        let renderer = Renderer::load(Some(&settings.templates.dir))?;
        let wake = Arc::new(Notify::new());
        let d = &settings.delivery;
        let worker = Worker {
            store: store.clone(),
            renderer: Arc::new(renderer),
            senders: Arc::new(senders(settings)?),
            wake: wake.clone(),
            policy: RetryPolicy {
                max_attempts: d.max_attempts,
                base: Duration::from_millis(d.retry_base_ms),
                max_delay: Duration::from_millis(d.retry_max_ms),
            },
            lease: Duration::from_millis(d.lease_ms),
        };
        let state = AppState {
            store,
            secrets: settings.hub.secrets(),
            wake,
        };
        let listener = TcpListener::bind(&settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        Ok(Application {
            listener,
            router: http::router(state, settings.server.body_limit),
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` resolves, then lets the worker finish what it is sending.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.listener.local_addr()?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = tokio::spawn(self.worker.run(stop_rx));
        tracing::info!(address = %addr, "herald ready on http://{addr}");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down");
                let _ = stop_tx.send(true);
            })
            .await?;
        if tokio::time::timeout(Duration::from_secs(15), worker)
            .await
            .is_err()
        {
            tracing::warn!("delivery worker did not stop within 15 s; its claims will be retried after restart");
        }
        Ok(())
    }
}
