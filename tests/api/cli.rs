//! The command line, run as a user would run it: the real binary and a config file.

use crate::helpers::{drain, serve, serve_env, serve_with, terminate};
use std::path::Path;
use std::process::Command;

fn herald(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(dir.join("bot.toml"))
        .args(args)
        .current_dir(dir)
        .env_remove("HERALD_DISCORD__TOKEN")
        .env_remove("HERALD_SLACK__BOT_TOKEN")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn config(dir: &Path, extra: &str) {
    let text = format!(
        "[database]\nurl = \"sqlite://{}\"\n[hub]\nsecret = \"s\"\n{extra}",
        dir.join("h.db").display()
    );
    std::fs::write(dir.join("bot.toml"), text).unwrap();
}

#[test]
fn subscribe_prints_the_id_and_exactly_what_it_matches() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    let (ok, out, err) = herald(
        dir.path(),
        &[
            "subscribe",
            "https://huggingface.co/datasets/acme/data/tree/main",
            "--channel",
            "console:ops",
            "--scope",
            "repo.content",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("#1: the dataset acme/data (https://huggingface.co/datasets/acme/data) → console:ops (scopes repo.content and anything narrower)"), "{out}");

    let (ok, out, _) = herald(
        dir.path(),
        &["subscribe", "acme/*", "--channel", "console:ops"],
    );
    assert!(ok);
    assert!(out.contains("#2: every model, dataset and Space of acme, new ones included → console:ops (all events)"), "{out}");

    let (ok, out, _) = herald(dir.path(), &["subscriptions", "--json"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["target"], "datasets/acme/data");
    assert_eq!(list[0]["scopes"], serde_json::json!(["repo.content"]));
    assert_eq!(list[1]["target"], "acme/*");

    let (ok, out, _) = herald(dir.path(), &["unsubscribe", "1"]);
    assert!(ok);
    assert!(out.contains("Removed #1"), "{out}");
    let (ok, out, _) = herald(dir.path(), &["subscriptions"]);
    assert!(ok);
    assert!(!out.contains("#1:") && out.contains("#2:"), "{out}");
}

#[test]
fn subscribing_again_widens_the_scopes_instead_of_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    herald(
        dir.path(),
        &[
            "subscribe",
            "acme/x",
            "--channel",
            "console:a",
            "--scope",
            "repo.content",
        ],
    );
    let (ok, out, _) = herald(
        dir.path(),
        &[
            "subscribe",
            "acme/x",
            "--channel",
            "console:a",
            "--scope",
            "discussion",
        ],
    );
    assert!(ok);
    assert!(
        out.contains("Widened") && out.contains("scopes discussion, repo.content"),
        "{out}"
    );
}

#[test]
fn mistakes_exit_non_zero_say_how_to_fix_them_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    let cases: [(&[&str], &str); 5] = [
        (
            &["subscribe", "a/b/c", "--channel", "console:x"],
            "owner/name",
        ),
        (
            &[
                "subscribe",
                "acme/x",
                "--channel",
                "console:x",
                "--scope",
                "repos",
            ],
            "did you mean repo?",
        ),
        (
            &["subscribe", "acme/x", "--channel", "irc:#x"],
            "discord:<channel id>",
        ),
        (
            &[
                "subscribe",
                "acme/x",
                "--channel",
                "discord:123456789012345678",
            ],
            "discord.token",
        ),
        (&["unsubscribe", "42"], "no subscription #42"),
    ];
    for (args, hint) in cases {
        let (ok, _, err) = herald(dir.path(), args);
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(hint), "{args:?}: {err}");
    }
    let (_, out, _) = herald(dir.path(), &["subscriptions"]);
    assert!(out.starts_with("No subscriptions"), "{out}");
}

#[test]
fn config_subscriptions_are_synced_and_cannot_be_removed_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    config(
        dir.path(),
        "[[subscriptions]]\ntarget = \"*\"\nchannel = \"console:stdout\"\n",
    );
    let (child, _, _) = serve(dir.path());
    terminate(child);

    let (_, out, _) = herald(dir.path(), &["subscriptions"]);
    assert!(
        out.contains("#1: every event this endpoint receives → console:stdout")
            && out.contains("config"),
        "{out}"
    );
    let (ok, _, err) = herald(dir.path(), &["unsubscribe", "1"]);
    assert!(!ok);
    assert!(err.contains("declared in the config file"), "{err}");
}

