//! Bursts: several queued events of one kind for one repo (or one discussion) in one
//! channel become one message that lists each of them. Nothing is hidden: what does not
//! fit waits for the next message.

use crate::hub::event::{RefChange, RefKind};
use crate::hub::repo::repo_key;
use crate::hub::Event;
use crate::render::escape::{bold, code};
use crate::render::Message;
use crate::route::Platform;

/// At most this many events in one message.
pub const MAX_MERGED: usize = 10;
/// Longest merged body: below Slack's 3000-character section and Discord's 4096.
const BODY_MAX: usize = 2800;

/// Events with the same key may share a message.
pub fn key(e: &Event) -> String {
    if let Some(n) = &e.notice {
        return format!("notice|{}", n.key);
    }
    let num = e
        .discussion
        .as_ref()
        .map(|d| d.num.to_string())
        .unwrap_or_default();
    let repo = repo_key(&e.repo.kind, &e.repo.name);
    format!("{repo}|{}|{}|{num}", e.scope, e.action)
}

/// The branch every event pushed to, if they all are single pushes to one branch.
fn common_branch(events: &[&Event]) -> Option<String> {
    let mut names = events.iter().map(|e| match e.refs.as_slice() {
        [r] if r.kind == RefKind::Branch && r.change == RefChange::Updated => Some(r.name.clone()),
        _ => None,
    });
    let first = names.next()??;
    names.all(|n| n.as_deref() == Some(&first)).then_some(first)
}

/// Merges the messages of `events` (same key, in order) into one. Returns the message and
/// how many of them it holds: those that did not fit are left for later.
pub fn merge(p: Platform, events: &[&Event], messages: &[Message]) -> (Message, usize) {
    // Pushes to one branch list each push's newest commit (its first body line), as do
    // events whose headlines are all alike.
    let pushes = events.len() > 1 && common_branch(events).is_some();
    let same_headline = pushes || messages.windows(2).all(|w| w[0].headline == w[1].headline);
    let mut lines: Vec<String> = Vec::new();
    let mut len = 0;
    for m in messages.iter().take(MAX_MERGED) {
        let line = if same_headline && !m.body.is_empty() {
            format!("• {}", m.body.lines().next().unwrap_or_default())
        } else {
            format!("• {}", m.headline)
        };
        if len + line.chars().count() + 1 > BODY_MAX && !lines.is_empty() {
            break;
        }
        len += line.chars().count() + 1;
        lines.push(line);
    }
    let n = lines.len();
    let first = events[0];
    let repo = bold(p, first.repo.name.as_str());
    let headline = match (first.scope.as_str(), &first.discussion) {
        ("repo.content", _) => match common_branch(&events[..n]) {
            Some(branch) => format!("{n} pushes to {} of {repo}", code(p, &branch)),
            None => format!("{n} pushes to {repo}"),
        },
        ("discussion.comment", Some(d)) => {
            let kind = if d.is_pull_request {
                "PR"
            } else {
                "discussion"
            };
            format!("{n} comment updates on {kind} #{} in {repo}", d.num)
        }
        _ => format!("{n} updates on {repo}"),
    };
    let msg = Message {
        headline,
        body: lines.join("\n"),
        url: messages[0].url.clone(),
        color: messages[0].color,
        // One author for the whole burst only when it is the same person throughout.
        author: messages
            .windows(2)
            .all(|w| w[0].author == w[1].author)
            .then(|| messages[0].author.clone())
            .flatten(),
    };
    (msg, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::payload;

    fn push(n: usize) -> (Event, Message) {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../templates/samples/repo.content.json"))
                .unwrap();
        v["updatedRefs"] = serde_json::json!([{ "ref": "refs/heads/main", "oldSha": "ce9a4674fa833a68d5a73ec355f0ea95eedd60b7",
            "newSha": format!("{n:07}aa") }]);
        let e = payload::normalize(&v).unwrap();
        let m = Message {
            headline: "1 push to `main` of **some-user/some-repo**".into(),
            body: format!("`ce9a467` → [{n:07}](https://x)"),
            url: "https://x".into(),
            color: 0,
            author: None,
        };
        (e, m)
    }

    #[test]
    fn pushes_to_one_branch_merge_into_a_list_of_commits() {
        let (events, msgs): (Vec<Event>, Vec<Message>) = (0..3).map(push).unzip();
        let refs: Vec<&Event> = events.iter().collect();
        let (m, n) = merge(Platform::Discord, &refs, &msgs);
        assert_eq!(n, 3);
        assert_eq!(
            m.headline,
            "3 pushes to `main` of **some\\-user/some\\-repo**"
        );
        assert_eq!(m.body.lines().count(), 3);
        assert!(m.body.contains("[0000002]"));
    }

    #[test]
    fn no_more_than_fits_is_merged() {
        let (events, msgs): (Vec<Event>, Vec<Message>) = (0..25).map(push).unzip();
        let refs: Vec<&Event> = events.iter().collect();
        let (_, n) = merge(Platform::Slack, &refs, &msgs);
        assert_eq!(n, MAX_MERGED);
    }
}
