//! What lands in Discord and Slack: names, links, statuses, and text from the Hub that
//! can neither ping anyone nor break the formatting.

use crate::helpers::*;
use serde_json::{json, Value};

/// Sends one fixture through the real endpoint to a Discord subscription of everything,
/// and returns the body Discord received.
async fn discord_body_for(app: &TestApp, payload: &[u8]) -> Value {
    let before = app.discord.posts().len();
    let id = event_id(app.post_webhook(payload).await).await;
    let got = app.discord.wait_posts(before + 1).await;
    assert!(got.len() > before, "nothing reached Discord for event {id}");
    got[before].body.clone()
}

#[tokio::test]
async fn every_sample_reads_like_a_changelog_line_in_discord() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let cases = [
        (
            "hf/assembled-v3-repo-create-with-tags.json",
            "New model **some\\-user/some\\-repo**",
            "https://huggingface.co/some-user/some-repo",
        ),
        (
            "hf/v0-legacy-add-dataset.json",
            "New dataset **user/dataset\\_id**",
            "https://huggingface.co/datasets/user/dataset_id",
        ),
        (
            "hf/v0-legacy-remove-model.json",
            "Model **user/model\\_id** deleted",
            "https://huggingface.co/user/model_id",
        ),
        (
            "hf/assembled-v3-repo-move.json",
            "Model **some\\-user/some\\-repo** moved to **some\\-user/some\\-new\\-repo**",
            "https://huggingface.co/some-user/some-new-repo",
        ),
        (
            "hf/v2-repo-move-test-stub.json",
            "Dataset **previous\\-name** moved to **webhook\\-test**",
            "https://huggingface.co/datasets/webhook-test",
        ),
        (
            "hf/assembled-v3-repo-content-update.json",
            "2 refs updated in **some\\-user/some\\-repo**",
            "https://huggingface.co/some-user/some-repo",
        ),
        (
            "hf/v2-repo-content-update-dataset.json",
            "New commits in dataset **AresEkb/prof\\_standards\\_sbert\\_large\\_mt\\_nlu\\_ru**",
            "https://huggingface.co/datasets/AresEkb/prof_standards_sbert_large_mt_nlu_ru",
        ),
        (
            "hf/assembled-v3-repo-config-update-private.json",
            "**some\\-user/some\\-repo** is now public",
            "https://huggingface.co/some-user/some-repo",
        ),
        (
            "hf/assembled-v3-repo-config-update-empty.json",
            "Settings changed on **some\\-user/some\\-repo**",
            "https://huggingface.co/some-user/some-repo",
        ),
        (
            "hf/v3-discussion-create-pr.json",
            "New pull request #19 on **openai\\-community/gpt2**: “Update co2 emissions” → `main`",
            "https://huggingface.co/openai-community/gpt2/discussions/19",
        ),
        (
            "hf/assembled-v3-discussion-update-pr-merged.json",
            "Pull request #3 on **some\\-user/some\\-repo** merged: “Hello!”",
            "https://huggingface.co/some-user/some-repo/discussions/3",
        ),
        (
            "hf/assembled-v3-discussion-comment-create.json",
            "New comment on PR #3 “Hello!” in **some\\-user/some\\-repo**",
            "https://huggingface.co/some-user/some-repo/discussions/3#",
        ),
    ];
    for (file, title, url) in cases {
        let body = discord_body_for(&app, &fixture(file)).await;
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"].as_str().unwrap(), title, "{file}");
        assert!(
            embed["url"].as_str().unwrap().starts_with(url),
            "{file}: {}",
            embed["url"]
        );
        assert_eq!(
            body["allowed_mentions"]["parse"],
            json!([]),
            "{file} must ping nobody"
        );
        assert_eq!(body["enforce_nonce"], json!(true));
    }
}

#[tokio::test]
async fn pushes_show_short_shas_and_link_the_commit() {
    let app = spawn_app().await;
    app.subscribe("some-user/some-repo", DISCORD_CHANNEL, &["repo.content"])
        .await;
    let mut payload = fixture_json("hf/assembled-v3-repo-content-update.json");
    payload["updatedRefs"].as_array_mut().unwrap().truncate(1);
    let body = discord_body_for(&app, payload.to_string().as_bytes()).await;
    let embed = &body["embeds"][0];
    assert_eq!(
        embed["title"],
        "1 push to `main` of **some\\-user/some\\-repo**"
    );
    let desc = embed["description"].as_str().unwrap();
    // Both ends link to their commit.
    assert!(desc.contains("[ce9a467](https://huggingface.co/some-user/some-repo/commit/ce9a4674fa833a68d5a73ec355f0ea95eedd60b7) → [575db8b](https://huggingface.co/some-user/some-repo/commit/575db8b7a51b6f85eb06eee540738584589f131c)"), "{desc}");
    let text = desc.replace("commit/ce9a4674fa833a68d5a73ec355f0ea95eedd60b7", "");
    assert!(
        !text.contains("ce9a4674fa833a68d5a73ec355f0ea95eedd60b7"),
        "no full SHAs in the text, only in links"
    );
    assert_eq!(embed["color"], json!(herald::render::BLUE));
}

