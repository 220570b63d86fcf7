//! Messages say exactly what happened (issue 16): the Hub's own names accepted, no
//! "reopened" that the payload does not support, the repo's type named, both ends of a
//! branch update linked. Discord and Slack through the real server; the console through
//! `herald render` and the renderer.

use crate::helpers::*;
use herald::cli::{self, Command, RenderPlatform};
use herald::hub::payload;
use herald::render::Renderer;
use herald::route::Platform;
use serde_json::{json, Value};

fn with_repo(file: &str, kind: &str, name: &str) -> Value {
    let mut p = fixture_json(file);
    p["repo"]["type"] = json!(kind);
    p["repo"]["name"] = json!(name);
    p
}

/// The headline on the console, as `herald render` prints it.
async fn console(app: &TestApp, payload: &Value) -> String {
    let file = app.dir.path().join(format!("{}.json", unique_id()));
    std::fs::write(&file, payload.to_string()).unwrap();
    let render = Command::Render {
        payload: file,
        platform: RenderPlatform::Console,
    };
    cli::run(&app.settings, render).await.unwrap()
}

/// The Discord title and the Slack text of one event sent to both.
async fn posted(app: &TestApp, payload: &Value) -> (String, String) {
    let (d, s) = (app.discord.posts().len(), app.slack.posts().len());
    let id = event_id(app.post_webhook(payload.to_string().as_bytes()).await).await;
    app.settled(id).await;
    let discord = app.discord.wait_posts(d + 1).await[d].body["embeds"][0]["title"].clone();
    let slack = app.slack.wait_posts(s + 1).await[s].body["text"].clone();
    (
        discord.as_str().unwrap().into(),
        slack.as_str().unwrap().into(),
    )
}

async fn app() -> TestApp {
    let app = spawn_app().await;
    for channel in [DISCORD_CHANNEL, SLACK_CHANNEL] {
        let sub = Command::Subscribe {
            target: "*".into(),
            channel: channel.into(),
            scopes: vec![],
            threads: Some("none".into()),
            rules: Default::default(),
        };
        cli::run(&app.settings, sub).await.unwrap();
    }
    app
}

#[tokio::test]
async fn the_hubs_own_names_are_accepted_and_an_unusable_one_names_its_rule() {
    let app = app().await;
    let push = "hf/assembled-v3-repo-content-update.json";
    // A trailing '-', which people may not type, but the Hub may send.
    let odd = with_repo(push, "model", "acme/model-");
    let (discord, slack) = posted(&app, &odd).await;
    assert_eq!(discord, "2 refs updated in **acme/model\\-**");
    assert_eq!(slack, "2 refs updated in *acme/model-*");
    assert!(console(&app, &odd)
        .await
        .contains("2 refs updated in acme/model-"));
    // Markup and mentions in a name are shown, not obeyed.
    let (discord, slack) = posted(&app, &with_repo(push, "model", "<@&123>/x")).await;
    assert!(discord.contains("\\<\\@&123\\>/x"), "{discord}");
    assert!(slack.contains("&lt;@&amp;123&gt;/x"), "{slack}");

    // What herald cannot hold is refused, saying which rule it breaks.
    let posts = app.discord.posts().len();
    let resp = app
        .post_webhook(with_repo(push, "model", "acme/a/b").to_string().as_bytes())
        .await;
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    let text = err["error"].as_str().unwrap();
    assert!(
        text.contains("\"acme/a/b\" is not a repo name: it has more than one '/' (owner/name)"),
        "{text}"
    );
    assert_eq!(app.discord.posts().len(), posts);
}

fn pr_update(status: &str) -> Value {
    let mut p = fixture_json("hf/assembled-v3-discussion-update-pr-merged.json");
    p["discussion"]["status"] = json!(status);
    p.as_object_mut().unwrap().remove("comment");
    p
}

