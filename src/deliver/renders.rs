//! Events and messages for the workers, made once however many channels want them: an
//! event is parsed once, and a message rendered once per event, platform and set of users'
//! templates, on blocking threads. Each workspace's own templates render one at a time, and
//! all workspaces' on all cores but one, so that no workspace can take every thread and the
//! rest of the server always has a core, whatever the workspaces subscribe and write.

use crate::enrich::Enricher;
use crate::hub::Event;
use crate::metrics::Metrics;
use crate::render::{Message, Overrides, Renderer};
use crate::route::Platform;
use crate::store::events;
use sqlx::SqlitePool;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};

/// Longest a message may take to render, every template tried included.
const RENDER_LIMIT: Duration = Duration::from_secs(5);

/// Parsed events and rendered messages kept for the channels still to send them.
const KEPT: usize = 64;

/// A message, and why a user's template was not used for it.
pub type Rendered = (Message, Option<String>);

type Cell<T> = Arc<OnceCell<T>>;

#[derive(PartialEq, Eq)]
struct Key {
    event: i64,
    platform: Platform,
    overrides: Overrides,
}

/// The most recent `KEPT` of something, by key, each made once.
struct Recent<K, T>(Mutex<VecDeque<(K, Cell<T>)>>);

impl<K: PartialEq, T> Recent<K, T> {
    fn cell(&self, key: K) -> Cell<T> {
        let mut kept = self.0.lock().expect("not poisoned");
        if let Some((_, cell)) = kept.iter().find(|(k, _)| *k == key) {
            return cell.clone();
        }
        if kept.len() >= KEPT {
            kept.pop_front();
        }
        let cell = Cell::default();
        kept.push_back((key, cell.clone()));
        cell
    }
}

impl<K, T> Recent<K, T> {
    fn clear(&self) {
        self.0.lock().expect("not poisoned").clear();
    }
}

impl<K, T> Default for Recent<K, T> {
    fn default() -> Self {
        Recent(Mutex::default())
    }
}

/// A discussion's status before event `id`: from the events herald stored for it, or else
/// from the Hub's log when this event is its last status change. Only for updates of a
/// discussion, where "reopened" must not be a guess.
async fn status_before(pool: &SqlitePool, origin: &str, event: &Event, id: i64) -> Option<String> {
    let d = event.discussion.as_ref()?;
    if event.scope.as_str() != "discussion" || event.action.as_str() != "update" {
        return None;
    }
    let stored = events::discussion_status_before(pool, origin, event, d.num, id).await;
    let from_log = || {
        let facts = event.facts.as_ref()?;
        facts.facts.discussion.as_ref()?.previous_status.clone()
    };
    stored.ok().flatten().or_else(from_log)
}

pub struct Renders {
    renderer: Arc<Renderer>,
    /// Adds the Hub API's facts to each event; `None` when that is off.
    enricher: Option<Arc<Enricher>>,
    metrics: Arc<Metrics>,
    events: Recent<i64, Arc<Event>>,
    messages: Recent<Key, Rendered>,
    /// One permit per workspace whose templates are rendering.
    owners: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Users' templates of all workspaces render on all cores but one (previews too).
    users: Arc<Semaphore>,
}

impl Renders {
    pub fn new(
        renderer: Arc<Renderer>,
        enricher: Option<Arc<Enricher>>,
        metrics: Arc<Metrics>,
    ) -> Renders {
        Renders {
            renderer,
            enricher,
            metrics,
            events: Recent::default(),
            messages: Recent::default(),
            owners: Mutex::default(),
            users: crate::render::custom::shared_threads(),
        }
    }

    /// Forgets every event and message: once events are purged, SQLite may give their ids
    /// to new ones.
    pub fn forget(&self) {
        self.events.clear();
        self.messages.clear();
    }

