//! `chatbill serve`: production.

use crate::config::{Config, Secrets};

pub async fn run() -> Result<(), String> {
    let config = Config::from_env(Secrets::Required).map_err(|e| e.to_string())?;
    let db = super::connect(&config).await?;
    let stop = crate::startup::termination_signal();
    let running = crate::startup::start(config, db)
        .await
        .map_err(|e| format!("CHATBILL_BIND: cannot listen: {e}"))?;
    tracing::info!(addr = %running.addr, "chatbill serving");
    super::serve_until_signal(running, stop).await;
    Ok(())
}
