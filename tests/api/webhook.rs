//! The receiver: secrets, error codes, and storing before acknowledging.

use crate::helpers::*;
use serde_json::Value;

const PAYLOAD: &str = "hf/v3-discussion-create-pr.json";

#[tokio::test]
async fn an_event_is_stored_before_the_2xx_that_carries_its_id() {
    let app = spawn_app().await;
    let resp = app.post_webhook(&fixture(PAYLOAD)).await;
    assert_eq!(resp.status(), 202);
    let id = event_id(resp).await;
    let stored = herald::store::events::get(&app.store.pool, id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        stored.event().unwrap().repo.name.as_str(),
        "openai-community/gpt2"
    );
    let raw: Vec<u8> = sqlx::query_scalar("SELECT raw FROM events WHERE id = ?")
        .bind(id)
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(raw, fixture(PAYLOAD), "the raw body is kept exactly");
}

#[tokio::test]
async fn every_payload_format_is_accepted() {
    let app = spawn_app().await;
    let files =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hf")).unwrap();
    let mut n = 0;
    for f in files {
        let path = f.unwrap().path();
        let resp = app.post_webhook(&std::fs::read(&path).unwrap()).await;
        assert_eq!(
            resp.status(),
            202,
            "{}: {}",
            path.display(),
            resp.text().await.unwrap()
        );
        n += 1;
    }
    assert!(n >= 20);
    assert_eq!(app.events_stored().await, n);
    let formats: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT format FROM events ORDER BY format")
            .fetch_all(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(formats, ["draft", "legacy", "v2", "v3"]);
}

#[tokio::test]
async fn the_secret_may_come_in_the_query_string() {
    let app = spawn_app().await;
    let resp = app
        .post_webhook_with(&fixture(PAYLOAD), |r| r.query(&[("secret", SECRET)]))
        .await;
    assert_eq!(resp.status(), 202);
}

#[tokio::test]
async fn a_missing_secret_is_a_401_and_a_wrong_one_a_403_and_neither_is_stored() {
    let app = spawn_app().await;
    let body = fixture(PAYLOAD);
    type Tweak = Box<dyn Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder>;
    let cases: Vec<(u16, Tweak)> = vec![
        (401, Box::new(|r| r)),
        (401, Box::new(|r| r.header("X-Webhook-Secret", ""))),
        (403, Box::new(|r| r.header("X-Webhook-Secret", "wrong"))),
        (
            403,
            Box::new(|r| r.header("X-Webhook-Secret", "test-secre")),
        ),
        (
            403,
            Box::new(|r| r.header("X-Webhook-Secret", "tëst-sécret")),
        ),
        (403, Box::new(|r| r.query(&[("secret", "nope")]))),
    ];
    for (status, f) in cases {
        let resp = app.post_webhook_with(&body, f).await;
        assert_eq!(resp.status(), status);
        let err: Value = resp.json().await.unwrap();
        assert!(err["error"].as_str().unwrap().contains("secret"), "{err}");
    }
    assert_eq!(app.events_stored().await, 0);
}

#[tokio::test]
async fn several_secrets_are_valid_while_rotating() {
    let app = spawn_app_with(|s| s.hub.secrets = vec!["next-secret".into()]).await;
    for secret in [SECRET, "next-secret"] {
        let resp = app
            .post_webhook_with(&fixture(PAYLOAD), |r| r.header("X-Webhook-Secret", secret))
            .await;
        assert_eq!(resp.status(), 202, "{secret}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = spawn_app().await;
    let mut big = b"{\"pad\":\"".to_vec();
    big.resize(1024 * 1024 + 10, b'a');
    big.extend_from_slice(b"\"}");
    let resp = app.post_webhook(&big).await;
    assert_eq!(resp.status(), 413);
    let err: Value = resp.json().await.unwrap();
    assert!(err["error"].as_str().unwrap().contains("body_limit"));
    assert_eq!(app.events_stored().await, 0);
}

#[tokio::test]
async fn unreadable_payloads_are_a_400_that_names_the_problem() {
    let app = spawn_app().await;
    let cases = [
        (&b"{\"event\": "[..], "not valid JSON"),
        (b"[1,2]", "must be a JSON object"),
        (b"{\"hello\": \"world\"}", "expected an \"event\" field"),
        (br#"{"event": {"action": "create"}, "repo": {"type": "model", "name": "a/b"}}"#, "event.scope is missing"),
        (br#"{"event": {"action": "create", "scope": "repo"}, "repo": {"type": "model", "name": 5}}"#, "repo.name must be a string"),
        (br#"{"event": {"action": "create", "scope": "repo"}, "repo": {"type": "model", "name": "a/b/c"}}"#, "repo.name"),
        (br#"{"event": {"action": "create", "scope": "repo"}}"#, "repo must be an object"),
        (br#"{"add": 5}"#, "expected an \"event\" field"),
    ];
    for (body, expected) in cases {
        let resp = app.post_webhook(body).await;
        assert_eq!(resp.status(), 400, "{}", String::from_utf8_lossy(body));
        let err: Value = resp.json().await.unwrap();
        let msg = err["error"].as_str().unwrap();
        assert!(msg.contains(expected), "{msg} should mention {expected}");
    }
    assert_eq!(app.events_stored().await, 0);
}

#[tokio::test]
async fn a_scope_or_action_the_hub_adds_later_is_accepted() {
    let app = spawn_app().await;
    let body = br#"{"event": {"action": "archive", "scope": "repo.config.dois"},
        "repo": {"type": "model", "name": "acme/llama", "private": false}, "webhook": {"id": "x", "version": 3}}"#;
    let resp = app.post_webhook(body).await;
    assert_eq!(resp.status(), 202);
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415() {
    let app = spawn_app().await;
    let resp = app
        .post_webhook_with(&fixture(PAYLOAD), |r| {
            r.header("X-Webhook-Secret", SECRET)
                .header("Content-Type", "text/plain")
        })
        .await;
    assert_eq!(resp.status(), 415);
    assert_eq!(app.events_stored().await, 0);
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.text().await.unwrap(),
        "ready",
        "database reachable, worker running"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let mode = std::fs::metadata(app.dir.path().join("herald.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn a_storage_failure_is_a_503_that_acknowledges_nothing_and_the_writer_recovers() {
    let app = spawn_app().await;
    let pool = &app.store.pool;
    // Storage breaks under the running server: its writer's table is gone.
    sqlx::query("ALTER TABLE events RENAME TO events_away")
        .execute(pool)
        .await
        .unwrap();
    let resp = app.post_webhook(&fixture(PAYLOAD)).await;
    assert_eq!(
        resp.status(),
        503,
        "not the client's fault: the Hub retries"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "event could not be stored; try again");
    sqlx::query("ALTER TABLE events_away RENAME TO events")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(app.events_stored().await, 0, "nothing half-written");
    let id = event_id(app.post_webhook(&fixture(PAYLOAD)).await).await;
    assert_eq!(app.events_stored().await, 1);
    assert!(id > 0);
}