#[tokio::test]
async fn a_secret_in_the_query_string_never_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    std::fs::write(
        dir.path().join("bot.toml"),
        std::fs::read_to_string(dir.path().join("bot.toml"))
            .unwrap()
            .replace("secret = \"s\"", "secret = \"query-secret-123\""),
    )
    .unwrap();
    let (child, addr, logs) = serve(dir.path());
    let client = reqwest::Client::new();
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hf/v3-discussion-create-pr.json"),
    )
    .unwrap();
    for (secret, status) in [("query-secret-123", 202), ("wrong-guess-456", 403)] {
        let resp = client
            .post(format!("{addr}/webhooks/hf?secret={secret}"))
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status);
    }
    terminate(child);
    let lines: Vec<String> = drain(&logs);
    let all = lines.join("\n");
    assert!(
        all.contains("events stored") && all.contains("request refused"),
        "{all}"
    );
    assert!(
        !all.contains("query-secret-123") && !all.contains("wrong-guess-456"),
        "{all}"
    );
}

#[test]
fn render_prints_what_would_be_posted() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    let payload = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hf/assembled-v3-discussion-update-pr-merged.json");
    let p = payload.to_str().unwrap();
    let (ok, out, err) = herald(dir.path(), &["render", p]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Pull request #3 on some-user/some-repo merged: “Hello!”"),
        "{out}"
    );
    let (ok, out, _) = herald(dir.path(), &["render", p, "--platform", "discord"]);
    assert!(ok);
    let body: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        body["embeds"][0]["color"],
        serde_json::json!(herald::render::PURPLE)
    );
    let (ok, out, _) = herald(dir.path(), &["render", p, "--platform", "slack"]);
    assert!(ok);
    assert!(out.contains("\"unfurl_links\": false"));
}

#[tokio::test]
async fn json_logs_carry_event_ids_as_fields() {
    let dir = tempfile::tempdir().unwrap();
    config(
        dir.path(),
        "[[subscriptions]]\ntarget = \"*\"\nchannel = \"console:ops\"\n",
    );
    std::fs::write(
        dir.path().join("bot.toml"),
        std::fs::read_to_string(dir.path().join("bot.toml"))
            .unwrap()
            .replace("secret = \"s\"", "secret = \"json-secret\""),
    )
    .unwrap();
    let (child, addr, logs) = serve_with(dir.path(), &["--log-format", "json"]);
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hf/v3-discussion-create-pr.json"),
    )
    .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{addr}/webhooks/hf"))
        .header("X-Webhook-Secret", "json-secret")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let id = resp.json::<serde_json::Value>().await.unwrap()["event_id"]
        .as_i64()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    terminate(child);
    let lines: Vec<serde_json::Value> = drain(&logs)
        .into_iter()
        .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let stored = lines
        .iter()
        .find(|l| l["fields"]["message"] == "events stored")
        .expect("an events stored line");
    assert_eq!(stored["fields"]["first"], id);
    let delivered = lines
        .iter()
        .find(|l| l["fields"]["message"] == "delivered")
        .expect("a delivered line");
    assert_eq!(delivered["fields"]["event"], id);
    assert!(delivered["fields"]["delivery"].is_i64());
}

