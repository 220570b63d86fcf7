//! Filters and noise defaults through the real server: the same filter typed in the CLI,
//! Discord and Slack selects the same events; conversion and PR-ref pushes are left out
//! unless asked for; what the Hub API must decide waits for it, and is never dropped on
//! a guess.

use crate::helpers::*;
use herald::cli::{self, Command, RuleFlags};
use serde_json::{json, Value};

const SLACK_ADMIN: &str = "U0ADMIN";
const SLACK_CHANNEL: &str = "slack:C0123ABCDEF";

pub fn push_to(repo: &str, full_ref: &str, n: usize) -> Vec<u8> {
    let mut p = fixture_json("hf/assembled-v3-repo-content-update.json");
    p["repo"]["name"] = json!(repo);
    p["updatedRefs"] = json!([{ "ref": full_ref, "oldSha": format!("{:040x}", n), "newSha": format!("{:040x}", n + 1) }]);
    p.to_string().into_bytes()
}

pub fn pr(repo: &str, num: u64, action: &str, status: &str, title: &str) -> Vec<u8> {
    let mut p = fixture_json("hf/assembled-v3-discussion-update-pr-merged.json");
    p["event"]["action"] = json!(action);
    p["repo"]["name"] = json!(repo);
    p["discussion"]["num"] = json!(num);
    p["discussion"]["status"] = json!(status);
    p["discussion"]["title"] = json!(title);
    p.to_string().into_bytes()
}

pub async fn cli_subscribe(app: &TestApp, target: &str, channel: &str, rules: RuleFlags) -> String {
    let cmd = Command::Subscribe {
        target: target.into(),
        channel: channel.into(),
        scopes: vec![],
        threads: Some("none".into()),
        rules,
    };
    cli::run(&app.settings, cmd).await.unwrap()
}

fn filtered(f: &str) -> RuleFlags {
    RuleFlags {
        filter: Some(f.into()),
        ..RuleFlags::default()
    }
}

/// The channels each event reached, once settled.
async fn reached(app: &TestApp, bodies: &[Vec<u8>]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in bodies {
        let id = event_id(app.post_webhook(b).await).await;
        let mut got: Vec<String> = app
            .settled(id)
            .await
            .into_iter()
            .filter(|d| d.status == herald::store::deliveries::Status::Sent)
            .map(|d| d.channel)
            .collect();
        got.sort();
        out.push(got);
    }
    out
}

#[tokio::test]
async fn the_same_filter_typed_in_the_cli_discord_and_slack_selects_the_same_events() {
    let app = spawn_app().await;
    app.slack.make_admin(SLACK_ADMIN);
    let filter = r#"(is:pr is:merged) OR (ref:main -title:"wip") OR title:"release notes""#;
    let out = cli_subscribe(&app, "acme/*", "console:cli", filtered(filter)).await;
    assert!(
        out.contains("filter: is:pr is:merged OR ref:main -title:wip OR title:\"release notes\""),
        "{out}"
    );

    let mut sub = subscribe("acme/*");
    with_option(
        &mut sub,
        json!({ "type": 3, "name": "filter", "value": filter }),
    );
    with_option(
        &mut sub,
        json!({ "type": 3, "name": "threads", "value": "none" }),
    );
    let a = answer(&app, &interaction(MANAGE_GUILD, sub)).await;
    assert!(content(&a).contains("Subscribed"), "{a}");

    let quoted = filter.replace('"', "\\\"");
    let a = app
        .slack_command(
            SLACK_ADMIN,
            &format!("subscribe acme/* threads=none filter:\"{quoted}\""),
        )
        .await;
    let text = a["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("Subscribed") && text.contains("filter: is:pr is:merged"),
        "{a}"
    );

    let discord = format!("discord:{GUILD_CHANNEL}");
    let everyone = {
        let mut v = vec![
            "console:cli".to_string(),
            discord.clone(),
            SLACK_CHANNEL.to_string(),
        ];
        v.sort();
        v
    };
    let got = reached(
        &app,
        &[
            pr("acme/m", 1, "update", "merged", "Add weights"),
            pr("acme/m", 2, "create", "open", "Add weights"),
            pr("acme/m", 3, "update", "closed", "Drop it"),
            push_to("acme/m", "refs/heads/main", 1),
            push_to("acme/m", "refs/heads/dev", 3),
            pr("acme/m", 4, "create", "open", "Release notes for v2"),
            pr("other/m", 5, "update", "merged", "Elsewhere"),
        ],
    )
    .await;
    let none: Vec<String> = vec![];
    assert_eq!(
        got,
        [
            everyone.clone(),
            none.clone(),
            none.clone(),
            everyone.clone(),
            none.clone(),
            everyone,
            none
        ]
    );

    let listed = cli::run(&app.settings, Command::Subscriptions { json: false })
        .await
        .unwrap();
    assert_eq!(
        listed
            .matches("filter: is:pr is:merged OR ref:main")
            .count(),
        3,
        "{listed}"
    );
}