#[tokio::test]
async fn a_deleted_branch_shows_its_last_commit() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let mut payload = fixture_json("hf/assembled-v3-repo-content-update.json");
    payload["updatedRefs"] = json!([{ "ref": "refs/heads/exp", "oldSha": "9e8d7c6b5a49e8d7c6b5a49e8d7c6b5a49e8d7c6", "newSha": null }]);
    let body = discord_body_for(&app, payload.to_string().as_bytes()).await;
    assert_eq!(
        body["embeds"][0]["title"],
        "Branch `exp` deleted in **some\\-user/some\\-repo**"
    );
    assert_eq!(
        body["embeds"][0]["description"],
        "last commit [9e8d7c6](https://huggingface.co/some-user/some-repo/commit/9e8d7c6b5a49e8d7c6b5a49e8d7c6b5a49e8d7c6)"
    );
}

#[tokio::test]
async fn a_hidden_comment_is_shown_as_hidden_without_its_content() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let mut payload = fixture_json("hf/assembled-v3-discussion-comment-create.json");
    payload["event"]["action"] = json!("update");
    payload["comment"]["hidden"] = json!(true);
    payload["comment"]["content"] = json!("secret spam");
    let body = discord_body_for(&app, payload.to_string().as_bytes()).await;
    let embed = &body["embeds"][0];
    assert_eq!(
        embed["title"],
        "A comment on PR #3 in **some\\-user/some\\-repo** was hidden"
    );
    assert!(!body.to_string().contains("secret spam"));
}

fn hostile_comment() -> Vec<u8> {
    let mut payload = fixture_json("hf/assembled-v3-discussion-comment-create.json");
    payload["discussion"]["title"] =
        json!("@everyone **bold** [x](https://evil.example) <@&123>\nsecond line");
    payload["comment"]["content"] = json!("@here <@&123> <!channel> <@U123> **bold** `code` &amp; < > ||spoiler||\n# heading\n> quote");
    payload.to_string().into_bytes()
}

#[tokio::test]
async fn hub_text_pings_nobody_and_stays_literal_in_discord() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let body = discord_body_for(&app, &hostile_comment()).await;
    assert_eq!(body["allowed_mentions"]["parse"], json!([]));
    assert!(body.get("content").is_none() || body["content"] == json!(""));
    let title = body["embeds"][0]["title"].as_str().unwrap();
    assert!(title.contains("\\@everyone \\*\\*bold\\*\\* \\[x\\]\\(https\\://evil.example\\) \\<\\@&123\\> second line"), "{title}");
    let desc = body["embeds"][0]["description"].as_str().unwrap();
    assert!(desc.starts_with("> \\@here \\<\\@&123\\> \\<!channel\\> \\<\\@U123\\> \\*\\*bold\\*\\* \\`code\\` &amp; \\< \\> \\|\\|spoiler\\|\\|\n> \\# heading\n> \\> quote"), "{desc}");
}

#[tokio::test]
async fn hub_text_pings_nobody_and_stays_literal_in_slack() {
    let app = spawn_app().await;
    app.subscribe("*", SLACK_CHANNEL, &[]).await;
    event_id(app.post_webhook(&hostile_comment()).await).await;
    let got = app.slack.wait_posts(1).await;
    let body = &got[0].body;
    assert_eq!(got[0].path, "/chat.postMessage");
    assert_eq!(got[0].headers["authorization"], "Bearer xoxb-test-token");
    assert_eq!(body["channel"], "C0123ABCDEF");
    assert_eq!(body["unfurl_links"], json!(false));
    let text = body["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(text.contains("&lt;!channel&gt; &lt;@U123&gt;"), "{text}");
    assert!(text.contains("&amp;amp; &lt; &gt;"), "{text}");
    assert!(text.contains("&lt;@&amp;123&gt; second line"), "{text}");
    // The only raw angle brackets left are our own links.
    let raw_links = text.matches('<').count();
    assert_eq!(
        raw_links,
        text.matches("<https://huggingface.co/").count(),
        "{text}"
    );
    assert!(body["text"]
        .as_str()
        .unwrap()
        .starts_with("New comment on PR #3"));
}

#[tokio::test]
async fn long_text_is_cut_to_discords_limits_at_a_character_boundary() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let mut payload = fixture_json("hf/v3-discussion-create-pr.json");
    payload["discussion"]["title"] = json!("é".repeat(5000));
    let body = discord_body_for(&app, payload.to_string().as_bytes()).await;
    let title = body["embeds"][0]["title"].as_str().unwrap();
    assert_eq!(title.chars().count(), 256);
    assert!(title.ends_with('…'));
}

#[tokio::test]
async fn a_comment_is_an_excerpt_cut_at_a_word() {
    let app = spawn_app().await;
    app.subscribe("*", DISCORD_CHANNEL, &[]).await;
    let mut payload = fixture_json("hf/assembled-v3-discussion-comment-create.json");
    payload["comment"]["content"] = json!("word ".repeat(200));
    let body = discord_body_for(&app, payload.to_string().as_bytes()).await;
    let desc = body["embeds"][0]["description"].as_str().unwrap();
    let quote = desc.lines().next().unwrap();
    assert!(quote.ends_with("word…"), "{quote}");
    assert!(quote.chars().count() < 310, "{}", quote.chars().count());
    assert!(desc
        .contains("[Read the comment](https://huggingface.co/some-user/some-repo/discussions/3#"));
}
