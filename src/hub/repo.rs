//! Repository types and names as the Hub spells them, validated once at the edge.

use std::fmt;

pub const HUB_URL: &str = "https://huggingface.co";

/// `model`, `dataset`, `space`, or a type the Hub adds later (kept, singular, lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoType(String);

/// A repo type or name that cannot be one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("unknown repo type \"{0}\"")]
    RepoType(String),
    /// The name, and the rule it breaks.
    #[error("\"{0}\" is not a repo name: {1}")]
    RepoName(String, &'static str),
}

impl RepoType {
    pub fn model() -> Self {
        RepoType("model".into())
    }

    /// Accepts singular and plural spellings (`datasets` is the URL prefix).
    pub fn parse(s: &str) -> Result<RepoType, NameError> {
        let lower = s.trim().to_ascii_lowercase();
        let singular = match lower.as_str() {
            "models" => "model",
            "datasets" => "dataset",
            "spaces" => "space",
            other => other,
        };
        if singular.is_empty()
            || singular.len() > 20
            || !singular.bytes().all(|b| b.is_ascii_lowercase())
        {
            return Err(NameError::RepoType(s.to_string()));
        }
        Ok(RepoType(singular.to_string()))
    }

    /// Only the three documented types may be typed by a user; payloads may carry others.
    pub fn parse_known(s: &str) -> Option<RepoType> {
        RepoType::parse(s)
            .ok()
            .filter(|t| matches!(t.as_str(), "model" | "dataset" | "space"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_model(&self) -> bool {
        self.0 == "model"
    }

    /// The path prefix on huggingface.co: none for models, `datasets/` for datasets.
    pub fn url_prefix(&self) -> String {
        if self.is_model() {
            String::new()
        } else {
            format!("{}s/", self.0)
        }
    }

    /// "Model", "Dataset", "Space".
    pub fn label(&self) -> String {
        let mut c = self.0.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    }
}

impl TryFrom<String> for RepoType {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        RepoType::parse(&s)
    }
}

impl From<RepoType> for String {
    fn from(t: RepoType) -> String {
        t.0
    }
}

impl fmt::Display for RepoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `owner/name`, or a legacy un-namespaced model such as `gpt2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoName(String);

/// The rule a segment typed by a person breaks, if any: letters, digits, `-`, `_`, `.`;
/// at most 96 characters; not starting or ending with `-` or `.`; no `..`.
fn segment_rule(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("a part before or after '/' is empty")
    } else if s.len() > 96 {
        Some("a part is longer than 96 characters")
    } else if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("only letters, digits, '-', '_' and '.' are allowed")
    } else if s.starts_with(['-', '.']) || s.ends_with(['-', '.']) {
        Some("a part may not start or end with '-' or '.'")
    } else if s.contains("..") {
        Some("'..' is not allowed")
    } else {
        None
    }
}

pub fn valid_segment(s: &str) -> bool {
    segment_rule(s).is_none()
}

/// A user or organisation: like a segment, without dots (so `hf.co/x` can only be a link).
pub fn valid_owner(s: &str) -> bool {
    valid_segment(s) && !s.contains('.')
}

/// The rule a name sent by the Hub breaks, if any. The Hub is the authority on its names
/// (and refusing its payload counts towards suspending the webhook): only what herald
/// cannot store, link or show is refused.
fn hub_rule(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("it is empty")
    } else if s.chars().count() > 200 {
        Some("it is longer than 200 characters")
    } else if s.matches('/').count() > 1 {
        Some("it has more than one '/' (owner/name)")
    } else if s.split('/').any(|p| p.is_empty()) {
        Some("a part before or after '/' is empty")
    } else if s.split('/').any(|p| p == "." || p == "..") {
        Some("a part is '.' or '..'")
    } else if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("it holds a space or a control character")
    } else if s
        .chars()
        .any(|c| crate::render::escape::neutral(c) != Some(c))
    {
        Some("it holds an invisible or direction-changing character")
    } else {
        None
    }
}

impl RepoName {
    /// A name typed by a person (a target): the Hub's naming rules, each named when broken.
    pub fn parse(s: &str) -> Result<RepoName, NameError> {
        let parts: Vec<&str> = s.split('/').collect();
        let refused = |rule| Err(NameError::RepoName(s.to_string(), rule));
        if parts.len() > 2 {
            return refused("it has more than one '/' (owner/name)");
        }
        if let Some(rule) = parts.iter().find_map(|p| segment_rule(p)) {
            return refused(rule);
        }
        if parts.len() == 2 && parts[0].contains('.') {
            return refused("the owner may not contain '.'");
        }
        Ok(RepoName(s.to_string()))
    }

    /// A name a payload carries: any the Hub could send (see [`hub_rule`]).
    pub fn from_hub(s: &str) -> Result<RepoName, NameError> {
        match hub_rule(s) {
            Some(rule) => Err(NameError::RepoName(s.to_string(), rule)),
            None => Ok(RepoName(s.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The user or organisation, if the name has one.
    pub fn namespace(&self) -> Option<&str> {
        self.0.split_once('/').map(|(ns, _)| ns)
    }
}

impl TryFrom<String> for RepoName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        RepoName::from_hub(&s)
    }
}

impl From<RepoName> for String {
    fn from(n: RepoName) -> String {
        n.0
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `type/owner/name`, lowercase: the one key of a repo, however its name is cased
/// (subscriptions are looked up by it, bursts and threads are keyed by it).
pub fn repo_key(kind: &RepoType, name: &RepoName) -> String {
    format!("{kind}/{name}").to_ascii_lowercase()
}

/// The web address of a repo, built from its type and name rather than taken from a
/// payload; a character a path cannot hold is percent-encoded.
pub fn repo_url(kind: &RepoType, name: &RepoName) -> String {
    let mut url = url::Url::parse(HUB_URL).expect("a valid URL");
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        if !kind.is_model() {
            path.push(&format!("{kind}s"));
        }
        path.extend(name.as_str().split('/'));
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_types_accept_url_prefixes_and_build_urls() {
        let d = RepoType::parse("datasets").unwrap();
        assert_eq!(d.as_str(), "dataset");
        let name = RepoName::parse("acme/data").unwrap();
        assert_eq!(
            repo_url(&d, &name),
            "https://huggingface.co/datasets/acme/data"
        );
        assert_eq!(
            repo_url(&RepoType::model(), &RepoName::parse("gpt2").unwrap()),
            "https://huggingface.co/gpt2"
        );
        assert!(RepoType::parse_known("kernel").is_none());
        assert!(RepoType::parse("kernel").is_ok());
    }

    #[test]
    fn repo_names_refuse_what_the_hub_cannot_hold() {
        for bad in [
            "", "a/b/c", "a b/c", "-x/y", "x/y.", "a/..", "<@1>/x", "a/", "hf.co/x",
        ] {
            assert!(RepoName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            RepoName::parse("openai-community/gpt2")
                .unwrap()
                .namespace(),
            Some("openai-community")
        );
        assert_eq!(RepoName::parse("gpt2").unwrap().namespace(), None);
        let rule = |s| RepoName::parse(s).unwrap_err().to_string();
        assert!(rule("acme/model-").ends_with("a part may not start or end with '-' or '.'"));
        assert!(rule("a b/c").ends_with("only letters, digits, '-', '_' and '.' are allowed"));
        assert!(rule("hf.co/x").ends_with("the owner may not contain '.'"));
    }

    #[test]
    fn the_hubs_own_names_are_accepted_and_linked_safely() {
        for good in [
            "acme/model-",
            "acme/-x",
            "Acme/ÜberModel",
            "a.b/c..d",
            "acme/x?y#z",
        ] {
            assert!(RepoName::from_hub(good).is_ok(), "{good}");
        }
        let odd = RepoName::from_hub("acme/x?y#z").unwrap();
        assert_eq!(
            repo_url(&RepoType::model(), &odd),
            "https://huggingface.co/acme/x%3Fy%23z"
        );
        for (bad, rule) in [
            ("", "it is empty"),
            ("a/b/c", "it has more than one '/' (owner/name)"),
            ("acme/..", "a part is '.' or '..'"),
            ("acme/a b", "it holds a space or a control character"),
            ("acme/", "a part before or after '/' is empty"),
        ] {
            let e = RepoName::from_hub(bad).unwrap_err().to_string();
            assert!(e.ends_with(rule), "{bad}: {e}");
        }
    }
}
