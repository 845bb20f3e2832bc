//! `chatbill messenger setup`: Get Started, greeting and persistent menu.

use crate::channels::messenger::{profile, send::Graph};
use crate::config::{Config, ExposeSecret, Secrets};
use crate::domain::ShopId;
use crate::store::shops;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Set Get Started, the greeting and the persistent menu (Products, Cart,
    /// View orders, Talk to the shop) per locale on the shop's Page.
    Setup {
        #[arg(long)]
        shop: i64,
    },
}

pub async fn run(command: Command) -> Result<(), String> {
    let Command::Setup { shop } = command;
    let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
    let db = super::connect(&config).await?;
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
    let texts = crate::engine::Texts::load(config.templates_dir.as_deref());
    let body = profile::body(&texts, &shop.settings.messages, &shop.locale, &shop.name);
    let graph = Graph {
        http: reqwest::Client::new(),
        base: config.meta_graph_url.clone(),
    };
    graph
        .post(
            &format!("{}/me/messenger_profile", config.meta_graph_url),
            page.access_token.as_ref().map_or("", |t| t.expose_secret()),
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
