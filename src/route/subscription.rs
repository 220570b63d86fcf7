//! A subscription: a target, the scopes it wants (none listed: all), and a channel.

use super::channel::{Channel, Platform};
use super::filter::Filter;
use super::schedule::Schedule;
use super::target::Target;
use crate::hub::Scope;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("threads must be none, thread or thread+channel, not \"{0}\"")]
pub struct UnknownThreads(pub String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown subscription source \"{0}\"")]
pub struct UnknownSource(pub String);

/// Where the events of one discussion or pull request go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
pub enum Threads {
    /// Every event in the channel.
    None,
    /// The first in the channel, the rest in a thread under it.
    Thread,
    /// Like `Thread`, and openings, closes, merges and reopenings also in the channel.
    #[default]
    #[sqlx(rename = "thread+channel")]
    ThreadAndChannel,
}

impl Threads {
    pub fn parse(s: &str) -> Result<Threads, UnknownThreads> {
        match s {
            "none" => Ok(Threads::None),
            "thread" => Ok(Threads::Thread),
            "thread+channel" => Ok(Threads::ThreadAndChannel),
            _ => Err(UnknownThreads(s.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Threads::None => "none",
            Threads::Thread => "thread",
            Threads::ThreadAndChannel => "thread+channel",
        }
    }
}

/// Where a subscription was made: bot.toml (which alone may change or remove it), the
/// CLI, or a chat platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Config,
    Cli,
    Discord,
    Slack,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Cli => "cli",
            Source::Discord => "discord",
            Source::Slack => "slack",
        }
    }

    pub fn parse(s: &str) -> Result<Source, UnknownSource> {
        [Source::Config, Source::Cli, Source::Discord, Source::Slack]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownSource(s.to_string()))
    }

    /// Where a command typed on `platform` makes its subscriptions.
    pub fn of(platform: Platform) -> Source {
        match platform {
            Platform::Discord => Source::Discord,
            Platform::Slack => Source::Slack,
            Platform::Console => Source::Cli,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a subscription lets through, and when it tells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rules {
    /// Shared: every row of a subscription with the same filter text holds the one parse.
    pub filter: Option<Arc<Filter>>,
    /// The noise defaults (route/judge.rs) are off.
    pub all: bool,
    pub schedule: Schedule,
}

impl Rules {
    /// Reads the rules as typed anywhere (CLI, chat, bot.toml); the error says how to fix.
    pub fn parse(
        filter: Option<&str>,
        all: bool,
        mode: Option<&str>,
        tz: Option<&str>,
    ) -> Result<Rules, String> {
        let change = RulesChange::parse(filter, Some(all), mode, tz)?;
        Ok(change.applied_to(&Rules::default()))
    }

    /// `, filter: …, noise defaults off, digest daily 09:00 Europe/Paris`, or nothing for
    /// the defaults.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(f) = &self.filter {
            out.push_str(&format!(", filter: {f}"));
        }
        if self.all {
            out.push_str(", noise defaults off");
        }
        if self.schedule.is_digest() {
            out.push_str(&format!(", digest {}", self.schedule));
        }
        out
    }
}

/// The rules as a command changes them: what it does not give stays as it was.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RulesChange {
    /// `Some(None)`: remove the filter.
    pub filter: Option<Option<Arc<Filter>>>,
    pub all: Option<bool>,
    pub mode: Option<String>,
    pub tz: Option<String>,
}

impl RulesChange {
    /// Reads and checks what a command gives; the error says how to fix it.
    pub fn parse(
        filter: Option<&str>,
        all: Option<bool>,
        mode: Option<&str>,
        tz: Option<&str>,
    ) -> Result<RulesChange, String> {
        let filter = match filter {
            Some(text) => Some(Filter::parse_shared(text).map_err(|e| e.to_string())?),
            None => None,
        };
        if mode.is_some() || tz.is_some() {
            Schedule::parse(mode.unwrap_or("instant"), tz)?;
        }
        Ok(RulesChange {
            filter,
            all,
            mode: mode.map(String::from),
            tz: tz.map(String::from),
        })
    }

