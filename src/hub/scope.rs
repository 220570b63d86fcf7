//! Event scopes (`repo`, `repo.content`, `discussion.comment`, ...) and the scope rule:
//! an event on a narrower scope is also an `update` on every broader scope.

use std::fmt;

/// What happened. Actions the Hub may add later are kept as they came.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Delete,
    Update,
    Move,
    #[serde(untagged)]
    Other(String),
}

impl Action {
    /// Reads an action in any of the Hub's spellings (`add` and `remove` are v2 and legacy).
    pub fn parse(s: &str) -> Action {
        match s.to_ascii_lowercase().as_str() {
            "create" | "add" => Action::Create,
            "delete" | "remove" => Action::Delete,
            "update" => Action::Update,
            "move" => Action::Move,
            other => Action::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Action::Create => "create",
            Action::Delete => "delete",
            Action::Update => "update",
            Action::Move => "move",
            Action::Other(s) => s,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A dotted scope such as `repo.content`. Always lowercase, non-empty segments of
/// `[a-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

/// The scopes the Hub documents today; others are accepted as they come.
pub const KNOWN_SCOPES: [&str; 5] = [
    "repo",
    "repo.content",
    "repo.config",
    "discussion",
    "discussion.comment",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown scope \"{given}\": {hint}")]
pub struct ScopeError {
    pub given: String,
    pub hint: String,
}

impl Scope {
    /// Parses a scope, accepting the original spec's `community.` prefix as an alias.
    pub fn parse(s: &str) -> Result<Scope, ScopeError> {
        let lower = s.trim().to_ascii_lowercase();
        let norm = lower.strip_prefix("community.").unwrap_or(&lower);
        let ok = !norm.is_empty()
            && norm.len() <= 100
            && norm.split('.').all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
        if ok {
            Ok(Scope(norm.to_string()))
        } else {
            Err(ScopeError {
                given: s.to_string(),
                hint: format!(
                    "a scope is dotted words of letters, digits, _ and -, such as {}",
                    KNOWN_SCOPES.join(", ")
                ),
            })
        }
    }

    /// Like [`Scope::parse`], but only something one can subscribe to: a known scope, or a
    /// narrower one the Hub may add later (`repo.config.dois`). A near miss of a known scope
    /// (`repo.contnet`, `repos`) is a typo, refused with the scope meant.
    pub fn parse_subscribable(s: &str) -> Result<Scope, ScopeError> {
        let scope = Scope::parse(s)?;
        let refuse = |hint: String| ScopeError {
            given: s.to_string(),
            hint,
        };
        if scope.is_known() {
            return Ok(scope);
        }
        let meant = KNOWN_SCOPES.iter().find(|k| {
            strsim::osa_distance(k, &scope.0) <= 2 && !Scope(k.to_string()).covers(&scope)
        });
        if let Some(meant) = meant {
            return Err(refuse(format!("did you mean {meant}?")));
        }
        let root = scope.0.split('.').next().unwrap_or_default();
        if KNOWN_SCOPES.contains(&root) {
            Ok(scope)
        } else {
            Err(refuse(format!(
                "use one of {}, or a narrower scope such as repo.config.dois",
                KNOWN_SCOPES.join(", ")
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True if `self` is `ancestor` (a scope as kept: lowercase) or below it; no allocation,
    /// for the hot path of routing.
    pub fn is_under(&self, ancestor: &str) -> bool {
        let s = self.0.as_str();
        s == ancestor
            || (s.len() > ancestor.len()
                && s.starts_with(ancestor)
                && s.as_bytes()[ancestor.len()] == b'.')
    }

    /// True if `self` is `other` or one of its ancestors.
    pub fn covers(&self, other: &Scope) -> bool {
        other.0 == self.0
            || (other.0.len() > self.0.len()
                && other.0.starts_with(&self.0)
                && other.0.as_bytes()[self.0.len()] == b'.')
    }

    /// How an event with `action` on `self` looks to someone watching `broader`:
    /// the same action on the same scope, an `update` on an ancestor, nothing otherwise.
    pub fn seen_from(&self, action: &Action, broader: &Scope) -> Option<Action> {
        if broader == self {
            Some(action.clone())
        } else if broader.covers(self) {
            Some(Action::Update)
        } else {
            None
        }
    }

    /// The scope and its ancestors, narrowest first: `repo.config.dois`, `repo.config`, `repo`.
    pub fn lineage(&self) -> impl Iterator<Item = Scope> + '_ {
        let s = self.0.as_str();
        std::iter::once(s)
            .chain(s.rmatch_indices('.').map(move |(i, _)| &s[..i]))
            .map(|p| Scope(p.to_string()))
    }

    pub fn is_known(&self) -> bool {
        KNOWN_SCOPES.contains(&self.0.as_str())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scope::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_scopes() -> Vec<Scope> {
        let mut v: Vec<Scope> = KNOWN_SCOPES
            .iter()
            .map(|s| Scope::parse(s).unwrap())
            .collect();
        for deeper in [
            "repo.config.dois",
            "repo.content.lfs",
            "discussion.comment.reaction",
        ] {
            v.push(Scope::parse(deeper).unwrap());
        }
        v.push(Scope::parse("collection").unwrap());
        v
    }

    #[test]
    fn every_pair_of_scopes_follows_the_scope_rule() {
        let actions = [Action::Create, Action::Delete, Action::Move, Action::Update];
        for event in all_scopes() {
            for watcher in all_scopes() {
                let ancestor = event
                    .as_str()
                    .starts_with(&format!("{}.", watcher.as_str()));
                for action in &actions {
                    let seen = event.seen_from(action, &watcher);
                    let expected = if watcher == event {
                        Some(action.clone())
                    } else if ancestor {
                        Some(Action::Update)
                    } else {
                        None
                    };
                    assert_eq!(seen, expected, "{action} on {event} seen from {watcher}");
                    assert_eq!(watcher.covers(&event), expected.is_some());
                }
            }
        }
    }

    #[test]
    fn a_prefix_that_is_not_a_parent_does_not_cover() {
        let repo = Scope::parse("repo").unwrap();
        assert!(!repo.covers(&Scope::parse("repository").unwrap()));
        assert!(!Scope::parse("repo.config")
            .unwrap()
            .covers(&Scope::parse("repo").unwrap()));
    }

    #[test]
    fn lineage_walks_up_to_the_root() {
        let s = Scope::parse("repo.config.dois").unwrap();
        let names: Vec<String> = s.lineage().map(|s| s.to_string()).collect();
        assert_eq!(names, ["repo.config.dois", "repo.config", "repo"]);
    }

    #[test]
    fn the_original_specs_community_names_are_aliases() {
        assert_eq!(
            Scope::parse("community.discussion.comment")
                .unwrap()
                .as_str(),
            "discussion.comment"
        );
        assert_eq!(
            Scope::parse("Community.Discussion").unwrap().as_str(),
            "discussion"
        );
    }

    #[test]
    fn subscribing_to_a_typo_names_the_scope_meant_and_the_future_is_allowed() {
        let typo = |s: &str| Scope::parse_subscribable(s).unwrap_err().to_string();
        assert_eq!(typo("repos"), "unknown scope \"repos\": did you mean repo?");
        assert_eq!(
            typo("repo.contnet"),
            "unknown scope \"repo.contnet\": did you mean repo.content?"
        );
        assert!(typo("discussion.coment").ends_with("did you mean discussion.comment?"));
        assert!(typo("repo.conf").ends_with("did you mean repo.config?"));
        assert!(typo("models").contains("repo.content"), "the valid ones");
        assert!(Scope::parse("repo..config").is_err());
        assert!(Scope::parse("").is_err());
        // Narrower scopes the Hub may add, however close to a known one.
        for new in ["repo.config.dois", "repo.config.x", "repo.weights"] {
            let scope = Scope::parse_subscribable(new).unwrap();
            assert!(!scope.is_known(), "{new}");
        }
    }

    #[test]
    fn actions_read_every_spelling() {
        assert_eq!(Action::parse("add"), Action::Create);
        assert_eq!(Action::parse("remove"), Action::Delete);
        assert_eq!(Action::parse("archive"), Action::Other("archive".into()));
    }
}
