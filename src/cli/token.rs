//! `chatbill token create | revoke | list`.

use crate::clock;
use crate::config::{Config, Secrets};
use crate::domain::ShopId;
use crate::store::shops;
use crate::store::tokens::{self, Role};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an admin token for a shop (printed once).
    Create {
        #[arg(long)]
        shop: i64,
        #[arg(long, default_value = "cli")]
        label: String,
        /// owner (everything), manager (no balances, settings or tokens),
        /// finance (money, no shipping or catalogue), staff (fulfilment,
        /// stock and chat; no money). See the README's table.
        #[arg(long, default_value = "owner", value_parser = ["owner", "manager", "finance", "staff"])]
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

pub async fn run(command: Command) -> Result<(), String> {
    let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
    let db = super::connect(&config).await?;
    let now = clock::now();
    match command {
        Command::Create { shop, label, role } => {
            let role =
                Role::parse(&role).ok_or_else(|| format!("--role: unknown role {role:?}"))?;
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
        Command::Revoke { shop, id } => {
            tokens::revoke(&db, ShopId(shop), id, now)
                .await
                .map_err(|_| format!("--id: no active token {id} in shop {shop}"))?;
            println!("token {id} revoked");
        }
        Command::List { shop } => {
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