    /// `old` with this change made.
    pub fn applied_to(&self, old: &Rules) -> Rules {
        let schedule = match (&self.mode, &self.tz) {
            // Most changes leave the schedule: no zone to look up.
            (None, None) => old.schedule.clone(),
            (mode, tz) => {
                let mode = mode.clone().unwrap_or_else(|| old.schedule.mode_text());
                let tz = tz.as_deref().unwrap_or(&old.schedule.tz);
                Schedule::parse(&mode, Some(tz)).unwrap_or_else(|_| old.schedule.clone())
            }
        };
        Rules {
            filter: self.filter.clone().unwrap_or_else(|| old.filter.clone()),
            all: self.all.unwrap_or(old.all),
            schedule,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: i64,
    pub target: Target,
    /// Empty: every scope.
    pub scopes: Vec<Scope>,
    pub channel: Channel,
    /// `None`: the operator's (bot.toml, CLI); else the workspace (`discord:<guild>`,
    /// `slack:<team>`) that owns it.
    pub workspace: Option<String>,
    pub source: Source,
    pub created_at: i64,
    pub created_by: String,
    pub threads: Threads,
    /// Why deliveries stopped, after repeated permanent failures.
    pub paused: Option<String>,
    /// Its workspace connected a Hub account whose webhook exists: its events come from
    /// that webhook (until then, from the operator's).
    pub own_account: bool,
    pub rules: Rules,
}

impl Subscription {
    /// One line saying exactly what is active.
    pub fn describe(&self) -> String {
        let threads = match self.threads {
            Threads::ThreadAndChannel => String::new(),
            t => format!(", threads: {}", t.as_str()),
        };
        let paused = match &self.paused {
            Some(why) => format!(" PAUSED: {why}; subscribe again to resume"),
            None => String::new(),
        };
        format!(
            "#{}: {} → {} ({}{threads}{}){paused}",
            self.id,
            self.target.describe(),
            self.channel,
            describe_scopes(&self.scopes),
            self.rules.describe()
        )
    }

    /// How specific the target is; when several subscriptions of one channel match an
    /// event, the most specific one carries it, so the channel gets it once.
    pub fn specificity(&self) -> u8 {
        match self.target {
            Target::Repo { .. } => 2,
            Target::Namespace { .. } => 1,
            Target::All => 0,
        }
    }
}

pub fn scopes_cover(scopes: &[Scope], scope: &Scope) -> bool {
    scopes.is_empty() || scopes.iter().any(|s| s.covers(scope))
}

pub fn describe_scopes(scopes: &[Scope]) -> String {
    if scopes.is_empty() {
        "all events".to_string()
    } else {
        let names: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
        format!("scopes {} and anything narrower", names.join(", "))
    }
}

/// Merges scope lists: the union, where an empty list (everything) absorbs the rest and
/// a scope already covered by a broader one is dropped.
pub fn merge_scopes(a: &[Scope], b: &[Scope]) -> Vec<Scope> {
    if a.is_empty() || b.is_empty() {
        return vec![];
    }
    let all: Vec<&Scope> = a.iter().chain(b).collect();
    let mut out: Vec<Scope> = all
        .iter()
        .filter(|s| !all.iter().any(|o| o != *s && o.covers(s)))
        .map(|s| (*s).clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Vec<Scope> {
        list.iter().map(|s| Scope::parse(s).unwrap()).collect()
    }

    #[test]
    fn merging_scopes_keeps_the_broadest() {
        assert_eq!(
            merge_scopes(&scopes(&["repo.content"]), &scopes(&["repo"])),
            scopes(&["repo"])
        );
        assert_eq!(
            merge_scopes(&scopes(&["discussion"]), &scopes(&["repo.config"])),
            scopes(&["discussion", "repo.config"])
        );
        assert!(merge_scopes(&[], &scopes(&["repo"])).is_empty());
    }
}
