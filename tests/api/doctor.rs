//! `herald doctor` against a running herald and the fake platforms: it passes on a correct
//! set-up, and names the one broken part of each broken one.

use crate::helpers::*;
use herald::cli::doctor::{check, Check};
use herald::config::Settings;

const DISCORD_CHANNEL: &str = "645027906669510001";
const SLACK_CHANNEL: &str = "C0DOCTOR01";

/// A correct deployment: a long secret, the public URL of the running server, `/herald`
/// registered, and one subscribed channel on each platform that the bot can use.
async fn deployment() -> (TestApp, Settings) {
    deployment_with(true).await
}

async fn deployment_with(register: bool) -> (TestApp, Settings) {
    let app = spawn_app_with(|s| s.hub.secret = "a-long-random-secret-0123456789".into()).await;
    let mut settings = app.settings.clone();
    settings.server.public_url = app.address.clone();
    if register {
        let register = herald::cli::DiscordCommand::RegisterCommands { guild: None };
        let command = herald::cli::Command::Discord(register);
        herald::cli::run(&settings, command).await.unwrap();
    }
    app.discord.own_channel(DISCORD_CHANNEL, GUILD);
    app.slack.own_channel(SLACK_CHANNEL, "T1");
    for channel in [
        format!("discord:{DISCORD_CHANNEL}"),
        format!("slack:{SLACK_CHANNEL}"),
    ] {
        app.subscribe("acme/*", &channel, &[]).await;
    }
    (app, settings)
}

fn failed(checks: &[Check]) -> Vec<String> {
    checks.iter().filter(|c| !c.ok).map(Check::line).collect()
}

/// Exactly one check fails, and it says `want`.
async fn fails_with(settings: &Settings, want: &str) {
    let failed = failed(&check(settings).await);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(failed[0].contains(want), "{}", failed[0]);
}

#[tokio::test]
async fn doctor_passes_on_a_correct_deployment() {
    let (_app, settings) = deployment().await;
    let checks = check(&settings).await;
    assert_eq!(failed(&checks), Vec::<String>::new());
    let lines: Vec<String> = checks.iter().map(Check::line).collect();
    let report = lines.join("\n");
    for part in [
        "✓ database: all",
        "✓ hub.secret",
        "/healthz answers",
        "✓ Discord: the bot token is valid (herald)",
        "✓ Discord: /herald is registered, as this version defines it",
        &format!("✓ Discord: the bot sees discord:{DISCORD_CHANNEL}"),
        "✓ Slack: the bot token is valid (team Acme)",
        &format!("✓ Slack: the bot is in slack:{SLACK_CHANNEL}"),
        "✓ templates",
    ] {
        assert!(report.contains(part), "{part}:\n{report}");
    }
}

#[tokio::test]
async fn doctor_names_what_is_broken() {
    let (app, settings) = deployment().await;

    let mut s = settings.clone();
    s.hub.secret = "change-me".into();
    fails_with(
        &s,
        "hub.secret is the shipped \"change-me\": set HERALD_HUB__SECRET",
    )
    .await;

    let mut s = settings.clone();
    s.server.public_url = "http://127.0.0.1:9".into();
    fails_with(&s, "http://127.0.0.1:9/healthz does not answer").await;

    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("repo.hbs"), "{{shout repo.name}}").unwrap();
    let mut s = settings.clone();
    s.templates.dir = bad.path().to_path_buf();
    fails_with(&s, "unknown helper \"shout\"").await;

    // A channel the bot cannot see, then one the bot was removed from.
    let out = app.subscribe("*", "discord:111111111111111111", &[]).await;
    let sub: i64 = out
        .split('#')
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    fails_with(
        &settings,
        &format!(
            "discord:111111111111111111 (subscription #{sub}) answers HTTP 404 Unknown Channel"
        ),
    )
    .await;
    herald::store::subscriptions::remove(&app.store.pool, sub)
        .await
        .unwrap();
    app.slack.leave(SLACK_CHANNEL);
    fails_with(&settings, "type /invite @herald in that channel").await;
}

#[tokio::test]
async fn doctor_names_revoked_tokens_unregistered_commands_and_open_databases() {
    let (app, settings) = deployment().await;
    app.slack.revoke_token();
    fails_with(&settings, "Slack refuses the bot token (invalid_auth)").await;

    let (app, settings) = deployment().await;
    app.discord.revoke_token();
    fails_with(&settings, "Discord refuses the bot token (401)").await;

    let (_app, settings) = deployment_with(false).await;
    fails_with(
        &settings,
        "/herald is not registered (globally): run herald discord register-commands",
    )
    .await;

    let (app, settings) = deployment().await;
    use std::os::unix::fs::PermissionsExt;
    let db = app.store.path.clone();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    fails_with(&settings, &format!("chmod 600 {}", db.display())).await;
}

#[tokio::test]
async fn doctor_checks_the_hub_api_and_its_token() {
    let (_app, mut settings) = deployment().await;
    let report = |checks: &[Check]| {
        checks
            .iter()
            .map(Check::line)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let checks = check(&settings).await;
    assert!(
        report(&checks).contains("✓ Hub API: off"),
        "{}",
        report(&checks)
    );

    let hub = crate::fakehub::FakeHub::start().await;
    settings.hub.api_base = hub.base.clone();
    settings.hub.enrich_timeout_ms = 5000;
    let checks = check(&settings).await;
    assert!(
        report(&checks).contains("no hub.token, so public repos only"),
        "{}",
        report(&checks)
    );

    settings.hub.token = crate::fakehub::HUB_TOKEN.into();
    let checks = check(&settings).await;
    assert!(
        report(&checks).contains("accepts hub.token (it reads as hub.js)"),
        "{}",
        report(&checks)
    );
    assert!(!report(&checks).contains(crate::fakehub::HUB_TOKEN));

    settings.hub.token = "hf_revoked".into();
    fails_with(&settings, "hub.token is refused (401)").await;
    settings.hub.api_base = "http://127.0.0.1:9".into();
    fails_with(&settings, "the Hub could not be reached").await;
}
