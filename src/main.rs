//! The `chatbill` command line.

use chatbill::clock::{self, random_token};
use chatbill::config::{Config, Secrets};
use chatbill::domain::{Currency, ShopId};
use chatbill::store::shops::{self, ShopSettings};
use chatbill::store::tokens::{self, Role};
use chatbill::store::{Backend, Db};
use chatbill::{demo, server};
use clap::{Parser, Subcommand};
use std::path::Path;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "chatbill",
    version,
    about = "Sell inside a chat app without a person answering every message"
)]
struct Cli {
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
    Demo {
        /// Bind the demo shop to this Facebook Page id.
        #[arg(long, requires = "page_token")]
        page_id: Option<String>,
        /// The Page access token for --page-id.
        #[arg(long, requires = "page_id")]
        page_token: Option<String>,
        /// Create the demo shop, print its token, and exit (for benchmarks).
        #[arg(long)]
        setup_only: bool,
    },
    /// Manage shops.
    Shop {
        #[command(subcommand)]
        command: ShopCommand,
    },
    /// Manage admin API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Try the webhook by hand.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Load generators (see docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Messenger Page set-up.
    Messenger {
        #[command(subcommand)]
        command: MessengerCommand,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Sign a payload file with the app secret and POST it, as Meta would.
    Send {
        file: std::path::PathBuf,
        /// Defaults to http://<CHATBILL_BIND>/webhooks/messenger.
        #[arg(long)]
        url: Option<String>,
        /// New message ids and current timestamps, so a file can be replayed.
        #[arg(long)]
        fresh: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
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
        acked_file: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 5)]
        duplicate_percent: u64,
        #[arg(long, default_value_t = 30)]
        echo_percent: u64,
        /// Make the fake Graph API refuse (error 613) more than this many
        /// calls per Page per second, as Meta does at 300.
        #[arg(long)]
        graph_limit: Option<usize>,
    },
    /// Checks the database after a run (uses DATABASE_URL): acknowledged
    /// events processed, orders consistent, outbox delivered.
    Check {
        #[arg(long)]
        acked_file: std::path::PathBuf,
        /// How long to wait for queued work to drain before checking.
        #[arg(long, default_value_t = 120)]
        wait_secs: u64,
    },
}

#[derive(Subcommand)]
enum MessengerCommand {
    /// Set Get Started, the greeting and the persistent menu (Products, Cart,
    /// View orders, Talk to the shop) per locale on the shop's Page.
    Setup {
        #[arg(long)]
        shop: i64,
    },
}

#[derive(Subcommand)]
enum ShopCommand {
    /// Create a shop and print its first (owner) admin token.
    Create {
        #[arg(long)]
        name: String,
        /// ISO 4217 code, e.g. THB or VND.
        #[arg(long)]
        currency: String,
        /// Default language for customers: en, th or vi.
        #[arg(long, default_value = "en")]
        locale: String,
        #[arg(long, requires = "page_token")]
        page_id: Option<String>,
        #[arg(long, requires = "page_id")]
        page_token: Option<String>,
    },
    /// List shops and their channels.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an admin token for a shop (printed once).
    Create {
        #[arg(long)]
        shop: i64,
        #[arg(long, default_value = "cli")]
        label: String,
        #[arg(long, default_value = "owner", value_parser = ["owner", "staff"])]
        role: String,
    },
    /// Revoke a token by its id (see `token list`).
    Revoke {
        #[arg(long)]
        shop: i64,
        #[arg(long)]
        id: i64,
    },
    /// List a shop's tokens (never the secrets).
    List {
        #[arg(long)]
        shop: i64,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHATBILL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => {
            eprintln!("chatbill: {line}");
            ExitCode::FAILURE
        }
    }
}

async fn connect(config: &Config) -> Result<Db, String> {
    let db = Db::connect(&config.database_url).await.map_err(|e| {
        format!(
            "DATABASE_URL: cannot open {}: {e}",
            redact(&config.database_url)
        )
    })?;
    db.migrate()
        .await
        .map_err(|e| format!("DATABASE_URL: migration failed: {e}"))?;
    if db.backend == Backend::Sqlite {
        tracing::info!(
            "SQLite database: run exactly one chatbill process on it; use PostgreSQL to scale out"
        );
    }
    Ok(db)
}

