//! What a subscription follows, parsed from whatever users paste: names, type prefixes,
//! huggingface.co URLs, legacy model names and wildcards.

use crate::hub::legacy;
use crate::hub::repo::{valid_owner, valid_segment};
use crate::hub::{Event, RepoName, RepoType};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `*`: everything the endpoint receives.
    All,
    /// `owner/*` or `datasets/owner/*`: every repo of a user or organisation.
    Namespace {
        owner: String,
        kind: Option<RepoType>,
    },
    /// One repo.
    Repo { kind: RepoType, name: RepoName },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct TargetError(String);

const HOSTS: [&str; 3] = ["huggingface.co", "www.huggingface.co", "hf.co"];

/// First path segments of huggingface.co that are pages, not owners.
const NOT_OWNERS: &[&str] = &[
    "api",
    "blog",
    "chat",
    "collections",
    "docs",
    "enterprise",
    "join",
    "learn",
    "login",
    "new",
    "notifications",
    "organizations",
    "papers",
    "posts",
    "pricing",
    "settings",
    "tasks",
];

/// A repo's name as the Hub allows it.
fn valid_name(s: &str) -> bool {
    valid_segment(s) && !s.contains("--")
}

impl Target {
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        Target::parse_noted(input).map(|(t, _)| t)
    }

    /// A target as stored, by this herald or an earlier one, which accepted names that
    /// [`Target::parse`] now refuses (a single word, `--`) or reads otherwise (a legacy
    /// model): it keeps meaning exactly what it meant when it was stored.
    pub fn parse_stored(stored: &str) -> Result<Target, TargetError> {
        match Target::parse(stored) {
            Ok(t) if t.to_string().eq_ignore_ascii_case(stored) => Ok(t),
            other => {
                let mut parts: Vec<&str> = stored.split('/').collect();
                let kind = match parts.first().and_then(|p| RepoType::parse_known(p)) {
                    Some(k) if parts.len() > 1 && parts[0].ends_with('s') => {
                        parts.remove(0);
                        k
                    }
                    _ => RepoType::model(),
                };
                match RepoName::parse(&parts.join("/")) {
                    Ok(name) if !parts.contains(&"*") => Ok(Target::Repo { kind, name }),
                    _ => other,
                }
            }
        }
    }

    /// Parses what a user typed or pasted; the note, when there is one, says what herald
    /// made of it (a legacy model's current name).
    pub fn parse_noted(input: &str) -> Result<(Target, Option<String>), TargetError> {
        let s = input.trim();
        if s == "*" {
            return Ok((Target::All, None));
        }
        let refuse = |why: &str| {
            TargetError(format!(
                "\"{s}\" {why}: use owner/name, datasets/owner/name, spaces/owner/name, a huggingface.co link, owner/* or *"
            ))
        };
        let (path, from_url) = match strip_url(s) {
            Some(p) => (p.trim_end_matches('/'), true),
            None if s.contains("://") => return Err(refuse("is not a Hugging Face address")),
            None => (s, false),
        };
        if !from_url && s.len() > 1 && s.ends_with('/') {
            let meant = match s.trim_matches('/') {
                owner if !owner.contains('/') => format!("{owner}/*"),
                name => name.to_string(),
            };
            return Err(TargetError(format!(
                "\"{s}\" ends with a slash; did you mean {meant}?"
            )));
        }
        let mut parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let kind = match parts.first().and_then(|p| RepoType::parse_known(p)) {
            Some(k) if parts.len() > 1 && parts[0].ends_with('s') => {
                parts.remove(0);
                Some(k)
            }
            _ => None,
        };
        if kind.is_none() && parts.len() > 1 && NOT_OWNERS.contains(&parts[0]) {
            return Err(refuse("is a page of huggingface.co, not a repo"));
        }
        // A URL may go on into the repo (`/tree/main`, `/discussions/3`); a name may not.
        if from_url && parts.len() > 2 {
            parts.truncate(2);
        }
        let repo = |name: String| Target::Repo {
            kind: kind.clone().unwrap_or_else(RepoType::model),
            name: RepoName::parse(&name).expect("checked"),
        };
        match parts.as_slice() {
            [owner, "*"] if valid_owner(owner) => Ok((
                Target::Namespace {
                    owner: owner.to_string(),
                    kind,
                },
                None,
            )),
            [_, "*"] => Err(refuse("has an owner that cannot exist on the Hub")),
            [name] | [_, name] if name.contains('*') => {
                Err(refuse("uses * in a name; only owner/* or * are wildcards"))
            }
            [name] if kind.as_ref().is_none_or(|k| k.is_model()) && legacy::current(name).is_some() => {
                let now = legacy::current(name).unwrap_or_default();
                let note = format!("{name} is {now} on the Hub now, the name its events carry: subscribed to that.");
                Ok((repo(now.to_string()), Some(note)))
            }
            [owner] if NOT_OWNERS.contains(owner) => {
                Err(refuse("is a page of huggingface.co, not a repo"))
            }
            [owner] if valid_owner(owner) => {
                let prefix = kind.map(|k| format!("{}s/", k.as_str())).unwrap_or_default();
                Err(TargetError(format!(
                    "\"{s}\" names no repo; did you mean {prefix}{owner}/* (every repo of {owner}) or {prefix}{owner}/<name>?"
                )))
            }
            [owner, name] if valid_owner(owner) && valid_name(name) => {
                Ok((repo(format!("{owner}/{name}")), None))
            }
            [_] | [_, _] => Err(refuse(
                "is not a name the Hub allows (letters, digits, '-', '_' and '.', not at either end, no '--' or '..')",
            )),
            _ => Err(refuse("has too many parts")),
        }
    }

    /// Whether an event concerns this target (repo type and name, or its new name on a move).
    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Target::All => true,
            Target::Namespace { owner, kind } => {
                kind.as_ref().is_none_or(|k| *k == event.repo.kind)
                    && event.repo_names().iter().any(|n| {
                        n.namespace()
                            .is_some_and(|ns| ns.eq_ignore_ascii_case(owner))
                    })
            }
            Target::Repo { kind, name } => {
                *kind == event.repo.kind
                    && event
                        .repo_names()
                        .iter()
                        .any(|n| n.as_str().eq_ignore_ascii_case(name.as_str()))
            }
        }
    }

    /// A sentence that says exactly what is followed.
    pub fn describe(&self) -> String {
        match self {
            Target::All => "every event this endpoint receives".to_string(),
            Target::Namespace { owner, kind: None } => {
                format!("every model, dataset and Space of {owner}, new ones included")
            }
            Target::Namespace {
                owner,
                kind: Some(k),
            } => format!("every {} of {owner}, new ones included", k.as_str()),
            Target::Repo { kind, name } => {
                format!(
                    "the {} {name} ({})",
                    kind.as_str(),
                    crate::hub::repo::repo_url(kind, name)
                )
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::All => f.write_str("*"),
            Target::Namespace { owner, kind } => match kind {
                Some(k) => write!(f, "{}s/{owner}/*", k.as_str()),
                None => write!(f, "{owner}/*"),
            },
            // A model whose owner is called `models`, `datasets` or `spaces` keeps its prefix.
            Target::Repo { kind, name }
                if kind.is_model()
                    && name
                        .namespace()
                        .is_none_or(|ns| RepoType::parse_known(ns).is_none()) =>
            {
                write!(f, "{name}")
            }
            Target::Repo { kind, name } => write!(f, "{}s/{name}", kind.as_str()),
        }
    }
}

