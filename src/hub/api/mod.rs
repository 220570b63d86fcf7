//! The Hub's HTTP API, as herald reads it to say who did what: commit titles, changed
//! files, discussion authors, user names. See shared HUB-API.md for the endpoints.

pub mod cache;
pub mod client;
pub mod commits;
pub mod compare;
pub mod discussions;
pub mod facts;
pub mod files;
pub mod oauth;
pub mod ratelimit;
pub mod users;
pub mod webhooks;

pub use client::{ApiError, HubApi};

use serde::{Deserialize, Serialize};

/// Where people and avatars live on the web (also what relative avatar paths hang off).
pub const WEB: &str = "https://huggingface.co";
/// Longest name, title or URL herald keeps from the API.
const KEPT_CHARS: usize = 300;

/// Text from the API as herald keeps it: at most [`KEPT_CHARS`] characters.
pub(crate) fn kept(s: &str) -> String {
    s.trim().chars().take(KEPT_CHARS).collect()
}

/// Someone on the Hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// The username, as in `huggingface.co/<name>`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fullname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

impl Person {
    /// A person from the API's fields; `None` without a usable name.
    pub fn new(name: &str, fullname: Option<&str>, avatar: Option<&str>) -> Option<Person> {
        let name = name.trim();
        let usable = !name.is_empty()
            && name.len() <= 96
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        usable.then(|| Person {
            name: name.to_string(),
            fullname: fullname.map(kept).filter(|f| !f.is_empty()),
            avatar_url: avatar.and_then(avatar_url),
        })
    }

    pub fn url(&self) -> String {
        format!("{WEB}/{}", self.name)
    }
}

/// An avatar's address as a chat app may load it: https only; the Hub's relative
/// default avatars hang off the Hub's site.
fn avatar_url(a: &str) -> Option<String> {
    let a = a.trim();
    let abs = match a.strip_prefix('/') {
        Some(rest) if !rest.starts_with('/') => format!("{WEB}/{rest}"),
        Some(_) => return None,
        None => a.to_string(),
    };
    let url = url::Url::parse(&abs).ok()?;
    // Chat apps show png, jpeg and gif; the Hub's default avatars are SVG.
    let svg = url.path().to_ascii_lowercase().ends_with(".svg");
    (url.scheme() == "https" && url.has_host() && !svg && abs.len() <= KEPT_CHARS)
        .then(|| url.to_string())
}

/// One commit, as a message lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
}

/// Which repo, as the API's paths name it: `models`, `owner/name`.
#[derive(Debug, Clone, Copy)]
pub struct RepoPath<'a> {
    pub kind: &'static str,
    pub owner: &'a str,
    pub name: &'a str,
}

impl<'a> RepoPath<'a> {
    pub fn new(kind: &crate::hub::RepoType, full: &'a str) -> Option<RepoPath<'a>> {
        let kind = match kind.as_str() {
            "model" => "models",
            "dataset" => "datasets",
            "space" => "spaces",
            _ => return None,
        };
        let (owner, name) = full.split_once('/')?;
        Some(RepoPath { kind, owner, name })
    }

    /// The API path segments of this repo followed by `rest`.
    pub fn segments<'b>(&self, rest: &[&'b str]) -> Vec<&'b str>
    where
        'a: 'b,
    {
        [self.kind, self.owner, self.name]
            .into_iter()
            .chain(rest.iter().copied())
            .collect()
    }
}

/// A commit id from a payload: hex, as long as a SHA-1 or SHA-256.
pub fn is_sha(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avatars_are_https_and_relative_ones_hang_off_the_hub() {
        let p = Person::new("ann", Some("Ann"), Some("/avatars/00.png")).unwrap();
        assert_eq!(
            p.avatar_url.as_deref(),
            Some("https://huggingface.co/avatars/00.png")
        );
        let svg = Person::new("ann", None, Some("/avatars/00.svg")).unwrap();
        assert_eq!(svg.avatar_url, None, "chat apps do not show SVG");
        for bad in [
            "javascript:alert(1)",
            "http://x/a.png",
            "//evil/a.png",
            "data:image/png;base64,AA",
        ] {
            let p = Person::new("ann", None, Some(bad)).unwrap();
            assert_eq!(p.avatar_url, None, "{bad}");
        }
        assert!(Person::new("<@everyone>", None, None).is_none());
        assert!(Person::new("", None, None).is_none());
    }
}
