//! The real binary, killed with SIGKILL in the middle of a burst and started again:
//! nothing lost, nothing posted twice. And the activity log and replay.

use crate::helpers::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const EVENTS: usize = 30;

fn config(dir: &Path, discord: &FakeApi) {
    let text = format!(
        r#"[database]
url = "sqlite://{db}"
[hub]
secret = "{SECRET}"
[discord]
token = "t"
api_base = "{base}"
[delivery]
lease_ms = 1000
retry_base_ms = 50
retry_max_ms = 200
[[subscriptions]]
target = "acme/*"
channel = "{DISCORD_CHANNEL}"
threads = "none"
"#,
        db = dir.join("h.db").display(),
        base = discord.base,
    );
    std::fs::write(dir.join("bot.toml"), text).unwrap();
}

fn sha(i: usize) -> String {
    format!("{i:07x}{}", "c".repeat(33))
}

fn push(i: usize) -> Vec<u8> {
    let mut p = fixture_json("hf/assembled-v3-repo-content-update.json");
    p["repo"]["name"] = json!("acme/busy");
    // One chain, as the Hub sends it: each push starts where the one before ended.
    let old = match i {
        0 => "ce9a4674fa833a68d5a73ec355f0ea95eedd60b7".to_string(),
        i => sha(i - 1),
    };
    p["updatedRefs"] = json!([{ "ref": "refs/heads/main", "oldSha": old, "newSha": sha(i) }]);
    p.to_string().into_bytes()
}

async fn open_deliveries(db: &Path) -> i64 {
    let store = herald::store::Store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending')")
        .fetch_one(&store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_process_killed_mid_burst_loses_nothing_and_posts_nothing_twice_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let discord = FakeApi::start(Kind::Discord).await;
    discord.rate_limit(2, Duration::from_millis(1000));
    config(dir.path(), &discord);
    let (mut child, addr, _logs) = serve(dir.path());
    let client = reqwest::Client::new();
    for i in 0..EVENTS {
        let resp = client
            .post(format!("{addr}/webhooks/hf"))
            .header("X-Webhook-Secret", SECRET)
            .header("Content-Type", "application/json")
            .body(push(i))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
    }
    for _ in 0..200 {
        if discord.created().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no chance to finish or release anything
    child.wait().unwrap();
    let left = open_deliveries(&dir.path().join("h.db")).await;
    assert!(
        left > 0,
        "killed in the middle of the burst, with {left} deliveries to go"
    );

    let (child, _, _) = serve(dir.path());
    for _ in 0..300 {
        if open_deliveries(&dir.path().join("h.db")).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    terminate(child);
    assert_eq!(
        open_deliveries(&dir.path().join("h.db")).await,
        0,
        "every accepted event was delivered"
    );
    let shown = discord.shown();
    for i in 0..EVENTS {
        let short = &sha(i)[..7];
        assert_eq!(
            shown.matches(&format!("→ [{short}]")).count(),
            1,
            "commit {i} shown exactly once:\n{shown}"
        );
    }
}

#[tokio::test]
async fn the_activity_log_lists_events_and_failed_deliveries_and_replay_delivers_again() {
    let app = spawn_app_with(|s| s.delivery.merge_bursts = false).await;
    let sub = herald::cli::Command::Subscribe {
        target: "acme/*".into(),
        channel: DISCORD_CHANNEL.into(),
        scopes: vec![],
        threads: Some("none".into()),
        rules: Default::default(),
    };
    herald::cli::run(&app.settings, sub).await.unwrap();
    app.discord.script(vec![Reply(
        404,
        vec![],
        json!({ "message": "Unknown Channel", "code": 10003 }),
    )]);
    let id = event_id(app.post_webhook(&push(1)).await).await;
    app.settled(id).await;

    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .env("HERALD_DATABASE__URL", &app.settings.database.url)
            .env("HERALD_HUB__SECRET", SECRET)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let events = run(&["events"]);
    assert!(
        events.contains(&format!("#{id} "))
            && events.contains(
                "update repo.content model/acme/busy via operator (v3): 1 channel (1 failed)"
            ),
        "{events}"
    );
    let failed = run(&["deliveries", "--failed"]);
    assert!(
        failed.contains("failed, 1 tries")
            && failed.contains("error: discord: HTTP 404 (code 10003): Unknown Channel"),
        "{failed}"
    );

    let replayed = run(&["replay", &id.to_string()]);
    assert!(
        replayed.contains(&format!(
            "Replayed event #{id} as event #{}: 1 deliveries queued",
            id + 1
        )),
        "{replayed}"
    );
    let again = app.settled(id + 1).await;
    assert_eq!(
        again[0].status,
        Status::Sent,
        "the running server picks the replay up"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["replay", "999"])
        .env("HERALD_DATABASE__URL", &app.settings.database.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no event #999"));
}
