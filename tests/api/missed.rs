//! Pushes that never reached herald (the Hub's webhook disabled, over its quota, herald
//! down): the next push to the branch says so once, and with the Hub API lists every
//! commit since the last push herald saw.

use crate::fakehub::*;
use crate::helpers::*;
use herald::store::deliveries::Status;
use serde_json::json;

const CHANNEL: &str = "discord:123456789012345678";

fn push(old: &str, new: &str) -> Vec<u8> {
    let mut p = fixture_json("hf/assembled-v3-repo-content-update.json");
    p["repo"]["name"] = json!("acme/model");
    p["updatedRefs"] = json!([{ "ref": "refs/heads/main", "oldSha": old, "newSha": new }]);
    p.to_string().into_bytes()
}

async fn sent(app: &TestApp, body: &[u8]) -> String {
    let id = event_id(app.post_webhook(body).await).await;
    let done = app.settled(id).await;
    assert!(done.iter().all(|d| d.status == Status::Sent), "{done:?}");
    let posts = app.discord.posts();
    posts.last().unwrap().body["embeds"][0].to_string()
}

#[tokio::test]
async fn a_push_after_a_gap_says_so_once_and_lists_every_commit_since_the_last_push_seen() {
    let hub = FakeHub::start().await;
    let c = hub.linear("acme/model", 7, 6, "ann");
    let base = hub.base.clone();
    let app = spawn_app_with(move |s| {
        s.hub.api_base = base;
        s.hub.enrich_timeout_ms = 3000;
    })
    .await;
    app.subscribe("acme/model", CHANNEL, &[]).await;

    let first = sent(&app, &push(&c[0], &c[1])).await;
    assert!(!first.contains("never reached herald"), "{first}");
    // The pushes c1 → c3 never came.
    let after_gap = sent(&app, &push(&c[3], &c[5])).await;
    assert!(
        after_gap.contains("Earlier pushes never reached herald"),
        "{after_gap}"
    );
    assert!(
        after_gap.contains(&c[1][..7]),
        "where herald last saw main: {after_gap}"
    );
    for i in 2..=5 {
        assert!(
            after_gap.contains(&format!("Commit {i}")),
            "Commit {i} in {after_gap}"
        );
    }
    assert!(!after_gap.contains("Commit 1 "), "{after_gap}");
    // The missing push arrives late (the Hub retried it): nothing was missed before it.
    let late = sent(&app, &push(&c[1], &c[3])).await;
    assert!(!late.contains("never reached herald"), "{late}");
    let next = sent(&app, &push(&c[5], &sha(7, 9))).await;
    assert!(!next.contains("never reached herald"), "{next}");
}

#[tokio::test]
async fn without_the_hub_api_the_gap_is_still_said() {
    let app = spawn_app().await;
    app.subscribe("acme/model", CHANNEL, &[]).await;
    let (a, b, c, d) = (sha(1, 0), sha(1, 1), sha(1, 2), sha(1, 3));
    sent(&app, &push(&a, &b)).await;
    let after_gap = sent(&app, &push(&c, &d)).await;
    assert!(
        after_gap.contains(&format!(
            "the last it saw left the branch at [{}](https://huggingface.co/acme/model/commit/{b})",
            &b[..7]
        )),
        "{after_gap}"
    );
    // Another endpoint's pushes say nothing about this one's.
    let (endpoint, secret) = workspace_endpoint(&app, "acme/model").await;
    let other = post_endpoint(&app, &endpoint, &secret, &push(&sha(2, 0), &sha(2, 1))).await;
    let id = event_id(other).await;
    let done = app.settled(id).await;
    assert!(
        done.iter().all(|d| d.status == Status::Sent) && !done.is_empty(),
        "{done:?}"
    );
    let theirs = app.discord.posts().last().unwrap().body.to_string();
    assert!(!theirs.contains("never reached herald"), "{theirs}");
}
