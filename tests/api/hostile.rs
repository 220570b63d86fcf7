//! Hostile input: every bad request gets its documented 4xx with a JSON error, nothing is
//! stored for it, and the server keeps serving.

use crate::helpers::*;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use serde_json::{json, Value};

const V3: &str = "hf/v3-discussion-create-pr.json";

/// The valid sample with one field set to `value` (a JSON pointer).
fn with(pointer: &str, value: Value) -> Vec<u8> {
    let mut p = fixture_json(V3);
    *p.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = value;
    p.to_string().into_bytes()
}

fn bodies() -> Vec<(String, Vec<u8>, u16)> {
    let mut valid = fixture(V3);
    while valid.last().is_some_and(|b| b.is_ascii_whitespace()) {
        valid.pop();
    }
    let mut cases: Vec<(String, Vec<u8>, u16)> = vec![];
    let mut add =
        |name: &str, body: Vec<u8>, status: u16| cases.push((name.to_string(), body, status));
    // Truncated and malformed JSON.
    for cut in [1, 10, valid.len() / 2, valid.len() - 1] {
        add(&format!("truncated at {cut}"), valid[..cut].to_vec(), 400);
    }
    for (name, body) in [
        ("empty body", ""),
        ("whitespace", "   \n"),
        ("a bare string", "\"hello\""),
        ("a number", "42"),
        ("null", "null"),
        ("an array", "[1, 2, 3]"),
        ("trailing garbage", "{}}"),
        ("single quotes", "{'event': 1}"),
        ("a trailing comma", "{\"add\": \"a/b\",}"),
        ("a comment", "{/* x */ \"add\": \"a/b\"}"),
        ("NaN", "{\"add\": NaN}"),
        ("an unterminated string", "{\"add\": \"a/b}"),
        ("a bad escape", "{\"add\": \"\\q\"}"),
        ("a lone surrogate", "{\"add\": \"\\ud800\"}"),
        ("an empty object", "{}"),
        ("no known format", "{\"hello\": \"world\", \"version\": 3}"),
        ("two legacy keys", "{\"add\": \"a/b\", \"remove\": \"a/b\"}"),
        ("a duplicate key", "{\"add\": \"a/b\", \"add\": \"c/d\"}"),
    ] {
        add(name, body.as_bytes().to_vec(), 400);
    }
    // Wrong types and nulls in every field that matters.
    for (pointer, value) in [
        ("/event", json!(7)),
        ("/event", json!(null)),
        ("/event", json!([])),
        ("/event/action", json!(1)),
        ("/event/action", json!(null)),
        ("/event/scope", json!(null)),
        ("/event/scope", json!(["repo"])),
        ("/event/scope", json!("repo..content")),
        ("/event/scope", json!("")),
        ("/repo", json!(null)),
        ("/repo", json!("openai-community/gpt2")),
        ("/repo/name", json!(null)),
        ("/repo/name", json!(12)),
        ("/repo/name", json!("a/b/c")),
        ("/repo/name", json!("acme/..")),
        ("/repo/name", json!("x".repeat(100_000))),
        ("/repo/type", json!(null)),
        ("/repo/type", json!("Model!")),
        ("/repo/type", json!(true)),
        ("/repo/private", json!("yes")),
        ("/repo/owner/id", json!(5)),
        ("/discussion", json!("nope")),
        ("/discussion/num", json!(null)),
        ("/discussion/num", json!(-3)),
        ("/discussion/num", json!("19")),
        ("/discussion/title", json!({})),
        ("/discussion/isPullRequest", json!("true")),
        ("/comment", json!(3)),
        ("/comment/hidden", json!("no")),
        ("/comment/content", json!([1])),
    ] {
        add(
            &format!(
                "{pointer} = {}",
                value.to_string().chars().take(30).collect::<String>()
            ),
            with(pointer, value),
            400,
        );
    }
    // Deep nesting, invalid UTF-8, a body over the limit.
    add(
        "10,000-deep nesting",
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        400,
    );
    add(
        "10,000-deep objects",
        format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(),
        400,
    );
    let mut utf8 = valid.clone();
    let at = utf8.windows(6).position(|w| w == b"Update").unwrap();
    utf8[at] = 0xff;
    add("invalid UTF-8", utf8, 400);
    add("a 10 MB body", vec![b' '; 10 * 1024 * 1024], 413);
    cases
}

