//! Whether one subscription gets an event, and if not, why: the one decision routing,
//! delivery's second look and `why` all use.

use super::filter::{Look, Truth};
use super::subscription::scopes_cover;
use super::{Origin, Subscription};
use crate::hub::event::RefKind;
use crate::hub::Event;

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It gets the event; `sure` is false when its filter needs facts the event does not
    /// carry yet (the delivery looks again once it does).
    Yes {
        sure: bool,
    },
    No(Why),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// Its target names other repos.
    Target,
    /// None of its scopes covers the event's.
    Scope,
    Paused(String),
    /// The event came on a webhook this subscription may not hear from: another
    /// workspace's, or the operator's for a private repo (or its own account's repos).
    Reach,
    /// A noise default, and what it is.
    Noise(&'static str),
    /// Its filter, and the term that left the event out.
    /// Its filter (the term at fault is found by who tells it: routing needs only this).
    Filter,
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Target => f.write_str("its target is another repo or owner"),
            Why::Scope => f.write_str("none of its scopes covers this event"),
            Why::Paused(why) => write!(f, "it is paused: {why}"),
            Why::Reach => f.write_str(
                "the event came on a webhook it does not hear from (another workspace's, or the operator's for a private repo or a connected account's)",
            ),
            Why::Noise(what) => write!(f, "noise default: {what} (subscribe with --all, or all:true, to get them)"),
            Why::Filter => f.write_str("its filter left it out"),
        }
    }
}

pub const CONVERSION: &str = "pushes to refs/convert/* (the Hub's Parquet and DuckDB exports)";
pub const PR_REFS: &str =
    "pushes to a pull request's ref, which the channel hears of from the pull request itself";

/// The verdict for `sub`; `others` are the subscriptions that may share its channel (for
/// the noise defaults, which depend on what else the channel follows).
pub fn judge<'a>(
    event: &Event,
    origin: &Origin,
    sub: &Subscription,
    others: impl IntoIterator<Item = &'a Subscription>,
    look: &Look,
) -> Verdict {
    if !sub.target.matches(event) {
        return Verdict::No(Why::Target);
    }
    if !scopes_cover(&sub.scopes, &event.scope) {
        return Verdict::No(Why::Scope);
    }
    if !origin.may_reach(sub, event) {
        return Verdict::No(Why::Reach);
    }
    if let Some(why) = &sub.paused {
        return Verdict::No(Why::Paused(why.clone()));
    }
    if !sub.rules.all {
        if let Some(noise) = noise(event, origin, sub, others) {
            return Verdict::No(Why::Noise(noise));
        }
    }
    match &sub.rules.filter {
        None => Verdict::Yes { sure: true },
        Some(f) => match f.eval(event, look) {
            Truth::Yes => Verdict::Yes { sure: true },
            Truth::Unknown => Verdict::Yes { sure: false },
            Truth::No => Verdict::No(Why::Filter),
        },
    }
}

/// The noise defaults: conversion pushes, and pushes to a PR's ref in a channel that
/// follows the repo's discussions (the PR's own events say it).
fn noise<'a>(
    event: &Event,
    origin: &Origin,
    sub: &Subscription,
    others: impl IntoIterator<Item = &'a Subscription>,
) -> Option<&'static str> {
    if event.refs.is_empty() || !event.scope.is_under("repo.content") {
        return None;
    }
    if event
        .refs
        .iter()
        .all(|r| r.full.starts_with("refs/convert/"))
    {
        return Some(CONVERSION);
    }
    if event.refs.iter().all(|r| r.kind == RefKind::Pr) {
        let follows = others.into_iter().any(|o| {
            // Hears of the repo's pull requests: every scope or `discussion`, and no
            // filter (one might leave the PRs out, and the pushes be all there is).
            let discussions =
                o.scopes.is_empty() || o.scopes.iter().any(|s| s.as_str() == "discussion");
            o.channel == sub.channel
                && o.paused.is_none()
                && o.rules.filter.is_none()
                && discussions
                && o.target.matches(event)
                && origin.may_reach(o, event)
        });
        if follows {
            return Some(PR_REFS);
        }
    }
    None
}
