//! Template helpers. Markup helpers (`bold`, `code`, `link`, `quote`) escape their text
//! themselves and write the platform's markup; value helpers return plain text that the
//! engine then escapes like any other value.

use super::context::short_sha;
use super::escape;
use super::limits;
use crate::route::Platform;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason, ScopedJson,
};
use serde_json::Value;

#[derive(Clone, Copy)]
enum Markup {
    Bold,
    Code,
    Link,
    Quote,
}

struct MarkupHelper(Platform, Markup);

/// A value as text: strings as they are, numbers printed, null and missing as nothing.
fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn param(h: &Helper, i: usize) -> String {
    text(h.param(i).map(|p| p.value()))
}

impl HelperDef for MarkupHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        stop_if_late()?;
        let MarkupHelper(p, kind) = *self;
        let s = match kind {
            Markup::Bold => escape::bold(p, &param(h, 0)),
            Markup::Code => escape::code(p, &param(h, 0)),
            Markup::Quote => escape::quote(p, &param(h, 0)),
            Markup::Link => {
                let url = param(h, 0);
                let label = h
                    .param(1)
                    .map(|v| text(Some(v.value())))
                    .unwrap_or_else(|| url.clone());
                escape::link(p, &url, &label)
            }
        };
        out.write(&s)?;
        Ok(())
    }
}

/// A helper computing plain text from its parameters; the engine escapes the result.
struct ValueHelper(fn(&[String]) -> String);

impl HelperDef for ValueHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        stop_if_late()?;
        let args: Vec<String> = (0..h.params().len()).map(|i| param(h, i)).collect();
        Ok(ScopedJson::Derived(Value::String((self.0)(&args))))
    }
}

/// A helper call past the template's time budget ends the render.
pub(super) fn stop_if_late() -> Result<(), RenderError> {
    match super::custom::over_budget() {
        Some(late) => Err(RenderErrorReason::IOError(late).into()),
        None => Ok(()),
    }
}

fn arg(args: &[String], i: usize) -> &str {
    args.get(i).map(String::as_str).unwrap_or_default()
}

fn number(args: &[String], i: usize, default: usize) -> usize {
    arg(args, i).parse().unwrap_or(default)
}

/// The helpers every template may use, documented in templates/README.md.
pub const NAMES: [&str; 9] = [
    "bold",
    "code",
    "link",
    "quote",
    "short_sha",
    "excerpt",
    "truncate",
    "plural",
    "lower",
];

pub fn register(hb: &mut Handlebars<'static>, p: Platform) {
    hb.register_helper("bold", Box::new(MarkupHelper(p, Markup::Bold)));
    hb.register_helper("code", Box::new(MarkupHelper(p, Markup::Code)));
    hb.register_helper("link", Box::new(MarkupHelper(p, Markup::Link)));
    hb.register_helper("quote", Box::new(MarkupHelper(p, Markup::Quote)));
    hb.register_helper("short_sha", Box::new(ValueHelper(|a| short_sha(arg(a, 0)))));
    hb.register_helper(
        "excerpt",
        Box::new(ValueHelper(|a| {
            limits::excerpt(arg(a, 0), number(a, 1, 300))
        })),
    );
    hb.register_helper(
        "truncate",
        Box::new(ValueHelper(|a| {
            limits::cut(Platform::Console, arg(a, 0), number(a, 1, 100))
        })),
    );
    hb.register_helper(
        "plural",
        Box::new(ValueHelper(|a| {
            let word = if number(a, 0, 0) == 1 {
                arg(a, 1)
            } else {
                arg(a, 2)
            };
            format!("{} {word}", arg(a, 0))
        })),
    );
    hb.register_helper("lower", Box::new(ValueHelper(|a| arg(a, 0).to_lowercase())));
}
