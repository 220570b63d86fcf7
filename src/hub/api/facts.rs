//! What the Hub's API added to an event, stored with it (so that every channel, retry and
//! replay says the same), and what it could not add, with why.

use super::commits::History;
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

    /// The facts as stored: JSON of at most `max` bytes. What does not fit goes, the least
    /// read first: listed paths, then listed commits (still counted in `added`, so a
    /// message says "and N more"), then files, then refs.
    pub fn fitted(&mut self, max: usize) -> String {
        loop {
            let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
            if json.len() <= max {
                return json;
            }
            let paths = |f: &Files| f.groups.iter().any(|g| !g.paths.is_empty());
            let longest = self
                .refs
                .iter_mut()
                .map(|(_, h)| &mut h.commits)
                .max_by_key(|c| c.len())
                .filter(|c| c.len() > 1);
            if let Some(f) = self.files.as_mut().filter(|f| paths(f)) {
                f.groups.iter_mut().for_each(|g| g.paths.clear());
            } else if let Some(c) = longest {
                c.truncate(c.len() / 2);
            } else if self.files.is_some() {
                self.files = None;
            } else if self.refs.pop().is_none() {
                *self = Facts::default();
                return "{}".into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::api::Commit;

    #[test]
    fn facts_are_fitted_to_their_room_and_keep_the_count() {
        let commits: Vec<Commit> = (0..50)
            .map(|i| Commit {
                id: format!("{i:040x}"),
                title: "t".repeat(200),
                author: None,
            })
            .collect();
        let history = History {
            commits,
            added: Some(50),
            forced: false,
        };
        let mut f = Facts {
            refs: vec![("refs/heads/main".into(), history)],
            ..Facts::default()
        };
        let json = f.fitted(8 * 1024);
        assert!(json.len() <= 8 * 1024, "{}", json.len());
        let h = f.history("refs/heads/main").unwrap();
        assert!(
            h.commits.len() >= 12 && h.commits.len() < 50,
            "{}",
            h.commits.len()
        );
        assert_eq!(h.added, Some(50));
    }
}
