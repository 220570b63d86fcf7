//! `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `and`, `or`, `not`, `lookup` and `len`, in place
//! of Handlebars' own: they compare text, numbers and true/false only (Handlebars' compare
//! whole lists, work a user's template could multiply), and each call respects the
//! template's time budget (Handlebars' `lookup` copies what it finds, unchecked).

use handlebars::{
    Context, Handlebars, Helper, HelperDef, JsonTruthy, RenderContext, RenderError,
    RenderErrorReason, ScopedJson,
};
use serde_json::Value;
use std::cmp::Ordering;

type Logic = fn(&[&Value]) -> Result<Value, String>;

struct LogicHelper(&'static str, Logic);

impl HelperDef for LogicHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        super::helpers::stop_if_late()?;
        let args: Vec<&Value> = h.params().iter().map(|p| p.value()).collect();
        let fail = |e: String| RenderErrorReason::Other(format!("{}: {e}", self.0));
        (self.1)(&args)
            .map(ScopedJson::Derived)
            .map_err(|e| fail(e).into())
    }
}

/// Text, a number, true/false or nothing; a list or an object is refused.
fn scalar<'a>(args: &[&'a Value], i: usize) -> Result<&'a Value, String> {
    match args.get(i).copied() {
        None => Ok(&Value::Null),
        Some(Value::Array(_) | Value::Object(_)) => {
            Err("compares text, numbers and true/false, not lists or objects".into())
        }
        Some(v) => Ok(v),
    }
}

fn order(args: &[&Value]) -> Result<Option<Ordering>, String> {
    let (a, b) = (scalar(args, 0)?, scalar(args, 1)?);
    Ok(match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    })
}

fn same(args: &[&Value]) -> Result<bool, String> {
    let (a, b) = (scalar(args, 0)?, scalar(args, 1)?);
    Ok(match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    })
}

fn truthy(args: &[&Value]) -> Vec<bool> {
    args.iter().map(|v| v.is_truthy(false)).collect()
}

/// Registers them over Handlebars' own.
pub fn register(hb: &mut Handlebars<'static>) {
    let helpers: [(&'static str, Logic); 11] = [
        ("eq", |a| same(a).map(Value::Bool)),
        ("ne", |a| same(a).map(|s| Value::Bool(!s))),
        ("gt", |a| {
            order(a).map(|o| Value::Bool(o == Some(Ordering::Greater)))
        }),
        ("gte", |a| {
            order(a).map(|o| Value::Bool(matches!(o, Some(Ordering::Greater | Ordering::Equal))))
        }),
        ("lt", |a| {
            order(a).map(|o| Value::Bool(o == Some(Ordering::Less)))
        }),
        ("lte", |a| {
            order(a).map(|o| Value::Bool(matches!(o, Some(Ordering::Less | Ordering::Equal))))
        }),
        ("and", |a| {
            Ok(Value::Bool(
                !a.is_empty() && truthy(a).into_iter().all(|t| t),
            ))
        }),
        ("or", |a| Ok(Value::Bool(truthy(a).into_iter().any(|t| t)))),
        ("not", |a| {
            Ok(Value::Bool(!truthy(a).first().copied().unwrap_or(false)))
        }),
        ("lookup", |a| {
            Ok(match (a.first().copied(), a.get(1).copied()) {
                (Some(Value::Object(o)), Some(Value::String(k))) => {
                    o.get(k).cloned().unwrap_or(Value::Null)
                }
                (Some(Value::Array(v)), Some(Value::Number(i))) => i
                    .as_u64()
                    .and_then(|i| v.get(i as usize))
                    .cloned()
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            })
        }),
        ("len", |a| {
            Ok(Value::from(match a.first().copied() {
                Some(Value::Array(v)) => v.len(),
                Some(Value::Object(o)) => o.len(),
                Some(Value::String(s)) => s.chars().count(),
                _ => 0,
            }))
        }),
    ];
    for (name, f) in helpers {
        hb.register_helper(name, Box::new(LogicHelper(name, f)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(src: &str, data: Value) -> Result<String, String> {
        let mut hb = Handlebars::new();
        register(&mut hb);
        hb.render_template(src, &data).map_err(|e| e.to_string())
    }

    #[test]
    fn they_compare_like_handlebars_on_scalars() {
        let d = json!({ "a": 2, "b": 3, "s": "x", "l": [1, 2], "t": true });
        let t = "{{eq a 2}} {{ne a b}} {{gt b a}} {{gte a 2}} {{lt a b}} {{lte b a}} {{and t a}} {{or 0 s}} {{not t}} {{len l}} {{eq s \"x\"}} {{lookup l 1}}";
        assert_eq!(
            render(t, d).unwrap(),
            "true true true true true false true true false 2 true 2"
        );
    }

    #[test]
    fn lists_and_objects_are_not_compared() {
        let err = render("{{#if (ne l l)}}x{{/if}}", json!({ "l": [1, 2] })).unwrap_err();
        assert!(err.contains("not lists or objects"), "{err}");
    }
}
