//! Property tests of the entry points the fuzz targets cover (fuzz/), run briefly and
//! deterministically (a fixed seed) inside `cargo test`.

use herald::hub::{payload, Scope};
use herald::render::{custom, samples, Renderer};
use herald::route::{Channel, Platform, Target};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRng, TestRunner};
use serde_json::{json, Value};

fn renderer() -> &'static Renderer {
    static R: std::sync::OnceLock<Renderer> = std::sync::OnceLock::new();
    R.get_or_init(|| Renderer::load(None).unwrap())
}

/// Runs `test` on 256 values of `strategy`, drawn from a fixed seed: the same every run.
fn check<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

const KEYS: &[&str] = &[
    "event",
    "action",
    "scope",
    "repo",
    "type",
    "name",
    "discussion",
    "num",
    "comment",
    "hidden",
    "updatedRefs",
    "ref",
    "newSha",
    "movedTo",
    "domain",
    "add",
    "title",
];

/// JSON shaped like Hub payloads, with every field free to be of any type.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z./*#@<>&-]{0,12}".prop_map(Value::String),
        prop::sample::select(&["repo", "repo.content", "discussion.comment", "model", "a/b"][..])
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let keys = prop::sample::select(KEYS);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

#[test]
fn normalizing_any_bytes_never_panics() {
    check(prop::collection::vec(any::<u8>(), 0..512), |bytes| {
        let _ = payload::parse(&bytes);
        Ok(())
    });
}

#[test]
fn a_stored_body_reads_back_as_the_event_that_was_routed() {
    // The store keeps the body only, and delivery normalizes it again.
    check(json_value(), |v| {
        if let Ok(event) = payload::normalize(&v) {
            let body = serde_json::to_vec(&v).unwrap();
            prop_assert_eq!(payload::parse(&body).unwrap(), event);
        }
        Ok(())
    });
}

#[test]
fn targets_that_parse_print_back_to_themselves() {
    check("(https://huggingface.co/)?((models|datasets|spaces)/)?[a-zA-Z0-9._*-]{0,10}(/[a-zA-Z0-9._*-]{0,10}){0,3}", |s| {
            if let Ok(t) = Target::parse(&s) {
                prop_assert_eq!(Target::parse(&t.to_string()).unwrap(), t);
            }
        Ok(())
    });
}

#[test]
fn scopes_and_channels_never_panic() {
    check("\\PC{0,40}", |s| {
        if let Ok(scope) = Scope::parse(&s) {
            prop_assert!(scope.lineage().all(|a| a.covers(&scope)));
        }
        let _ = Channel::parse(&s);
        let _ = Target::parse(&s);
        Ok(())
    });
}

#[test]
fn escaped_text_can_neither_ping_nor_break_a_line() {
    check("\\PC{0,80}|[@<>&*_`\\n\\r|#!:\\[\\]()]{0,40}", |s| {
        let discord = herald::render::escape::escape(Platform::Discord, &s);
        let slack = herald::render::escape::escape(Platform::Slack, &s);
        prop_assert!(!discord.contains('\n') && !slack.contains('\n'));
        prop_assert!(!slack.contains('<') && !slack.contains('>'));
        // Every mention or markup character is escaped on Discord.
        let bytes: Vec<char> = discord.chars().collect();
        for (i, c) in bytes.iter().enumerate() {
            if matches!(c, '@' | '<' | '*' | '_' | '`') {
                let backslashes = bytes[..i].iter().rev().take_while(|b| **b == '\\').count();
                prop_assert!(backslashes % 2 == 1, "{} unescaped in {}", c, discord);
            }
        }
        Ok(())
    });
}

#[test]
fn any_template_is_refused_or_renders_within_the_cap() {
    check("(\\{\\{[#/]?(if|each|with|bold|link|repo.name|refs|../refs|@root.repo.url|lookup) ?[a-z.]{0,8}\\}\\}|[a-z \\n]{0,6}){0,12}", |src| {
            let renderer = renderer();
            if custom::validate(&src).is_ok() {
                let scope = Scope::parse("repo.content").unwrap();
                match renderer.render_source(&src, &scope, &samples::largest(&scope), Platform::Discord) {
                    Ok(msg) => prop_assert!(msg.headline.len() + msg.body.len() <= custom::OUTPUT_CAP),
                    Err(e) => prop_assert!(!e.is_empty()),
                }
            }
        Ok(())
    });
}

