//! A user's name from their id: `GET /api/users/{id}/overview` (documented for ids in
//! hub-docs spaces-overview.md; the username is under `user`).

use super::client::{ApiError, HubApi};
use super::Person;
use serde::Deserialize;
use tokio::time::Instant;

#[derive(Deserialize)]
struct Overview {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    fullname: Option<String>,
    #[serde(default, rename = "avatarUrl")]
    avatar_url: Option<String>,
}

/// A Hub id: 24 hex digits (a username never looks like one).
pub fn is_id(s: &str) -> bool {
    s.len() == 24 && s.chars().all(|c| c.is_ascii_hexdigit())
}

pub async fn by_id(api: &HubApi, id: &str, deadline: Instant) -> Result<Person, ApiError> {
    if !is_id(id) {
        return Err(ApiError::Unreadable("not a user id".into()));
    }
    let url = api.url(&["users", id, "overview"]);
    let (o, _): (Overview, _) = api.json(url, deadline).await?;
    Person::new(
        o.user.as_deref().unwrap_or_default(),
        o.fullname.as_deref(),
        o.avatar_url.as_deref(),
    )
    .ok_or_else(|| ApiError::Unreadable("no username".into()))
}
