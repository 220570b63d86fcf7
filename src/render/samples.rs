//! Real sample payloads (templates/samples/), for previews and `test` messages.

use crate::hub::{payload, Event, Scope};

const SAMPLES: [(&str, &str); 5] = [
    ("repo", include_str!("../../templates/samples/repo.json")),
    (
        "repo.content",
        include_str!("../../templates/samples/repo.content.json"),
    ),
    (
        "repo.config",
        include_str!("../../templates/samples/repo.config.json"),
    ),
    (
        "discussion",
        include_str!("../../templates/samples/discussion.json"),
    ),
    (
        "discussion.comment",
        include_str!("../../templates/samples/discussion.comment.json"),
    ),
];

/// The raw sample for a scope: its own, or its nearest ancestor's, or a repo event.
pub fn raw(scope: &Scope) -> &'static str {
    scope
        .lineage()
        .find_map(|s| SAMPLES.iter().find(|(n, _)| *n == s.as_str()))
        .unwrap_or(&SAMPLES[0])
        .1
}

/// The sample event for a scope, seen as an event on that very scope.
pub fn event(scope: &Scope) -> Event {
    let mut e = payload::parse(raw(scope).as_bytes()).expect("samples are valid payloads");
    e.scope = scope.clone();
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_has_a_sample_of_its_own_kind() {
        for (name, _) in SAMPLES {
            let scope = Scope::parse(name).unwrap();
            assert_eq!(payload::parse(raw(&scope).as_bytes()).unwrap().scope, scope);
        }
        let dois = Scope::parse("repo.config.dois").unwrap();
        assert_eq!(event(&dois).scope, dois);
    }
}
