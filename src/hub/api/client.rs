//! The one client for the Hub's API: URLs built from `hub.api_base` only (never from a
//! payload), the token sent there and nowhere else, a deadline on every call, a bounded
//! body, the rate limit obeyed, and errors that name what happened without echoing the
//! Hub's text, the address or the token.

use super::ratelimit::{pause_after, Pause};
use crate::metrics::Metrics;
use reqwest::header::HeaderMap;
pub use reqwest::Method;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

/// Calls to the Hub in flight at once, with the token and without it: anonymous calls
/// (what workspaces' endpoints send) cannot take the operator's turns.
const IN_FLIGHT: (usize, usize) = (6, 4);
/// Longest one call may take, whatever is left of the event's deadline.
const CALL_MAX: Duration = Duration::from_secs(10);
/// A JSON answer larger than this is not read: no page herald asks for comes near it.
pub const JSON_CAP: usize = 4 << 20;
/// Redirects followed (a renamed repo answers 307), on the same origin only.
const HOPS: usize = 3;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("the Hub's rate limit is spent for {} s more", .0.as_secs().max(1))]
    Paused(Duration),
    #[error("the Hub did not answer in time")]
    Timeout,
    #[error("the Hub could not be reached")]
    Unreachable,
    #[error("the Hub answered {status}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status { status: u16, code: Option<String> },
    #[error("the Hub's answer was larger than herald reads")]
    TooLarge,
    #[error("the Hub's answer could not be read: {0}")]
    Unreadable(String),
}

impl ApiError {
    /// 404 with this `X-Error-Code`.
    pub fn is_code(&self, want: &str) -> bool {
        matches!(self, ApiError::Status { code: Some(c), .. } if c == want)
    }
}

/// An answer: its headers and at most `cap` bytes of its body.
pub struct Answer {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body went on past `cap`.
    pub cut: bool,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What every handle shares: one client; a rate limit and turns for calls with the token
/// and others for calls without it, since the Hub counts the two apart (by user, by
/// address) and a workspace spending the anonymous quota must not stop the operator's.
struct Shared {
    http: reqwest::Client,
    base: Url,
    pause: (Pause, Pause),
    turns: (Semaphore, Semaphore),
    /// Each connected account's own rate limit and turns, by its label.
    accounts: std::sync::Mutex<std::collections::HashMap<String, Limits>>,
    metrics: Arc<Metrics>,
}

/// A handle on the Hub's API, with the operator's token or without it. Cheap to clone.
#[derive(Clone)]
pub struct HubApi {
    shared: Arc<Shared>,
    token: Option<Arc<str>>,
    /// A workspace's own account: its own rate limit and turns, so that it can neither
    /// spend nor wait for the operator's; and its label (what caches key its reads by).
    own: Option<(Limits, Arc<str>)>,
}

/// One account's rate limit and turns.
type Limits = Arc<(Pause, Semaphore)>;

/// Accounts whose rate limits are remembered; past this the memory starts over.
const ACCOUNTS_KEPT: usize = 10_000;

/// Calls one connected account may have in flight.
const ACCOUNT_IN_FLIGHT: usize = 2;

impl HubApi {
    pub fn new(base: &str, token: &str, metrics: Arc<Metrics>) -> anyhow::Result<HubApi> {
        let base = Url::parse(base)?;
        let origin = base.origin();
        // A redirect elsewhere is not followed: the token must not leave `base`.
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > HOPS || attempt.url().origin() != origin {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
            .redirect(policy)
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(HubApi {
            shared: Arc::new(Shared {
                http,
                base,
                pause: Default::default(),
                turns: (Semaphore::new(IN_FLIGHT.0), Semaphore::new(IN_FLIGHT.1)),
                accounts: Default::default(),
                metrics,
            }),
            token: Some(token.trim()).filter(|t| !t.is_empty()).map(Arc::from),
            own: None,
        })
    }

    /// The same API with a workspace's own token, its own rate limit and turns (kept
    /// under `label`, e.g. `account:discord:1`).
    pub fn with_token(&self, token: &str, label: &str) -> HubApi {
        let own = {
            let mut all = self.shared.accounts.lock().expect("not poisoned");
            if all.len() >= ACCOUNTS_KEPT && !all.contains_key(label) {
                all.clear();
            }
            all.entry(label.to_string())
                .or_insert_with(|| Arc::new((Pause::default(), Semaphore::new(ACCOUNT_IN_FLIGHT))))
                .clone()
        };
        HubApi {
            shared: self.shared.clone(),
            token: Some(Arc::from(token.trim())),
            own: Some((own, Arc::from(label))),
        }
    }

    /// Whose reads these are: `token` (the operator's), `anonymous`, or an account's label.
    pub fn access(&self) -> &str {
        match (&self.own, &self.token) {
            (Some((_, label)), _) => label,
            (None, Some(_)) => "token",
            (None, None) => "anonymous",
        }
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The same API without the token: for what a workspace's endpoint sent, whose
    /// payload names repos nobody vouched for.
    pub fn anonymous(&self) -> HubApi {
        HubApi {
            shared: self.shared.clone(),
            token: None,
            own: None,
        }
    }

    /// `{base}/api/{segments…}`, each segment percent-encoded as one (`refs/pr/1` stays
    /// one segment, as the Hub wants).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.shared.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("api").extend(segments);
        }
        url
    }

