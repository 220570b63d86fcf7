//! What one tenant can do to another, and what a stranger can do to the server: the
//! attacks of issue 10, each answered.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PUBLIC_PUSH: &str = "hf/assembled-v3-repo-content-update.json";
const OTHER_GUILD: &str = "999999999999999999";
const OTHER_CHANNEL: &str = "888888888888888888";

/// `/herald ...` typed by an admin of the other guild, in its own channel.
fn other_guild(sub: Value) -> Value {
    let mut body = interaction(MANAGE_GUILD, sub);
    body["guild_id"] = json!(OTHER_GUILD);
    body["channel_id"] = json!(OTHER_CHANNEL);
    body
}

/// A push of `n` refs, each as small as the Hub allows.
fn push_of(n: usize) -> Vec<u8> {
    let mut p = fixture_json(PUBLIC_PUSH);
    let refs: Vec<Value> = (0..n).map(|i| json!({ "ref": format!("r{i}") })).collect();
    p["updatedRefs"] = json!(refs);
    p.to_string().into_bytes()
}

#[tokio::test]
async fn a_quadratic_template_on_a_huge_push_stalls_nobody() {
    let app = spawn_app().await;
    // Guild 1 has its own endpoint and the template of the attack.
    answer(
        &app,
        &interaction(MANAGE_GUILD, subscribe("some-user/some-repo")),
    )
    .await;
    let (endpoint, secret) =
        endpoint_of(&answer(&app, &interaction(MANAGE_GUILD, setup(false))).await);
    let attack = "x{{#each refs}}{{#each ../refs}}{{/each}}{{/each}}";
    let saved = answer(&app, &modal_submit("repo.content", attack)).await;
    assert!(content(&saved).starts_with("Saved"), "{saved}");
    // Guild 2 follows the same repo through the operator's endpoint.
    answer(&app, &other_guild(subscribe("some-user/some-repo"))).await;

    let body = push_of(50_000);
    assert!(body.len() < 1024 * 1024, "{} bytes", body.len());
    let resp = post_endpoint(&app, &endpoint, &secret, &body).await;
    let attacked = event_id(resp).await;
    let other = event_id(app.post_webhook(&fixture(PUBLIC_PUSH)).await).await;

    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        assert_eq!(app.get("/healthz").await.status(), 200);
        slowest = slowest.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Generous for a loaded CI machine; the stall this guards against lasted 25 s.
    assert!(
        slowest < Duration::from_millis(500),
        "/healthz took {slowest:?}"
    );
    let d = app.settled(other).await;
    let theirs = d
        .iter()
        .find(|d| d.channel == format!("discord:{OTHER_CHANNEL}"));
    assert_eq!(theirs.map(|d| d.status.as_str()), Some("sent"), "{d:?}");
    let d = app.settled(attacked).await;
    assert_eq!(d[0].status, "sent", "{d:?}");
}
