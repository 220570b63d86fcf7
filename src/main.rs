use clap::Parser;
use herald::cli::{self, Cli, Command, LogFormat};
use herald::config::Settings;
use herald::startup::Application;
use tracing::Level;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    let filter = EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // The template engine logs the values it renders (private comments among them) below
    // warnings: whatever HERALD_LOG asks, event content stays out of the log.
    let no_content =
        filter_fn(|m| !m.target().starts_with("handlebars") || *m.level() <= Level::WARN);
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match args.log_format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    tracing_subscriber::registry()
        .with(logs.with_filter(no_content).with_filter(filter))
        .init();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Cli) -> anyhow::Result<()> {
    if let Command::Doctor = args.command {
        // Doctor reports a config that does not load, as its first check.
        let (report, ok) = cli::doctor::run(&args.config).await;
        print(&report)?;
        return match ok {
            true => Ok(()),
            false => Err(anyhow::anyhow!("some checks failed")),
        };
    }
    let settings = Settings::load(&args.config)?;
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    match args.command {
        Command::Serve => {
            if settings.hub.secret == "change-me" {
                tracing::warn!("hub.secret is still the shipped \"change-me\": set HERALD_HUB__SECRET before exposing this server");
            }
            let stop = shutdown_signal()?;
            Application::build(&settings)
                .await?
                .run_until_stopped(stop)
                .await
        }
        other => print(&cli::run(&settings, other).await?),
    }
}

/// Prints a command's output; a reader that stopped early (`| head`) is not an error.
fn print(out: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{out}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed now, before the ready line,
/// so a signal sent right after it is never missed.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
