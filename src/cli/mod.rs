//! The `chatbill` command line: one file per command. Each parses its
//! flags, opens what it needs, calls the application and prints.

mod books;
mod demo;
mod messenger;
mod migrate;
mod serve;
mod shop;
mod token;
mod webhook;

use crate::config::Config;
use crate::config::ExposeSecret;
use crate::store::Db;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "chatbill",
    version,
    about = "Sell inside a chat app without a person answering every message"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the webhooks, web chat, admin API and workers.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Run with a demo shop and catalog; prints where to chat and where the seller works.
    Demo(demo::Args),
    /// Manage shops.
    Shop {
        #[command(subcommand)]
        command: shop::Command,
    },
    /// Manage admin API tokens.
    Token {
        #[command(subcommand)]
        command: token::Command,
    },
    /// The reconciliation report and CSV exports for the accountant.
    Books {
        #[command(subcommand)]
        command: books::Command,
    },
    /// Try the webhook by hand.
    Webhook {
        #[command(subcommand)]
        command: webhook::Command,
    },
    /// Messenger Page set-up.
    Messenger {
        #[command(subcommand)]
        command: messenger::Command,
    },
}

/// Parses the command line, runs the command, and turns an error into one
/// line on stderr and a failing exit code.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Serve => serve::run().await,
        Command::Migrate => migrate::run().await,
        Command::Demo(args) => demo::run(args).await,
        Command::Shop { command } => shop::run(command).await,
        Command::Token { command } => token::run(command).await,
        Command::Books { command } => books::run(command).await,
        Command::Webhook { command } => webhook::run(command).await,
        Command::Messenger { command } => messenger::run(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => {
            eprintln!("chatbill: {line}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHATBILL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Opens the configured database and brings its schema up to date.
async fn connect(config: &Config) -> Result<Db, String> {
    let db = Db::connect(config.database_url.expose_secret())
        .await
        .map_err(|e| {
            format!(
                "DATABASE_URL: cannot open {}: {e}",
                redact(config.database_url.expose_secret())
            )
        })?;
    db.migrate()
        .await
        .map_err(|e| format!("DATABASE_URL: migration failed: {e}"))?;
    if let Some(note) = db.deployment_note() {
        tracing::info!("{note}");
    }
    Ok(db)
}

/// Hides a password in a database URL before printing it.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => match base[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &base[..s + 3], &base[at..]),
            None => base.to_string(),
        },
        _ => base.to_string(),
    };
    // `postgres://host/db?password=…` is as secret as `user:…@host`.
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _))
                    if matches!(
                        k.to_ascii_lowercase().as_str(),
                        "password" | "pass" | "pwd" | "sslpassword" | "passfile" | "token"
                    ) =>
                {
                    format!("{k}=***")
                }
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Serves until Ctrl-C or SIGTERM (listened for since `stop` was made),
/// then stops gracefully.
async fn serve_until_signal(
    running: crate::startup::Running,
    stop: impl std::future::Future<Output = ()>,
) {
    stop.await;
    tracing::info!("stopping: finishing in-flight requests and work");
    running.shutdown().await;
}

#[cfg(test)]
mod redact_tests {
    use super::redact;

    #[test]
    fn redact_hides_passwords_in_the_user_part_and_in_parameters() {
        assert_eq!(
            redact("postgres://app:hunter2@db/chatbill"),
            "postgres://app:***@db/chatbill"
        );
        assert_eq!(
            redact("postgres://db/chatbill?user=app&password=hunter2&sslmode=require"),
            "postgres://db/chatbill?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgres://a:b@db/x?PASSWORD=c"),
            "postgres://a:***@db/x?PASSWORD=***"
        );
        assert_eq!(
            redact("sqlite://data/chatbill.db"),
            "sqlite://data/chatbill.db"
        );
    }
}
