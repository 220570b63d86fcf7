//! A fake Hub API on a real port, answering like the fixtures in tests/fixtures/hf-api/:
//! commit histories (paged, `X-Total-Count`, `Link`), raw compares, discussion details,
//! user overviews, 307 for renamed repos, 401 for private repos without the token, 404
//! with `X-Error-Code`, `RateLimit` on every answer and 429s on demand. It records every
//! request, with its `Authorization`.

use crate::helpers::fixture_json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const HUB_TOKEN: &str = "hf_test_token_never_shown";

#[derive(Debug, Clone)]
pub struct HubRequest {
    pub method: String,
    /// Path and query, as asked.
    pub path: String,
    pub auth: Option<String>,
}

#[derive(Default)]
struct HubState {
    /// Histories, each oldest first; a repo and commit id → (history, its index).
    chains: Mutex<Vec<Arc<Vec<Value>>>>,
    commits: Mutex<HashMap<(String, String), (usize, usize)>>,
    /// `old..new` → raw diff lines.
    compares: Mutex<HashMap<String, String>>,
    /// `models/owner/name/19` → details.
    discussions: Mutex<HashMap<String, Value>>,
    /// User id → overview.
    users: Mutex<HashMap<String, Value>>,
    /// Repos (`owner/name`) answered only with the token.
    private: Mutex<Vec<String>>,
    /// `models/old/name` → `models/new/name`.
    renamed: Mutex<HashMap<String, String>>,
    /// Every answer waits this long.
    delay: Mutex<Duration>,
    /// The next this many answers are 429s naming this many seconds.
    limited: Mutex<(usize, u64)>,
    requests: Mutex<Vec<HubRequest>>,
    hooks: crate::fakehooks::Hooks,
    oauth: crate::fakeoauth::OAuth,
}

#[derive(Clone)]
pub struct FakeHub {
    pub base: String,
    state: Arc<HubState>,
}

/// A commit id made from a number.
pub fn sha(seed: u64, i: usize) -> String {
    let mix = (i as u64 + 1).wrapping_mul(2_654_435_761) % (1 << 32);
    format!("{mix:08x}{seed:08x}{i:024x}")
}

fn error(status: u16, code: Option<&str>, message: &str) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({ "error": message })),
    )
        .into_response();
    if let Some(code) = code {
        resp.headers_mut()
            .insert("x-error-code", code.parse().unwrap());
    }
    resp
}

fn ok(body: Response) -> Response {
    let mut body = body;
    body.headers_mut()
        .insert("ratelimit", "\"api\";r=489;t=189".parse().unwrap());
    body.headers_mut().insert(
        "ratelimit-policy",
        "\"fixed window\";\"api\";q=1000;w=300".parse().unwrap(),
    );
    body
}

