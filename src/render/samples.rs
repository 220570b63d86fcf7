//! Real sample payloads (templates/samples/), for previews and `test` messages.

use super::context::LIST_CAP;
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

/// The sample with every list as long as templates ever see it and long texts: the worst
/// case a user template must survive.
pub fn largest(scope: &Scope) -> Event {
    use crate::hub::event::RefUpdate;
    let mut e = event(scope);
    let sha = "575db8b7a51b6f85eb06eee540738584589f131c".to_string();
    e.refs = (0..LIST_CAP)
        .map(|i| {
            RefUpdate::new(
                &format!("refs/heads/branch-{i}"),
                Some(sha.clone()),
                Some(sha.clone()),
            )
        })
        .collect();
    e.config = Some(
        (0..LIST_CAP)
            .map(|i| (format!("key{i}"), serde_json::json!(true)))
            .collect(),
    );
    if let Some(d) = e.discussion.as_mut() {
        d.title = "long title ".repeat(30);
    }
    if let Some(c) = e.comment.as_mut() {
        c.content = Some("long comment ".repeat(400));
    }
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
