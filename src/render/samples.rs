//! Real sample payloads (templates/samples/), for previews and `test` messages.

use super::context::LIST_CAP;
use crate::hub::api::commits::History;
use crate::hub::api::compare::FileChange;
use crate::hub::api::facts::{DiscussionFacts, Enriched, Facts};
use crate::hub::api::{files, Commit, Person};
use crate::hub::{payload, Event, Scope};
use std::sync::Arc;

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

/// The sample event for a scope, seen as an event on that very scope, with what the
/// Hub's API would add to it.
pub fn event(scope: &Scope) -> Event {
    let mut e = payload::parse(raw(scope).as_bytes()).expect("samples are valid payloads");
    e.scope = scope.clone();
    e.facts = Some(Arc::new(Enriched {
        facts: facts(&e, 3, "Update the model card"),
        missing: None,
    }));
    e
}

/// Facts like the Hub's API gives: `n` commits on each ref, a few changed files.
fn facts(e: &Event, n: usize, title: &str) -> Facts {
    let person = Person::new(
        "example-user",
        Some("Example User"),
        Some("/avatars/example.png"),
    );
    let commits: Vec<Commit> = (0..n)
        .map(|i| Commit {
            id: format!("{i:0>40}"),
            title: title.to_string(),
            author: person.clone(),
        })
        .collect();
    let history = History {
        commits,
        added: Some(n as u64),
        forced: false,
    };
    let changes: Vec<FileChange> = [
        "model.safetensors",
        "README.md",
        "config.json",
        "data/x.csv",
        "app.py",
    ]
    .iter()
    .cycle()
    .take(n.max(5))
    .enumerate()
    .map(|(i, p)| FileChange {
        status: 'M',
        size: 1_000_000 * (i as u64 + 1),
        path: format!("{}{p}", "dir/".repeat(i / 5)),
    })
    .collect();
    Facts {
        actor: person.clone(),
        refs: e
            .refs
            .iter()
            .map(|r| (r.full.clone(), history.clone()))
            .collect(),
        files: Some(files::summarise(e.repo.kind.as_str(), &changes, false)),
        discussion: e.discussion.as_ref().map(|_| DiscussionFacts {
            author: person.clone(),
            comment_author: person.clone(),
            previous_status: Some("closed".into()),
        }),
    }
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
    let facts = facts(&e, LIST_CAP, &"long title ".repeat(46));
    e.facts = Some(Arc::new(Enriched {
        facts,
        missing: None,
    }));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Renderer;
    use crate::route::Platform;

    #[test]
    fn the_hub_apis_facts_reach_every_platform() {
        let r = Renderer::load(None).unwrap();
        for p in [Platform::Discord, Platform::Slack, Platform::Console] {
            let push = r
                .render(&event(&Scope::parse("repo.content").unwrap()), p)
                .unwrap();
            assert!(
                push.body.contains("Update the model card"),
                "{p:?}: {push:?}"
            );
            assert!(push.body.contains("Changed: weights"), "{p:?}: {push:?}");
            let comment = event(&Scope::parse("discussion.comment").unwrap());
            let msg = r.render(&comment, p).unwrap();
            assert!(msg.headline.contains("by example"), "{p:?}: {msg:?}");
            let author = msg
                .author
                .expect("the author, for the embed or context line");
            assert_eq!(author.name, "example-user");
            assert_eq!(author.url, "https://huggingface.co/example-user");
        }
    }

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
