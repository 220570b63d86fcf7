//! `herald doctor`: checks a deployment and prints one line per check, ✓ or ✗ with the fix.
//! It changes nothing: the database is opened read-only, the platforms are only asked.

mod hub;
mod platforms;

use crate::config::Settings;
use crate::render::Renderer;
use crate::route::Subscription;
use crate::store::{subscriptions, MIGRATOR};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::Path;
use std::str::FromStr;

/// One check's outcome: passed or not, and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub ok: bool,
    pub text: String,
}

impl Check {
    fn pass(text: impl Into<String>) -> Check {
        Check {
            ok: true,
            text: text.into(),
        }
    }

    fn fail(text: impl Into<String>) -> Check {
        Check {
            ok: false,
            text: text.into(),
        }
    }

    pub fn line(&self) -> String {
        format!("{} {}", if self.ok { "✓" } else { "✗" }, self.text)
    }
}

/// Loads the config at `path` and checks everything; the report, and whether all passed.
pub async fn run(path: &Path) -> (String, bool) {
    let mut checks = Vec::new();
    match Settings::load(path) {
        Err(e) => checks.push(Check::fail(format!("config: {e:#}"))),
        Ok(settings) => {
            checks.push(Check::pass(format!(
                "config: {} and the HERALD_* variables read, every key known",
                path.display()
            )));
            checks.extend(settings.warnings.iter().map(|w| Check::fail(w.clone())));
            checks.extend(check(&settings).await);
        }
    }
    let ok = checks.iter().all(|c| c.ok);
    let lines: Vec<String> = checks.iter().map(Check::line).collect();
    (lines.join("\n"), ok)
}

/// Every check of a deployment whose config loaded.
pub async fn check(settings: &Settings) -> Vec<Check> {
    let mut checks = Vec::new();
    let subs = match database(&settings.database.url).await {
        Ok((done, subs)) => {
            checks.extend(done);
            subs
        }
        Err(c) => {
            checks.push(c);
            Vec::new()
        }
    };
    checks.push(secret(settings));
    checks.push(health(settings).await);
    checks.extend(platforms::check(settings, &subs).await);
    checks.push(hub::check(settings).await);
    checks.push(match Renderer::load(Some(&settings.templates.dir)) {
        Ok(_) => Check::pass(format!(
            "templates: those in {} pass every check",
            settings.templates.dir.display()
        )),
        Err(e) => Check::fail(format!("templates: {e:#}")),
    });
    checks
}

/// The file exists, only its owner reads it, and every migration is applied; its
/// subscriptions, for the platform checks.
async fn database(url: &str) -> Result<(Vec<Check>, Vec<Subscription>), Check> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| Check::fail(format!("database: {url} is not a sqlite:// URL ({e})")))?
        .read_only(true);
    let file = opts.get_filename().to_path_buf();
    let shown = file.display().to_string();
    if !file.exists() {
        return Err(Check::fail(format!(
            "database: {shown} does not exist yet; herald serve creates it (run doctor from the server's directory)"
        )));
    }
    let mut checks = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).map(|m| m.permissions().mode() & 0o777);
        checks.push(match mode {
            Ok(m) if m & 0o077 == 0 => Check::pass(format!("database: {shown} is readable by its owner only")),
            Ok(m) => Check::fail(format!(
                "database: {shown} has mode {m:o}, so others can read events and channel ids: chmod 600 {shown}"
            )),
            Err(e) => Check::fail(format!("database: cannot read {shown}: {e}")),
        });
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .map_err(|e| Check::fail(format!("database: cannot open {shown}: {e}")))?;
    let applied = crate::store::Store::applied(&pool)
        .await
        .map_err(|e| Check::fail(format!("database: cannot read {shown}'s migrations: {e}")))?;
    let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    let missing = known.iter().filter(|v| !applied.contains(v)).count();
    let newer = applied.iter().filter(|v| !known.contains(v)).count();
    checks.push(match (missing, newer) {
        (0, 0) => Check::pass(format!("database: all {} migrations applied", known.len())),
        (_, n) if n > 0 => Check::fail(format!(
            "database: {n} migrations are from a newer herald; run that version, or restore a backup"
        )),
        (n, _) => Check::fail(format!(
            "database: {n} of {} migrations not applied; start herald serve once (it applies them)",
            known.len()
        )),
    });
    match subscriptions::list(&pool).await {
        Ok(subs) => Ok((checks, subs)),
        Err(e) => {
            checks.push(Check::fail(format!(
                "database: the subscriptions cannot be read ({e:#}), so no channel was checked"
            )));
            Ok((checks, Vec::new()))
        }
    }
}

fn secret(settings: &Settings) -> Check {
    let secrets = std::iter::once(&settings.hub.secret).chain(&settings.hub.secrets);
    let fix = "set HERALD_HUB__SECRET to a long random secret, and the same on the Hub's webhook";
    for s in secrets.filter(|s| !s.is_empty()) {
        if s == "change-me" {
            return Check::fail(format!("hub.secret is the shipped \"change-me\": {fix}"));
        }
        if s.chars().count() < 16 {
            return Check::fail(format!("hub.secret is shorter than 16 characters: {fix}"));
        }
    }
    Check::pass("hub.secret is set and not the shipped one")
}

/// `server.public_url` reaches this server's `/healthz`, as the Hub and the platforms would.
async fn health(settings: &Settings) -> Check {
    let url = format!(
        "{}/healthz",
        settings.server.public_url.trim_end_matches('/')
    );
    let answer = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(3))
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => Check::pass(format!("{url} answers")),
        Ok(r) => Check::fail(format!(
            "{url} answers HTTP {}: is it herald behind server.public_url?",
            r.status().as_u16()
        )),
        Err(e) => Check::fail(format!(
            "{url} does not answer ({}): start herald serve, and make server.public_url the address the Hub reaches it at",
            without_url(&e)
        )),
    }
}

/// What went wrong with a request, in the words of its deepest cause.
pub(super) fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}