/// The path of a huggingface.co URL, without query or fragment. Without a scheme, only
/// `host/...` is a URL: a bare `hf.co` could be a (legacy) model's name.
fn strip_url(s: &str) -> Option<&str> {
    let bare = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let (host, path) = match (bare, s.split_once('/')) {
        (Some(rest), _) => rest.split_once('/').unwrap_or((rest, "")),
        (None, Some(split)) => split,
        (None, None) => return None,
    };
    if !HOSTS.contains(&host.to_ascii_lowercase().as_str()) {
        return None;
    }
    let end = path.find(['?', '#']).unwrap_or(path.len());
    Some(&path[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(kind: &str, name: &str) -> Target {
        Target::Repo {
            kind: RepoType::parse(kind).unwrap(),
            name: RepoName::parse(name).unwrap(),
        }
    }

    #[test]
    fn everything_users_paste_is_understood() {
        let cases = [
            ("acme/llama", repo("model", "acme/llama")),
            ("models/acme/llama", repo("model", "acme/llama")),
            ("datasets/acme/data", repo("dataset", "acme/data")),
            ("spaces/acme/demo", repo("space", "acme/demo")),
            (
                "https://huggingface.co/acme/llama",
                repo("model", "acme/llama"),
            ),
            (
                "https://huggingface.co/datasets/acme/data/tree/main?x=1",
                repo("dataset", "acme/data"),
            ),
            (
                "huggingface.co/spaces/acme/demo/",
                repo("space", "acme/demo"),
            ),
            (
                "https://hf.co/acme/llama/discussions/3#c",
                repo("model", "acme/llama"),
            ),
            ("gpt2", repo("model", "openai-community/gpt2")),
            (
                "https://huggingface.co/bert-base-uncased",
                repo("model", "google-bert/bert-base-uncased"),
            ),
            ("models/models/00", repo("model", "models/00")),
            ("*", Target::All),
            (
                "acme/*",
                Target::Namespace {
                    owner: "acme".into(),
                    kind: None,
                },
            ),
            (
                "datasets/acme/*",
                Target::Namespace {
                    owner: "acme".into(),
                    kind: Some(RepoType::parse("dataset").unwrap()),
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Target::parse(input).as_ref(), Ok(&expected), "{input}");
        }
    }

    #[test]
    fn what_an_earlier_herald_stored_keeps_its_meaning() {
        for (stored, kind, name) in [
            ("gpt2", "model", "gpt2"),
            ("acme", "model", "acme"),
            ("acme/bad--name", "model", "acme/bad--name"),
            ("datasets/settings/x", "dataset", "settings/x"),
            ("acme/llama", "model", "acme/llama"),
        ] {
            assert_eq!(
                Target::parse_stored(stored),
                Ok(repo(kind, name)),
                "{stored}"
            );
        }
        assert_eq!(Target::parse_stored("acme/*"), Target::parse("acme/*"));
        assert!(Target::parse_stored("a b").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "acme/llama",
            "datasets/acme/data",
            "spaces/a/b",
            "*",
            "acme/*",
            "spaces/acme/*",
            "models/models/00",
        ] {
            let t = Target::parse(s).unwrap();
            assert_eq!(t.to_string(), s);
            assert_eq!(Target::parse(&t.to_string()).unwrap(), t);
        }
    }

    #[test]
    fn what_cannot_be_a_repo_is_refused_with_what_was_meant() {
        let cases = [
            (
                "acme",
                "\"acme\" names no repo; did you mean acme/* (every repo of acme) or acme/<name>?",
            ),
            ("datasets/acme", "did you mean datasets/acme/*"),
            ("https://huggingface.co/acme", "did you mean acme/*"),
            ("acme/", "\"acme/\" ends with a slash; did you mean acme/*?"),
            ("acme/llama/", "did you mean acme/llama?"),
            (
                "https://huggingface.co/settings/tokens",
                "is a page of huggingface.co, not a repo",
            ),
            (
                "https://huggingface.co/docs/hub/webhooks",
                "is a page of huggingface.co",
            ),
            (
                "huggingface.co/blog/some-post",
                "is a page of huggingface.co",
            ),
            (
                "https://huggingface.co/organizations/acme/share",
                "is a page of huggingface.co",
            ),
            (
                "https://huggingface.co/papers/2401.00001",
                "is a page of huggingface.co",
            ),
            (
                "https://huggingface.co/collections/acme/x-123",
                "is a page of huggingface.co",
            ),
            (
                "https://huggingface.co/api/models/acme/x",
                "is a page of huggingface.co",
            ),
            ("acme/bad--name", "is not a name the Hub allows"),
            ("acme/-x", "is not a name the Hub allows"),
            ("hf.co", "is not a name the Hub allows"),
            ("llama.cpp", "is not a name the Hub allows"),
        ];
        for (input, want) in cases {
            let err = Target::parse(input).unwrap_err().to_string();
            assert!(err.contains(want), "{input}: {err}");
            let quoted = format!("\"{input}\"");
            assert_eq!(err.matches(&quoted).count(), 1, "quoted once: {err}");
        }
        let (t, note) = Target::parse_noted("gpt2").unwrap();
        assert_eq!(t.to_string(), "openai-community/gpt2");
        assert_eq!(
            note.as_deref(),
            Some("gpt2 is openai-community/gpt2 on the Hub now, the name its events carry: subscribed to that.")
        );
    }

    #[test]
    fn targets_that_cannot_exist_say_what_was_understood() {
        for bad in [
            "a/b/c",
            "acme/lla*",
            "https://example.com/acme/x",
            "-x/*",
            "a b",
            "",
            "https://hf.co",
        ] {
            let err = Target::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("owner/name") || err.contains("huggingface.co"),
                "{bad}: {err}"
            );
        }
    }
}
