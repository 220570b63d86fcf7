use super::*;
use crate::hub::api::facts::{Enriched, Facts};
use crate::hub::api::files::{Files, Group};
use crate::hub::api::Person;
use crate::hub::Event;
use proptest::prelude::*;
use std::sync::Arc;

fn payload(file: &str) -> Event {
    let path = format!("{}/tests/fixtures/hf/{file}", env!("CARGO_MANIFEST_DIR"));
    crate::hub::payload::parse(&std::fs::read(path).unwrap()).unwrap()
}

fn parsed(text: &str) -> Filter {
    Filter::parse(text).unwrap().unwrap()
}

/// As the message is made (the facts in, the history read).
fn check(text: &str, event: &Event) -> Truth {
    parsed(text).eval(event, &Look::settled(&Bots::default()))
}

/// As the event arrives.
fn arriving(text: &str, event: &Event) -> Truth {
    parsed(text).eval(event, &Look::arrival(&Bots::default()))
}

fn with_facts(mut e: Event, actor: Option<&str>, files: Option<Files>) -> Event {
    let facts = Facts {
        actor: actor.map(|n| Person {
            name: n.into(),
            fullname: None,
            avatar_url: None,
        }),
        files,
        ..Facts::default()
    };
    e.facts = Some(Arc::new(Enriched {
        facts,
        missing: None,
    }));
    e
}

