//! The fields a term may use, and the values each accepts.

use crate::hub::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Is,
    Action,
    Scope,
    Ref,
    Author,
    Path,
    Changed,
    Title,
}

pub const FIELDS: [Field; 8] = [
    Field::Is,
    Field::Action,
    Field::Scope,
    Field::Ref,
    Field::Author,
    Field::Path,
    Field::Changed,
    Field::Title,
];

/// `is:` words.
pub const IS: [&str; 17] = [
    "push",
    "tag",
    "branch",
    "pr",
    "discussion",
    "comment",
    "opened",
    "closed",
    "merged",
    "reopened",
    "draft",
    "hidden",
    "created",
    "deleted",
    "moved",
    "config",
    "private",
];

pub const ACTIONS: [&str; 4] = ["create", "update", "delete", "move"];

/// `changed:` categories, as the enrichment sorts a push's files.
pub const CHANGED: [&str; 7] = crate::hub::api::files::ORDER;

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Is => "is",
            Field::Action => "action",
            Field::Scope => "scope",
            Field::Ref => "ref",
            Field::Author => "author",
            Field::Path => "path",
            Field::Changed => "changed",
            Field::Title => "title",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        FIELDS.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether only the Hub API can tell it (a payload names no authors or files).
    pub fn needs_hub_api(self) -> bool {
        matches!(self, Field::Author | Field::Path | Field::Changed)
    }

    /// The value as kept (lowercase where case does not matter), or what is allowed.
    pub fn value(self, v: &str) -> Result<String, String> {
        let word = |allowed: &[&str]| {
            let lower = v.to_ascii_lowercase();
            match allowed.contains(&lower.as_str()) {
                true => Ok(lower),
                false => Err(format!("{}: takes {}", self.as_str(), allowed.join(", "))),
            }
        };
        match self {
            Field::Is => word(&IS),
            Field::Action => word(&ACTIONS),
            Field::Changed => word(&CHANGED),
            Field::Scope => Scope::parse_subscribable(v)
                .map(|s| s.as_str().to_string())
                .map_err(|e| format!("scope: {}", e.hint)),
            // Hub usernames are not case-sensitive; refs and paths are.
            Field::Author => Ok(v.to_lowercase()),
            Field::Title => Ok(v.to_lowercase()),
            Field::Ref | Field::Path => Ok(v.to_string()),
        }
    }

    /// What a user may write after the colon, for error messages.
    pub fn help(self) -> String {
        match self {
            Field::Is => format!("is: takes {}", IS.join(", ")),
            Field::Action => format!("action: takes {}", ACTIONS.join(", ")),
            Field::Changed => format!("changed: takes {}", CHANGED.join(", ")),
            Field::Scope => {
                "scope: takes repo, repo.content, repo.config, discussion, discussion.comment"
                    .into()
            }
            Field::Ref => "ref: takes a branch or tag (main, v*) or a full ref (refs/pr/*)".into(),
            Field::Author => "author: takes a Hub username (* and ? match any text) or bot".into(),
            Field::Path => "path: takes a file path (* matches any text, / included)".into(),
            Field::Title => {
                "title: takes a word or a \"quoted phrase\" of a discussion's title".into()
            }
        }
    }
}

pub fn field_names() -> String {
    FIELDS.map(|f| format!("{}:", f.as_str())).join(", ")
}
