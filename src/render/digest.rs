//! A digest: one message per channel and period that sums up what its subscriptions
//! matched, repo by repo (pushes with their commit titles, pull requests and discussions,
//! comments, settings). Built once when it is due and stored as a notice, so that a
//! retry or a restart sends the same words; every text from the Hub is escaped.

use super::escape::{escape, link};
use super::Message;
use crate::hub::event::{status_change, RefChange, RefKind};
use crate::hub::{Action, Event};
use crate::route::Platform;
use serde::{Deserialize, Serialize};

/// Lines one repo shows, at most; the rest are counted, with a link to the repo.
pub const LINES_PER_REPO: usize = 12;
/// Commit titles one push shows, at most.
const TITLES: usize = 3;
/// Blue, like commits: a digest is mostly what changed.
const BLUE: u32 = 0x1F6FEB;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Digest {
    /// How the period reads: `Daily digest, Thu 3 Dec 2026 09:00 Europe/Paris`.
    pub title: String,
    /// Events it covers, including those not detailed.
    pub events: usize,
    pub repos: Vec<RepoLines>,
    /// Events counted but not read (past what one digest details).
    #[serde(default)]
    pub untold: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoLines {
    pub name: String,
    pub url: String,
    pub lines: Vec<Line>,
    #[serde(default)]
    pub more: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub text: String,
    pub url: String,
    /// The discussion it is about, so that comments on one are told as one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<u64>,
    /// Comments this line counts.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub comments: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Digest {
    pub fn new(title: String) -> Digest {
        Digest {
            title,
            ..Digest::default()
        }
    }

    /// Adds an event's lines (events come oldest first); the event can go after.
    pub fn add(&mut self, e: &Event) {
        self.events += 1;
        let name = repo_label(e);
        let i = match self.repos.iter().position(|r| r.name == name) {
            Some(i) => i,
            None => {
                self.repos.push(RepoLines {
                    name,
                    url: e.repo.url(),
                    lines: Vec::new(),
                    more: 0,
                });
                self.repos.len() - 1
            }
        };
        let repo = &mut self.repos[i];
        for line in lines(e) {
            let same =
                |l: &&mut Line| line.comments > 0 && l.comments > 0 && l.thread == line.thread;
            if let Some(l) = repo.lines.iter_mut().find(same) {
                l.comments += 1;
            } else if repo.lines.len() < LINES_PER_REPO {
                repo.lines.push(line);
            } else {
                repo.more += 1;
            }
        }
    }

    /// The digest of a period that held `total` events (those past the ones added are
    /// counted, not told).
    pub fn finish(mut self, total: usize) -> Digest {
        self.untold = total.saturating_sub(self.events);
        self.events = total.max(self.events);
        self
    }

    pub fn message(&self, platform: Platform) -> Message {
        let repos = self.repos.len();
        let headline = format!(
            "{}: {} event{} in {} repo{}",
            self.title,
            self.events,
            plural(self.events),
            repos,
            plural(repos)
        );
        let mut body = Vec::new();
        for r in &self.repos {
            body.push(link(platform, &r.url, &r.name));
            for l in &r.lines {
                let text = match l.comments {
                    0 => l.text.clone(),
                    1 => format!("1 comment on {}", l.text),
                    n => format!("{n} comments on {}", l.text),
                };
                body.push(format!("• {}", link(platform, &l.url, &text)));
            }
            if r.more > 0 {
                body.push(format!(
                    "• {}",
                    link(platform, &r.url, &format!("and {} more", r.more))
                ));
            }
        }
        if self.untold > 0 {
            body.push(escape(
                platform,
                &format!("…and {} more events", self.untold),
            ));
        }
        Message {
            headline: escape(platform, &headline),
            body: body.join("\n"),
            url: match self.repos.as_slice() {
                [one] => one.url.clone(),
                _ => crate::hub::repo::HUB_URL.to_string(),
            },
            color: BLUE,
            author: None,
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn repo_label(e: &Event) -> String {
    match e.repo.kind.as_str() {
        "model" => e.repo.name.to_string(),
        k => format!("{k}s/{}", e.repo.name),
    }
}

fn quoted(title: &str) -> String {
    format!("“{}”", super::limits::excerpt(title, 120))
}

/// What one event adds to its repo's lines.
fn lines(e: &Event) -> Vec<Line> {
    let repo = e.repo.url();
    let line = |text: String, url: String| Line {
        text,
        url,
        thread: None,
        comments: 0,
    };
    if let Some(d) = &e.discussion {
        let what = if d.is_pull_request {
            "PR"
        } else {
            "discussion"
        };
        let url = format!("{repo}/discussions/{}", d.num);
        let title = quoted(&d.title);
        let text = match (e.scope.as_str(), &e.action) {
            ("discussion.comment", _) => {
                return vec![Line {
                    text: format!("{what} #{} {title}", d.num),
                    url,
                    thread: Some(d.num),
                    comments: 1,
                }]
            }
            ("discussion", Action::Create) => format!("new {what} #{} {title}", d.num),
            ("discussion", Action::Update) => {
                let did = status_change(&d.status, e.status_before.as_deref());
                format!("{what} #{} {did}: {title}", d.num)
            }
            (_, action) => format!("{what} #{} {action}: {title}", d.num),
        };
        return vec![line(text, url)];
    }
    match (e.scope.as_str(), &e.action) {
        ("repo", Action::Create) => vec![line("created".into(), repo)],
        ("repo", Action::Delete) => vec![line("deleted".into(), repo)],
        (_, Action::Move) => {
            let to = e
                .moved_to
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_default();
            vec![line(format!("moved to {to}"), repo)]
        }
        (s, _) if s.starts_with("repo.content") && !e.refs.is_empty() => pushes(e, &repo),
        (s, _) if s.starts_with("repo.config") => {
            let private = e.config.as_ref().and_then(|c| c.get("private")?.as_bool());
            let text = match private {
                Some(true) => "made private".into(),
                Some(false) => "made public".into(),
                None => "settings changed".into(),
            };
            vec![line(text, format!("{repo}/settings"))]
        }
        (s, a) => vec![line(format!("{s} {a}"), repo)],
    }
}

/// One line per ref a push changed: commits with their titles, tags, deletions.
fn pushes(e: &Event, repo: &str) -> Vec<Line> {
    let facts = e.facts.as_ref().map(|f| &f.facts);
    e.refs
        .iter()
        .map(|r| {
            let kind = match r.kind {
                RefKind::Tag => "tag",
                RefKind::Pr => "PR ref",
                _ => "branch",
            };
            let url = match &r.new_sha {
                Some(sha) if crate::hub::api::is_sha(sha) => format!("{repo}/commit/{sha}"),
                _ => repo.to_string(),
            };
            let text = match (r.change, r.kind) {
                (RefChange::Deleted, _) => format!("{kind} {} deleted", r.name),
                (RefChange::Created, RefKind::Tag) => format!("tag {} created", r.name),
                _ => {
                    let history = facts.and_then(|f| f.history(&r.full));
                    let titles: Vec<String> = history
                        .map(|h| {
                            h.commits
                                .iter()
                                .take(TITLES)
                                .map(|c| quoted(&c.title))
                                .collect()
                        })
                        .unwrap_or_default();
                    let n = history.and_then(|h| h.added).map(|n| n as usize);
                    let count = match n {
                        Some(n) => format!("{n} commit{}", plural(n)),
                        None => "new commits".into(),
                    };
                    let name = match r.kind {
                        RefKind::Branch => r.name.clone(),
                        _ => format!("{kind} {}", r.name),
                    };
                    match titles.is_empty() {
                        true => format!("{name}: {count}"),
                        false => format!("{name}: {count}: {}", titles.join(" · ")),
                    }
                }
            };
            Line {
                text,
                url,
                thread: None,
                comments: 0,
            }
        })
        .collect()
}
