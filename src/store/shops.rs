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
    let settings: ShopSettings = serde_json::from_str(&settings)
        .map_err(|e| StoreError::Corrupt(format!("shop settings: {e}")))?;
    let created_with: String = col(row, "locale")?;
    Ok(Shop {
        id: ShopId(col(row, "id")?),
        name: col(row, "name")?,
        currency: currency
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {currency:?}")))?,
        // The language chosen in the settings, else the one it was made with.
        locale: settings.language.clone().unwrap_or(created_with),
        settings,
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

/// Binds a channel account to `shop` unless another shop holds it
/// (`false`); binding it again replaces its token.
pub async fn bind_own_channel(
    db: &Db,
    shop: ShopId,
    channel: &str,
    external_id: &str,
    access_token: &str,
    now: Timestamp,
) -> Result<bool> {
    let n = sqlx::query(
        "insert into channel_accounts (shop_id, channel, external_id, access_token, created_at) \
         values ($1, $2, $3, $4, $5) \
         on conflict (channel, external_id) do update set access_token = excluded.access_token \
         where channel_accounts.shop_id = excluded.shop_id",
    )
    .bind(shop.get())
    .bind(channel)
    .bind(external_id)
    .bind(access_token)
    .bind(now.millis())
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Unbinds a channel account of `shop`; `false` when it had none such.
pub async fn unbind_channel(
    db: &Db,
    shop: ShopId,
    channel: &str,
    external_id: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "delete from channel_accounts where shop_id = $1 and channel = $2 and external_id = $3",
    )
    .bind(shop.get())
    .bind(channel)
    .bind(external_id)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(n > 0)
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

/// One recorded change of a shop's settings.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SettingsChange {
    pub id: i64,
    pub actor: String,
    /// The names of the settings that changed.
    pub fields: Vec<String>,
    pub before: ShopSettings,
    pub after: ShopSettings,
    pub at: Timestamp,
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The shop's settings, locked until `tx` ends so that two changes made
/// at once apply one after the other.
pub async fn settings_for_update(
    db: &Db,
    tx: &mut super::Tx,
    shop: ShopId,
) -> Result<ShopSettings> {
    let row = sqlx::query(&format!(
        "select settings from shops where id = $1{}",
        db.lock_clause()
    ))
    .bind(shop.get())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_json(&col::<String>(&row, "settings")?, "shop settings")
}

/// Stores the new settings and the change that made them, in `tx`.
pub async fn record_settings(
    tx: &mut super::Tx,
    shop: ShopId,
    change: &SettingsChange,
) -> Result<()> {
    sqlx::query("update shops set settings = $1 where id = $2")
        .bind(to_json(&change.after)?)
        .bind(shop.get())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "insert into settings_changes (shop_id, actor, fields, before, after, created_at) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(shop.get())
    .bind(&change.actor)
    .bind(to_json(&change.fields)?)
    .bind(to_json(&change.before)?)
    .bind(to_json(&change.after)?)
    .bind(change.at.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The shop's settings changes, newest first, `limit` of them from before
/// the change `before` (all when `None`).
pub async fn settings_history(
    db: &Db,
    shop: ShopId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SettingsChange>> {
    let rows = sqlx::query(
        "select id, actor, fields, before, after, created_at from settings_changes \
         where shop_id = $1 and id < $2 order by id desc limit $3",
    )
    .bind(shop.get())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SettingsChange {
                id: col(r, "id")?,
                actor: col(r, "actor")?,
                fields: from_json(&col::<String>(r, "fields")?, "changed fields")?,
                before: from_json(&col::<String>(r, "before")?, "settings before")?,
                after: from_json(&col::<String>(r, "after")?, "settings after")?,
                at: Timestamp(col(r, "created_at")?),
            })
        })
        .collect()
}
