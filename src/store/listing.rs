//! The seller's read side: order lists with filters, search and keyset
//! pagination, payments of an order, the dashboard figures, plus the few
//! seller-only writes the shared modules do not have yet (delete an order,
//! edit or delete a product or variant).
//!
//! Lists are keyset-paginated on `(sort column, id)` and always start from
//! one of the `orders (shop_id, ...)` indexes, so the first page of a tab is
//! an index range scan however many orders the shop has.

use super::{Db, Result, StoreError, Tx, col, parse_enum};
use crate::domain::lifecycle::{Fulfilment, PaymentStatus, Tab};
use crate::domain::{CustomerId, OrderCode, OrderId, ProductId, ShopId, Timestamp, VariantId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Created,
    Updated,
}

impl Sort {
    fn column(self) -> &'static str {
        match self {
            Sort::Created => "created_at",
            Sort::Updated => "updated_at",
        }
    }
}

/// Where the next page starts: the last row's sort value and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        format!("{}.{}", self.at, self.id)
    }
    pub fn decode(s: &str) -> Option<Cursor> {
        let (a, b) = s.split_once('.')?;
        Some(Cursor {
            at: a.parse().ok()?,
            id: b.parse().ok()?,
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub tab: Option<Tab>,
    pub channel: Option<String>,
    pub fulfilment: Option<Fulfilment>,
    pub payment: Option<PaymentStatus>,
    /// Created at or after, epoch ms.
    pub from: Option<Timestamp>,
    /// Created before, epoch ms.
    pub to: Option<Timestamp>,
    pub customer: Option<CustomerId>,
    /// Only the orders assigned to this person.
    pub assigned_to: Option<String>,
    /// An order code, or part of a customer's name or phone.
    pub search: Option<String>,
    pub sort: Sort,
    pub after: Option<Cursor>,
    pub limit: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrderRow {
    pub id: OrderId,
    pub code: String,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub channel: String,
    pub currency: String,
    pub fulfilment: Fulfilment,
    pub payment_status: PaymentStatus,
    pub payment_method: Option<String>,
    pub total: i64,
    pub paid: i64,
    pub remaining: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrderPage {
    pub orders: Vec<OrderRow>,
    pub next_cursor: Option<String>,
}

enum Arg {
    I(i64),
    S(String),
}

/// SQL text with its arguments; placeholders are numbered as they are added.
struct Query {
    sql: String,
    args: Vec<Arg>,
}

impl Query {
    /// Adds an argument and returns its placeholder number.
    fn arg(&mut self, a: Arg) -> usize {
        self.args.push(a);
        self.args.len()
    }

    fn and_in(&mut self, column: &str, values: impl Iterator<Item = &'static str>) {
        let mut parts = Vec::new();
        for v in values {
            let n = self.arg(Arg::S(v.to_string()));
            parts.push(format!("${n}"));
        }
        self.sql
            .push_str(&format!(" and {column} in ({})", parts.join(", ")));
    }
}

/// One page of the shop's orders, newest first.
pub async fn list_orders(db: &Db, shop: ShopId, f: &OrderFilter) -> Result<OrderPage> {
    let limit = f.limit.clamp(1, 200);
    let query = list_query(shop, f, limit);
    let mut q = sqlx::query(&query.sql);
    for a in query.args {
        q = match a {
            Arg::I(i) => q.bind(i),
            Arg::S(s) => q.bind(s),
        };
    }
    let rows = q.fetch_all(&db.pool).await?;
    let orders = rows.iter().map(order_row).collect::<Result<Vec<_>>>()?;
    Ok(page(orders, limit, f.sort))
}

/// The page's query: the filters, then the keyset cursor, then one row more
/// than `limit` so the caller knows whether a next page exists.
fn list_query(shop: ShopId, f: &OrderFilter, limit: i64) -> Query {
    let sort = f.sort.column();
    let mut q = Query {
        sql: String::from(
            "select o.id, o.code, o.customer_id, o.channel, o.currency, o.fulfilment, o.payment_status, o.payment_method, \
             o.total, o.paid, o.remaining, o.created_at, o.updated_at, \
             (select c.display_name from customers c where c.id = o.customer_id) as customer_name \
             from orders o where o.shop_id = $1 and o.deleted_at is null",
        ),
        args: vec![Arg::I(shop.get())],
    };
    filter_states(&mut q, f);
    if let Some(ch) = &f.channel {
        let n = q.arg(Arg::S(ch.clone()));
        q.sql.push_str(&format!(" and o.channel = ${n}"));
    }
    if let Some(t) = f.from {
        let n = q.arg(Arg::I(t.millis()));
        q.sql.push_str(&format!(" and o.created_at >= ${n}"));
    }
    if let Some(t) = f.to {
        let n = q.arg(Arg::I(t.millis()));
        q.sql.push_str(&format!(" and o.created_at < ${n}"));
    }
    if let Some(c) = f.customer {
        let n = q.arg(Arg::I(c.get()));
        q.sql.push_str(&format!(" and o.customer_id = ${n}"));
    }
    if let Some(person) = &f.assigned_to {
        let n = q.arg(Arg::S(person.clone()));
        q.sql.push_str(&format!(" and o.assigned_to = ${n}"));
    }
    if let Some(text) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        filter_search(&mut q, text);
    }
    if let Some(c) = f.after {
        let a = q.arg(Arg::I(c.at));
        let b = q.arg(Arg::I(c.id));
        q.sql
            .push_str(&format!(" and (o.{sort}, o.id) < (${a}, ${b})"));
    }
    q.sql.push_str(&format!(
        " order by o.{sort} desc, o.id desc limit {}",
        limit + 1
    ));
    q
}

/// The tab's states, then an explicit state on top of it (both must hold).
fn filter_states(q: &mut Query, f: &OrderFilter) {
    if let Some(tab) = f.tab {
        let (fs, ps) = tab.filter();
        if let Some(fs) = fs {
            q.and_in("o.fulfilment", fs.iter().map(|x| x.as_str()));
        }
        if let Some(ps) = ps {
            q.and_in("o.payment_status", ps.iter().map(|x| x.as_str()));
        }
    }
    if let Some(x) = f.fulfilment {
        q.and_in("o.fulfilment", [x.as_str()].into_iter());
    }
    if let Some(x) = f.payment {
        q.and_in("o.payment_status", [x.as_str()].into_iter());
    }
}

/// An order code finds that order; anything else is part of a customer's
/// name or phone.
fn filter_search(q: &mut Query, text: &str) {
    if let Ok(code) = text.parse::<OrderCode>() {
        let n = q.arg(Arg::S(code.as_str().to_string()));
        q.sql.push_str(&format!(" and o.code = ${n}"));
        return;
    }
    let escaped: String = crate::domain::customer_name::search_key(text)
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect();
    // Phones are stored international (+66812345678); a local
    // number's trunk 0 is dropped so "081 234" finds it.
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_start_matches('0').to_string();
    let name = q.arg(Arg::S(format!("%{escaped}%")));
    // A phone is matched on its digits; too few digits match nothing.
    let phone = q.arg(Arg::S(if digits.len() >= 4 {
        format!("%{digits}%")
    } else {
        "\u{1}".into()
    }));
    q.sql.push_str(&format!(
        " and o.customer_id in (select c.id from customers c where c.shop_id = $1 \
         and (c.name_key like ${name} or c.phone like ${phone}))"
    ));
}

fn order_row(r: &sqlx::any::AnyRow) -> Result<OrderRow> {
    Ok(OrderRow {
        id: OrderId(col(r, "id")?),
        code: col(r, "code")?,
        customer_id: CustomerId(col(r, "customer_id")?),
        customer_name: col::<Option<String>>(r, "customer_name")?.unwrap_or_default(),
        channel: col(r, "channel")?,
        currency: col(r, "currency")?,
        fulfilment: parse_enum(
            &col::<String>(r, "fulfilment")?,
            Fulfilment::parse,
            "fulfilment",
        )?,
        payment_status: parse_enum(
            &col::<String>(r, "payment_status")?,
            PaymentStatus::parse,
            "payment status",
        )?,
        payment_method: col(r, "payment_method")?,
        total: col(r, "total")?,
        paid: col(r, "paid")?,
        remaining: col(r, "remaining")?,
        created_at: Timestamp(col(r, "created_at")?),
        updated_at: Timestamp(col(r, "updated_at")?),
    })
}

/// Cuts the extra row off and, if there was one, points past the last kept.
fn page(mut orders: Vec<OrderRow>, limit: i64, sort: Sort) -> OrderPage {
    let mut next_cursor = None;
    if orders.len() as i64 > limit {
        orders.truncate(limit as usize);
        if let Some(last) = orders.last() {
            let at = match sort {
                Sort::Created => last.created_at,
                Sort::Updated => last.updated_at,
            };
            next_cursor = Some(
                Cursor {
                    at: at.millis(),
                    id: last.id.get(),
                }
                .encode(),
            );
        }
    }
    OrderPage {
        orders,
        next_cursor,
    }
}

/// The order's channel and timestamps, which the aggregate does not carry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrderMeta {
    pub channel: String,
    /// The person of the shop the order is assigned to.
    pub assigned_to: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub async fn order_meta(db: &Db, shop: ShopId, id: OrderId) -> Result<OrderMeta> {
    order_meta_on(&db.pool, shop, id).await
}

/// The same inside a transaction (it sees the transaction's own writes).
pub async fn order_meta_in(tx: &mut Tx, shop: ShopId, id: OrderId) -> Result<OrderMeta> {
    order_meta_on(&mut **tx, shop, id).await
}

async fn order_meta_on<'e, E>(exec: E, shop: ShopId, id: OrderId) -> Result<OrderMeta>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query(
        "select channel, assigned_to, created_at, updated_at from orders where id = $1 and shop_id = $2 and deleted_at is null",
    )
    .bind(id.get())
    .bind(shop.get())
    .fetch_optional(exec)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(OrderMeta {
        channel: col(&r, "channel")?,
        assigned_to: col(&r, "assigned_to")?,
        created_at: Timestamp(col(&r, "created_at")?),
        updated_at: Timestamp(col(&r, "updated_at")?),
    })
}

/// Soft-deletes an order that holds nothing any more (cancelled or
/// returned), keeping the tab counters right.
pub async fn delete_order(db: &Db, shop: ShopId, id: OrderId, now: Timestamp) -> Result<()> {
    let mut tx = db.begin().await?;
    let r = sqlx::query(&format!(
        "select fulfilment, payment_status from orders where id = $1 and shop_id = $2 and deleted_at is null{}",
        db.lock_clause()
    ))
    .bind(id.get())
    .bind(shop.get())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let f: String = col(&r, "fulfilment")?;
    let p: String = col(&r, "payment_status")?;
    if !matches!(f.as_str(), "cancelled" | "returned") {
        return Err(StoreError::Conflict(format!(
            "the order is {}; only a cancelled or returned order can be deleted (cancel it first)",
            crate::domain::lifecycle::Fulfilment::parse(&f)
                .map(crate::domain::lifecycle::InWords::in_words)
                .unwrap_or(&f)
        )));
    }
    sqlx::query("update orders set deleted_at = $1, updated_at = $1, version = version + 1 where id = $2 and shop_id = $3")
        .bind(now.millis())
        .bind(id.get())
        .bind(shop.get())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "update order_status_counts set n = n - 1 where shop_id = $1 and fulfilment = $2 and payment_status = $3",
    )
    .bind(shop.get())
    .bind(&f)
    .bind(&p)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Seller's product edit; `None` keeps a field.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub image_url: Option<String>,
    pub price: Option<i64>,
    pub active: Option<bool>,
}