async fn answer(
    State(s): State<Arc<HubState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let path = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    s.requests.lock().unwrap().push(HubRequest {
        method: method.to_string(),
        path: path.clone(),
        auth: auth.clone(),
    });
    let delay = *s.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    {
        let mut limited = s.limited.lock().unwrap();
        if limited.0 > 0 {
            limited.0 -= 1;
            let fx = fixture_json("hf-api/error-429-rate-limited-assembled.http.json");
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(fx["body"].clone()),
            )
                .into_response();
            let rl = format!("\"api\";r=0;t={}", limited.1);
            resp.headers_mut().insert("ratelimit", rl.parse().unwrap());
            return resp;
        }
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    // Segments as the Hub reads them: one percent-encoded segment stays one.
    let segs: Vec<String> = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["api", "whoami-v2"] => match s.hooks.user(auth.as_deref()) {
            Some(u) if u == crate::fakehooks::OPERATOR_USER => {
                ok(axum::Json(fixture_json("hf-api/whoami-v2-hub-ci.json")).into_response())
            }
            Some(u) => {
                let mut me = fixture_json("hf-api/whoami-v2-hub-ci.json");
                me["name"] = json!(u);
                ok(axum::Json(me).into_response())
            }
            None => error(401, None, "Invalid credentials in Authorization header"),
        },
        ["oauth", "token"] => s.oauth.token(&headers, &body, &s.hooks),
        ["api", "settings", "webhooks", rest @ ..] => {
            ok(s.hooks.answer(&method, rest, auth.as_deref(), &body))
        }
        ["api", "organizations", name, "overview"] => match s.hooks.overview(true, name) {
            Some(o) => ok(o),
            None => error(404, None, "Organization not found"),
        },
        ["api", "users", id, "overview"] => match s.users.lock().unwrap().get(*id) {
            Some(u) => ok(axum::Json(u.clone()).into_response()),
            None => match s.hooks.overview(false, id) {
                Some(o) => ok(o),
                None => error(404, None, "User not found"),
            },
        },
        ["api", kind, owner, name, rest @ ..] => {
            let repo = format!("{owner}/{name}");
            if let Some(new) = s.renamed.lock().unwrap().get(&format!("{kind}/{repo}")) {
                let tail: Vec<String> = rest
                    .iter()
                    .map(|r| url::form_urlencoded::byte_serialize(r.as_bytes()).collect())
                    .collect();
                let q = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                let location = format!("/api/{new}/{}{q}", tail.join("/"));
                // As the recorded 307: a relative Location and a text body.
                let fx = fixture_json("hf-api/model-info-renamed-repo-307-redirect.http.json");
                let text = fx["body_text"].as_str().unwrap_or_default();
                let text = text.replace("/api/models/google-bert/bert-base-uncased", &location);
                let mut resp = (StatusCode::TEMPORARY_REDIRECT, text).into_response();
                resp.headers_mut()
                    .insert("location", location.parse().unwrap());
                return resp;
            }
            let private = s.private.lock().unwrap().contains(&repo);
            // The operator's token, or a connected account's, reads it.
            if private && s.hooks.user(auth.as_deref()).is_none() {
                let fx = fixture_json("hf-api/error-401-repo-not-found-unauthenticated.http.json");
                let msg = fx["body"]["error"]
                    .as_str()
                    .unwrap_or("Invalid username or password.");
                return error(401, None, msg);
            }
            s.repo_answer(kind, &repo, rest, &query)
        }
        _ => error(
            404,
            None,
            "Sorry, we can't find the page you are looking for.",
        ),
    }
}

