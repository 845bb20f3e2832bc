//! `chatbill migrate`: apply the schema and exit.

use crate::config::{Config, Secrets};

pub async fn run() -> Result<(), String> {
    let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
    super::connect(&config).await?;
    println!("migrations applied");
    Ok(())
}