fn group(category: &str, paths: &[&str], count: u64) -> Group {
    Group {
        category: category.into(),
        label: category.into(),
        count,
        bytes: 0,
        paths: paths.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn spaces_negation_commas_or_and_parentheses() {
    let f = parsed("is:pr,discussion -is:comment (ref:main OR title:\"release notes\")");
    assert_eq!(
        f.to_string(),
        "is:pr,discussion -is:comment (ref:main OR title:\"release notes\")"
    );
    let Expr::All(parts) = &f.expr else {
        panic!("{f:?}")
    };
    assert_eq!(parts.len(), 3);
    assert!(matches!(parts[1], Expr::Not(_)));
    assert!(matches!(parts[2], Expr::Any(_)));
    // OR binds looser than the space; AND is allowed and means the space.
    assert_eq!(
        parsed("is:push ref:main OR is:tag").expr,
        Expr::any(vec![
            Expr::all(vec![parsed("is:push").expr, parsed("ref:main").expr]),
            parsed("is:tag").expr,
        ])
    );
    assert_eq!(parsed("is:push AND ref:main"), parsed("is:push ref:main"));
    assert_eq!(parsed("-(is:pr is:draft)").to_string(), "-(is:pr is:draft)");
    assert_eq!(Filter::parse("   ").unwrap(), None);
    // Case and aliases are kept in one spelling.
    assert_eq!(
        parsed("IS:PR Author:Julien scope:community.discussion title:FIX").to_string(),
        "is:pr author:julien scope:discussion title:fix"
    );
}

#[test]
fn errors_point_at_the_term_and_say_what_is_allowed() {
    let e = |text: &str| Filter::parse(text).unwrap_err();
    let bad = e("is:pr is:mreged");
    assert_eq!(bad.at, "`is:mreged`");
    assert!(
        bad.message.contains("merged") && bad.message.contains("push"),
        "{bad}"
    );
    let bad = e("colour:red");
    assert_eq!(bad.at, "`colour:`");
    assert!(bad
        .message
        .contains("is:, action:, scope:, ref:, author:, path:, changed:, title:"));
    assert!(e("main").message.contains("did you mean title:main?"));
    assert!(e("is:push or is:tag").message.contains("capitals"));
    assert!(e("changed:weigths").message.contains("weights, card"));
    assert!(e("scope:repo.contnet").message.contains("repo.content"));
    assert!(e("action:publish")
        .message
        .contains("create, update, delete, move"));
    assert_eq!(e("(is:pr").message, "this parenthesis is never closed");
    assert_eq!(e("is:pr)").message, "this parenthesis closes nothing");
    assert_eq!(e("is:pr OR").message, "a term is missing");
    assert_eq!(e("OR is:pr").message, "OR needs a term on each side");
    assert_eq!(e("()").message, "empty parentheses");
    assert!(e("is:").message.starts_with("a value is missing"));
    assert!(e("is:pr,").message.starts_with("a value is missing"));
    assert_eq!(e("title:\"open").message, "a quote is not closed");
    assert!(e("is:pr -").message.contains("must follow"));
}

#[test]
fn every_bound_is_an_error_not_a_slow_parse() {
    let many = vec!["is:pr"; TERMS_MAX + 1].join(" ");
    assert!(Filter::parse(&many).unwrap_err().message.contains("terms"));
    let long = format!("title:{}", "a".repeat(TEXT_MAX));
    assert!(Filter::parse(&long)
        .unwrap_err()
        .message
        .contains("characters"));
    let value = format!("title:{}", "a".repeat(VALUE_MAX + 1));
    assert!(Filter::parse(&value)
        .unwrap_err()
        .message
        .contains("characters"));
    let values = format!("ref:{}", vec!["a"; VALUES_MAX + 1].join(","));
    assert!(Filter::parse(&values)
        .unwrap_err()
        .message
        .contains("values"));
    let deep = format!(
        "{}is:pr{}",
        "(".repeat(DEPTH_MAX + 1),
        ")".repeat(DEPTH_MAX + 1)
    );
    assert!(Filter::parse(&deep)
        .unwrap_err()
        .message
        .contains("inside each other"));
    let nots = format!("{}is:pr", "-".repeat(DEPTH_MAX + 1));
    assert!(Filter::parse(&nots).is_err());
    assert!(Filter::parse(&format!("{}is:pr", "-".repeat(DEPTH_MAX))).is_ok());
}

#[test]
fn what_is_kept_parses_back_even_at_the_limits() {
    // `)term` and `term(` are written with a space: the canonical text is longer.
    let group = format!("(ref:{} OR ref:b)ref:c", "a".repeat(42));
    let typed = group.repeat(8);
    assert!(typed.chars().count() <= TEXT_MAX);
    let e = Filter::parse(&typed).unwrap_err();
    assert!(e.message.contains("written out in full"), "{e}");
    let shorter = group.repeat(7);
    let f = Filter::parse(&shorter).unwrap().unwrap();
    assert_eq!(Filter::parse(&f.to_string()).unwrap().unwrap(), f);
    // `İ` lowercases to two characters: the value is measured as kept.
    let dotted = format!("title:{}", "İ".repeat(60));
    let e = Filter::parse(&dotted).unwrap_err();
    assert!(e.message.contains("at most 100 characters"), "{e}");
    let fits = format!("title:{}", "İ".repeat(50));
    let f = Filter::parse(&fits).unwrap().unwrap();
    assert_eq!(Filter::parse(&f.to_string()).unwrap().unwrap(), f);
}

#[test]
fn is_words_follow_the_event() {
    let push = payload("assembled-v3-repo-content-update.json");
    let merged = payload("assembled-v3-discussion-update-pr-merged.json");
    let comment = payload("assembled-v3-discussion-comment-create.json");
    let opened = payload("v3-discussion-create-pr.json");
    let config = payload("assembled-v3-repo-config-update-private.json");
    let moved = payload("assembled-v3-repo-move.json");
    let created = payload("assembled-v3-repo-create-with-tags.json");
    assert_eq!(check("is:push", &push), Truth::Yes);
    assert_eq!(check("is:push", &merged), Truth::No);
    assert_eq!(check("is:branch", &push), Truth::Yes);
    assert_eq!(check("is:pr is:merged", &merged), Truth::Yes);
    assert_eq!(check("is:closed", &merged), Truth::No);
    assert_eq!(check("is:discussion", &merged), Truth::No);
    assert_eq!(check("is:comment", &comment), Truth::Yes);
    assert_eq!(check("is:comment", &opened), Truth::No);
    assert_eq!(check("is:opened is:pr", &opened), Truth::Yes);
    assert_eq!(check("is:config", &config), Truth::Yes);
    assert_eq!(check("is:moved", &moved), Truth::Yes);
    assert_eq!(check("is:created", &created), Truth::Yes);
    assert_eq!(check("is:created", &push), Truth::No);
    assert_eq!(check("action:update scope:repo", &push), Truth::Yes);
    assert_eq!(check("scope:discussion", &comment), Truth::Yes);
    assert_eq!(check("scope:discussion.comment", &opened), Truth::No);
    // A merged PR whose status was already merged is an edit, as the message says.
    let mut edited = merged.clone();
    edited.status_before = Some("merged".into());
    assert_eq!(check("is:merged", &edited), Truth::No);
    // What an update did needs the status before: unknown as the event arrives, and
    // decided as its message says it once that was looked for.
    assert_eq!(arriving("is:merged", &merged), Truth::Unknown);
    assert_eq!(arriving("-is:merged", &merged), Truth::Unknown);
    assert_eq!(
        arriving("is:pr is:push", &merged),
        Truth::No,
        "decided without it"
    );
    let mut reopened = merged.clone();
    reopened.discussion.as_mut().unwrap().status = "open".into();
    assert_eq!(arriving("is:reopened", &reopened), Truth::Unknown);
    assert_eq!(
        check("is:reopened", &reopened),
        Truth::Unknown,
        "never a guess, even once looked for"
    );
    assert_eq!(
        check("is:merged", &merged),
        Truth::Yes,
        "as its message says it"
    );
    reopened.status_before = Some("closed".into());
    assert_eq!(check("is:reopened", &reopened), Truth::Yes);
    assert_eq!(arriving("is:reopened", &reopened), Truth::Yes);
    // Legacy payloads do not say whether a repo is private.
    let legacy = payload("v0-legacy-add-model.json");
    assert_eq!(check("is:private", &legacy), Truth::Unknown);
    assert_eq!(check("-is:private", &push), Truth::Yes);
}

#[test]
fn refs_are_short_names_or_full_refs() {
    let push = payload("assembled-v3-repo-content-update.json");
    assert_eq!(push.refs[0].full, "refs/heads/main");
    assert_eq!(check("ref:main", &push), Truth::Yes);
    assert_eq!(check("ref:ma*", &push), Truth::Yes);
    assert_eq!(check("ref:refs/heads/*", &push), Truth::Yes);
    assert_eq!(check("ref:refs/pr/*", &push), Truth::No);
    assert_eq!(check("ref:v*", &push), Truth::No);
    assert_eq!(check("ref:test", &push), Truth::Yes);
    let mut pr = push.clone();
    pr.refs = vec![crate::hub::event::RefUpdate::new(
        "refs/pr/3",
        Some("a".repeat(40)),
        Some("b".repeat(40)),
    )];
    assert_eq!(check("ref:refs/pr/*", &pr), Truth::Yes);
    assert_eq!(check("ref:3", &pr), Truth::No);
}

#[test]
fn authors_paths_and_changes_wait_for_the_hub_api() {
    let push = payload("assembled-v3-repo-content-update.json");
    let comment = payload("assembled-v3-discussion-comment-create.json");
    for f in [
        "author:julien",
        "author:bot",
        "path:*.gguf",
        "changed:weights",
    ] {
        assert_eq!(check(f, &push), Truth::Unknown, "{f}");
        assert_eq!(check(&format!("-{f}"), &push), Truth::Unknown, "{f}");
    }
    // A comment changes no files, whatever the Hub API says.
    assert_eq!(check("changed:weights", &comment), Truth::No);
    // One known false term decides an AND; one known true decides an OR.
    assert_eq!(check("is:pr author:julien", &push), Truth::No);
    assert_eq!(check("is:push OR author:julien", &push), Truth::Yes);

    let files = Files {
        groups: vec![
            group("weights", &["model.safetensors"], 1),
            group("card", &["README.md"], 1),
        ],
        cut: false,
    };
    let known = with_facts(push.clone(), Some("Julien-C"), Some(files));
    assert_eq!(check("author:julien-c", &known), Truth::Yes);
    assert_eq!(check("author:jul*", &known), Truth::Yes);
    assert_eq!(check("-author:bot", &known), Truth::Yes);
    assert_eq!(check("changed:weights", &known), Truth::Yes);
    assert_eq!(check("changed:config", &known), Truth::No);
    assert_eq!(check("path:*.safetensors", &known), Truth::Yes);
    assert_eq!(check("path:*.gguf", &known), Truth::No);
    let f = parsed("changed:config author:julien-c path:*.gguf");
    assert_eq!(
        f.failing_term(&known, &Look::settled(&Bots::default())),
        "changed:config"
    );

    let bot = with_facts(push.clone(), Some("parquet-converter"), None);
    assert_eq!(check("author:bot", &bot), Truth::Yes);
    assert_eq!(check("path:*.parquet", &bot), Truth::Unknown);
    let mine = with_facts(push.clone(), Some("acme-ci"), None);
    assert_eq!(check("author:bot", &mine), Truth::No);
    let bots = Bots::new(&["Acme-CI".to_string()]);
    assert_eq!(
        parsed("author:bot").eval(&mine, &Look::settled(&bots)),
        Truth::Yes
    );

    // Paths counted but not listed: absent from the list is not absent from the push.
    let many = Files {
        groups: vec![group("weights", &["a.safetensors"], 40)],
        cut: false,
    };
    let many = with_facts(push, Some("julien-c"), Some(many));
    assert_eq!(check("path:b.safetensors", &many), Truth::Unknown);
    assert_eq!(check("path:a.*", &many), Truth::Yes);
    let f = parsed("path:b.safetensors OR author:nobody");
    let bots = Bots::default();
    let look = Look::settled(&bots);
    assert_eq!(f.unknown_terms(&many, &look), vec!["path:b.safetensors"]);
    // A list the Hub API cut short says nothing of what is not in it.
    let files = Files {
        groups: vec![group("card", &["README.md"], 1)],
        cut: true,
    };
    let cut = with_facts(many.clone(), Some("julien-c"), Some(files));
    assert_eq!(check("changed:card", &cut), Truth::Yes);
    assert_eq!(check("changed:weights", &cut), Truth::Unknown);
    assert_eq!(
        parsed("author:x path:y changed:card is:pr").needs_hub_api(),
        vec![Field::Author, Field::Path, Field::Changed]
    );
}

#[test]
fn titles_match_whole_words() {
    let mut e = payload("assembled-v3-discussion-update-pr-merged.json");
    e.discussion.as_mut().unwrap().title = "Fix: the tokenizer's prefix (v2)".into();
    assert_eq!(check("title:fix", &e), Truth::Yes);
    assert_eq!(check("title:FIX", &e), Truth::Yes);
    assert_eq!(check("title:pre", &e), Truth::No);
    assert_eq!(check("title:prefix", &e), Truth::Yes);
    assert_eq!(check("title:\"the tokenizer's\"", &e), Truth::Yes);
    assert_eq!(check("title:v2", &e), Truth::Yes);
    assert_eq!(
        check(
            "title:fix",
            &payload("assembled-v3-repo-content-update.json")
        ),
        Truth::No
    );
}

fn term() -> impl Strategy<Value = Expr> {
    let value = prop_oneof!["[a-z][a-z0-9_.*/-]{0,12}", "[a-zA-Z0-9 ,()\"\\\\:*-]{1,12}",];
    let is = prop::sample::select(fields::IS.to_vec()).prop_map(String::from);
    let changed = prop::sample::select(fields::CHANGED.to_vec()).prop_map(String::from);
    prop_oneof![
        prop::collection::vec(is, 1..3).prop_map(|v| (Field::Is, v)),
        prop::collection::vec(changed, 1..3).prop_map(|v| (Field::Changed, v)),
        prop::collection::vec(value.clone(), 1..3).prop_map(|v| (Field::Ref, v)),
        prop::collection::vec(value.clone(), 1..3).prop_map(|v| (Field::Path, v)),
        prop::collection::vec(value.clone(), 1..3)
            .prop_map(|v| (Field::Title, v.iter().map(|s| s.to_lowercase()).collect())),
        prop::collection::vec(value, 1..3)
            .prop_map(|v| (Field::Author, v.iter().map(|s| s.to_lowercase()).collect())),
    ]
    .prop_map(|(field, values)| Expr::Term(Term { field, values }))
}

fn expr() -> impl Strategy<Value = Expr> {
    term().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::all),
            prop::collection::vec(inner, 2..4).prop_map(Expr::any),
        ]
    })
}