/// Discord markup left open in `s`: an odd number of code spans or bold markers, or a link
/// without its address (written apart from the cutter's own tracker, to check it).
fn discord_unbalanced(s: &str) -> Option<&'static str> {
    let (mut ticks, mut stars, mut links) = (0, 0, 0i32);
    let mut in_code = false;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'`' => {
                in_code = !in_code;
                ticks += 1;
            }
            _ if in_code => {}
            b'\\' => i += 1,
            b'*' if b.get(i + 1) == Some(&b'*') => {
                stars += 1;
                i += 1;
            }
            b'[' => links += 1,
            b']' if b.get(i + 1) == Some(&b'(') => match s[i..].find(')') {
                Some(_) => links -= 1,
                None => return Some("a link without its closing parenthesis"),
            },
            _ => {}
        }
        i += 1;
    }
    if ticks % 2 == 1 {
        Some("an open code span")
    } else if stars % 2 == 1 {
        Some("open bold")
    } else if links > 0 {
        Some("a link cut before its address")
    } else {
        None
    }
}

/// Slack markup left open: an unclosed `<…>`, or an odd number of code or bold markers
/// that are not inside a word.
fn slack_unbalanced(s: &str) -> Option<&'static str> {
    if s.matches('<').count() != s.matches('>').count() {
        return Some("an open <link>");
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut ticks, mut stars) = (0, 0);
    let mut in_code = false;
    for (k, &c) in chars.iter().enumerate() {
        let word = |d: Option<&char>| d.is_some_and(|c| c.is_alphanumeric());
        let in_word = k > 0 && word(chars.get(k - 1)) && word(chars.get(k + 1));
        match c {
            '`' if in_code || !in_word => {
                in_code = !in_code;
                ticks += 1;
            }
            '*' if !in_code && !in_word => stars += 1,
            _ => {}
        }
    }
    match (ticks % 2, stars % 2) {
        (1, _) => Some("an open code span"),
        (_, 1) => Some("open bold"),
        _ => None,
    }
}

#[test]
fn cut_messages_never_leave_markup_open() {
    let long = || {
        let text = proptest::string::string_regex("[a-z *_`\\[\\]()<>&@#|\\\\.:-]{0,40}").unwrap();
        (text, 1usize..400).prop_map(|(t, n)| t.repeat(n))
    };
    let scopes = [
        "repo",
        "repo.content",
        "repo.config",
        "discussion",
        "discussion.comment",
    ];
    let names = "[a-z_.-]{1,190}";
    check(
        (long(), long(), 0..scopes.len(), names, 0..3usize),
        |(a, b, k, name, refs)| {
            let scope = Scope::parse(scopes[k]).unwrap();
            let mut e = samples::largest(&scope);
            if let Ok(n) = herald::hub::RepoName::from_hub(&format!("acme/{name}")) {
                e.repo.name = n;
            }
            // One ref (a single push, or a tag created) puts its name in the headline.
            if refs > 0 {
                e.refs.truncate(1);
                if refs == 2 {
                    e.refs[0] = herald::hub::event::RefUpdate::new(
                        "refs/tags/v",
                        None,
                        e.refs[0].new_sha.clone(),
                    );
                }
            }
            if let Some(d) = e.discussion.as_mut() {
                d.title = a.clone();
            }
            if let Some(c) = e.comment.as_mut() {
                c.content = Some(b.clone());
            }
            for r in e.refs.iter_mut() {
                r.name = a.chars().take(300).collect();
            }
            if let Some(config) = e.config.as_mut() {
                config.insert(a.chars().take(200).collect(), json!(b));
            }
            let discord = renderer().render(&e, Platform::Discord).unwrap();
            let body = herald::deliver::discord::body(&discord, "n");
            let embed = &body["embeds"][0];
            for part in [&embed["title"], &embed["description"]] {
                let s = part.as_str().unwrap_or_default();
                if let Some(why) = discord_unbalanced(s) {
                    return Err(TestCaseError::fail(format!("Discord, {why}: {s}")));
                }
            }
            let slack = renderer().render(&e, Platform::Slack).unwrap();
            let body = herald::deliver::slack::body("C1", &slack);
            let mut parts = vec![body["text"].as_str().unwrap_or_default().to_string()];
            for block in body["blocks"].as_array().unwrap() {
                parts.extend(block["text"]["text"].as_str().map(str::to_string));
            }
            for s in parts {
                if let Some(why) = slack_unbalanced(&s) {
                    return Err(TestCaseError::fail(format!("Slack, {why}: {s}")));
                }
            }
            Ok(())
        },
    );
}
