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
    scoped(app, target, channel, &[], rules).await
}

/// Subscribes from the CLI with scopes (none: all), without threads.
pub async fn scoped(
    app: &TestApp,
    target: &str,
    channel: &str,
    scopes: &[&str],
    rules: RuleFlags,
) -> String {
    let cmd = Command::Subscribe {
        target: target.into(),
        channel: channel.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
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
    let id = sub_id(&out);
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
    // Subscribing again for another scope keeps the filter and mode not given again;
    // an empty filter removes it.
    let digest = RuleFlags {
        filter: Some("is:pr".into()),
        mode: Some("daily 18:00".into()),
        ..RuleFlags::default()
    };
    let out = scoped(&app, "acme/*", "console:c", &["repo"], digest).await;
    assert!(
        out.contains("filter: is:pr, digest daily 18:00 UTC"),
        "{out}"
    );
    let out = scoped(
        &app,
        "acme/*",
        "console:c",
        &["discussion"],
        RuleFlags::default(),
    )
    .await;
    assert!(
        out.contains("filter: is:pr, digest daily 18:00 UTC"),
        "{out}"
    );
    let out = scoped(&app, "acme/*", "console:c", &[], filtered("")).await;
    assert!(
        !out.contains("filter:") && out.contains("digest daily 18:00"),
        "{out}"
    );
    let instant = RuleFlags {
        mode: Some("instant".into()),
        ..RuleFlags::default()
    };
    let out = scoped(&app, "acme/*", "console:c", &[], instant).await;
    assert!(!out.contains("digest"), "{out}");
    // A zone given to an instant subscription is kept for when it becomes a digest.
    let zone = RuleFlags {
        tz: Some("Europe/Paris".into()),
        ..RuleFlags::default()
    };
    scoped(&app, "acme/*", "console:c", &[], zone).await;
    let daily = RuleFlags {
        mode: Some("daily 07:30".into()),
        ..RuleFlags::default()
    };
    let out = scoped(&app, "acme/*", "console:c", &[], daily).await;
    assert!(out.contains("digest daily 07:30 Europe/Paris"), "{out}");

    // In Slack, the rest of the text is the filter; another workspace's id is not found.
    let a = app.slack_command(SLACK_ADMIN, "subscribe acme/x").await;
    let text = a["text"].as_str().unwrap();
    let mine = sub_id(text);
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
        all: Some(true),
        ..RuleFlags::default()
    };
    let out = cli_subscribe(&app, "acme/*", "console:everything", all).await;
    assert!(out.contains("noise defaults off"), "{out}");
    // Only pushes: it does not hear of the PR itself, so its ref's pushes are news here.
    scoped(
        &app,
        "acme/m",
        "console:pushes",
        &["repo.content"],
        RuleFlags::default(),
    )
    .await;
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

#[tokio::test]
async fn authors_and_files_are_decided_once_the_hub_api_answers_and_the_reason_is_kept() {
    let hub = crate::fakehub::FakeHub::start().await;
    let bot = hub.linear("acme/model", 11, 3, "parquet-converter");
    let human = hub.linear("acme/other", 12, 3, "julien-c");
    let readme = "T 9\t:100644 100644 97e7432a448baa9e97ec5e4f03c57b09b8e116ed... 30a03d21620ebc6167e350aef9e2ac2774cf372d... M\tREADME.md\n";
    let weights = "T 9000\t:100644 100644 97e7432a448baa9e97ec5e4f03c57b09b8e116ed... 30a03d21620ebc6167e350aef9e2ac2774cf372d... M\tmodel.safetensors\n";
    hub.compare(&bot[0], &bot[2], readme);
    hub.compare(&human[0], &human[2], weights);
    let base = hub.base.clone();
    let app = spawn_app_with(move |s| {
        s.hub.api_base = base;
        s.hub.enrich_timeout_ms = 3000;
    })
    .await;
    cli_subscribe(&app, "acme/*", "console:humans", filtered("-author:bot")).await;
    cli_subscribe(
        &app,
        "acme/*",
        "console:weights",
        filtered("changed:weights"),
    )
    .await;
    // A channel where a filtered subscription of the repo sits beside an unfiltered one
    // of the owner: the channel gets each event once, whatever the filter says.
    cli_subscribe(
        &app,
        "acme/model",
        "console:both",
        filtered("author:julien-c"),
    )
    .await;
    cli_subscribe(&app, "acme/*", "console:both", RuleFlags::default()).await;

    let push = |repo: &str, ids: &[String]| {
        let mut p = fixture_json("hf/assembled-v3-repo-content-update.json");
        p["repo"]["name"] = json!(repo);
        p["updatedRefs"] =
            json!([{ "ref": "refs/heads/main", "oldSha": ids[0], "newSha": ids[2] }]);
        p.to_string().into_bytes()
    };
    let id = event_id(app.post_webhook(&push("acme/model", &bot)).await).await;
    let mut done = app.settled(id).await;
    done.sort_by(|a, b| a.channel.cmp(&b.channel));
    let outcome: Vec<(&str, &str, &str)> = done
        .iter()
        .map(|d| {
            (
                d.channel.as_str(),
                d.status.as_str(),
                d.last_error.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(outcome.len(), 3, "{outcome:?}");
    assert_eq!(outcome[0].0, "console:both");
    assert_eq!(outcome[0].1, "sent");
    assert_eq!(outcome[1].0, "console:humans");
    assert_eq!(outcome[1].1, "skipped");
    assert!(
        outcome[1].2.contains("left it out at `-author:bot`"),
        "{outcome:?}"
    );
    assert_eq!(outcome[2].0, "console:weights");
    assert_eq!(outcome[2].1, "skipped");
    assert!(outcome[2].2.contains("`changed:weights`"), "{outcome:?}");

    let id = event_id(app.post_webhook(&push("acme/other", &human)).await).await;
    let done = app.settled(id).await;
    assert_eq!(done.len(), 3, "{done:?}");
    assert!(
        done.iter()
            .all(|d| d.status.as_str() == "sent" && d.note.is_none()),
        "{done:?}"
    );

    let events = cli::run(&app.settings, Command::Events { limit: 5 })
        .await
        .unwrap();
    assert!(
        events.contains("1 channel (1 sent, 2 left out by a filter)"),
        "{events}"
    );
}