proptest! {
    #[test]
    fn printing_and_parsing_a_filter_round_trip(e in expr()) {
        let f = Filter { expr: e };
        let text = f.to_string();
        let back = Filter::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}")).unwrap();
        prop_assert_eq!(&back, &f, "{}", text);
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn any_text_parses_or_says_why_and_never_panics(text in "[ -~İß]{0,80}") {
        match Filter::parse(&text) {
            Ok(Some(f)) => prop_assert_eq!(Filter::parse(&f.to_string()).unwrap(), Some(f)),
            Ok(None) => prop_assert!(text.trim().is_empty()),
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }
}

#[test]
fn a_filter_at_its_limits_against_hostile_text_runs_out_of_work_not_time() {
    // A push naming 100 refs of 10,000 characters each, against globs that make every
    // comparison resume at each character.
    let mut push = payload("assembled-v3-repo-content-update.json");
    let long = format!("refs/heads/{}", "a".repeat(10_000));
    push.refs = (0..100)
        .map(|_| crate::hub::event::RefUpdate::new(&long, None, Some("b".repeat(40))))
        .collect();
    let glob = format!("*{}b", "a".repeat(90));
    let f = parsed(&format!("ref:{glob},{glob},{glob},{glob},{glob}"));
    assert_eq!(check(&f.to_string(), &push), Truth::Unknown);
    // A title of a megabyte is read for its first thousand characters, each value's
    // reading counted: past the work, Unknown.
    let mut pr = payload("assembled-v3-discussion-update-pr-merged.json");
    pr.discussion.as_mut().unwrap().title = "word ".repeat(200_000);
    let values = |from: usize| {
        (from..from + 15)
            .map(|i| format!("x{i}"))
            .collect::<Vec<_>>()
    };
    let f = format!(
        "title:{} OR title:{}",
        values(0).join(","),
        values(15).join(",")
    );
    assert_eq!(check(&f, &pr), Truth::Unknown);
    assert_eq!(check("title:word", &pr), Truth::Yes);
}
