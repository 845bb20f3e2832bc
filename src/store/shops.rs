//! Shops, their settings and the channel accounts (Facebook Pages, web chat)
//! they own.

use super::{Db, Result, StoreError, col};
use crate::domain::{Currency, ShopId, Timestamp};
use secrecy::SecretString;

pub use crate::domain::shop::{BankAccount, PaymentQr, ShopSettings};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shop {
    pub id: ShopId,
    pub name: String,
    pub currency: Currency,
    pub locale: String,
    pub settings: ShopSettings,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ChannelAccount {
    pub shop_id: ShopId,
    pub channel: String,
    pub external_id: String,
    /// The Page's access token: never printed or serialised.
    #[serde(skip)]
    pub access_token: Option<SecretString>,
}

fn shop_from_row(row: &sqlx::any::AnyRow) -> Result<Shop> {
    let currency: String = col(row, "currency")?;
    let settings: String = col(row, "settings")?;
    Ok(Shop {
        id: ShopId(col(row, "id")?),
        name: col(row, "name")?,
        currency: currency
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {currency:?}")))?,
        locale: col(row, "locale")?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("shop settings: {e}")))?,
        created_at: Timestamp(col(row, "created_at")?),
    })
}

const SHOP_COLUMNS: &str = "id, name, currency, locale, settings, created_at";

pub async fn create(
    db: &Db,
    name: &str,
    currency: Currency,
    locale: &str,
    settings: &ShopSettings,
    now: Timestamp,
) -> Result<Shop> {
    let settings_json =
        serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let row = sqlx::query(&format!(
        "insert into shops (name, currency, locale, settings, created_at) values ($1, $2, $3, $4, $5) returning {SHOP_COLUMNS}"
    ))
    .bind(name)
    .bind(currency.code())
    .bind(locale)
    .bind(settings_json)
    .bind(now.millis())
    .fetch_one(&db.pool)
    .await?;
    shop_from_row(&row)
}

pub async fn get(db: &Db, id: ShopId) -> Result<Shop> {
    let row = sqlx::query(&format!("select {SHOP_COLUMNS} from shops where id = $1"))
        .bind(id.get())
        .fetch_optional(&db.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    shop_from_row(&row)
}

pub async fn list(db: &Db) -> Result<Vec<Shop>> {
    let rows = sqlx::query(&format!("select {SHOP_COLUMNS} from shops order by id"))
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(shop_from_row).collect()
}

pub async fn update_settings(db: &Db, id: ShopId, settings: &ShopSettings) -> Result<()> {
    let json = serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let n = sqlx::query("update shops set settings = $1 where id = $2")
        .bind(json)
        .bind(id.get())
        .execute(&db.writer)
        .await?
        .rows_affected();
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Binds a channel account (e.g. a Facebook Page) to a shop. Re-binding the
/// same Page moves it and refreshes its token.
pub async fn bind_channel(
    db: &Db,
    shop: ShopId,
    channel: &str,
    external_id: &str,
    access_token: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "insert into channel_accounts (shop_id, channel, external_id, access_token, created_at) \
         values ($1, $2, $3, $4, $5) \
         on conflict (channel, external_id) do update set shop_id = excluded.shop_id, access_token = excluded.access_token",
    )
    .bind(shop.get())
    .bind(channel)
    .bind(external_id)
    .bind(access_token)
    .bind(now.millis())
    .execute(&db.writer)
    .await?;
    Ok(())
}

pub async fn find_channel(
    db: &Db,
    channel: &str,
    external_id: &str,
) -> Result<Option<ChannelAccount>> {
    let row = sqlx::query(
        "select shop_id, channel, external_id, access_token from channel_accounts where channel = $1 and external_id = $2",
    )
    .bind(channel)
    .bind(external_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(ChannelAccount {
            shop_id: ShopId(col(&r, "shop_id")?),
            channel: col(&r, "channel")?,
            external_id: col(&r, "external_id")?,
            access_token: col::<Option<String>>(&r, "access_token")?.map(SecretString::from),
        })
    })
    .transpose()
}

pub async fn channels_of(db: &Db, shop: ShopId) -> Result<Vec<ChannelAccount>> {
    let rows = sqlx::query(
        "select shop_id, channel, external_id, access_token from channel_accounts where shop_id = $1 order by id",
    )
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ChannelAccount {
                shop_id: ShopId(col(r, "shop_id")?),
                channel: col(r, "channel")?,
                external_id: col(r, "external_id")?,
                access_token: col::<Option<String>>(r, "access_token")?.map(SecretString::from),
            })
        })
        .collect()
}
