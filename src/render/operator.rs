//! The operator's templates (`NAME.hbs` in `templates.dir`), checked at start like any
//! template saved from chat, so that a mistake stops the server with the file and line
//! rather than failing messages later.

use super::{custom, samples, Renderer, BUILTIN};
use crate::hub::Scope;
use crate::route::Platform;
use anyhow::Context as _;
use std::path::Path;

/// An operator's template: the built-in name it replaces, and its source.
pub struct Operator {
    pub name: String,
    pub source: String,
    pub path: String,
}

/// Reads and checks every `.hbs` file of `dir`; each must replace a built-in template.
pub fn read(dir: &Path) -> anyhow::Result<Vec<Operator>> {
    let mut found = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".hbs"))
        else {
            continue;
        };
        let shown = path.display().to_string();
        if !BUILTIN.iter().any(|(n, _)| *n == name) {
            let names = BUILTIN.iter().map(|(n, _)| *n);
            let hint = crate::suggest::did_you_mean(name, names, |c| format!("{c}.hbs"));
            anyhow::bail!(
                "{shown} replaces no template{hint} (the names are {})",
                BUILTIN.map(|(n, _)| format!("{n}.hbs")).join(", ")
            );
        }
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read template {shown}"))?;
        custom::validate(&source).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        found.push(Operator {
            name: name.to_string(),
            source,
            path: shown,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Renders each operator template for every platform against the sample events of its
/// scope (as they come, and with every list and text at its longest).
pub fn try_samples(renderer: &Renderer, operators: &[Operator]) -> anyhow::Result<()> {
    for op in operators {
        let scope = Scope::parse(&op.name).unwrap_or_else(|_| Scope::parse("repo").expect("valid"));
        for (label, event) in [
            ("sample", samples::event(&scope)),
            ("largest sample", samples::largest(&scope)),
        ] {
            for platform in [Platform::Discord, Platform::Slack, Platform::Console] {
                let out = renderer
                    .registry(platform)
                    .render(&op.name, &super::context::build(&event, &scope));
                let why = match out {
                    Err(e) => e.to_string(),
                    Ok(text) if super::split(&text).0.is_empty() => {
                        "it renders an empty headline".into()
                    }
                    Ok(_) => continue,
                };
                anyhow::bail!(
                    "{} fails on the {label} {} event for {}: {why}",
                    op.path,
                    scope,
                    platform.as_str()
                );
            }
        }
    }
    Ok(())
}
