//! `why`: for any stored event, each subscription that could have had it says whether it
//! did and why not; a workspace sees only its own subscriptions and events it could have
//! received.

use crate::filters::{cli_subscribe, pr, push_to, scoped};
use crate::helpers::*;
use herald::cli::{self, Command, RuleFlags};
use serde_json::json;

async fn why(app: &TestApp, event_id: i64, channel: Option<&str>) -> String {
    let cmd = Command::Why {
        event_id,
        channel: channel.map(String::from),
    };
    cli::run(&app.settings, cmd).await.unwrap()
}

#[tokio::test]
async fn why_explains_each_subscription_that_could_have_had_the_event() {
    let app = spawn_app().await;
    let all = sub_id(&cli_subscribe(&app, "acme/*", "console:all", RuleFlags::default()).await);
    let merged = RuleFlags {
        filter: Some("is:pr is:merged".into()),
        ..RuleFlags::default()
    };
    let only_merged = sub_id(&cli_subscribe(&app, "acme/*", "console:merged", merged).await);
    let config = sub_id(
        &scoped(
            &app,
            "acme/m",
            "console:config",
            &["repo.config"],
            RuleFlags::default(),
        )
        .await,
    );
    cli_subscribe(&app, "other/*", "console:other", RuleFlags::default()).await;

    let push = event_id(
        app.post_webhook(&push_to("acme/m", "refs/heads/main", 1))
            .await,
    )
    .await;
    app.settled(push).await;
    let out = why(&app, push, None).await;
    assert!(
        out.starts_with(&format!("Event #{push}: repo.content update on acme/m")),
        "{out}"
    );
    assert!(
        out.contains(&format!("#{all} acme/* → console:all: yes: sent.")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "#{only_merged} acme/* → console:merged: no: its filter left it out at `is:pr`."
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "#{config} acme/m → console:config: no: none of its scopes covers this event."
        )),
        "{out}"
    );
    assert!(
        out.contains("1 other subscriptions follow other repos."),
        "{out}"
    );

    let convert = event_id(
        app.post_webhook(&push_to("acme/m", "refs/convert/parquet", 3))
            .await,
    )
    .await;
    let out = why(&app, convert, Some("console:all")).await;
    assert!(
        out.contains("no: noise default: pushes to refs/convert/*"),
        "{out}"
    );
    assert!(
        !out.contains("console:merged"),
        "only the channel asked about: {out}"
    );

    let err = cli::run(
        &app.settings,
        Command::Why {
            event_id: 999_999,
            channel: None,
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("There is no event 999999"), "{err}");
}

#[tokio::test]
async fn a_workspace_asks_why_about_its_own_subscriptions_and_the_events_it_could_get() {
    let app = spawn_app().await;
    cli_subscribe(&app, "acme/*", "console:operator", RuleFlags::default()).await;
    let mut sub = subscribe("acme/*");
    with_option(
        &mut sub,
        json!({ "type": 3, "name": "filter", "value": "is:merged" }),
    );
    answer(&app, &interaction(MANAGE_GUILD, sub)).await;

    let merged = event_id(
        app.post_webhook(&pr("acme/m", 7, "update", "merged", "Add weights"))
            .await,
    )
    .await;
    app.settled(merged).await;
    let ask = |what: String| json!({ "type": 1, "name": "why", "options": [{ "type": 3, "name": "event", "value": what }] });
    let a = answer(&app, &interaction(MANAGE_GUILD, ask(merged.to_string()))).await;
    let text = unescaped(content(&a));
    assert!(
        text.contains(&format!("→ discord:{GUILD_CHANNEL}: yes: sent")),
        "{a}"
    );
    assert!(
        !text.contains("console:operator"),
        "the operator's subscriptions are not shown: {a}"
    );

    // The same event found by its Hub link.
    let link = "https://huggingface.co/acme/m/discussions/7";
    let a = answer(&app, &interaction(MANAGE_GUILD, ask(link.into()))).await;
    assert!(
        unescaped(content(&a)).contains(&format!("Event #{merged}:")),
        "{a}"
    );

    // A private repo's event on the operator's webhook was never this workspace's.
    let mut private = fixture_json("hf/assembled-v3-discussion-update-pr-merged.json");
    private["repo"]["name"] = json!("acme/secret");
    private["repo"]["private"] = json!(true);
    let hidden = event_id(app.post_webhook(private.to_string().as_bytes()).await).await;
    app.settled(hidden).await;
    let a = answer(&app, &interaction(MANAGE_GUILD, ask(hidden.to_string()))).await;
    assert!(unescaped(content(&a)).contains("There is no event"), "{a}");
    assert!(!unescaped(content(&a)).contains("acme/secret"), "{a}");
    let operator = why(&app, hidden, None).await;
    assert!(
        operator.contains("console:operator: yes: sent"),
        "{operator}"
    );
    assert!(
        operator.contains("no: the event came on a webhook it does not hear from"),
        "{operator}"
    );
}