#[tokio::test]
async fn every_bad_body_gets_its_documented_4xx_and_nothing_is_stored() {
    let app = spawn_app().await;
    let cases = bodies();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    for (name, body, status) in &cases {
        let resp = app.post_webhook(body).await;
        assert_eq!(resp.status().as_u16(), *status, "{name}");
        let err: Value = resp
            .json()
            .await
            .unwrap_or_else(|e| panic!("{name}: no JSON error: {e}"));
        assert!(
            err["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{name}: {err}"
        );
    }
    assert_eq!(app.events_stored().await, 0);
    let ok = app.post_webhook(&fixture(V3)).await;
    assert_eq!(ok.status(), 202, "still serving");
}

#[tokio::test]
async fn bad_requests_around_the_body_get_their_4xx_too() {
    let app = spawn_app().await;
    let body = fixture(V3);
    let url = format!("{}/webhooks/hf", app.address);
    type Tweak = Box<dyn Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder>;
    let secret = |s: &'static [u8]| -> Tweak {
        Box::new(move |r| r.header("X-Webhook-Secret", HeaderValue::from_bytes(s).unwrap()))
    };
    let json_ct: Tweak = Box::new(|r| r.header(CONTENT_TYPE, "application/json"));
    let cases: Vec<(&str, Tweak, u16)> = vec![
        ("no secret", Box::new(|r| r), 401),
        ("an empty secret", secret(b""), 401),
        ("a wrong secret", secret(b"nope"), 403),
        ("a non-ASCII secret", secret(b"t\xc3\xa9st-secret"), 403),
        ("bytes that are not UTF-8", secret(b"\xff\xfe"), 403),
        (
            "text/plain",
            Box::new(|r| {
                r.header("X-Webhook-Secret", SECRET)
                    .header(CONTENT_TYPE, "text/plain")
            }),
            415,
        ),
        (
            "form data",
            Box::new(|r| {
                r.header("X-Webhook-Secret", SECRET)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            }),
            415,
        ),
        (
            "a query secret that is wrong",
            Box::new(|r| r.query(&[("secret", "x")])),
            403,
        ),
    ];
    for (name, tweak, status) in cases {
        let base = app.client.post(&url);
        let base = if status == 415 { base } else { json_ct(base) };
        let resp = tweak(base).body(body.clone()).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{name}");
        assert!(
            resp.json::<Value>().await.unwrap()["error"].is_string(),
            "{name}"
        );
    }
    for (method, path, status) in [
        ("GET", "/webhooks/hf", 405),
        ("PUT", "/webhooks/hf", 405),
        ("DELETE", "/webhooks/hf", 405),
        ("GET", "/discord/interactions", 405),
        ("POST", "/healthz", 405),
        ("POST", "/nowhere", 404),
        ("POST", "/webhooks/hf/unknown-endpoint", 404),
    ] {
        let resp = app
            .client
            .request(method.parse().unwrap(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {path}");
        assert!(
            resp.json::<Value>().await.unwrap()["error"].is_string(),
            "{method} {path}"
        );
    }
    assert_eq!(app.events_stored().await, 0);
}

#[tokio::test]
async fn metrics_count_events_by_format_scope_and_outcome() {
    let app = spawn_app().await;
    app.subscribe("*", "console:ops", &[]).await;
    let id = event_id(app.post_webhook(&fixture(V3)).await).await;
    app.settled(id).await;
    // Both events reach the console: settle both, so the count cannot race a send.
    let legacy = event_id(
        app.post_webhook(&fixture("hf/v0-legacy-add-model.json"))
            .await,
    )
    .await;
    app.settled(legacy).await;
    app.post_webhook(b"{").await;
    app.post_webhook_with(&fixture(V3), |r| r.header("X-Webhook-Secret", "nope"))
        .await;
    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = resp.text().await.unwrap();
    for line in [
        r#"herald_events_total{format="v3",scope="discussion",outcome="accepted"} 1"#,
        r#"herald_events_total{format="legacy",scope="repo",outcome="accepted"} 1"#,
        r#"herald_events_total{format="unknown",scope="unknown",outcome="bad_payload"} 1"#,
        r#"herald_events_total{format="unknown",scope="unknown",outcome="wrong_secret"} 1"#,
        r#"herald_deliveries_total{platform="console",outcome="sent"} 2"#,
        "herald_queue_depth ",
        "herald_template_failures_total 0",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[tokio::test]
async fn a_client_that_stalls_mid_body_gets_a_408_and_the_server_goes_on() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app_with(|s| s.server.request_timeout_ms = 300).await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /webhooks/hf HTTP/1.1\r\nHost: {addr}\r\nX-Webhook-Secret: {SECRET}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"event\""
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut stalled, &mut answer),
    )
    .await
    .expect("answered within the bound")
    .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("took too long"), "{text}");
    assert_eq!(
        app.post_webhook(&fixture(V3)).await.status(),
        202,
        "still serving"
    );
    assert_eq!(app.events_stored().await, 1);
}