    /// Stored event `id`, read and parsed (on a blocking thread: a body may be large),
    /// with the Hub API's facts; the error is a permanent reason.
    pub async fn event(&self, pool: &SqlitePool, id: i64) -> Result<Arc<Event>, String> {
        let cell = self.events.cell(id);
        let load = || async move {
            let stored = events::get(pool, id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("event {id} is no longer stored"))?;
            let (origin, received_at) = (stored.endpoint.clone(), stored.received_at);
            let mut event = tokio::task::spawn_blocking(move || stored.event())
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("event {id} cannot be read: {e}"))?;
            if let Some(enricher) = self.enricher.as_ref().filter(|_| event.notice.is_none()) {
                event.facts = Some(enricher.facts(id, &event, &origin, received_at).await);
            }
            event.status_before = status_before(pool, &origin, &event, id).await;
            if event.scope.as_str() == "repo.content" && event.notice.is_none() {
                event.missed = events::missed_before(pool, &origin, &event, id)
                    .await
                    .ok()
                    .flatten();
            }
            Ok(Arc::new(event))
        };
        // Only what succeeded is kept: a passing database error is tried again.
        cell.get_or_try_init(load).await.cloned()
    }

    /// The message for `event` on `platform` with these templates.
    pub async fn message(
        &self,
        id: i64,
        event: Arc<Event>,
        platform: Platform,
        overrides: Overrides,
    ) -> Result<Rendered, String> {
        let key = Key {
            event: id,
            platform,
            overrides: overrides.clone(),
        };
        let cell = self.messages.cell(key);
        let render = || async {
            let done = self.render(event, platform, overrides).await;
            if let Ok((_, Some(note))) = &done {
                self.metrics.template_failures.inc();
                tracing::warn!(event = id, %note, "a template failed and another was used");
            }
            done
        };
        cell.get_or_try_init(render).await.cloned()
    }

    /// Renders on a blocking thread, so that no template can stall the runtime (users'
    /// templates are also bounded by their own time budget). Should they still run past
    /// [`RENDER_LIMIT`], the built-in template is used and the message says why.
    async fn render(
        &self,
        event: Arc<Event>,
        platform: Platform,
        overrides: Overrides,
    ) -> Result<Rendered, String> {
        let turn = match overrides.layers.is_empty() {
            true => None,
            // The workspace's turn first, so that one workspace queues behind itself and
            // waits for the shared threads with one render at most.
            false => {
                let own = self.turn(&overrides.workspace).await;
                let shared = self
                    .users
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("never closed");
                Some((own, shared))
            }
        };
        let (renderer, ev) = (self.renderer.clone(), event.clone());
        // The turn ends when the render does, even one no longer waited for.
        let job = tokio::task::spawn_blocking(move || {
            let done = renderer.render_with(&ev, platform, &overrides);
            drop(turn);
            done
        });
        match tokio::time::timeout(RENDER_LIMIT, job).await {
            Ok(Ok(done)) => done.map_err(|e| format!("rendering failed: {e:#}")),
            Ok(Err(e)) => Err(format!("rendering failed: {e}")),
            Err(_) => {
                let renderer = self.renderer.clone();
                let fallback = move || renderer.render_noted(&event, platform);
                let (msg, note) = tokio::task::spawn_blocking(fallback)
                    .await
                    .map_err(|e| format!("rendering failed: {e}"))?
                    .map_err(|e| format!("rendering failed: {e:#}"))?;
                let why = format!(
                    "the templates took longer than {} s; the built-in one was used",
                    RENDER_LIMIT.as_secs()
                );
                let why = note.map_or(why.clone(), |n| format!("{why}; {n}"));
                Ok((msg, Some(why)))
            }
        }
    }

    /// Waits for the workspace's turn to render its templates.
    async fn turn(&self, workspace: &str) -> tokio::sync::OwnedSemaphorePermit {
        let one = {
            let mut owners = self.owners.lock().expect("not poisoned");
            // A workspace not rendering has nothing to wait for: forgotten.
            owners.retain(|_, s| Arc::strong_count(s) > 1);
            owners
                .entry(workspace.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(1)))
                .clone()
        };
        one.acquire_owned().await.expect("never closed")
    }
}
