//! `chatbill shop create | list | show | set | history`.

use crate::app::settings::{self, Edit};
use crate::clock;
use crate::config::{Config, Secrets};
use crate::domain::{Actor, Currency, ShopId};
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
    /// Print a shop's settings as JSON.
    Show {
        #[arg(long)]
        shop: i64,
    },
    /// Change settings: `name=value` pairs (the value as JSON when it
    /// reads as JSON, else as text; `a.b=value` sets a key inside a
    /// setting, as text), or `--json` with a merge patch. Checked as the API checks
    /// them, recorded in the settings history, in effect at once.
    Set {
        #[arg(long)]
        shop: i64,
        #[arg(long)]
        json: Option<String>,
        /// e.g. hold_hours=48 'payment_qr={"scheme":"promptpay","id":"0812345678"}'
        pairs: Vec<String>,
    },
    /// Who changed which settings when, newest first.
    History {
        #[arg(long)]
        shop: i64,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

/// The merge patch `name=value` pairs describe.
fn patch_from_pairs(json: Option<&str>, pairs: &[String]) -> Result<serde_json::Value, String> {
    use serde_json::{Map, Value};
    let mut patch = match json {
        Some(text) => serde_json::from_str(text).map_err(|e| format!("--json: {e}"))?,
        None => Value::Object(Map::new()),
    };
    for pair in pairs {
        let Some((path, raw)) = pair.split_once('=') else {
            return Err(format!("{pair:?}: write name=value"));
        };
        // Inside a setting every value is text (ids with leading digits
        // stay text) unless it is an object or a list.
        let nested = path.contains('.') && !raw.starts_with(['{', '[']);
        let value = match serde_json::from_str(raw) {
            Ok(v) if !nested => v,
            _ => Value::String(raw.into()),
        };
        let mut at = &mut patch;
        let names: Vec<&str> = path.split('.').collect();
        for (i, name) in names.iter().enumerate() {
            let Value::Object(map) = at else {
                return Err(format!(
                    "{path}: {name} is inside a value that is not an object"
                ));
            };
            if i + 1 == names.len() {
                map.insert((*name).into(), value.clone());
                break;
            }
            at = map
                .entry(*name)
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
    if patch.as_object().is_none_or(|m| m.is_empty()) {
        return Err("name at least one setting to change, e.g. hold_hours=48".into());
    }
    Ok(patch)
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
        Command::Show { shop } => {
            let shop = shops::get(&db, ShopId(shop))
                .await
                .map_err(|e| e.to_string())?;
            let out = serde_json::to_string_pretty(&shop.settings).map_err(|e| e.to_string())?;
            println!("{out}");
            for w in crate::app::settings::warnings(&shop.settings) {
                eprintln!("note: {w}");
            }
        }
        Command::Set { shop, json, pairs } => {
            let patch = patch_from_pairs(json.as_deref(), &pairs)?;
            let shop = shops::get(&db, ShopId(shop))
                .await
                .map_err(|e| e.to_string())?;
            let actor = Actor::Seller("operator (command line)".into());
            let changed = settings::change(&db, &shop, Edit::Patch(&patch), &actor, now)
                .await
                .map_err(|e| e.to_string())?;
            if changed.fields.is_empty() {
                println!("nothing changed");
            } else {
                println!("changed: {}", changed.fields.join(", "));
            }
            for w in settings::warnings(&changed.settings) {
                eprintln!("note: {w}");
            }
        }
        Command::History { shop, limit } => {
            let changes = shops::settings_history(&db, ShopId(shop), None, limit.clamp(1, 200))
                .await
                .map_err(|e| e.to_string())?;
            let shop = shops::get(&db, ShopId(shop))
                .await
                .map_err(|e| e.to_string())?;
            let cal = shop.settings.calendar();
            for c in changes {
                println!(
                    "{}\t{}\t{}",
                    cal.date_time(c.at),
                    c.actor,
                    c.fields.join(", ")
                );
            }
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
