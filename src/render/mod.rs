//! Turning an event into a message: Handlebars templates chosen by walking up the scope
//! hierarchy, every value escaped for the platform, output cut to the platform's limits.

pub mod context;
pub mod custom;
pub mod escape;
pub mod helpers;
pub mod limits;
mod logic;
pub mod samples;

use crate::hub::Scope;
use crate::hub::{Action, Event};
use crate::route::Platform;
use anyhow::Context as _;
use handlebars::Handlebars;
use std::collections::{BTreeMap, HashMap};
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
}

pub struct Renderer {
    /// The sources in use for each built-in name (files in `templates.dir` win).
    sources: HashMap<String, String>,
    discord: Handlebars<'static>,
    slack: Handlebars<'static>,
    console: Handlebars<'static>,
}

impl Renderer {
    /// Built-in templates overridden by `NAME.hbs` files in `dir`, if it exists.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Renderer> {
        let mut sources: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        if let Some(dir) = dir.filter(|d| d.is_dir()) {
            for (name, _) in BUILTIN {
                let path = dir.join(format!("{name}.hbs"));
                if path.is_file() {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read template {}", path.display()))?;
                    sources.retain(|(n, _)| n != name);
                    sources.push((name.to_string(), text));
                }
            }
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
            Ok(hb)
        };
        Ok(Renderer {
            discord: build(Platform::Discord)?,
            slack: build(Platform::Slack)?,
            console: build(Platform::Console)?,
            sources: sources.into_iter().collect(),
        })
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

    fn registry(&self, platform: Platform) -> &Handlebars<'static> {
        match platform {
            Platform::Discord => &self.discord,
            Platform::Slack => &self.slack,
            Platform::Console => &self.console,
        }
    }

    /// Renders with the built-in templates (and those of `templates.dir`).
    pub fn render(&self, event: &Event, platform: Platform) -> anyhow::Result<Message> {
        let hb = self.registry(platform);
        let scope = event.scope.lineage().find(|s| hb.has_template(s.as_str()));
        let name = scope.as_ref().map(|s| s.as_str()).unwrap_or("default");
        let ctx = context::build(event, scope.as_ref().unwrap_or(&event.scope));
        let out = hb
            .render(name, &ctx)
            .with_context(|| format!("template {name} failed"))?;
        Ok(message(&out, &ctx, event))
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
        Ok((self.render(event, platform)?, join(notes)))
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

fn message(out: &str, ctx: &serde_json::Value, event: &Event) -> Message {
    let (headline, body) = split(out);
    Message {
        headline,
        body,
        url: ctx["url"].as_str().unwrap_or_default().to_string(),
        color: color(event),
    }
}

/// The first non-empty line is the headline; the rest, without runs of blank lines, the body.
fn split(out: &str) -> (String, String) {
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
        ("discussion", _, Some("open")) => GREEN,
        ("repo.content", _, _) | ("discussion.comment", _, _) => BLUE,
        _ => GREY,
    }
}