/// Hides a password in a database URL before printing it.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve => {
            let config = Config::from_env(Secrets::Required).map_err(|e| e.to_string())?;
            let db = connect(&config).await?;
            let running = server::start(config, db)
                .await
                .map_err(|e| format!("CHATBILL_BIND: cannot listen: {e}"))?;
            tracing::info!(addr = %running.addr, "chatbill serving");
            serve_until_signal(running).await;
            Ok(())
        }
        Command::Migrate => {
            let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            connect(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo {
            page_id,
            page_token,
            setup_only,
        } => {
            let mut config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            fill_demo_secrets(&mut config)?;
            let db = connect(&config).await?;
            let now = clock::now();
            let (shop, created) = demo::ensure_demo_shop(&db, now)
                .await
                .map_err(|e| e.to_string())?;
            if let (Some(id), Some(token)) = (&page_id, &page_token) {
                shops::bind_channel(&db, shop, "messenger", id, Some(token), now)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let (token, _) = tokens::create(&db, shop, "demo", Role::Owner, now)
                .await
                .map_err(|e| e.to_string())?;
            if setup_only {
                println!("shop {shop}\ntoken {token}");
                return Ok(());
            }
            let running = server::start(config.clone(), db)
                .await
                .map_err(|e| format!("CHATBILL_BIND: cannot listen on {}: {e}", config.bind))?;
            let base = if config.public_url == format!("http://{}", config.bind) {
                format!("http://{}", running.addr)
            } else {
                config.public_url.clone()
            };
            println!();
            println!(
                "chatbill demo is running ({} shop #{shop}).",
                if created { "new" } else { "existing" }
            );
            println!("  Chat as a customer:  {base}/chat/{shop}");
            println!("  Seller console:      {base}/admin   (sign in with the token below)");
            println!("  Admin API:           {base}/api/v1  (Authorization: Bearer <token>)");
            println!("  Admin token:         {token}");
            println!(
                "  Messenger webhook:   {base}/webhooks/messenger  (verify token: {})",
                config.meta_verify_token
            );
            if let Some(id) = page_id {
                println!("  Facebook Page:       {id} is bound to the demo shop");
            }
            println!("  Health and metrics:  {base}/healthz  {base}/metrics");
            println!("  Database:            {}", redact(&config.database_url));
            println!("Press Ctrl-C to stop.");
            serve_until_signal(running).await;
            Ok(())
        }
        Command::Shop { command } => {
            let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            let db = connect(&config).await?;
            let now = clock::now();
            match command {
                ShopCommand::Create {
                    name,
                    currency,
                    locale,
                    page_id,
                    page_token,
                } => {
                    let currency: Currency =
                        currency.parse().map_err(|e| format!("--currency: {e}"))?;
                    if !matches!(locale.as_str(), "en" | "th" | "vi") {
                        return Err(format!("--locale: {locale:?} is not one of en, th, vi"));
                    }
                    if name.trim().is_empty() {
                        return Err("--name: must not be empty".into());
                    }
                    let shop = shops::create(
                        &db,
                        name.trim(),
                        currency,
                        &locale,
                        &ShopSettings::default(),
                        now,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    if let (Some(id), Some(tok)) = (&page_id, &page_token) {
                        shops::bind_channel(&db, shop.id, "messenger", id, Some(tok), now)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    let (token, _) = tokens::create(&db, shop.id, "owner", Role::Owner, now)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!("shop {} created: {}", shop.id, shop.name);
                    println!("admin token (shown once, keep it safe): {token}");
                }
                ShopCommand::List => {
                    for shop in shops::list(&db).await.map_err(|e| e.to_string())? {
                        let channels = shops::channels_of(&db, shop.id)
                            .await
                            .map_err(|e| e.to_string())?;
                        let channels: Vec<String> = channels
                            .iter()
                            .map(|c| format!("{}:{}", c.channel, c.external_id))
                            .collect();
                        println!(
                            "{}\t{}\t{}\t{}",
                            shop.id,
                            shop.name,
                            shop.currency,
                            channels.join(",")
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Webhook {
            command: WebhookCommand::Send { file, url, fresh },
        } => {
            let mut config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            fill_demo_secrets(&mut config)?;
            let raw = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let body = if fresh {
                let mut v: serde_json::Value = serde_json::from_slice(&raw)
                    .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
                let shift = min_timestamp(&v)
                    .map(|t| clock::now().millis() - t)
                    .unwrap_or(0);
                refresh_ids(
                    &mut v,
                    &chatbill::clock::hex(&chatbill::clock::random_bytes::<4>()),
                    shift,
                );
                serde_json::to_vec(&v).map_err(|e| e.to_string())?
            } else {
                raw
            };
            let url = url.unwrap_or_else(|| format!("http://{}/webhooks/messenger", config.bind));
            let signature = chatbill::channels::messenger::signature::sign(
                config.meta_app_secret.as_bytes(),
                &body,
            );
            let response = reqwest::Client::new()
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(body)
                .send()
                .await
                .map_err(|e| format!("--url {url}: {e}"))?;
            let status = response.status();
            println!("{status} {}", response.text().await.unwrap_or_default());
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("the server answered {status}"))
            }
        }
        Command::Bench {
            command:
                BenchCommand::Intake {
                    url,
                    page_id,
                    concurrency,
                    seconds,
                    customers,
                },
        } => {
            let mut config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            fill_demo_secrets(&mut config)?;
            let report = chatbill::bench::intake(chatbill::bench::IntakeOptions {
                url,
                app_secret: config.meta_app_secret.clone(),
                page_id,
                concurrency,
                duration: std::time::Duration::from_secs(seconds),
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
        Command::Bench {
            command:
                BenchCommand::Journey {
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
                },
        } => {
            let mut config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            fill_demo_secrets(&mut config)?;
            let r = chatbill::bench::journey(chatbill::bench::JourneyOptions {
                urls: urls
                    .split(',')
                    .map(|u| u.trim().trim_end_matches('/').to_string())
                    .filter(|u| !u.is_empty())
                    .collect(),
                app_secret: config.meta_app_secret.clone(),
                page_id,
                token,
                customers,
                concurrency,
                graph_port,
                reply_timeout: std::time::Duration::from_secs(reply_timeout_secs),
                acked_file,
                duplicate_percent,
                echo_percent,
                graph_limit,
            })
            .await?;
            use chatbill::bench::JourneyReport as R;
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
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
        Command::Bench {
            command:
                BenchCommand::Check {
                    acked_file,
                    wait_secs,
                },
        } => {
            let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            let db = connect(&config).await?;
            let acked: Vec<String> = std::fs::read_to_string(&acked_file)
                .map_err(|e| format!("{}: {e}", acked_file.display()))?
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let c = chatbill::bench::check(&db, &acked, std::time::Duration::from_secs(wait_secs))
                .await?;
            println!("{c:#?}");
            if c.ok() {
                println!("consistent");
                Ok(())
            } else {
                Err("inconsistent: see above".into())
            }
        }
        Command::Messenger {
            command: MessengerCommand::Setup { shop },
        } => {
            let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            let db = connect(&config).await?;
            let shop = shops::get(&db, ShopId(shop))
                .await
                .map_err(|_| format!("--shop: no shop {shop}"))?;
            let page = shops::channels_of(&db, shop.id)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .find(|c| c.channel == "messenger")
                .ok_or_else(|| {
                    format!(
                        "--shop: shop {} has no Facebook Page bound (shop create --page-id …)",
                        shop.id
                    )
                })?;
            let texts = chatbill::engine::Texts::load(config.templates_dir.as_deref());
            let body =
                chatbill::channels::messenger::profile::body(&texts, &shop.locale, &shop.name);
            let graph = chatbill::channels::messenger::send::Graph {
                http: reqwest::Client::new(),
                base: config.meta_graph_url.clone(),
            };
            graph
                .post(
                    &format!("{}/me/messenger_profile", config.meta_graph_url),
                    page.access_token.as_deref().unwrap_or(""),
                    &body,
                )
                .await
                .map_err(|e| format!("Messenger Profile API: {e}"))?;
            println!(
                "Page {}: Get Started, greeting and the persistent menu are set",
                page.external_id
            );
            Ok(())
        }
        Command::Token { command } => {
            let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
            let db = connect(&config).await?;
            let now = clock::now();
            match command {
                TokenCommand::Create { shop, label, role } => {
                    let role = Role::parse(&role).unwrap_or(Role::Staff);
                    shops::get(&db, ShopId(shop))
                        .await
                        .map_err(|_| format!("--shop: no shop {shop}"))?;
                    let (token, info) = tokens::create(&db, ShopId(shop), &label, role, now)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!(
                        "token {} ({}, {}): {token}",
                        info.id,
                        info.label,
                        info.role.as_str()
                    );
                }
                TokenCommand::Revoke { shop, id } => {
                    tokens::revoke(&db, ShopId(shop), id, now)
                        .await
                        .map_err(|_| format!("--id: no active token {id} in shop {shop}"))?;
                    println!("token {id} revoked");
                }
                TokenCommand::List { shop } => {
                    for t in tokens::list(&db, ShopId(shop))
                        .await
                        .map_err(|e| e.to_string())?
                    {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{}\t{}…\t{}\t{}\t{state}",
                            t.id,
                            t.prefix,
                            t.label,
                            t.role.as_str()
                        );
                    }
                }
            }
            Ok(())
        }
    }
}

/// Gives every `mid` a new value and shifts timestamps to now, keeping order.
fn refresh_ids(v: &mut serde_json::Value, suffix: &str, shift: i64) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match (k.as_str(), &*val) {
                    ("mid", serde_json::Value::String(s)) => {
                        *val = serde_json::Value::String(format!("{s}-{suffix}"))
                    }
                    ("timestamp" | "time" | "watermark", serde_json::Value::Number(n)) => {
                        if let Some(t) = n.as_i64() {
                            *val = serde_json::json!(t + shift);
                        }
                    }
                    _ => refresh_ids(val, suffix, shift),
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|i| refresh_ids(i, suffix, shift))
        }
        _ => {}
    }
}

fn min_timestamp(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Object(map) => map
            .iter()
            .filter_map(|(k, val)| match (k.as_str(), val) {
                ("timestamp", serde_json::Value::Number(n)) => n.as_i64(),
                _ => min_timestamp(val),
            })
            .min(),
        serde_json::Value::Array(items) => items.iter().filter_map(min_timestamp).min(),
        _ => None,
    }
}

async fn serve_until_signal(running: server::Running) {
    server::termination_signal().await;
    tracing::info!("stopping: finishing in-flight requests and work");
    running.shutdown().await;
}

/// The demo keeps its generated secrets next to its database so web-chat
/// cookies and the verify token survive a restart.
fn fill_demo_secrets(config: &mut Config) -> Result<(), String> {
    let path = Path::new("data/demo-secrets.json");
    let mut saved: serde_json::Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let mut changed = false;
    for (field, slot) in [
        ("meta_app_secret", &mut config.meta_app_secret),
        ("meta_verify_token", &mut config.meta_verify_token),
        ("secret_key", &mut config.secret_key),
    ] {
        if !slot.is_empty() {
            continue;
        }
        match saved.get(field).and_then(|v| v.as_str()) {
            Some(v) => *slot = v.to_string(),
            None => {
                *slot = random_token("");
                saved[field] = serde_json::Value::String(slot.clone());
                changed = true;
            }
        }
    }
    if changed {
        std::fs::create_dir_all("data").map_err(|e| format!("cannot create ./data: {e}"))?;
        std::fs::write(
            path,
            serde_json::to_string_pretty(&saved).unwrap_or_default(),
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