#[tokio::test]
async fn an_open_pr_is_reopened_only_when_it_was_known_to_be_closed() {
    let app = app().await;
    // Nothing known before: a title edit sends this very shape.
    let (discord, slack) = posted(&app, &pr_update("open")).await;
    assert_eq!(
        discord,
        "Pull request #3 on **some\\-user/some\\-repo** updated: “Hello!”"
    );
    assert_eq!(
        slack,
        "Pull request #3 on *some-user/some-repo* updated: “Hello!”"
    );
    let (discord, _) = posted(&app, &pr_update("closed")).await;
    assert!(discord.contains(" closed: "), "{discord}");
    // Closed before (an event herald stored): now it is a reopening.
    let (discord, slack) = posted(&app, &pr_update("open")).await;
    assert_eq!(
        discord,
        "Pull request #3 on **some\\-user/some\\-repo** reopened: “Hello!”"
    );
    assert_eq!(
        slack,
        "Pull request #3 on *some-user/some-repo* reopened: “Hello!”"
    );
    // And open after open is an update again.
    let (discord, _) = posted(&app, &pr_update("open")).await;
    assert!(discord.contains(" updated: "), "{discord}");

    // The console, from the same template: `herald render` knows no history.
    assert!(console(&app, &pr_update("open"))
        .await
        .contains(" updated: "));
    let renderer = Renderer::load(None).unwrap();
    let mut event = payload::normalize(&pr_update("open")).unwrap();
    event.status_before = Some("closed".into());
    let msg = renderer.render(&event, Platform::Console).unwrap();
    assert_eq!(
        msg.headline,
        "Pull request #3 on some-user/some-repo reopened: “Hello!”"
    );
    event.status_before = Some("draft".into());
    let msg = renderer.render(&event, Platform::Console).unwrap();
    assert!(
        msg.headline.contains(" ready for review: "),
        "{}",
        msg.headline
    );
}

#[tokio::test]
async fn datasets_and_spaces_say_so_in_every_headline() {
    let app = app().await;
    let files = [
        "hf/assembled-v3-repo-content-update.json",
        "hf/assembled-v3-repo-config-update-private.json",
        "hf/assembled-v3-repo-config-update-empty.json",
        "hf/assembled-v3-discussion-update-pr-merged.json",
        "hf/assembled-v3-discussion-comment-create.json",
        "hf/v3-discussion-create-pr.json",
    ];
    for (kind, word, label) in [
        ("dataset", "dataset", "Dataset"),
        ("space", "Space", "Space"),
    ] {
        for file in files {
            let payload = with_repo(file, kind, "acme/thing");
            let (discord, slack) = posted(&app, &payload).await;
            let said =
                |s: &str| s.contains(&format!("{word} ")) || s.starts_with(&format!("{label} "));
            assert!(said(&discord), "{file} on Discord: {discord}");
            assert!(said(&slack), "{file} on Slack: {slack}");
            let shown = console(&app, &payload).await;
            let headline = shown.lines().nth(1).unwrap_or_default();
            assert!(said(headline), "{file} on the console: {shown}");
        }
    }
    // A model is the default, not said.
    let (discord, _) = posted(&app, &fixture_json("hf/v3-discussion-create-pr.json")).await;
    assert!(
        discord.starts_with("New pull request #19 on **openai"),
        "{discord}"
    );
}

#[tokio::test]
async fn both_ends_of_a_branch_update_link_to_their_commits() {
    let app = app().await;
    let mut payload = fixture_json("hf/assembled-v3-repo-content-update.json");
    payload["updatedRefs"].as_array_mut().unwrap().truncate(1);
    posted(&app, &payload).await;
    let base = "https://huggingface.co/some-user/some-repo/commit";
    let old = "ce9a4674fa833a68d5a73ec355f0ea95eedd60b7";
    let new = "575db8b7a51b6f85eb06eee540738584589f131c";
    let slack = app.slack.posts()[0].body["blocks"][0]["text"]["text"].clone();
    let want = format!("<{base}/{old}|ce9a467> → <{base}/{new}|575db8b>");
    assert!(slack.as_str().unwrap().contains(&want), "{slack}");
    let shown = console(&app, &payload).await;
    let want = format!("ce9a467 ({base}/{old}) → 575db8b ({base}/{new})");
    assert!(shown.contains(&want), "{shown}");
}