#[tokio::test]
async fn no_log_level_shows_what_an_event_says() {
    let dir = tempfile::tempdir().unwrap();
    config(
        dir.path(),
        "[[subscriptions]]\ntarget = \"*\"\nchannel = \"console:ops\"\n",
    );
    let mut p: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/hf/assembled-v3-discussion-comment-create.json"),
        )
        .unwrap(),
    )
    .unwrap();
    p["repo"]["private"] = serde_json::json!(true);
    p["discussion"]["title"] = serde_json::json!("PRIVATE-TITLE-7f3a");
    p["comment"]["content"] = serde_json::json!("PRIVATE-COMMENT-7f3a");
    for level in ["trace", "trace,handlebars::render=trace"] {
        let (child, addr, logs) = serve_env(dir.path(), &[], &[("HERALD_LOG", level)]);
        let resp = reqwest::Client::new()
            .post(format!("{addr}/webhooks/hf"))
            .header("X-Webhook-Secret", "s")
            .header("Content-Type", "application/json")
            .body(p.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        std::thread::sleep(std::time::Duration::from_millis(500));
        terminate(child);
        let lines: Vec<String> = drain(&logs);
        assert!(
            lines.iter().any(|l| l.contains("delivered")),
            "the event was rendered"
        );
        let leaked: Vec<&String> = lines.iter().filter(|l| l.contains("7f3a")).collect();
        assert!(leaked.is_empty(), "HERALD_LOG={level}: {leaked:?}");
    }
}

#[tokio::test]
async fn a_flood_of_bad_requests_leaves_a_bounded_log() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    let (child, addr, logs) = serve(dir.path());
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let resp = client
            .post(format!("{addr}/webhooks/hf"))
            .header("X-Webhook-Secret", "wrong")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    terminate(child);
    let lines: Vec<String> = drain(&logs);
    let refused = lines
        .iter()
        .filter(|l| l.contains("request refused"))
        .count();
    assert!(refused >= 20, "refusals are logged: {refused}");
    assert!(refused < 150, "but not all 300: {refused}");
    assert!(lines.iter().any(|l| l.contains("the rest are not logged")));
}

#[test]
fn the_cli_behaves_like_a_unix_tool() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let many: String = (0..400)
        .map(|i| {
            format!("[[subscriptions]]\ntarget = \"acme/model-{i}\"\nchannel = \"console:c{i}\"\n")
        })
        .collect();
    config(dir.path(), &many);
    let (child, _, _) = serve(dir.path());
    terminate(child);

    // A reader that stops early: no panic, a clean exit.
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(dir.path().join("bot.toml"))
        .args(["subscriptions", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(&first, b"[");

    // Every field that list shows is in the JSON.
    let (ok, out, _) = herald(dir.path(), &["subscriptions", "--json"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 400);
    assert_eq!(list[0]["threads"], "thread+channel");
    assert_eq!(list[0]["paused"], false);
    assert!(list[0]["paused_reason"].is_null());

    // Exit codes: 1 for a refusal, worded for the operator; 2 for a usage mistake.
    let code = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("--config")
            .arg(dir.path().join("bot.toml"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (status, err) = code(&["unsubscribe", "4242"]);
    assert_eq!(status, Some(1));
    assert_eq!(
        err.trim(),
        "error: There is no subscription #4242; herald subscriptions lists them."
    );
    let (status, err) = code(&["events", "--limit", "0"]);
    assert_eq!(status, Some(2), "{err}");
    assert!(err.contains("0 is not in 1..=10000"), "{err}");
}

#[test]
fn settings_from_the_environment_keep_their_text_and_typos_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "");
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(dir.path().join("bot.toml"))
        .arg("subscriptions")
        .env("HERALD_DISCORD__APPLICATION_ID", "1234567890123456789")
        .env("HERALD_HUB__SECRET", "839201746")
        .env("HERALD_DELIVERY__MAX_ATTEMPT", "3")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("HERALD_DELIVERY__MAX_ATTEMPT is ignored: it matches no setting; did you mean HERALD_DELIVERY__MAX_ATTEMPTS?"),
        "{err}"
    );

    config(dir.path(), "[server]\nlisten_address = \"0.0.0.0:9\"\n");
    let (ok, _, err) = herald(dir.path(), &["serve"]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("unknown key `server.listen_address`; did you mean `server.listen`?"),
        "{err}"
    );
}

#[test]
fn doctor_reports_a_config_that_does_not_load_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "[discrod]\ntoken = \"x\"\n");
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(dir.path().join("bot.toml"))
        .arg("doctor")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        report.starts_with("✗ config: ")
            && report.contains("unknown section [discrod]; did you mean [discord]?"),
        "{report}"
    );
}