pub async fn update_product(
    db: &Db,
    shop: ShopId,
    id: ProductId,
    p: &ProductPatch,
    now: Timestamp,
) -> Result<()> {
    if p.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(StoreError::Conflict("a product needs a name".into()));
    }
    if p.price.is_some_and(|x| x < 0) {
        return Err(StoreError::Conflict("the price cannot be negative".into()));
    }
    let n = sqlx::query(
        "update products set name = coalesce($1, name), description = coalesce($2, description), \
         category = coalesce($3, category), image_url = coalesce($4, image_url), price = coalesce($5, price), \
         active = coalesce($6, active), updated_at = $7 where id = $8 and shop_id = $9 and deleted_at is null",
    )
    .bind(p.name.as_deref().map(str::trim))
    .bind(p.description.as_deref())
    .bind(p.category.as_deref())
    .bind(p.image_url.as_deref())
    .bind(p.price)
    .bind(p.active.map(i64::from))
    .bind(now.millis())
    .bind(id.get())
    .bind(shop.get())
    .execute(&db.writer)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub async fn delete_product(db: &Db, shop: ShopId, id: ProductId, now: Timestamp) -> Result<()> {
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "update products set deleted_at = $1, active = 0, updated_at = $1 where id = $2 and shop_id = $3 and deleted_at is null",
    )
    .bind(now.millis())
    .bind(id.get())
    .bind(shop.get())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("update variants set deleted_at = $1 where product_id = $2 and shop_id = $3 and deleted_at is null")
        .bind(now.millis())
        .bind(id.get())
        .bind(shop.get())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn add_variant(
    db: &Db,
    shop: ShopId,
    product: ProductId,
    name: &str,
    price: Option<i64>,
    stock: Option<i64>,
) -> Result<VariantId> {
    if price.is_some_and(|p| p < 0) || stock.is_some_and(|s| s < 0) {
        return Err(StoreError::Conflict(
            "price and stock cannot be negative".into(),
        ));
    }
    let mut tx = db.begin().await?;
    sqlx::query("select id from products where id = $1 and shop_id = $2 and deleted_at is null")
        .bind(product.get())
        .bind(shop.get())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let r = sqlx::query(
        "insert into variants (shop_id, product_id, name, price, stock, position) values ($1, $2, $3, $4, $5, \
         (select coalesce(max(position), 0) + 1 from variants where product_id = $2)) returning id",
    )
    .bind(shop.get())
    .bind(product.get())
    .bind(name.trim())
    .bind(price)
    .bind(stock)
    .fetch_one(&mut *tx)
    .await?;
    let id = VariantId(col(&r, "id")?);
    tx.commit().await?;
    Ok(id)
}