#[tokio::test]
async fn a_cut_headline_closes_its_markup_on_every_platform() {
    let app = app().await;
    let mut payload = fixture_json("hf/assembled-v3-repo-content-update.json");
    let long = format!("feature/{}", "x".repeat(300));
    payload["updatedRefs"] = json!([{ "ref": format!("refs/heads/{long}"),
        "oldSha": "ce9a4674fa833a68d5a73ec355f0ea95eedd60b7", "newSha": "575db8b7a51b6f85eb06eee540738584589f131c" }]);
    let (discord, slack) = posted(&app, &payload).await;
    // "1 push to `feature/xxx…" was left with its code span open.
    assert!(discord.starts_with("1 push to `feature/xxx"), "{discord}");
    assert!(discord.ends_with("`…"), "{discord}");
    assert!(discord.chars().count() <= 256);
    assert_eq!(discord.matches('`').count(), 2, "{discord}");
    assert!(slack.starts_with("1 push to `feature/xxx"), "{slack}");
    assert_eq!(slack.matches('`').count() % 2, 0, "{slack}");
    // The console has no limit: the whole name.
    assert!(console(&app, &payload).await.contains(&long));
}

#[tokio::test]
async fn a_cut_list_says_how_many_it_left_out_and_links_to_them() {
    let app = app().await;
    let mut payload = fixture_json("hf/assembled-v3-repo-content-update.json");
    let refs: Vec<Value> = (0..25)
        .map(|i| json!({ "ref": format!("refs/heads/a-rather-long-branch-name-{i:02}-{}", "y".repeat(60)),
            "oldSha": "ce9a4674fa833a68d5a73ec355f0ea95eedd60b7", "newSha": "575db8b7a51b6f85eb06eee540738584589f131c" }))
        .collect();
    payload["updatedRefs"] = json!(refs);
    let (discord, _) = posted(&app, &payload).await;
    assert_eq!(discord, "25 refs updated in **some\\-user/some\\-repo**");
    let embed = &app.discord.posts()[0].body["embeds"][0];
    let description = embed["description"].as_str().unwrap();
    let shown = description
        .lines()
        .filter(|l| l.starts_with("Branch "))
        .count();
    assert!(
        shown < 25,
        "the list is longer than Discord's 4096: {description}"
    );
    let last = description.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "[and {} more](https://huggingface.co/some-user/some-repo)",
            25 - shown
        )
    );
    for line in description.lines().filter(|l| l.starts_with("Branch ")) {
        assert!(line.ends_with(')'), "never an item cut in half: {line}");
    }
    // Slack spreads it over sections: every ref shown, none cut.
    let blocks = app.slack.posts()[0].body["blocks"].clone();
    let text: String = blocks
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("Branch ")).count(),
        25,
        "{text}"
    );
    // The console shows all.
    assert_eq!(console(&app, &payload).await.matches("Branch ").count(), 25);
}

#[tokio::test]
async fn another_endpoints_events_never_decide_a_reopening() {
    let app = app().await;
    // A workspace stores a "closed" for the operator's discussion.
    let (endpoint, secret) = workspace_endpoint(&app, "some-user/some-repo").await;
    let forged = pr_update("closed").to_string().into_bytes();
    let id = event_id(post_endpoint(&app, &endpoint, &secret, &forged).await).await;
    app.settled(id).await;
    // The operator's webhook then sends an update of the open PR: not a reopening.
    let (discord, slack) = posted(&app, &pr_update("open")).await;
    assert!(discord.contains(" updated: "), "{discord}");
    assert!(slack.contains(" updated: "), "{slack}");
}
