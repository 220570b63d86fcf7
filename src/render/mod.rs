//! Turning an event into a message: Handlebars templates chosen by walking up the scope
//! hierarchy, every value escaped for the platform, output cut to the platform's limits.

mod balance;
pub mod context;
pub mod custom;
pub mod digest;
pub mod escape;
pub mod helpers;
pub mod limits;
mod logic;
pub mod notice;
mod operator;
pub mod samples;
mod syntax;

use crate::hub::Scope;
use crate::hub::{Action, Event};
use crate::route::Platform;
use anyhow::Context as _;
use handlebars::Handlebars;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The built-in templates, compiled into the binary; files in `templates.dir` override them.
pub const BUILTIN: [(&str, &str); 6] = [
    ("repo", include_str!("../../templates/repo.hbs")),
    (
        "repo.content",
        include_str!("../../templates/repo.content.hbs"),
    ),
    (
        "repo.config",
        include_str!("../../templates/repo.config.hbs"),
    ),
    ("discussion", include_str!("../../templates/discussion.hbs")),
    (
        "discussion.comment",
        include_str!("../../templates/discussion.comment.hbs"),
    ),
    ("default", include_str!("../../templates/default.hbs")),
];

/// A rendered message, before a sender shapes it for its platform's API.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// One line: what happened, to which repo.
    pub headline: String,
    /// A few lines of detail and links; may be empty.
    pub body: String,
    /// Where a click on the headline goes.
    pub url: String,
    /// The embed colour (RGB), by what happened.
    pub color: u32,
    /// Who did it, when known: Discord shows them as the embed's author, Slack in a
    /// context line with their avatar.
    pub author: Option<Author>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Author {
    /// The Hub username (letters, digits, `-`, `_`, `.` only).
    pub name: String,
    pub url: String,
    /// An https address, or none.
    pub icon_url: Option<String>,
}

pub struct Renderer {
    /// The sources in use for each built-in name (files in `templates.dir` win).
    sources: HashMap<String, String>,
    discord: Handlebars<'static>,
    slack: Handlebars<'static>,
    console: Handlebars<'static>,
    /// The names whose template is the operator's.
    operators: HashSet<String>,
}

/// The built-in templates stay registered under this prefix, for the fallback.
const BUILTIN_PREFIX: &str = "builtin/";

impl Renderer {
    /// Built-in templates overridden by `NAME.hbs` files in `dir`, if it exists; each file
    /// is checked first (see [`operator`]).
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Renderer> {
        let operators = match dir.filter(|d| d.is_dir()) {
            Some(dir) => operator::read(dir)?,
            None => Vec::new(),
        };
        let mut sources: HashMap<String, String> = BUILTIN
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        for op in &operators {
            sources.insert(op.name.clone(), op.source.clone());
        }
        let build = |p: Platform| -> anyhow::Result<Handlebars<'static>> {
            let mut hb = Handlebars::new();
            hb.register_escape_fn(move |s| escape::escape(p, s));
            helpers::register(&mut hb, p);
            logic::register(&mut hb);
            for (name, src) in &sources {
                hb.register_template_string(name, src)
                    .with_context(|| format!("template {name}.hbs does not compile"))?;
            }
            // What an operator's template falls back to when it fails.
            for (name, src) in BUILTIN {
                hb.register_template_string(&format!("{BUILTIN_PREFIX}{name}"), src)?;
            }
            Ok(hb)
        };
        let renderer = Renderer {
            discord: build(Platform::Discord)?,
            slack: build(Platform::Slack)?,
            console: build(Platform::Console)?,
            sources,
            operators: operators.iter().map(|o| o.name.clone()).collect(),
        };
        operator::try_samples(&renderer, &operators)?;
        Ok(renderer)
    }

    /// The source of the template used for `name` (a scope or `default`) when no user
    /// template applies: its own, or the nearest ancestor's, or the default.
    pub fn builtin_source(&self, name: &str) -> &str {
        let found = Scope::parse(name)
            .ok()
            .and_then(|s| s.lineage().find_map(|s| self.sources.get(s.as_str())));
        found
            .or_else(|| self.sources.get("default"))
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub(crate) fn registry(&self, platform: Platform) -> &Handlebars<'static> {
        match platform {
            Platform::Discord => &self.discord,
            Platform::Slack => &self.slack,
            Platform::Console => &self.console,
        }
    }

    /// Renders with the built-in templates (and those of `templates.dir`).
    pub fn render(&self, event: &Event, platform: Platform) -> anyhow::Result<Message> {
        self.render_noted(event, platform).map(|(msg, _)| msg)
    }

    /// Like [`Renderer::render`]; an operator's template that fails falls back to the
    /// built-in one, and the note says why.
    pub fn render_noted(
        &self,
        event: &Event,
        platform: Platform,
    ) -> anyhow::Result<(Message, Option<String>)> {
        if let Some(n) = &event.notice {
            return Ok((n.message(platform), None));
        }
        let hb = self.registry(platform);
        let scope = event.scope.lineage().find(|s| hb.has_template(s.as_str()));
        let name = scope.as_ref().map(|s| s.as_str()).unwrap_or("default");
        let ctx = context::build(event, scope.as_ref().unwrap_or(&event.scope));
        let failed = match hb.render(name, &ctx) {
            Ok(out) if !split(&out).0.is_empty() || !self.operators.contains(name) => {
                return Ok((message(&out, &ctx, event), None))
            }
            Ok(_) => "it renders an empty headline".to_string(),
            Err(e) if self.operators.contains(name) => e.to_string(),
            Err(e) => return Err(e).with_context(|| format!("template {name} failed")),
        };
        let out = hb
            .render(&format!("{BUILTIN_PREFIX}{name}"), &ctx)
            .with_context(|| format!("template {name} failed"))?;
        let note = format!(
            "the operator's template {name}.hbs failed ({failed}); the built-in one was used"
        );
        Ok((message(&out, &ctx, event), Some(note)))
    }

    /// Renders with users' templates first (most specific layer first, each walking up the
    /// scope hierarchy), then the built-in ones. A user template that fails is skipped and
    /// named in the returned note; the message is still made.
    pub fn render_with(
        &self,
        event: &Event,
        platform: Platform,
        overrides: &Overrides,
    ) -> anyhow::Result<(Message, Option<String>)> {
        if let Some(n) = &event.notice {
            return Ok((n.message(platform), None));
        }
        let builtin_covers = event
            .scope
            .lineage()
            .any(|s| self.registry(platform).has_template(s.as_str()));
        let mut notes = Vec::new();
        // One time budget for every user template tried for this message; the built-in
        // templates, trusted, render after it.
        let budget = custom::Budget::start(custom::TIME_BUDGET);
        for (label, layer) in &overrides.layers {
            let mut names: Vec<String> = event.scope.lineage().map(|s| s.to_string()).collect();
            if !builtin_covers {
                names.push("default".into());
            }
            for name in names.iter().filter(|n| layer.contains_key(*n)) {
                let scope = Scope::parse(name).unwrap_or_else(|_| event.scope.clone());
                match self.render_user(&layer[name], &scope, event, platform) {
                    Ok(msg) => return Ok((msg, join(notes))),
                    Err(e) => {
                        notes.push(format!("{label} template {name} failed ({e}); fell back"))
                    }
                }
            }
        }
        drop(budget);
        let (msg, note) = self.render_noted(event, platform)?;
        notes.extend(note);
        Ok((msg, join(notes)))
    }

    /// Renders an untrusted template source as if it were the template of `scope`,
    /// checked first and with its output capped.
    pub fn render_source(
        &self,
        source: &str,
        scope: &Scope,
        event: &Event,
        platform: Platform,
    ) -> Result<Message, String> {
        let _budget = custom::Budget::start(custom::TIME_BUDGET);
        self.render_user(source, scope, event, platform)
    }

    /// [`Renderer::render_source`] within the time budget already running on this thread.
    fn render_user(
        &self,
        source: &str,
        scope: &Scope,
        event: &Event,
        platform: Platform,
    ) -> Result<Message, String> {
        custom::validate(source)?;
        let ctx = context::build(event, scope);
        let wrapped = handlebars::Context::wraps(&ctx).map_err(|e| e.to_string())?;
        let mut out = custom::Capped::new(custom::OUTPUT_CAP);
        self.registry(platform)
            .render_template_with_context_to_write(source, &wrapped, &mut out)
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.buf);
        let msg = message(&text, &ctx, event);
        if msg.headline.is_empty() {
            return Err("the template renders an empty headline".into());
        }
        Ok(msg)
    }
}

