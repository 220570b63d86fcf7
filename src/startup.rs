//! Building and running the application: the HTTP server and the delivery worker side by side.

use crate::chat::Chat;
use crate::config::Settings;
use crate::deliver::worker::{RetryPolicy, Worker};
use crate::deliver::{console::Console, discord::Discord, slack::Slack, Senders};
use crate::http::{self, AppState};
use crate::hub::api::HubApi;
use crate::render::Renderer;
use crate::store::{accounts, sealed};
use crate::store::{now_ms, subscriptions, Store};
use crate::watch as hub_watch;
use anyhow::Context;
use serenity::interactions_endpoint::Verifier;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    worker: Worker,
    digests: crate::deliver::digest::Digests,
    /// Keeps the Hub webhooks herald manages in sync.
    watch: hub_watch::Base,
    limits: crate::config::Limits,
    /// How long requests in flight may take to finish when the server stops.
    drain: Duration,
}

/// The one HTTP client for every outbound call, with timeouts.
pub fn http_client(settings: &Settings) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_millis(settings.delivery.http_timeout_ms))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .context("cannot build the HTTP client")
}

/// The senders for every platform that has a token.
pub fn senders(settings: &Settings, client: &reqwest::Client) -> Senders {
    let d = &settings.discord;
    let s = &settings.slack;
    Senders {
        discord: (!d.token.is_empty()).then(|| Discord::new(client.clone(), &d.api_base, &d.token)),
        slack: (!s.bot_token.is_empty()).then(|| {
            let interval = Duration::from_millis(settings.delivery.slack_interval_ms);
            Slack::new(client.clone(), &s.api_base, &s.bot_token, interval)
        }),
        console: Console,
    }
}

/// The Discord signature checker, if a public key is configured.
fn discord_verifier(settings: &Settings) -> anyhow::Result<Option<Verifier>> {
    let key = settings.discord.public_key.trim();
    if key.is_empty() {
        return Ok(None);
    }
    let bytes: [u8; 32] = hex::decode(key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("discord.public_key must be the application's 64-character hex public key")?;
    let v = Verifier::try_new(bytes).map_err(|e| anyhow::anyhow!("discord.public_key: {e}"))?;
    Ok(Some(v))
}

impl Application {
    /// Opens the store, syncs the config's subscriptions, loads templates and binds the
    /// listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let store = Store::open(&settings.database.url).await?;
        subscriptions::sync_config(&store.pool, &settings.declared()?, now_ms()).await?;
        let renderer = Arc::new(Renderer::load(Some(&settings.templates.dir))?);
        let wake = Arc::new(Notify::new());
        let http = http_client(settings)?;
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let senders = Arc::new(senders(settings, &http));
        let hub_api = HubApi::new(&settings.hub.api_base, &settings.hub.token, metrics.clone())?;
        let sealer = sealed::from_key(&settings.security.key)?;
        if sealer.is_none() && accounts::any(&store.pool).await? {
            anyhow::bail!("security.key is missing, and the database holds Hub accounts sealed with it: set security.key (HERALD_SECURITY__KEY) to the key they were stored with");
        }
        let enricher =
            crate::enrich::Enricher::new(settings, store.pool.clone(), &hub_api, sealer.clone());
        let watch = hub_watch::Base::new(
            settings,
            store.pool.clone(),
            &hub_api,
            metrics.clone(),
            wake.clone(),
            sealer.clone(),
        );
        let d = &settings.delivery;
        let bots = Arc::new(crate::route::Bots::new(&settings.hub.bots));
        let renders = Arc::new(crate::deliver::renders::Renders::new(
            renderer.clone(),
            enricher.clone(),
            metrics.clone(),
        ));
        let digests = crate::deliver::digest::Digests {
            store: store.clone(),
            renders: renders.clone(),
            bots: bots.clone(),
            wake: wake.clone(),
        };
        let worker = Worker {
            store: store.clone(),
            renders,
            senders: senders.clone(),
            wake: wake.clone(),
            policy: RetryPolicy {
                max_attempts: d.max_attempts,
                base: Duration::from_millis(d.retry_base_ms),
                max_delay: Duration::from_millis(d.retry_max_ms),
            },
            settings: d.clone(),
            lanes: Default::default(),
            metrics: metrics.clone(),
            bots: bots.clone(),
        };
        let chat = Chat {
            store: store.clone(),
            renderer,
            settings: Arc::new(settings.clone()),
            wake: wake.clone(),
            http,
            senders,
            hub: hub_api.clone(),
            sealer: sealer.clone(),
        };
        let state = AppState {
            store: store.clone(),
            secrets: settings.hub.secrets(),
            wake,
            enricher,
            chat,
            ingest: crate::ingest::Ingest::start(
                store.clone(),
                crate::ingest::budget::Budget {
                    events_per_day: settings.limits.endpoint_events_per_day,
                    bytes_per_day: settings.limits.endpoint_bytes_per_day,
                },
                bots,
            ),
            metrics: metrics.clone(),
            discord_verifier: discord_verifier(settings)?,
            bodies: http::BodyBudget::new(
                settings.limits.body_memory_bytes,
                settings.server.body_limit,
                "server.body_limit",
                ("endpoint", http::ENDPOINT_SHARE_OF),
            ),
            chat_bodies: http::BodyBudget::new(
                http::CHAT_BODY_MEMORY,
                http::CHAT_BODY_LIMIT,
                "the limit of a chat request",
                ("client", http::CLIENT_SHARE_OF),
            ),
        };
        let listener = TcpListener::bind(&settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        Ok(Application {
            listener,
            router: http::router(
                state,
                settings.server.body_limit,
                Duration::from_millis(settings.server.request_timeout_ms),
            ),
            worker,
            digests,
            watch,
            limits: settings.limits.clone(),
            drain: Duration::from_millis(settings.server.request_timeout_ms + 1000),
        })
    }

    /// What makes due digests (tests and tools may run it with a time of their own).
    pub fn digests(&self) -> crate::deliver::digest::Digests {
        self.digests.clone()
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
        let (store, senders) = (self.worker.store.clone(), self.worker.senders.clone());
        tokio::spawn(crate::chat::audit::keep_checking(store, senders));
        tokio::spawn(hub_watch::run(self.watch, stop_rx.clone()));
        tokio::spawn(self.digests.run(stop_rx.clone()));
        let worker = tokio::spawn(self.worker.run(stop_rx));
        tracing::info!(address = %addr, "herald ready on http://{addr}");
        let stopped = async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
        };
        http::serve::serve(
            self.listener,
            self.router,
            &self.limits,
            self.drain,
            stopped,
        )
        .await;
        if tokio::time::timeout(Duration::from_secs(15), worker)
            .await
            .is_err()
        {
            tracing::warn!("delivery worker did not stop within 15 s; its claims will be retried after restart");
        }
        Ok(())
    }
}
