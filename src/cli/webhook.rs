//! `chatbill webhook send FILE`: sign a payload with the app secret and
//! post it, the way Meta does.

use crate::channels::messenger::signature;
use crate::clock;
use crate::config::ExposeSecret;
use crate::config::{Config, Secrets};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Sign a payload file with the app secret and POST it, as Meta would.
    Send {
        file: PathBuf,
        /// Defaults to http://<CHATBILL_BIND>/webhooks/messenger.
        #[arg(long)]
        url: Option<String>,
        /// New message ids and current timestamps, so a file can be replayed.
        #[arg(long)]
        fresh: bool,
    },
}

pub async fn run(command: Command) -> Result<(), String> {
    let Command::Send { file, url, fresh } = command;
    let mut config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
    super::demo::fill_demo_secrets(&mut config)?;
    let raw = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let body = if fresh {
        let mut v: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
        let shift = min_timestamp(&v)
            .map(|t| clock::now().millis() - t)
            .unwrap_or(0);
        refresh_ids(&mut v, &clock::hex(&clock::random_bytes::<4>()), shift);
        serde_json::to_vec(&v).map_err(|e| e.to_string())?
    } else {
        raw
    };
    let url = url.unwrap_or_else(|| format!("http://{}/webhooks/messenger", config.bind));
    let signature = signature::sign(config.meta_app_secret.expose_secret().as_bytes(), &body);
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
