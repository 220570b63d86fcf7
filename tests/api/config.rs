//! Operators' configuration mistakes, caught where they are made.

use herald::config::Settings;
use serde_json::Value;

const FILE: &str = "[hub]\nsecret = \"s\"\n";

fn load(file: &str, vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
    let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Settings::layered(file, "bot.toml", vars)
}

fn error(file: &str) -> String {
    format!("{:#}", load(file, &[]).expect_err("refused"))
}

/// Every text setting's dotted name.
fn text_keys(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = v {
        for (k, v) in map {
            match v {
                Value::String(_) => out.push(format!("{prefix}{k}")),
                Value::Object(_) => text_keys(v, &format!("{prefix}{k}."), out),
                _ => {}
            }
        }
    }
}

fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    key.split('.').fold(v, |v, k| &v[k])
}

#[test]
fn every_text_setting_keeps_its_digits_from_the_environment() {
    let mut keys = Vec::new();
    text_keys(
        &serde_json::to_value(Settings::default()).unwrap(),
        "",
        &mut keys,
    );
    assert!(keys.len() >= 10, "{keys:?}");
    // An address and a key, checked as such at start.
    keys.retain(|k| k != "hub.api_base" && k != "security.key");
    let vars: Vec<(String, String)> = keys
        .iter()
        .map(|k| {
            let name = format!("HERALD_{}", k.replace('.', "__").to_uppercase());
            (name, "0123456789012345678".to_string())
        })
        .collect();
    let settings = Settings::layered(FILE, "bot.toml", vars).expect("all accepted");
    let loaded = serde_json::to_value(&settings).unwrap();
    for k in &keys {
        assert_eq!(at(&loaded, k), "0123456789012345678", "{k}");
    }
    // Lists of texts too, and numbers stay numbers.
    let s = load(
        FILE,
        &[
            ("HERALD_HUB__SECRETS", "[839201746, abc]"),
            ("HERALD_LIMITS__MAX_CONNECTIONS", "64"),
        ],
    )
    .unwrap();
    assert_eq!(s.hub.secrets, ["839201746", "abc"]);
    assert_eq!(s.limits.max_connections, 64);
}

#[test]
fn unknown_keys_and_sections_are_refused_with_the_nearest_known_one() {
    let cases = [
        (
            "[server]\nlisten_address = \"0.0.0.0:80\"\n",
            "bot.toml: unknown key `server.listen_address`; did you mean `server.listen`?",
        ),
        (
            "[discrod]\ntoken = \"x\"\n",
            "bot.toml: unknown section [discrod]; did you mean [discord]?",
        ),
        (
            "[delivery]\nmax_attempt = 3\n",
            "bot.toml: unknown key `delivery.max_attempt`; did you mean `delivery.max_attempts`?",
        ),
        (
            "max_attempts = 3\n",
            "bot.toml: unknown key `max_attempts`; did you mean `delivery.max_attempts`?",
        ),
        (
            "[[subscriptions]]\ntarget = \"acme/*\"\nchanel = \"console:x\"\n",
            "bot.toml: unknown key `chanel` in [[subscriptions]] number 1; did you mean `channel`?",
        ),
        (
            "[server]\nwhatever = 1\n",
            "bot.toml: unknown key `server.whatever`",
        ),
    ];
    for (extra, want) in cases {
        let got = error(&format!("{extra}{FILE}"));
        assert_eq!(got, want, "{extra}");
    }
    // The shipped bot.toml has no key that is not a setting.
    assert!(load(herald::config::SHIPPED, &[]).is_ok());
}

#[test]
fn variables_that_match_no_setting_are_warned_about() {
    let s = load(
        FILE,
        &[
            ("HERALD_SERVER__LISTEN_ADRESS", "0.0.0.0:80"),
            ("HERALD_DISCROD__TOKEN", "secret-token"),
            ("HERALD_LOG", "debug"),
        ],
    )
    .unwrap();
    assert_eq!(
        s.warnings,
        [
            "HERALD_SERVER__LISTEN_ADRESS is ignored: it matches no setting; did you mean HERALD_SERVER__LISTEN?",
            "HERALD_DISCROD__TOKEN is ignored: it matches no setting; did you mean HERALD_DISCORD__TOKEN?",
        ]
    );
    assert!(!format!("{:?}", s.warnings).contains("secret-token"));
}

