//! Customers per shop and channel, their saved address and shop balance.

use super::{Db, Result, StoreError, Tx, col};
use crate::domain::ledger::{self, LedgerError, LedgerKind};
use crate::domain::{Address, CustomerId, CustomerName, NameSource, OrderId, ShopId, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub shop_id: ShopId,
    pub channel: String,
    pub channel_user_id: String,
    pub display_name: String,
    /// Where the name came from: `seller`, `messenger`, `address` or empty.
    pub name_source: String,
    /// The Messenger profile picture (a Meta CDN link that expires; it is
    /// refreshed with the name).
    pub picture_url: Option<String>,
    pub locale: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Address>,
    pub balance: i64,
    pub created_at: Timestamp,
    pub profile_fetched_at: Option<Timestamp>,
    pub profile_due_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, shop_id, channel, channel_user_id, display_name, name_source, picture_url, locale, phone, address, \
                       balance, created_at, profile_fetched_at, profile_due_at";

/// How long a fetched Messenger profile is kept before it is fetched again
/// (when the customer next writes).
pub const PROFILE_REFRESH_MS: i64 = 7 * 24 * 3_600_000;

fn from_row(r: &sqlx::any::AnyRow) -> Result<Customer> {
    let address: Option<String> = col(r, "address")?;
    Ok(Customer {
        id: CustomerId(col(r, "id")?),
        shop_id: ShopId(col(r, "shop_id")?),
        channel: col(r, "channel")?,
        channel_user_id: col(r, "channel_user_id")?,
        display_name: col(r, "display_name")?,
        name_source: col(r, "name_source")?,
        picture_url: col(r, "picture_url")?,
        locale: col(r, "locale")?,
        phone: col(r, "phone")?,
        address: address
            .map(|a| {
                serde_json::from_str(&a).map_err(|e| StoreError::Corrupt(format!("address: {e}")))
            })
            .transpose()?,
        balance: col(r, "balance")?,
        created_at: Timestamp(col(r, "created_at")?),
        profile_fetched_at: col::<Option<i64>>(r, "profile_fetched_at")?.map(Timestamp),
        profile_due_at: col::<Option<i64>>(r, "profile_due_at")?.map(Timestamp),
    })
}

/// Finds or creates the customer behind a channel user id, with their
/// conversation row. A new Messenger customer's profile is due at once; a
/// profile older than [`PROFILE_REFRESH_MS`] is due again when they write.
pub async fn upsert(
    tx: &mut Tx,
    shop: ShopId,
    channel: &str,
    channel_user_id: &str,
    now: Timestamp,
) -> Result<Customer> {
    sqlx::query(
        "insert into customers (shop_id, channel, channel_user_id, created_at, updated_at, profile_due_at) values ($1, $2, $3, $4, $4, $5) \
         on conflict (shop_id, channel, channel_user_id) do nothing",
    )
    .bind(shop.get())
    .bind(channel)
    .bind(channel_user_id)
    .bind(now.millis())
    .bind((channel == "messenger").then_some(now.millis()))
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(&format!(
        "select {COLUMNS} from customers where shop_id = $1 and channel = $2 and channel_user_id = $3"
    ))
    .bind(shop.get())
    .bind(channel)
    .bind(channel_user_id)
    .fetch_one(&mut **tx)
    .await?;
    let customer = from_row(&row)?;
    refresh_stale_profiles(tx, std::slice::from_ref(&customer), now).await?;
    sqlx::query(
        "insert into conversations (customer_id, shop_id, updated_at) values ($1, $2, $3) on conflict (customer_id) do nothing",
    )
    .bind(customer.id.get())
    .bind(shop.get())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(customer)
}

/// Makes the Messenger profile of these customers due again when it is
/// older than [`PROFILE_REFRESH_MS`]: they are writing, so it is worth it.
/// Reads nothing; in the common case it writes nothing either.
async fn refresh_stale_profiles(tx: &mut Tx, found: &[Customer], now: Timestamp) -> Result<()> {
    let stale = found.iter().filter(|c| {
        c.channel == "messenger"
            && c.profile_due_at.is_none()
            && c.profile_fetched_at
                .is_some_and(|t| now.millis() - t.millis() > PROFILE_REFRESH_MS)
    });
    for c in stale {
        sqlx::query(
            "update customers set profile_due_at = $1 where id = $2 and profile_due_at is null",
        )
        .bind(now.millis())
        .bind(c.id.get())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The customers behind these channel user ids that exist already; those
/// whose profile is stale get it fetched again.
pub async fn find_many(
    tx: &mut Tx,
    shop: ShopId,
    channel: &str,
    channel_user_ids: &[&str],
    now: Timestamp,
) -> Result<Vec<Customer>> {
    let backend = super::backend_of(tx);
    let mut out = Vec::with_capacity(channel_user_ids.len());
    for chunk in channel_user_ids.chunks(500) {
        let sql = format!(
            "select {COLUMNS} from customers where shop_id = {} and channel = {} and channel_user_id in ({})",
            super::placeholders(backend, 0, 1, 1),
            super::placeholders(backend, 1, 1, 1),
            super::placeholders(backend, 2, chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql).bind(shop.get()).bind(channel);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut **tx).await? {
            out.push(from_row(&row)?);
        }
    }
    refresh_stale_profiles(tx, &out, now).await?;
    Ok(out)
}

pub async fn get(db: &Db, shop: ShopId, id: CustomerId) -> Result<Customer> {
    let row = sqlx::query(&format!(
        "select {COLUMNS} from customers where id = $1 and shop_id = $2"
    ))
    .bind(id.get())
    .bind(shop.get())
    .fetch_optional(&db.pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

pub async fn get_in(tx: &mut Tx, shop: ShopId, id: CustomerId) -> Result<Customer> {
    let row = sqlx::query(&format!(
        "select {COLUMNS} from customers where id = $1 and shop_id = $2"
    ))
    .bind(id.get())
    .bind(shop.get())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// The name the seller typed: it stays whatever the profile or an address
/// says later.
pub async fn rename(
    tx: &mut Tx,
    shop: ShopId,
    id: CustomerId,
    name: &CustomerName,
    now: Timestamp,
) -> Result<()> {
    let done = sqlx::query(
        "update customers set display_name = $1, name_key = $2, name_source = 'seller', updated_at = $3 \
         where id = $4 and shop_id = $5",
    )
    .bind(name.as_str())
    .bind(name.search_key())
    .bind(now.millis())
    .bind(id.get())
    .bind(shop.get())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets a name from `source` unless a stronger source named the customer
/// already. Returns whether the name changed.
pub async fn offer_name(
    tx: &mut Tx,
    id: CustomerId,
    name: &CustomerName,
    source: NameSource,
    now: Timestamp,
) -> Result<bool> {
    let replaces = source.replaces();
    // Numbered in order of appearance, which both dialects accept.
    let list: Vec<String> = (0..replaces.len()).map(|i| format!("${}", i + 6)).collect();
    let sql = format!(
        "update customers set display_name = $1, name_key = $2, name_source = $3, updated_at = $4 \
         where id = $5 and name_source in ({})",
        list.join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(name.as_str())
        .bind(name.search_key())
        .bind(source.as_str())
        .bind(now.millis())
        .bind(id.get());
    for r in replaces {
        q = q.bind(r);
    }
    Ok(q.execute(&mut **tx).await?.rows_affected() > 0)
}

pub async fn save_address(
    tx: &mut Tx,
    id: CustomerId,
    address: &Address,
    now: Timestamp,
) -> Result<()> {
    let json = serde_json::to_string(address).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query("update customers set address = $1, phone = $2, updated_at = $3 where id = $4")
        .bind(json)
        .bind(address.phone.as_str())
        .bind(now.millis())
        .bind(id.get())
        .execute(&mut **tx)
        .await?;
    if let Ok(name) = CustomerName::parse(&address.full_name) {
        offer_name(tx, id, &name, NameSource::Address, now).await?;
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LedgerRow {
    pub id: i64,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub order_id: Option<OrderId>,
    pub note: Option<String>,
    pub actor: String,
    pub created_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum BalanceError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One movement of a customer's shop balance.
pub struct LedgerPost<'a> {
    pub shop: ShopId,
    pub customer: CustomerId,
    pub kind: LedgerKind,
    /// Positive; the kind says which way it moves.
    pub amount: i64,
    pub order: Option<OrderId>,
    pub note: Option<&'a str>,
    pub actor: &'a str,
    pub allow_negative: bool,
}

/// Appends one ledger entry and moves the cached balance with it, guarded by
/// the balance it read so concurrent posts cannot both spend the same money.
pub async fn post(
    tx: &mut Tx,
    p: &LedgerPost<'_>,
    now: Timestamp,
) -> Result<LedgerRow, BalanceError> {
    let LedgerPost {
        shop,
        customer,
        kind,
        amount,
        order,
        note,
        actor,
        allow_negative,
    } = *p;
    let row = sqlx::query("select balance from customers where id = $1 and shop_id = $2")
        .bind(customer.get())
        .bind(shop.get())
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::from)?
        .ok_or(StoreError::NotFound)?;
    let balance: i64 = col(&row, "balance")?;
    let (signed, after) = ledger::post(balance, kind, amount, allow_negative)?;
    let n = sqlx::query(
        "update customers set balance = $1, updated_at = $2 where id = $3 and balance = $4",
    )
    .bind(after)
    .bind(now.millis())
    .bind(customer.get())
    .bind(balance)
    .execute(&mut **tx)
    .await
    .map_err(StoreError::from)?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Stale.into());
    }
    let row = sqlx::query(
        "insert into balance_ledger (shop_id, customer_id, kind, amount, balance_after, order_id, note, actor, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(kind.as_str())
    .bind(signed)
    .bind(after)
    .bind(order.map(|o| o.get()))
    .bind(note)
    .bind(actor)
    .bind(now.millis())
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::from)?;
    Ok(LedgerRow {
        id: col(&row, "id")?,
        kind: kind.as_str().to_string(),
        amount: signed,
        balance_after: after,
        order_id: order,
        note: note.map(str::to_string),
        actor: actor.to_string(),
        created_at: now,
    })
}

pub async fn ledger(db: &Db, shop: ShopId, customer: CustomerId) -> Result<Vec<LedgerRow>> {
    let rows = sqlx::query(
        "select id, kind, amount, balance_after, order_id, note, actor, created_at from balance_ledger \
         where shop_id = $1 and customer_id = $2 order by id",
    )
    .bind(shop.get())
    .bind(customer.get())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LedgerRow {
                id: col(r, "id")?,
                kind: col(r, "kind")?,
                amount: col(r, "amount")?,
                balance_after: col(r, "balance_after")?,
                order_id: col::<Option<i64>>(r, "order_id")?.map(OrderId),
                note: col(r, "note")?,
                actor: col(r, "actor")?,
                created_at: Timestamp(col(r, "created_at")?),
            })
        })
        .collect()
}

/// The last `limit` movements of a customer's balance, newest first, as
/// chat shows them.
pub async fn recent_movements(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    limit: i64,
) -> Result<Vec<crate::engine::BalanceMove>> {
    let rows = sqlx::query(
        "select kind, amount, note, order_id, created_at from balance_ledger \
         where shop_id = $1 and customer_id = $2 order by id desc limit $3",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = col(r, "kind")?;
            let order: Option<i64> = col(r, "order_id")?;
            Ok(crate::engine::BalanceMove {
                kind: super::parse_enum(&kind, LedgerKind::parse, "ledger kind")?,
                amount: col(r, "amount")?,
                order_code: order.and(col::<Option<String>>(r, "note")?),
                at: Timestamp(col(r, "created_at")?),
            })
        })
        .collect()
}

/// The shop's customer with this phone number, if one gave it: one who
/// chats first (they can be told about the order), the oldest first.
pub async fn find_by_phone(tx: &mut Tx, shop: ShopId, phone: &str) -> Result<Option<Customer>> {
    let row = sqlx::query(&format!(
        "select {COLUMNS} from customers where shop_id = $1 and phone = $2 \
         order by case when channel = 'shop' then 1 else 0 end, id limit 1"
    ))
    .bind(shop.get())
    .bind(phone)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| from_row(&r)).transpose()
}

/// The customer a channel's user id belongs to, if they ever wrote.
pub async fn find_id(
    db: &Db,
    shop: ShopId,
    channel: &str,
    channel_user_id: &str,
) -> Result<Option<CustomerId>> {
    let row = sqlx::query(
        "select id from customers where shop_id = $1 and channel = $2 and channel_user_id = $3",
    )
    .bind(shop.get())
    .bind(channel)
    .bind(channel_user_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| col(&r, "id").map(CustomerId)).transpose()
}

/// What a customer holds in the shop, read inside the transaction that
/// will spend it.
pub async fn balance_in(tx: &mut Tx, customer: CustomerId) -> Result<i64> {
    let row = sqlx::query("select balance from customers where id = $1")
        .bind(customer.get())
        .fetch_one(&mut **tx)
        .await?;
    col(&row, "balance")
}
