//! Threads: one per discussion or pull request and channel.

use crate::hub::repo::repo_key;
use crate::hub::Event;

/// The key of the thread an event belongs in: its discussion, if it has one.
pub fn key(e: &Event) -> Option<String> {
    let d = e.discussion.as_ref()?;
    Some(format!(
        "{}#{}",
        repo_key(&e.repo.kind, &e.repo.name),
        d.num
    ))
}

/// Openings, closes, merges and reopenings: a change of the discussion itself, which
/// `thread+channel` also shows in the channel.
pub fn is_status(e: &Event) -> bool {
    e.scope.as_str() == "discussion"
}

/// The thread's title: "PR #12: Add safetensors weights".
pub fn name(e: &Event) -> String {
    match &e.discussion {
        Some(d) => {
            let kind = if d.is_pull_request {
                "PR"
            } else {
                "Discussion"
            };
            let title: String = d.title.chars().filter(|c| !c.is_control()).collect();
            format!("{kind} #{}: {title}", d.num)
        }
        None => e.repo.name.to_string(),
    }
}