    /// POSTs a form to `{base}/{segments…}` (outside `/api`: the OAuth token endpoint)
    /// with the app's credentials as Basic auth, never a token; reads its JSON answer.
    pub async fn post_form<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        form: &[(&str, &str)],
        app: (&str, &str),
        deadline: Instant,
    ) -> Result<T, ApiError> {
        let mut url = self.shared.base.clone();
        url.set_query(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let req = self
            .shared
            .http
            .post(url)
            .basic_auth(app.0, Some(app.1))
            .form(form)
            .timeout(left.min(CALL_MAX));
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(ApiError::Timeout),
            Err(_) => return Err(ApiError::Unreachable),
        };
        let status = resp.status().as_u16();
        self.count(&status.to_string());
        if !resp.status().is_success() {
            return Err(ApiError::Status { status, code: None });
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|_| ApiError::Unreachable)? {
            if body.len() + chunk.len() > JSON_CAP {
                return Err(ApiError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::Unreadable(format!("not the JSON expected ({})", json_mistake(&e)))
        })
    }

    /// The site's address for `segments` (the OAuth pages), with `query`.
    pub fn site_url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.shared.base.clone();
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.query_pairs_mut().clear().extend_pairs(query);
        url
    }

    /// Whether `url` (a `Link` header's, say) may be asked with the token.
    pub fn is_ours(&self, url: &Url) -> bool {
        let base = &self.shared.base;
        url.origin() == base.origin() && url.path().starts_with(self.url(&[]).path())
    }

    /// GETs `url` (one of [`HubApi::url`]'s, or a same-origin `Link`) before `deadline`.
    pub async fn get(&self, url: Url, deadline: Instant, cap: usize) -> Result<Answer, ApiError> {
        self.send(Method::GET, url, None, deadline, cap).await
    }

    /// Calls `url` with `method` and, if given, a JSON body.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        deadline: Instant,
        cap: usize,
    ) -> Result<Answer, ApiError> {
        if !self.is_ours(&url) {
            return Err(ApiError::Unreadable("a link to another site".into()));
        }
        let (pause, turns) = match (&self.own, &self.token) {
            (Some((own, _)), _) => (&own.0, &own.1),
            (None, Some(_)) => (&self.shared.pause.0, &self.shared.turns.0),
            (None, None) => (&self.shared.pause.1, &self.shared.turns.1),
        };
        if let Some(left) = pause.left() {
            self.count("paused");
            return Err(ApiError::Paused(left));
        }
        let _turn = tokio::time::timeout_at(deadline, turns.acquire())
            .await
            .map_err(|_| ApiError::Timeout)?
            .expect("never closed");
        // Another call may have met the limit while this one waited for its turn.
        if let Some(left) = pause.left() {
            self.count("paused");
            return Err(ApiError::Paused(left));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ApiError::Timeout);
        }
        let mut req = self
            .shared
            .http
            .request(method, url)
            .timeout(left.min(CALL_MAX));
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                self.count("timeout");
                return Err(ApiError::Timeout);
            }
            Err(_) => {
                self.count("unreachable");
                return Err(ApiError::Unreachable);
            }
        };
        let status = resp.status().as_u16();
        self.count(&status.to_string());
        if let Some(wait) = pause_after(status, resp.headers()) {
            pause.hold(wait);
        }
        if !resp.status().is_success() {
            let code = resp
                .headers()
                .get("x-error-code")
                .and_then(|v| v.to_str().ok())
                .filter(|c| c.len() <= 40 && c.chars().all(|c| c.is_ascii_alphanumeric()))
                .map(str::to_string);
            return Err(ApiError::Status { status, code });
        }
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        let mut cut = false;
        let read = async {
            while let Some(chunk) = resp.chunk().await.map_err(|_| ApiError::Unreachable)? {
                let room = cap - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    cut = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, ApiError>(())
        };
        tokio::time::timeout_at(deadline, read)
            .await
            .map_err(|_| ApiError::Timeout)??;
        Ok(Answer { headers, body, cut })
    }

    /// GETs JSON: its value and the answer's headers.
    pub async fn json<T: DeserializeOwned>(
        &self,
        url: Url,
        deadline: Instant,
    ) -> Result<(T, Answer), ApiError> {
        self.call(Method::GET, url, None, deadline).await
    }

    /// Calls `url` and reads its JSON answer.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        deadline: Instant,
    ) -> Result<(T, Answer), ApiError> {
        let answer = self.send(method, url, body, deadline, JSON_CAP).await?;
        if answer.cut {
            return Err(ApiError::TooLarge);
        }
        let value = serde_json::from_slice(&answer.body).map_err(|e| {
            ApiError::Unreadable(format!("not the JSON expected ({})", json_mistake(&e)))
        })?;
        Ok((value, answer))
    }

    fn count(&self, answer: &str) {
        self.shared.metrics.hub_request(answer);
    }
}

/// What kind of mistake a JSON answer has, without the Hub's text.
fn json_mistake(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected fields",
        serde_json::error::Category::Eof => "cut short",
    }
}
