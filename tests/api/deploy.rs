//! The Dockerfile and the systemd unit (deploy/) say what herald understands: their
//! settings are real settings and their command lines parse.

use clap::Parser;
use herald::cli::Cli;
use herald::config::Settings;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// `HERALD_X=value` pairs in a text, wherever they are set.
fn settings_in(text: &str) -> Vec<(String, String)> {
    text.split(|c: char| c.is_whitespace() || c == '\\')
        .filter_map(|w| w.trim_start_matches("Environment=").split_once('='))
        .filter(|(k, _)| k.starts_with("HERALD_"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn loads(vars: Vec<(String, String)>) {
    assert!(!vars.is_empty());
    let settings = Settings::layered(herald::config::SHIPPED, "bot.toml", vars.clone())
        .unwrap_or_else(|e| panic!("{vars:?}: {e:#}"));
    assert_eq!(
        settings.warnings,
        Vec::<String>::new(),
        "every variable is a setting"
    );
}

#[test]
fn the_dockerfile_builds_small_runs_unprivileged_and_checks_health() {
    let docker = read("Dockerfile");
    assert!(docker.contains(" AS build"), "multi-stage");
    assert!(
        docker.contains("FROM debian:bookworm-slim"),
        "a small runtime image"
    );
    let user = docker.lines().find(|l| l.starts_with("USER ")).unwrap();
    assert_ne!(user.trim(), "USER root");
    assert!(docker.contains("VOLUME /data"));
    assert!(docker.contains("HERALD_DATABASE__URL=sqlite:///data/herald.db"));
    assert!(docker.contains("HEALTHCHECK") && docker.contains("/healthz"));
    loads(settings_in(&docker));
    // ENTRYPOINT + CMD, as JSON arrays.
    let array = |key: &str| -> Vec<String> {
        let line = docker.lines().find(|l| l.starts_with(key)).unwrap();
        serde_json::from_str(line.trim_start_matches(key).trim()).unwrap()
    };
    let mut argv = array("ENTRYPOINT");
    argv.extend(array("CMD"));
    Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
}

#[test]
fn the_systemd_unit_runs_a_command_herald_understands() {
    let unit = read("deploy/herald.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let argv: Vec<&str> = exec.split_whitespace().collect();
    Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    loads(settings_in(&unit));
    assert!(unit.contains("KillSignal=SIGTERM"));
}
