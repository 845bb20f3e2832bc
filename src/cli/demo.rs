//! `chatbill demo`: a demo shop on the embedded database, nothing to set up.

use crate::app::demo;
use crate::clock::{self, random_token};
use crate::config::{Config, ExposeSecret, Secrets};
use crate::store::shops;
use crate::store::tokens::{self, Role};
use std::path::Path;

#[derive(clap::Args)]
pub struct Args {
    /// Bind the demo shop to this Facebook Page id.
    #[arg(long, requires = "page_token")]
    page_id: Option<String>,
    /// The Page access token for --page-id.
    #[arg(long, requires = "page_id")]
    page_token: Option<String>,
    /// Create the demo shop, print its token, and exit (for benchmarks).
    #[arg(long)]
    setup_only: bool,
}

pub async fn run(args: Args) -> Result<(), String> {
    let mut config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
    fill_demo_secrets(&mut config)?;
    let db = super::connect(&config).await?;
    let now = clock::now();
    let (shop, created) = demo::ensure_demo_shop(&db, now)
        .await
        .map_err(|e| e.to_string())?;
    if let (Some(id), Some(token)) = (&args.page_id, &args.page_token) {
        shops::bind_channel(&db, shop, "messenger", id, Some(token), now)
            .await
            .map_err(|e| e.to_string())?;
    }
    let (token, _) = tokens::create(&db, shop, "demo", Role::Owner, now)
        .await
        .map_err(|e| e.to_string())?;
    if args.setup_only {
        println!("shop {shop}\ntoken {token}");
        return Ok(());
    }
    let stop = crate::startup::termination_signal();
    let running = crate::startup::start(config.clone(), db)
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
        config.meta_verify_token.expose_secret()
    );
    if let Some(id) = args.page_id {
        println!("  Facebook Page:       {id} is bound to the demo shop");
    }
    println!("  Health:              {base}/healthz");
    match &config.metrics {
        crate::config::MetricsAccess::Token(t) => println!(
            "  Metrics:             curl -H 'Authorization: Bearer {}' {base}/metrics",
            t.expose_secret()
        ),
        crate::config::MetricsAccess::Bind(_) => {
            if let Some(at) = running.metrics_addr {
                println!("  Metrics:             http://{at}/metrics");
            }
        }
        crate::config::MetricsAccess::Off => {}
    }
    println!(
        "  Database:            {}",
        super::redact(config.database_url.expose_secret())
    );
    println!("Press Ctrl-C to stop.");
    super::serve_until_signal(running, stop).await;
    Ok(())
}

/// The demo keeps its generated secrets next to its database so web-chat
/// cookies and the verify token survive a restart.
pub fn fill_demo_secrets(config: &mut Config) -> Result<(), String> {
    let path = Path::new("data/demo-secrets.json");
    let mut saved: serde_json::Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let mut changed = false;
    let mut metrics_token = match &config.metrics {
        crate::config::MetricsAccess::Off => secrecy::SecretString::default(),
        // The operator chose: nothing to make.
        _ => secrecy::SecretString::from("chosen"),
    };
    for (field, slot) in [
        ("meta_app_secret", &mut config.meta_app_secret),
        ("meta_verify_token", &mut config.meta_verify_token),
        ("secret_key", &mut config.secret_key),
        ("metrics_token", &mut metrics_token),
    ] {
        if !slot.expose_secret().is_empty() {
            continue;
        }
        match saved.get(field).and_then(|v| v.as_str()) {
            Some(v) => *slot = v.into(),
            None => {
                let fresh = random_token("");
                saved[field] = serde_json::Value::String(fresh.clone());
                *slot = fresh.into();
                changed = true;
            }
        }
    }
    if matches!(config.metrics, crate::config::MetricsAccess::Off) {
        config.metrics = crate::config::MetricsAccess::Token(metrics_token);
    }
    if changed {
        std::fs::create_dir_all("data").map_err(|e| format!("cannot create ./data: {e}"))?;
        write_private(
            path,
            &serde_json::to_string_pretty(&saved).unwrap_or_default(),
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    } else if path.exists() {
        only_owner_reads(path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// A file made by an older version, readable by all, is narrowed.
fn only_owner_reads(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Writes a file only its owner can read: it holds the demo's secrets.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if path.exists() {
        only_owner_reads(path)?;
    }
    options.open(path)?.write_all(text.as_bytes())
}