#[tokio::test]
async fn a_bad_filter_is_refused_everywhere_with_the_term_and_what_is_allowed() {
    let app = spawn_app().await;
    app.slack.make_admin(SLACK_ADMIN);
    let err = cli::run(
        &app.settings,
        Command::Subscribe {
            target: "acme/*".into(),
            channel: "console:x".into(),
            scopes: vec![],
            threads: None,
            rules: filtered("is:pr is:mreged"),
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`is:mreged`") && err.contains("merged, reopened"),
        "{err}"
    );

    let mut sub = subscribe("acme/*");
    with_option(
        &mut sub,
        json!({ "type": 3, "name": "filter", "value": "colour:red" }),
    );
    let a = answer(&app, &interaction(MANAGE_GUILD, sub)).await;
    let shown = unescaped(content(&a));
    assert!(
        shown.contains("`colour:`") && shown.contains("is:, action:, scope:"),
        "{a}"
    );
    let a = app
        .slack_command(SLACK_ADMIN, "subscribe acme/* filter:\"(is:pr\"")
        .await;
    assert!(a["text"].as_str().unwrap().contains("never closed"), "{a}");
    let listed = cli::run(&app.settings, Command::Subscriptions { json: true })
        .await
        .unwrap();
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        0,
        "nothing saved: {listed}"
    );
}

#[tokio::test]
async fn a_filter_is_changed_and_removed_from_the_cli_and_chat() {
    let app = spawn_app().await;
    app.slack.make_admin(SLACK_ADMIN);
    let out = cli_subscribe(&app, "acme/*", "console:c", RuleFlags::default()).await;
    let id: i64 = out
        .split('#')
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let out = cli::run(
        &app.settings,
        Command::Filter {
            id,
            expr: "is:pr".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        out.starts_with("Filter saved") && out.contains("filter: is:pr"),
        "{out}"
    );
    let got = reached(&app, &[push_to("acme/m", "refs/heads/main", 1)]).await;
    assert!(got[0].is_empty(), "filtered: {got:?}");
    let out = cli::run(
        &app.settings,
        Command::Filter {
            id,
            expr: String::new(),
        },
    )
    .await
    .unwrap();
    assert!(
        out.starts_with("Filter removed") && !out.contains("filter:"),
        "{out}"
    );
    let got = reached(&app, &[push_to("acme/m", "refs/heads/main", 5)]).await;
    assert_eq!(got[0], ["console:c"]);

    // In Slack, the rest of the text is the filter; another workspace's id is not found.
    let a = app.slack_command(SLACK_ADMIN, "subscribe acme/x").await;
    let text = a["text"].as_str().unwrap();
    let mine: i64 = text
        .split('#')
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let a = app
        .slack_command(SLACK_ADMIN, &format!("filter {mine} ref:main -author:bot"))
        .await;
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains("filter: ref:main -author:bot"),
        "{a}"
    );
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains("author: need the Hub API"),
        "enrichment is off in these tests, and the reply says so: {a}"
    );
    let a = app
        .slack_command(SLACK_ADMIN, &format!("filter {id} is:pr"))
        .await;
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains(&format!("no subscription #{id}")),
        "{a}"
    );
}

#[tokio::test]
async fn noise_defaults_leave_out_conversion_and_pr_ref_pushes_unless_all() {
    let app = spawn_app().await;
    cli_subscribe(&app, "acme/*", "console:quiet", RuleFlags::default()).await;
    let all = RuleFlags {
        all: true,
        ..RuleFlags::default()
    };
    let out = cli_subscribe(&app, "acme/*", "console:everything", all).await;
    assert!(out.contains("noise defaults off"), "{out}");
    // Only pushes: it does not hear of the PR itself, so its ref's pushes are news here.
    cli::run(
        &app.settings,
        Command::Subscribe {
            target: "acme/m".into(),
            channel: "console:pushes".into(),
            scopes: vec!["repo.content".into()],
            threads: None,
            rules: RuleFlags::default(),
        },
    )
    .await
    .unwrap();
    let got = reached(
        &app,
        &[
            push_to("acme/m", "refs/convert/parquet", 1),
            push_to("acme/m", "refs/pr/3", 3),
            push_to("acme/m", "refs/heads/main", 5),
        ],
    )
    .await;
    assert_eq!(got[0], ["console:everything"]);
    assert_eq!(got[1], ["console:everything", "console:pushes"]);
    assert_eq!(
        got[2],
        ["console:everything", "console:pushes", "console:quiet"]
    );

    let listed = cli::run(&app.settings, Command::Subscriptions { json: false })
        .await
        .unwrap();
    assert!(
        listed.contains("refs/convert/*"),
        "the defaults are shown: {listed}"
    );
}

#[tokio::test]
async fn what_only_the_hub_api_knows_is_delivered_with_a_note_when_it_is_off() {
    let app = spawn_app().await;
    cli_subscribe(&app, "acme/*", "console:humans", filtered("-author:bot")).await;
    cli_subscribe(
        &app,
        "acme/*",
        "console:weights",
        filtered("changed:weights is:push"),
    )
    .await;
    let id = event_id(
        app.post_webhook(&push_to("acme/m", "refs/heads/main", 1))
            .await,
    )
    .await;
    let done = app.settled(id).await;
    assert_eq!(done.len(), 2, "{done:?}");
    for d in &done {
        assert_eq!(d.status, herald::store::deliveries::Status::Sent, "{d:?}");
        let note = d.note.as_deref().unwrap_or_default();
        assert!(note.contains("could not be checked"), "{d:?}");
    }
    // A comment changes no files: decided without the Hub API, and left out.
    let mut comment = fixture_json("hf/assembled-v3-discussion-comment-create.json");
    comment["repo"]["name"] = json!("acme/m");
    let id = event_id(app.post_webhook(comment.to_string().as_bytes()).await).await;
    assert!(app
        .settled(id)
        .await
        .iter()
        .all(|d| d.channel != "console:weights"));
}
