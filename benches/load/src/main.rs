//! `chatbill-load`: load generators against running chatbill servers (see
//! docs/benchmarks.md and benches/journey.sh, benches/intake.sh).

use chatbill::config::{Config, ExposeSecret, Secrets};
use chatbill::store::Db;
use chatbill_load::{hostile, intake, journey};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "chatbill-load", about = "Load generators for chatbill")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Distinct signed webhook events against a running server.
    Intake {
        #[arg(long, default_value = "http://127.0.0.1:8080/webhooks/messenger")]
        url: String,
        /// A Page id bound to a shop on that server.
        #[arg(long)]
        page_id: String,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 10_000)]
        customers: u64,
    },
    /// Customers walking the whole journey (browse, cart, address, order,
    /// transfer, slip, view orders) with duplicates and echoes mixed in,
    /// against servers that use this tool's fake Graph API.
    Journey {
        /// Comma-separated server base URLs, e.g. http://127.0.0.1:8080
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        urls: String,
        #[arg(long)]
        page_id: String,
        /// An admin token of the shop (to look up a product to buy).
        #[arg(long)]
        token: String,
        #[arg(long, default_value_t = 500)]
        customers: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// The fake Graph API listens here; start the servers with META_GRAPH_URL=http://127.0.0.1:PORT/v25.0
        #[arg(long, default_value_t = 18600)]
        graph_port: u16,
        #[arg(long, default_value_t = 60)]
        reply_timeout_secs: u64,
        #[arg(long)]
        acked_file: Option<PathBuf>,
        #[arg(long, default_value_t = 5)]
        duplicate_percent: u64,
        #[arg(long, default_value_t = 30)]
        echo_percent: u64,
        /// Make the fake Graph API refuse (error 613) more than this many
        /// calls per Page per second, as Meta does at 300.
        #[arg(long)]
        graph_limit: Option<usize>,
    },
    /// Hostile traffic against one server's web chat, metrics and login
    /// (benches/hostile.sh runs it beside a customer and a seller).
    Hostile(hostile::HostileOptions),
    /// A minimal reference server for comparison: it reads each webhook body
    /// and answers 200, doing nothing else (no signature, no parse, no
    /// storage). Benchmarks report chatbill's figures as a ratio of this.
    Reference {
        #[arg(long, default_value = "127.0.0.1:18556")]
        bind: std::net::SocketAddr,
    },
    /// Checks the database after a run (uses DATABASE_URL): acknowledged
    /// events processed, orders consistent, outbox delivered.
    Check {
        #[arg(long)]
        acked_file: PathBuf,
        /// How long to wait for queued work to drain before checking.
        #[arg(long, default_value_t = 120)]
        wait_secs: u64,
    },
}

/// The app secret the servers verify with: META_APP_SECRET, or the one
/// `chatbill demo` generated in ./data.
fn app_secret() -> Result<String, String> {
    let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
    let secret = config.meta_app_secret.expose_secret();
    if !secret.is_empty() {
        return Ok(secret.to_string());
    }
    let saved = std::fs::read_to_string("data/demo-secrets.json")
        .map_err(|_| "META_APP_SECRET is not set and there is no data/demo-secrets.json")?;
    let v: serde_json::Value = serde_json::from_str(&saved).map_err(|e| e.to_string())?;
    v["meta_app_secret"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "data/demo-secrets.json has no meta_app_secret".into())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => {
            eprintln!("chatbill-load: {line}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Intake {
            url,
            page_id,
            concurrency,
            seconds,
            customers,
        } => {
            let report = intake::intake(intake::IntakeOptions {
                url,
                app_secret: app_secret()?,
                page_id,
                concurrency,
                duration: Duration::from_secs(seconds),
                customers,
            })
            .await?;
            println!(
                "intake: {} events acknowledged in {:.1} s = {:.0} events/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors",
                report.requests,
                report.elapsed.as_secs_f64(),
                report.rps(),
                report.p50.as_secs_f64() * 1000.0,
                report.p99.as_secs_f64() * 1000.0,
                report.max.as_secs_f64() * 1000.0,
                report.errors
            );
            Ok(())
        }
        Command::Journey {
            urls,
            page_id,
            token,
            customers,
            concurrency,
            graph_port,
            reply_timeout_secs,
            acked_file,
            duplicate_percent,
            echo_percent,
            graph_limit,
        } => {
            let r = journey::journey(journey::JourneyOptions {
                urls: urls
                    .split(',')
                    .map(|u| u.trim().trim_end_matches('/').to_string())
                    .filter(|u| !u.is_empty())
                    .collect(),
                app_secret: app_secret()?,
                page_id,
                token,
                customers,
                concurrency,
                graph_port,
                reply_timeout: Duration::from_secs(reply_timeout_secs),
                acked_file,
                duplicate_percent,
                echo_percent,
                graph_limit,
            })
            .await?;
            use journey::JourneyReport as R;
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "journey: {} journeys completed; {} events acknowledged ({} duplicates, {} echoes, {} retries) in {:.1} s = {:.0} events/s",
                r.journeys_completed,
                r.events_acked,
                r.duplicates_sent,
                r.echoes_sent,
                r.retries,
                r.elapsed.as_secs_f64(),
                r.events_acked as f64 / r.elapsed.as_secs_f64()
            );
            println!(
                "intake latency p50 {:.2} ms, p99 {:.2} ms; end-to-end (webhook → Send API) p50 {:.2} ms, p99 {:.2} ms; {} Send API calls = {:.0}/s, {} repeated; {} replies missing",
                ms(R::pct(&r.intake, 0.5)),
                ms(R::pct(&r.intake, 0.99)),
                ms(R::pct(&r.e2e, 0.5)),
                ms(R::pct(&r.e2e, 0.99)),
                r.sends,
                r.sends as f64 / r.elapsed.as_secs_f64(),
                r.duplicate_sends,
                r.replies_missing
            );
            println!(
                "Page rate: busiest second {} accepted calls; {} refused with 613{}",
                r.busiest_second,
                r.rate_limited,
                graph_limit.map_or(String::new(), |l| format!(" (limit {l}/s)"))
            );
            Ok(())
        }
        Command::Hostile(options) => {
            let r = hostile::hostile(options).await?;
            println!("hostile traffic done in {:.1} s", r.elapsed.as_secs_f64());
            for (kind, tally) in &r.statuses {
                let parts: Vec<String> = tally.iter().map(|(s, n)| format!("{s}: {n}")).collect();
                println!("  {kind}: {}", parts.join(", "));
            }
            Ok(())
        }
        Command::Reference { bind } => {
            let app = axum::Router::new().route(
                "/webhooks/messenger",
                axum::routing::post(|_body: axum::body::Bytes| async { "EVENT_RECEIVED" }),
            );
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| format!("--bind {bind}: {e}"))?;
            axum::serve(listener, app).await.map_err(|e| e.to_string())
        }
        Command::Check {
            acked_file,
            wait_secs,
        } => {
            let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            let db = Db::connect(config.database_url.expose_secret())
                .await
                .map_err(|e| format!("DATABASE_URL: {e}"))?;
            let acked: Vec<String> = std::fs::read_to_string(&acked_file)
                .map_err(|e| format!("{}: {e}", acked_file.display()))?
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let c = journey::check(&db, &acked, Duration::from_secs(wait_secs)).await?;
            println!("{c:#?}");
            if c.ok() {
                println!("consistent");
                Ok(())
            } else {
                Err("inconsistent: see above".into())
            }
        }
    }
}
