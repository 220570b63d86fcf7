//! What the Hub's API added to an event, stored with it (so that every channel, retry and
//! replay says the same), and what it could not add, with why.

use super::commits::History;
use super::discussions::Conflicts;
use super::files::Files;
use super::Person;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Who did it: the pusher's newest commit's author, the comment's or discussion's
    /// author, whoever changed the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Person>,
    /// What each pushed ref's history gained, by full ref name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<(String, History)>,
    /// The files changed by the push (of its main ref), or a new repo's first files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Files>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discussion: Option<DiscussionFacts>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscussionFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_author: Option<Person>,
    /// The status before the last change of status, when the log shows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Conflicts>,
}

/// The facts, and what is missing from them and why (the delivery's note).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enriched {
    pub facts: Facts,
    pub missing: Option<String>,
}

impl Facts {
    pub fn history(&self, full_ref: &str) -> Option<&History> {
        self.refs
            .iter()
            .find(|(r, _)| r == full_ref)
            .map(|(_, h)| h)
    }
}