fn templates(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn operator_templates_are_checked_at_start_with_the_file_and_line() {
    use herald::render::Renderer;
    let cases = [
        (
            ("repo.hbs", "{{repo.name}}\n\n{{shout repo.name}}\n"),
            "repo.hbs: line 3: unknown helper \"shout\"",
        ),
        (
            ("discussion.hbs", "{{repo.name}}\n{{#if discussion}}\nopen\n"),
            "discussion.hbs: the template does not compile: unclosed `{{#if}}` at line 2",
        ),
        (
            ("discusion.hbs", "{{repo.name}}"),
            "discusion.hbs replaces no template; did you mean discussion.hbs?",
        ),
        (
            ("repo.content.hbs", "{{#if repo.name}}{{/if}}"),
            "repo.content.hbs fails on the sample repo.content event for discord: it renders an empty headline",
        ),
    ];
    for ((file, text), want) in cases {
        let dir = templates(&[(file, text)]);
        let err = format!("{:#}", Renderer::load(Some(dir.path())).err().expect(file));
        assert!(err.contains(want), "{file}: {err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }
    // The repo's own templates/ (the built-in ones) pass.
    Renderer::load(Some(std::path::Path::new("templates"))).unwrap();
}

#[tokio::test]
async fn an_operator_template_that_fails_at_run_time_falls_back_to_the_built_in_one() {
    use crate::helpers::*;
    // Passes every sample, fails on one repo's events.
    let dir = templates(&[(
        "repo.content.hbs",
        "{{#if (eq repo.name \"acme/broken\")}}{{eq refs 1}}{{/if}}Pushed to {{repo.name}}",
    )]);
    let path = dir.path().to_path_buf();
    let app = spawn_app_with(move |s| s.templates.dir = path).await;
    app.subscribe("acme/*", "console:ops", &[]).await;
    let mut push = fixture_json("hf/assembled-v3-repo-content-update.json");
    for name in ["acme/fine", "acme/broken"] {
        push["repo"]["name"] = serde_json::json!(name);
        let id = event_id(app.post_webhook(push.to_string().as_bytes()).await).await;
        let d = app.settled(id).await;
        assert_eq!(d[0].status, Status::Sent, "{name}: {d:?}");
        let note = d[0].note.clone().unwrap_or_default();
        if name == "acme/fine" {
            assert_eq!(note, "", "the operator's template is used");
        } else {
            assert!(
                note.starts_with("the operator's template repo.content.hbs failed ("),
                "{note}"
            );
            assert!(note.ends_with("; the built-in one was used"), "{note}");
        }
    }
}

#[test]
fn a_lease_shorter_than_the_wait_for_the_hub_and_the_send_is_refused() {
    let err = load(
        FILE,
        &[
            ("HERALD_HUB__ENRICH_TIMEOUT_MS", "5000"),
            ("HERALD_DELIVERY__HTTP_TIMEOUT_MS", "10000"),
            ("HERALD_DELIVERY__LEASE_MS", "12000"),
        ],
    )
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("delivery.lease_ms (12000) must be longer than hub.enrich_timeout_ms + delivery.http_timeout_ms (15000)"),
        "{text}"
    );
    // With the Hub API off, the lease is as before.
    load(
        FILE,
        &[
            ("HERALD_HUB__ENRICH_TIMEOUT_MS", "0"),
            ("HERALD_DELIVERY__LEASE_MS", "1000"),
        ],
    )
    .unwrap();
}

#[test]
fn a_security_key_that_is_not_32_bytes_of_hex_is_refused_with_how_to_make_one() {
    let err = format!(
        "{:#}",
        load(FILE, &[("HERALD_SECURITY__KEY", "not-a-key")]).expect_err("refused")
    );
    assert!(err.contains("openssl rand -hex 32"), "{err}");
    let key = "ab".repeat(32);
    assert!(load(FILE, &[("HERALD_SECURITY__KEY", &key)]).is_ok());
    let err = format!(
        "{:#}",
        load(FILE, &[("HERALD_HUB__MANAGE_WEBHOOK", "true")]).expect_err("refused")
    );
    assert!(
        err.contains("hub.manage_webhook is on but hub.token is empty"),
        "{err}"
    );
}

#[test]
fn declared_subscriptions_take_filters_and_digests_and_a_bad_one_is_named() {
    let ok = "[hub]\nsecret = \"s\"\n[[subscriptions]]\ntarget = \"acme/*\"\nchannel = \"console:x\"\n\
              filter = \"is:pr is:merged\"\nall = true\nmode = \"weekly mon 09:00\"\ntz = \"Europe/Paris\"\n";
    let declared = load(ok, &[]).unwrap().declared().unwrap();
    let rules = &declared[0].rules;
    assert_eq!(
        rules.filter.as_ref().unwrap().to_string(),
        "is:pr is:merged"
    );
    assert!(rules.all);
    assert_eq!(
        rules.schedule.to_string(),
        "weekly monday 09:00 Europe/Paris"
    );
    let bad = ok.replace("is:merged", "is:mreged");
    let err = error(&bad);
    assert!(
        err.contains("[[subscriptions]] number 1") && err.contains("`is:mreged`"),
        "{err}"
    );
    let bad = ok.replace("Europe/Paris", "Europe/Pariss");
    let err = error(&bad);
    assert!(err.contains("unknown time zone \"Europe/Pariss\""), "{err}");
}