/// The Hub's 404 for an unknown revision, as recorded (its status, code and message).
fn revision_not_found(rev: &str) -> Response {
    let fx = fixture_json("hf-api/error-404-revision-not-found.http.json");
    let code = fx["headers"]["X-Error-Code"].as_str();
    let message = format!("Invalid rev id: {rev}");
    error(fx["status"].as_u64().unwrap_or(404) as u16, code, &message)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl HubState {
    fn repo_answer(
        &self,
        kind: &str,
        repo: &str,
        rest: &[&str],
        query: &HashMap<String, String>,
    ) -> Response {
        match rest {
            ["commits", rev] => {
                let Some((chain, at)) = self
                    .commits
                    .lock()
                    .unwrap()
                    .get(&(repo.to_string(), rev.to_string()))
                    .copied()
                else {
                    return revision_not_found(rev);
                };
                let chain = self.chains.lock().unwrap()[chain].clone();
                let limit: usize = query
                    .get("limit")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(50)
                    .min(1000);
                let page: usize = query.get("p").and_then(|p| p.parse().ok()).unwrap_or(0);
                let total = at + 1;
                let newest_first = chain[..=at].iter().rev();
                let items: Vec<Value> = newest_first
                    .skip(page * limit)
                    .take(limit)
                    .cloned()
                    .collect();
                let mut resp = ok(axum::Json(items).into_response());
                resp.headers_mut()
                    .insert("x-total-count", total.to_string().parse().unwrap());
                if (page + 1) * limit < total {
                    let next = format!(
                        "</api/{kind}/{repo}/commits/{rev}?p={}&limit={limit}>; rel=\"next\"",
                        page + 1
                    );
                    resp.headers_mut().insert("link", next.parse().unwrap());
                }
                resp
            }
            ["compare", range] => match self.compares.lock().unwrap().get(*range) {
                Some(text) => ok(text.clone().into_response()),
                None => revision_not_found(range),
            },
            ["discussions", num] => {
                let key = format!("{kind}/{repo}/{num}");
                match self.discussions.lock().unwrap().get(&key) {
                    Some(d) => ok(axum::Json(d.clone()).into_response()),
                    None => error(404, None, "Discussion not found"),
                }
            }
            _ => error(404, Some("RepoNotFound"), "Repository not found"),
        }
    }
}

impl FakeHub {
    pub async fn start() -> FakeHub {
        let state = Arc::new(HubState::default());
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeHub { base, state }
    }

    /// A history of `commits` (oldest first); returns its index.
    pub fn history(&self, repo: &str, commits: Vec<Value>) -> usize {
        let mut chains = self.state.chains.lock().unwrap();
        let mut index = self.state.commits.lock().unwrap();
        for (i, c) in commits.iter().enumerate() {
            let id = c["id"].as_str().unwrap().to_string();
            index.insert((repo.to_string(), id), (chains.len(), i));
        }
        chains.push(Arc::new(commits));
        chains.len() - 1
    }

    /// A linear history of `n` commits titled `Commit 0`…, by `author`; their ids, oldest
    /// first.
    pub fn linear(&self, repo: &str, seed: u64, n: usize, author: &str) -> Vec<String> {
        let commits: Vec<Value> = (0..n)
            .map(|i| json!({
                "id": sha(seed, i),
                "title": format!("Commit {i}"),
                "message": "",
                "authors": [{ "user": author, "avatar": "https://cdn-avatars.huggingface.co/v1/production/uploads/x/a.png" }],
                "date": "2024-02-19T10:57:45.000Z",
            }))
            .collect();
        let ids = commits
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        self.history(repo, commits);
        ids
    }

    pub fn compare(&self, old: &str, new: &str, raw: &str) {
        self.state
            .compares
            .lock()
            .unwrap()
            .insert(format!("{old}..{new}"), raw.to_string());
    }

    pub fn discussion(&self, kind_repo_num: &str, details: Value) {
        self.state
            .discussions
            .lock()
            .unwrap()
            .insert(kind_repo_num.into(), details);
    }

    pub fn user(&self, id: &str, overview: Value) {
        self.state.users.lock().unwrap().insert(id.into(), overview);
    }

    pub fn private(&self, repo: &str) {
        self.state.private.lock().unwrap().push(repo.into());
    }

    pub fn rename(&self, from: &str, to: &str) {
        self.state
            .renamed
            .lock()
            .unwrap()
            .insert(from.into(), to.into());
    }

    pub fn delay(&self, d: Duration) {
        *self.state.delay.lock().unwrap() = d;
    }

    /// The next `n` answers are 429s whose `RateLimit` says `t` seconds.
    pub fn limit(&self, n: usize, t: u64) {
        *self.state.limited.lock().unwrap() = (n, t);
    }

    /// The account's webhooks, as the Hub would list them.
    pub fn hooks(&self) -> Vec<Value> {
        self.state.hooks.list.lock().unwrap().clone()
    }

    /// What `user`'s only webhook watches, as `type:name`, sorted; empty without one.
    pub fn watched_by(&self, user: &str) -> Vec<String> {
        let hooks: Vec<Value> = self
            .hooks()
            .into_iter()
            .filter(|h| h["owner"] == user)
            .collect();
        assert!(hooks.len() <= 1, "one webhook for {user}: {hooks:?}");
        let mut w: Vec<String> = hooks
            .first()
            .and_then(|h| h["watched"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|w| {
                format!(
                    "{}:{}",
                    w["type"].as_str().unwrap(),
                    w["name"].as_str().unwrap()
                )
            })
            .collect();
        w.sort();
        w
    }

    /// Changes the account's webhooks behind herald's back.
    pub fn edit_hooks(&self, f: impl FnOnce(&mut Vec<Value>)) {
        f(&mut self.state.hooks.list.lock().unwrap())
    }

    /// Every webhook call from now on answers 403.
    pub fn forbid_hooks(&self, forbidden: bool) {
        *self.state.hooks.forbidden.lock().unwrap() = forbidden;
    }

    /// `/enable` is refused while `stuck`.
    pub fn stuck_hooks(&self, stuck: bool) {
        *self.state.hooks.stuck.lock().unwrap() = stuck;
    }

    /// The next sign-in with `code` (and the verifier of `challenge`) grants `token` of
    /// `user`.
    pub fn grant(&self, code: &str, challenge: &str, user: &str, token: &str) {
        self.state.oauth.grant(code, challenge, user, token);
    }

    /// The account's token stops working (revoked on the Hub).
    pub fn revoke(&self, token: &str) {
        self.state.hooks.tokens.lock().unwrap().remove(token);
    }

    pub fn org(&self, name: &str) {
        self.state.hooks.orgs.lock().unwrap().push(name.into());
    }

    pub fn username(&self, name: &str) {
        self.state.hooks.users.lock().unwrap().push(name.into());
    }

    pub fn requests(&self) -> Vec<HubRequest> {
        self.state.requests.lock().unwrap().clone()
    }
}