/// Renames or reprices a variant, or sets its stock outright (`Some(None)`
/// makes it unlimited).
pub async fn update_variant(
    db: &Db,
    shop: ShopId,
    id: VariantId,
    name: Option<&str>,
    price: Option<Option<i64>>,
    stock: Option<Option<i64>>,
) -> Result<()> {
    if matches!(price, Some(Some(p)) if p < 0) || matches!(stock, Some(Some(s)) if s < 0) {
        return Err(StoreError::Conflict(
            "price and stock cannot be negative".into(),
        ));
    }
    let n = sqlx::query(
        "update variants set name = coalesce($1, name), \
         price = case when $2 = 1 then $3 else price end, \
         stock = case when $4 = 1 then $5 else stock end \
         where id = $6 and shop_id = $7 and deleted_at is null",
    )
    .bind(name.map(str::trim))
    .bind(i64::from(price.is_some()))
    .bind(price.flatten())
    .bind(i64::from(stock.is_some()))
    .bind(stock.flatten())
    .bind(id.get())
    .bind(shop.get())
    .execute(&db.writer)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub async fn delete_variant(db: &Db, shop: ShopId, id: VariantId, now: Timestamp) -> Result<()> {
    let n = sqlx::query(
        "update variants set deleted_at = $1 where id = $2 and shop_id = $3 and deleted_at is null",
    )
    .bind(now.millis())
    .bind(id.get())
    .bind(shop.get())
    .execute(&db.writer)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CustomerRow {
    pub id: CustomerId,
    pub display_name: String,
    pub channel: String,
    pub phone: Option<String>,
    pub balance: i64,
}

/// Customers by name or phone, newest first.
pub async fn search_customers(
    db: &Db,
    shop: ShopId,
    q: Option<&str>,
    limit: i64,
) -> Result<Vec<CustomerRow>> {
    let pattern = q
        .map(|q| {
            let q: String = crate::domain::customer_name::search_key(q.trim())
                .chars()
                .filter(|c| !matches!(c, '%' | '_' | '\\'))
                .collect();
            format!("%{q}%")
        })
        .unwrap_or_else(|| "%".into());
    let rows = sqlx::query(
        "select id, display_name, channel, phone, balance from customers where shop_id = $1 \
         and (name_key like $2 or coalesce(phone, '') like $2) order by id desc limit $3",
    )
    .bind(shop.get())
    .bind(pattern)
    .bind(limit.clamp(1, 200))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CustomerRow {
                id: CustomerId(col(r, "id")?),
                display_name: col(r, "display_name")?,
                channel: col(r, "channel")?,
                phone: col(r, "phone")?,
                balance: col(r, "balance")?,
            })
        })
        .collect()
}

pub use super::dashboard::{Dashboard, DayFigures, EXPIRING_WITHIN_HOURS, Expiring, dashboard};

/// Whether a variant is this shop's (so another shop's id is a 404).
pub async fn variant_exists(db: &Db, shop: ShopId, id: VariantId) -> Result<bool> {
    Ok(
        sqlx::query(
            "select id from variants where id = $1 and shop_id = $2 and deleted_at is null",
        )
        .bind(id.get())
        .bind(shop.get())
        .fetch_optional(&db.pool)
        .await?
        .is_some(),
    )
}
