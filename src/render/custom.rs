//! Templates written by users are untrusted: they are checked before they are saved and
//! bounded when they run, so none can crash, hang or exhaust the process.

use super::helpers;
use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use std::cell::Cell;
use std::time::Duration;

/// Slack's modal text limit; also the longest template herald stores.
pub const MAX_LEN: usize = 3000;
/// How deeply blocks (`{{#if}}`, `{{#each}}`, ...) may nest.
pub const MAX_DEPTH: usize = 6;
/// How many `{{#each}}` may nest: with lists capped at 50 items, two levels are 2,500 turns.
pub const MAX_EACH: usize = 2;
/// Longest output a user template may produce, in bytes.
pub const OUTPUT_CAP: usize = 16 * 1024;
/// Most CPU time a user template may take for one message; past it, the next template is
/// used.
pub const TIME_BUDGET: Duration = Duration::from_millis(50);

thread_local! {
    /// The thread's CPU time at which the user template rendering on it must stop.
    static DEADLINE: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// The CPU time this thread has used: a budget counts the template's work, not the time it
/// waited for a core on a busy machine.
fn cpu_time() -> Duration {
    use rustix::time::{clock_gettime, ClockId};
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Users' templates, of all workspaces, render on at most this many threads at once: all
/// cores but one (at least one), so the rest of the server always has a core.
pub fn shared_threads() -> std::sync::Arc<tokio::sync::Semaphore> {
    static SHARED: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::LazyLock::new(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            std::sync::Arc::new(tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1)))
        });
    SHARED.clone()
}

/// Bounds the renders on this thread until dropped: every output write and helper call
/// checks the thread's CPU time, so a template cannot keep a thread busy past its budget.
pub struct Budget(Option<Duration>);

impl Budget {
    pub fn start(limit: Duration) -> Budget {
        Budget(DEADLINE.replace(Some(cpu_time() + limit)))
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        DEADLINE.set(self.0);
    }
}

/// The error to stop with, once the running template is past its budget.
pub fn over_budget() -> Option<std::io::Error> {
    let late = DEADLINE.get().is_some_and(|d| cpu_time() > d);
    late.then(|| {
        std::io::Error::other(format!(
            "the template took longer than {} ms",
            TIME_BUDGET.as_millis()
        ))
    })
}

/// Handlebars' own helpers that are safe: no partials, no logging, no raw blocks.
const BUILTIN_HELPERS: [&str; 15] = [
    "if", "unless", "each", "with", "lookup", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or",
    "not", "len",
];

/// Compiles and checks a user's template; the error says what to change.
pub fn validate(source: &str) -> Result<Template, String> {
    let chars = source.chars().count();
    if chars > MAX_LEN {
        return Err(format!(
            "the template is {chars} characters long; the limit is {MAX_LEN}"
        ));
    }
    if source.trim().is_empty() {
        return Err(
            "the template is empty; use `template reset` to go back to the built-in one".into(),
        );
    }
    let tpl = Template::compile(source).map_err(|e| {
        format!(
            "the template does not compile: {}",
            super::syntax::explain(source, &e)
        )
    })?;
    check(&tpl, 0, 0)?;
    Ok(tpl)
}

fn check(tpl: &Template, depth: usize, each: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("blocks are nested more than {MAX_DEPTH} deep"));
    }
    for (i, el) in tpl.elements.iter().enumerate() {
        check_element(el, depth, each).map_err(|e| match tpl.mapping.get(i) {
            Some(at) if !e.starts_with("line ") => format!("line {}: {e}", at.0),
            _ => e,
        })?;
    }
    Ok(())
}

fn check_element(el: &TemplateElement, depth: usize, each: usize) -> Result<(), String> {
    match el {
        TemplateElement::RawString(_) | TemplateElement::Comment(_) => Ok(()),
        TemplateElement::Expression(h) | TemplateElement::HelperBlock(h) => {
            check_helper(h, depth, each, false)
        }
        // Raw output would let Hub text (a title, a comment) ping or format.
        TemplateElement::HtmlExpression(_) => Err(
            "raw output ({{{…}}} or {{&…}}) is not allowed: values are always escaped; \
             bold, code, link and quote write the markup"
                .into(),
        ),
        TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => {
            Err("partials ({{> name}}) are not allowed".into())
        }
        TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => {
            Err("decorators ({{* name}}) are not allowed".into())
        }
        _ => Err("the template uses a construct herald does not allow".into()),
    }
}

/// `(x)` in a subexpression always calls a helper, even with no parameters.
fn check_helper(h: &HelperTemplate, depth: usize, each: usize, sub: bool) -> Result<(), String> {
    let name = h.name.as_name().unwrap_or_default();
    let is_call = sub || h.block || !h.params.is_empty() || !h.hash.is_empty();
    if is_call && !helpers::NAMES.contains(&name) && !BUILTIN_HELPERS.contains(&name) {
        return Err(format!(
            "unknown helper \"{name}\"; the helpers are {} and {}",
            helpers::NAMES.join(", "),
            BUILTIN_HELPERS.join(", ")
        ));
    }
    for p in h.params.iter().chain(h.hash.values()) {
        if let Parameter::Subexpression(sub) = p {
            match sub.element.as_ref() {
                TemplateElement::Expression(inner) => check_helper(inner, depth + 1, each, true)?,
                other => check_element(other, depth + 1, each)?,
            }
        }
    }
    let each = each + usize::from(h.block && name == "each");
    if each > MAX_EACH {
        return Err(format!("{{{{#each}}}} is nested more than {MAX_EACH} deep"));
    }
    for t in h.template.iter().chain(h.inverse.iter()) {
        check(t, depth + usize::from(h.block), each)?;
    }
    Ok(())
}

