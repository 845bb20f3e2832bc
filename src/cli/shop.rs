//! `chatbill shop create | list`.

use crate::clock;
use crate::config::{Config, Secrets};
use crate::domain::Currency;
use crate::store::shops::{self, ShopSettings};
use crate::store::tokens::{self, Role};

#[derive(clap::Subcommand)]
pub enum Command {
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

pub async fn run(command: Command) -> Result<(), String> {
    let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
    let db = super::connect(&config).await?;
    let now = clock::now();
    match command {
        Command::Create {
            name,
            currency,
            locale,
            page_id,
            page_token,
        } => {
            let currency: Currency = currency.parse().map_err(|e| format!("--currency: {e}"))?;
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
        Command::List => {
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
