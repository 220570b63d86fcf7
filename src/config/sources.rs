//! Where settings come from: the defaults, then the config file, then `HERALD_<SECTION>__<KEY>`
//! variables. A key that is no setting is refused in the file and warned about in the
//! environment, each with the nearest known one; a variable for a text setting keeps its
//! text exactly (an all-digit Discord id or secret stays a string, leading zeros included).

use crate::suggest::did_you_mean;
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Value};
use figment::{Figment, Profile, Provider};

/// Variables with the prefix that are not settings.
const NOT_SETTINGS: &[&str] = &["HERALD_LOG"];

/// The keys of a `[[subscriptions]]` entry.
const SUBSCRIPTION_KEYS: &[&str] = &[
    "target", "channel", "scopes", "threads", "filter", "all", "mode", "tz",
];

/// The layered settings, not yet extracted, and what was ignored.
pub struct Sources {
    pub figment: Figment,
    pub warnings: Vec<String>,
}

/// Layers `file` (TOML text, named `file_name` in errors) and `vars` over `defaults`.
pub fn gather(
    defaults: &impl serde::Serialize,
    file: &str,
    file_name: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<Sources> {
    let schema = match Value::serialize(defaults)? {
        Value::Dict(_, d) => d,
        _ => anyhow::bail!("the defaults are not a table"),
    };
    let toml = Toml::string(file);
    let data = toml
        .data()
        .map_err(|e| anyhow::anyhow!("{file_name} is not valid TOML: {e}"))?;
    let empty = Dict::new();
    let in_file = data.get(&Profile::Default).unwrap_or(&empty);
    let mut unknown = Vec::new();
    check(in_file, &schema, &schema, "", &mut unknown);
    if let Some(first) = unknown.into_iter().next() {
        anyhow::bail!("{file_name}: {first}");
    }
    let mut figment = Figment::from(Serialized::defaults(defaults)).merge(toml);
    let mut warnings = Vec::new();
    for (name, text) in vars {
        let Some(rest) = name.strip_prefix("HERALD_") else {
            continue;
        };
        if NOT_SETTINGS.contains(&name.as_str()) {
            continue;
        }
        let key = rest.to_lowercase().replace("__", ".");
        match find(&schema, &key) {
            Some(Value::Dict(..)) | None => {
                let known = leaves(&schema, "");
                let hint = did_you_mean(&key, known.iter().map(String::as_str), |k| {
                    format!("HERALD_{}", k.replace('.', "__").to_uppercase())
                });
                warnings.push(format!("{name} is ignored: it matches no setting{hint}"));
            }
            Some(default) => {
                figment = figment.merge(Serialized::global(&key, typed(default, &text)))
            }
        }
    }
    Ok(Sources { figment, warnings })
}

/// The variable's text as the setting's type: text as is, anything else parsed.
fn typed(default: &Value, text: &str) -> Value {
    match default {
        Value::String(..) => Value::from(text.to_string()),
        Value::Array(..) => match text.parse::<Value>() {
            // A list of texts: items that parsed as numbers or booleans are texts again.
            Ok(Value::Array(tag, items)) => {
                let items = items.into_iter().map(as_text).collect();
                Value::Array(tag, items)
            }
            _ => Value::from(vec![text.to_string()]),
        },
        _ => text.parse().unwrap_or_else(|never| match never {}),
    }
}

fn as_text(v: Value) -> Value {
    match &v {
        Value::String(..) | Value::Dict(..) | Value::Array(..) => v,
        other => match serde_json::to_value(other) {
            Ok(serde_json::Value::Number(n)) => Value::from(n.to_string()),
            Ok(serde_json::Value::Bool(b)) => Value::from(b.to_string()),
            _ => v,
        },
    }
}

fn find<'a>(dict: &'a Dict, key: &str) -> Option<&'a Value> {
    let (first, rest) = key.split_once('.').unwrap_or((key, ""));
    let v = dict.get(first)?;
    match (rest, v) {
        ("", v) => Some(v),
        (rest, Value::Dict(_, d)) => find(d, rest),
        _ => None,
    }
}

/// Every setting's dotted name.
fn leaves(dict: &Dict, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in dict {
        match v {
            Value::Dict(_, d) => out.extend(leaves(d, &format!("{prefix}{k}."))),
            _ => out.push(format!("{prefix}{k}")),
        }
    }
    out
}

/// Collects, for each key of `given` that `schema` does not have, why it is refused.
fn check(given: &Dict, schema: &Dict, root: &Dict, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in given {
        let path = format!("{prefix}{k}");
        match (schema.get(k), v) {
            (Some(Value::Dict(_, known)), Value::Dict(_, inner)) => {
                check(inner, known, root, &format!("{path}."), out)
            }
            (Some(_), Value::Array(_, items)) if path == "subscriptions" => {
                for (i, item) in items.iter().enumerate() {
                    let Value::Dict(_, entry) = item else {
                        continue;
                    };
                    for key in entry
                        .keys()
                        .filter(|k| !SUBSCRIPTION_KEYS.contains(&k.as_str()))
                    {
                        let hint = did_you_mean(key, SUBSCRIPTION_KEYS.iter().copied(), |c| {
                            format!("`{c}`")
                        });
                        out.push(format!(
                            "unknown key `{key}` in [[subscriptions]] number {}{hint}",
                            i + 1
                        ));
                    }
                }
            }
            (Some(_), _) => {}
            (None, Value::Dict(..)) if prefix.is_empty() => {
                let sections = schema.iter().filter(|(_, v)| matches!(v, Value::Dict(..)));
                let hint = did_you_mean(k, sections.map(|(k, _)| k.as_str()), |c| format!("[{c}]"));
                out.push(format!("unknown section [{k}]{hint}"));
            }
            (None, _) => {
                // A sibling first; then the same name in another section.
                let siblings: Vec<&str> = schema.keys().map(String::as_str).collect();
                let mut hint = did_you_mean(k, siblings, |c| format!("`{prefix}{c}`"));
                if hint.is_empty() {
                    let all = leaves(root, "");
                    let name = |p: &String| p.rsplit('.').next().unwrap_or_default().to_string();
                    let names: Vec<String> = all.iter().map(name).collect();
                    let nearest = crate::suggest::nearest(k, names.iter().map(String::as_str), 2);
                    if let Some(i) = nearest.and_then(|c| names.iter().position(|n| n == c)) {
                        hint = format!("; did you mean `{}`?", all[i]);
                    }
                }
                out.push(format!("unknown key `{path}`{hint}"));
            }
        }
    }
}