/// A writer that refuses to grow past a cap, which stops a runaway template mid-render.
pub struct Capped {
    pub buf: Vec<u8>,
    cap: usize,
}

impl Capped {
    pub fn new(cap: usize) -> Capped {
        Capped {
            buf: Vec::new(),
            cap,
        }
    }
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Some(late) = over_budget() {
            return Err(late);
        }
        if self.buf.len() + data.len() > self.cap {
            return Err(std::io::Error::other(format!(
                "output is larger than {} bytes",
                self.cap
            )));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_templates_are_refused_with_a_reason() {
        let deep = "{{#if a}}".repeat(10) + &"{{/if}}".repeat(10);
        let cases = [
            ("{{> repo}}", "partials"),
            ("{{#> layout}}x{{/layout}}", "partials"),
            ("{{* inline}}", "decorators"),
            ("{{exec \"rm\"}}", "unknown helper \"exec\""),
            ("{{bold (shell x)}}", "unknown helper \"shell\""),
            ("{{log repo}}", "unknown helper \"log\""),
            (deep.as_str(), "nested more than"),
            (
                "{{#each refs}}{{#each ../refs}}{{#each ../../refs}}x{{/each}}{{/each}}{{/each}}",
                "#each",
            ),
            ("{{#if}}", "does not compile"),
            ("{{{comment.content}}}", "raw output"),
            ("{{&discussion.title}}", "raw output"),
            ("{{#if x}}{{{bold x}}}{{/if}}", "raw output"),
            ("   ", "empty"),
        ];
        for (src, why) in cases {
            let err = validate(src).unwrap_err();
            assert!(err.contains(why), "{src}: {err}");
        }
        assert!(validate(&"x".repeat(MAX_LEN + 1))
            .unwrap_err()
            .contains("limit is 3000"));
    }

    #[test]
    fn a_template_past_its_time_budget_stops_with_the_reason() {
        let renderer = crate::render::Renderer::load(None).unwrap();
        let scope = crate::hub::Scope::parse("discussion.comment").unwrap();
        let event = crate::render::samples::largest(&scope);
        // No output to cap: only the budget stops 2,500 × 50 excerpts of a 4 KB comment.
        let slow = "{{#if (excerpt comment.content 4000)}}{{/if}}".repeat(50);
        let src =
            format!("x{{{{#each refs}}}}{{{{#each ../refs}}}}{slow}{{{{/each}}}}{{{{/each}}}}");
        validate(&src).unwrap();
        let err = renderer
            .render_source(&src, &scope, &event, crate::route::Platform::Slack)
            .unwrap_err();
        assert!(err.contains("took longer than 50 ms"), "{err}");
    }

    #[test]
    fn hub_lists_and_texts_reach_templates_capped() {
        let scope = crate::hub::Scope::parse("repo.content").unwrap();
        let mut event = crate::render::samples::largest(&scope);
        let long = format!("refs/heads/{}", "b".repeat(10_000));
        event.refs = (0..5000)
            .map(|_| crate::hub::event::RefUpdate::new(&long, None, None))
            .collect();
        let ctx = crate::render::context::build(&event, &scope);
        assert_eq!(ctx.refs.len(), 50);
        assert_eq!(ctx.ref_count, 5000);
        let name = ctx.refs[0].name.chars().count();
        assert_eq!(name, crate::render::context::TEXT_CAP);
    }

    #[test]
    fn a_payload_of_many_refs_keeps_a_hundred_and_counts_the_rest() {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../templates/samples/repo.content.json"))
                .unwrap();
        v["updatedRefs"] = (0..5000)
            .map(|i| serde_json::json!({ "ref": format!("r{i}") }))
            .collect();
        let event = crate::hub::payload::normalize(&v).unwrap();
        assert_eq!((event.refs.len(), event.refs_more), (100, 4900));
        let scope = crate::hub::Scope::parse("repo.content").unwrap();
        assert_eq!(
            crate::render::context::build(&event, &scope).ref_count,
            5000
        );
    }

    #[test]
    fn a_payload_of_many_or_large_settings_keeps_a_hundred_small_ones() {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../templates/samples/repo.config.json")).unwrap();
        let mut big: serde_json::Map<String, serde_json::Value> = (0..5000)
            .map(|i| (format!("k{i:04}"), serde_json::json!(true)))
            .collect();
        big.insert("a".into(), serde_json::json!(vec![0; 100_000]));
        v["updatedConfig"] = serde_json::Value::Object(big);
        let event = crate::hub::payload::normalize(&v).unwrap();
        let config = event.config.unwrap();
        assert_eq!(config.len(), 100);
        assert!(config["a"].as_str().unwrap().chars().count() <= 200);
    }

    #[test]
    fn the_built_in_templates_pass_the_same_checks() {
        for (name, src) in crate::render::BUILTIN {
            validate(src).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