/// Users' templates for one delivery: `(label, scope or "default" → source)`, most
/// specific first (the subscription's, then the workspace's), and whose they are.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Overrides {
    pub workspace: String,
    pub layers: Vec<(String, BTreeMap<String, String>)>,
}

fn join(notes: Vec<String>) -> Option<String> {
    (!notes.is_empty()).then(|| notes.join("; "))
}

fn message(out: &str, ctx: &context::Context, event: &Event) -> Message {
    let (headline, body) = split(out);
    Message {
        headline,
        body,
        url: ctx.url.clone(),
        color: color(event),
        author: ctx.actor.as_ref().map(|a| Author {
            name: a.name.clone(),
            url: a.url.clone(),
            icon_url: a.avatar_url.clone(),
        }),
    }
}

/// The first non-empty line is the headline; the rest, without runs of blank lines, the body.
pub(crate) fn split(out: &str) -> (String, String) {
    let mut lines = out
        .lines()
        .map(str::trim_end)
        .skip_while(|l| l.trim().is_empty());
    let headline = lines.next().unwrap_or_default().trim().to_string();
    let mut body: Vec<&str> = Vec::new();
    for line in lines {
        if !(line.trim().is_empty() && body.last().is_none_or(|l| l.trim().is_empty())) {
            body.push(line);
        }
    }
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    (headline, body.join("\n"))
}

pub const GREEN: u32 = 0x2EA043;
pub const PURPLE: u32 = 0x8957E5;
pub const RED: u32 = 0xD73A49;
pub const GREY: u32 = 0x8B949E;
pub const BLUE: u32 = 0x1F6FEB;

/// Colour carries meaning: created green, merged purple, closed or deleted red,
/// settings grey, commits and comments blue.
pub fn color(event: &Event) -> u32 {
    let status = event.discussion.as_ref().map(|d| d.status.as_str());
    match (event.scope.as_str(), &event.action, status) {
        (_, Action::Delete, _) => RED,
        (_, Action::Create, _) if event.scope.as_str() != "discussion.comment" => GREEN,
        ("discussion", _, Some("merged")) => PURPLE,
        ("discussion", _, Some("closed")) => RED,
        // Reopened (green) only when it was known to be closed: else a plain update.
        ("discussion", _, Some("open"))
            if matches!(event.status_before.as_deref(), Some("closed" | "merged")) =>
        {
            GREEN
        }
        ("repo.content", _, _) | ("discussion.comment", _, _) => BLUE,
        _ => GREY,
    }
}
