//! The Hub's webhook settings, `/api/settings/webhooks` (shared HUB-API.md: create, get,
//! list, update, enable, delete; an update replaces the whole `watched` list), and whether
//! a namespace is a user or an organisation, which a watched item must say.

use super::client::{ApiError, HubApi, Method};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::time::Instant;

/// Webhooks one account lists: the Hub's list is bare and unpaged; more than this is not read.
const LISTED_MAX: usize = 1000;

/// Something a webhook watches: `user`, `org`, `model`, `dataset` or `space`, by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Watched {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
}

impl Watched {
    pub fn new(kind: &str, name: &str) -> Watched {
        Watched {
            kind: kind.to_string(),
            name: name.to_string(),
        }
    }

    /// `org:acme`, `model:acme/m`: how `herald hub status` and replies name it.
    pub fn describe(&self) -> String {
        format!("{}:{}", self.kind, self.name)
    }

    /// The same item whatever its case: the Hub's names are case-insensitive.
    pub fn key(&self) -> (String, String) {
        (self.kind.clone(), self.name.to_ascii_lowercase())
    }
}

/// A webhook as the Hub describes it (fields herald does not use are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Webhook {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub watched: Vec<Watched>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub disabled: bool,
    /// Not documented; kept when the Hub says why it disabled a webhook.
    #[serde(default, alias = "disabledReason", alias = "disabled_reason")]
    pub reason: Option<String>,
}

/// What herald wants a webhook to be.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    pub url: String,
    pub domains: Vec<String>,
    pub watched: Vec<Watched>,
    pub secret: String,
}

impl Wanted {
    /// Whether `hook` already is this (the secret cannot be read back; it is sent on
    /// every change).
    pub fn is(&self, hook: &Webhook) -> bool {
        let sorted = |w: &[Watched]| {
            let mut k: Vec<_> = w.iter().map(Watched::key).collect();
            k.sort();
            k
        };
        let mut domains = hook.domains.clone();
        domains.sort();
        hook.url.as_deref() == Some(&self.url)
            && domains == self.domains
            && sorted(&hook.watched) == sorted(&self.watched)
    }

    fn body(&self) -> serde_json::Value {
        json!({
            "url": self.url,
            "watched": self.watched,
            "domains": self.domains,
            "secret": self.secret,
        })
    }
}

#[derive(Deserialize)]
struct One {
    webhook: Webhook,
}

fn path<'a>(id: Option<&'a str>, action: Option<&'a str>) -> Vec<&'a str> {
    ["settings", "webhooks"]
        .into_iter()
        .chain(id)
        .chain(action)
        .collect()
}

pub async fn list(api: &HubApi, deadline: Instant) -> Result<Vec<Webhook>, ApiError> {
    let (all, _): (Vec<serde_json::Value>, _) =
        api.json(api.url(&path(None, None)), deadline).await?;
    // One unreadable entry (a Job webhook, say) does not hide the others.
    Ok(all
        .into_iter()
        .take(LISTED_MAX)
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

pub async fn get(api: &HubApi, id: &str, deadline: Instant) -> Result<Webhook, ApiError> {
    let (one, _): (One, _) = api.json(api.url(&path(Some(id), None)), deadline).await?;
    Ok(one.webhook)
}

pub async fn create(api: &HubApi, want: &Wanted, deadline: Instant) -> Result<Webhook, ApiError> {
    let url = api.url(&path(None, None));
    let (one, _): (One, _) = api
        .call(Method::POST, url, Some(&want.body()), deadline)
        .await?;
    Ok(one.webhook)
}

/// Replaces the webhook's url, domains, secret and whole watched list.
pub async fn update(
    api: &HubApi,
    id: &str,
    want: &Wanted,
    deadline: Instant,
) -> Result<Webhook, ApiError> {
    let url = api.url(&path(Some(id), None));
    let (one, _): (One, _) = api
        .call(Method::POST, url, Some(&want.body()), deadline)
        .await?;
    Ok(one.webhook)
}

pub async fn enable(api: &HubApi, id: &str, deadline: Instant) -> Result<Webhook, ApiError> {
    let url = api.url(&path(Some(id), Some("enable")));
    let (one, _): (One, _) = api.call(Method::POST, url, None, deadline).await?;
    Ok(one.webhook)
}

pub async fn delete(api: &HubApi, id: &str, deadline: Instant) -> Result<(), ApiError> {
    let url = api.url(&path(Some(id), None));
    api.send(Method::DELETE, url, None, deadline, 64 << 10)
        .await
        .map(drop)
}

/// Whether a namespace is a user or an organisation, as a watched item's `type` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    User,
    Org,
    /// Neither exists on the Hub.
    Missing,
}

/// Asks the organisation's overview, then the user's.
pub async fn namespace(api: &HubApi, name: &str, deadline: Instant) -> Result<Namespace, ApiError> {
    let gone = |e: &ApiError| matches!(e, ApiError::Status { status: 404, .. });
    let org = api.url(&["organizations", name, "overview"]);
    match api.json::<serde_json::Value>(org, deadline).await {
        Ok(_) => return Ok(Namespace::Org),
        Err(e) if !gone(&e) => return Err(e),
        Err(_) => {}
    }
    let user = api.url(&["users", name, "overview"]);
    match api.json::<serde_json::Value>(user, deadline).await {
        Ok(_) => Ok(Namespace::User),
        Err(e) if gone(&e) => Ok(Namespace::Missing),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_reads_as_the_hub_describes_it_and_compares_without_case_or_order() {
        let hook: Webhook = serde_json::from_value(json!({
            "id": "654bbbc16f2ec14d77f109cc",
            "url": "https://herald.example/webhooks/hf",
            "watched": [{"type": "org", "name": "Acme"}, {"type": "model", "name": "ann/m"}],
            "domains": ["repo", "discussion"],
            "disabled": true,
            "createdAt": "2024-05-24T10:00:00.000Z"
        }))
        .unwrap();
        assert!(hook.disabled);
        let want = Wanted {
            url: "https://herald.example/webhooks/hf".into(),
            domains: vec!["discussion".into(), "repo".into()],
            watched: vec![Watched::new("model", "ann/m"), Watched::new("org", "acme")],
            secret: "s".into(),
        };
        assert!(want.is(&hook));
        let mut more = want.clone();
        more.watched.push(Watched::new("user", "bob"));
        assert!(!more.is(&hook));
        assert_eq!(
            want.body()["watched"][1],
            json!({"type": "org", "name": "acme"})
        );
    }
}
