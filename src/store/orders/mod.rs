//! Orders: placing (with atomic stock reservation, `place`), loading (here),
//! and applying a domain decision — order row, lines, fees, history, stock,
//! ledger, tab counts and customer pushes — in one transaction guarded by
//! `version` (`write`); tab counts and history (`reads`).

mod place;
mod reads;
mod write;

pub use place::{NewOrder, PlaceError, place, place_as, place_in_tx};
pub use reads::{HistoryRow, chat_detail, history, queued_notices, tab_counts};
pub use write::{Applied, ApplyError, write_plan};

use super::{Db, Result, StoreError, Tx, col, parse_enum};
use crate::domain::lifecycle::{Fulfilment, PaymentStatus};
use crate::domain::order::{
    Charging, Fee, LineStatus, Order, OrderLine, OrderService, PaymentMethod, TrackingStatus,
};
use crate::domain::{CustomerId, OrderCode, OrderId, ProductId, ShopId, Timestamp, VariantId};
use sqlx::AnyConnection;

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Whether the order has fee rows at all: most have none, and then their
/// read is skipped. (The service-fee total cannot tell: a fee may be 0.)
const HAS_FEES: &str = "cast(case when exists (select 1 from order_fees f where f.order_id = orders.id) then 1 else 0 end as bigint) as has_fees";

const ORDER_COLUMNS: &str = "id, shop_id, customer_id, code, currency, fulfilment, payment_status, payment_method, address, \
    shipping_fee, discount, paid, carrier, tracking, tracking_status, version";

fn order_from_row(row: &sqlx::any::AnyRow) -> Result<Order> {
    let code: String = col(row, "code")?;
    let currency: String = col(row, "currency")?;
    let address: Option<String> = col(row, "address")?;
    let method: Option<String> = col(row, "payment_method")?;
    Ok(Order {
        id: OrderId(col(row, "id")?),
        shop_id: ShopId(col(row, "shop_id")?),
        customer_id: CustomerId(col(row, "customer_id")?),
        code: code
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("order code {code:?}")))?,
        currency: currency
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {currency:?}")))?,
        fulfilment: parse_enum(
            &col::<String>(row, "fulfilment")?,
            Fulfilment::parse,
            "fulfilment",
        )?,
        payment: parse_enum(
            &col::<String>(row, "payment_status")?,
            PaymentStatus::parse,
            "payment status",
        )?,
        method: method
            .map(|m| parse_enum(&m, PaymentMethod::parse, "payment method"))
            .transpose()?,
        lines: Vec::new(),
        fees: Vec::new(),
        services: Vec::new(),
        shipping_fee: col(row, "shipping_fee")?,
        discount: col(row, "discount")?,
        paid: col(row, "paid")?,
        address: address
            .map(|a| {
                serde_json::from_str(&a).map_err(|e| StoreError::Corrupt(format!("address: {e}")))
            })
            .transpose()?,
        carrier: col(row, "carrier")?,
        tracking: col(row, "tracking")?,
        tracking_status: col::<Option<String>>(row, "tracking_status")?
            .map(|t| parse_enum(&t, TrackingStatus::parse, "tracking status"))
            .transpose()?,
        version: col(row, "version")?,
    })
}

const LINE_COLUMNS: &str = "id, order_id, product_id, variant_id, name, variant_name, unit_price, qty, status, proposed_unit_price, proposed_qty";

fn line_from_row(r: &sqlx::any::AnyRow) -> Result<OrderLine> {
    Ok(OrderLine {
        id: col(r, "id")?,
        product_id: ProductId(col(r, "product_id")?),
        variant_id: VariantId(col(r, "variant_id")?),
        name: col(r, "name")?,
        variant_name: col(r, "variant_name")?,
        unit_price: col(r, "unit_price")?,
        qty: col(r, "qty")?,
        status: parse_enum(
            &col::<String>(r, "status")?,
            LineStatus::parse,
            "line status",
        )?,
        proposed_unit_price: col(r, "proposed_unit_price")?,
        proposed_qty: col(r, "proposed_qty")?,
    })
}

const FEE_COLUMNS: &str = "label, amount, service, charging, done";

/// A fee row is a plain fee, or one of the shop's services when it names one.
fn push_fee_row(order: &mut Order, r: &sqlx::any::AnyRow) -> Result<()> {
    let label: String = col(r, "label")?;
    let amount: i64 = col(r, "amount")?;
    match col::<Option<String>>(r, "service")? {
        None => order.fees.push(Fee { label, amount }),
        Some(id) => order.services.push(OrderService {
            id,
            name: label,
            price: amount,
            charged: parse_enum(
                &col::<Option<String>>(r, "charging")?.unwrap_or_default(),
                Charging::parse,
                "service charging",
            )?,
            done: col::<i64>(r, "done")? != 0,
        }),
    }
    Ok(())
}

/// Loads the whole aggregate inside a transaction.
pub async fn load_in(tx: &mut Tx, shop: ShopId, id: OrderId) -> Result<Order> {
    load_on(tx, shop, id, "").await
}

/// Loads it to change it: on PostgreSQL its row stays locked until the
/// transaction ends (SQLite's single writer already serialises).
pub async fn load_locked(tx: &mut Tx, shop: ShopId, id: OrderId) -> Result<Order> {
    let lock = super::lock_clause(super::backend_of(tx));
    load_on(tx, shop, id, lock).await
}

/// The whole aggregate on one connection: order, lines and fees.
async fn load_on(
    conn: &mut AnyConnection,
    shop: ShopId,
    id: OrderId,
    lock: &'static str,
) -> Result<Order> {
    let row = sqlx::query(&format!(
        "select {ORDER_COLUMNS}, {HAS_FEES} from orders where id = $1 and shop_id = $2 and deleted_at is null{lock}"
    ))
    .bind(id.get())
    .bind(shop.get())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut order = order_from_row(&row)?;
    let rows = sqlx::query(&format!(
        "select {LINE_COLUMNS} from order_lines where order_id = $1 order by position, id"
    ))
    .bind(id.get())
    .fetch_all(&mut *conn)
    .await?;
    order.lines = rows.iter().map(line_from_row).collect::<Result<_>>()?;
    if col::<i64>(&row, "has_fees")? != 0 {
        let rows = sqlx::query(&format!(
            "select {FEE_COLUMNS} from order_fees where order_id = $1 order by id"
        ))
        .bind(id.get())
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            push_fee_row(&mut order, r)?;
        }
    }
    Ok(order)
}

/// The latest `per_customer` orders of each of these customers, plus any
/// order named in `also`, with when each was placed: three reads at most.
pub async fn recent_of_customers(
    tx: &mut Tx,
    shop: ShopId,
    customers: &[CustomerId],
    also: &[OrderId],
    per_customer: i64,
) -> Result<Vec<(Order, Timestamp)>> {
    if customers.is_empty() && also.is_empty() {
        return Ok(Vec::new());
    }
    let backend = super::backend_of(tx);
    let ph = |start, n| super::placeholders(backend, start, n, 1);
    let (nc, na) = (customers.len(), also.len());
    let sql = format!(
        "select {ORDER_COLUMNS}, {HAS_FEES}, created_at from orders where shop_id = {} and deleted_at is null and \
         (id in (select id from (select id, row_number() over (partition by customer_id order by id desc) as position \
                 from orders where shop_id = {} and deleted_at is null and customer_id in ({})) t where position <= {}) \
          or id in ({})) order by id desc",
        ph(0, 1),
        ph(1, 1),
        if nc == 0 {
            "null".to_string()
        } else {
            ph(2, nc)
        },
        ph(2 + nc, 1),
        if na == 0 {
            "null".to_string()
        } else {
            ph(3 + nc, na)
        },
    );
    let mut q = sqlx::query(&sql).bind(shop.get()).bind(shop.get());
    for c in customers {
        q = q.bind(c.get());
    }
    q = q.bind(per_customer);
    for id in also {
        q = q.bind(id.get());
    }
    let mut orders = Vec::new();
    let mut with_fees = Vec::new();
    for row in q.fetch_all(&mut **tx).await? {
        let order = order_from_row(&row)?;
        if col::<i64>(&row, "has_fees")? != 0 {
            with_fees.push(order.id.get());
        }
        orders.push((order, Timestamp(col(&row, "created_at")?)));
    }
    if orders.is_empty() {
        return Ok(orders);
    }
    let ids: Vec<i64> = orders.iter().map(|(o, _)| o.id.get()).collect();
    let sql = format!(
        "select {LINE_COLUMNS} from order_lines where order_id in ({}) order by order_id, position, id",
        ph(0, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(*id);
    }
    for row in q.fetch_all(&mut **tx).await? {
        let order_id: i64 = col(&row, "order_id")?;
        if let Some((o, _)) = orders.iter_mut().find(|(o, _)| o.id.get() == order_id) {
            o.lines.push(line_from_row(&row)?);
        }
    }
    if with_fees.is_empty() {
        return Ok(orders);
    }
    let sql = format!(
        "select order_id, {FEE_COLUMNS} from order_fees where order_id in ({}) order by id",
        ph(0, with_fees.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &with_fees {
        q = q.bind(*id);
    }
    for row in q.fetch_all(&mut **tx).await? {
        let order_id: i64 = col(&row, "order_id")?;
        if let Some((o, _)) = orders.iter_mut().find(|(o, _)| o.id.get() == order_id) {
            push_fee_row(o, &row)?;
        }
    }
    Ok(orders)
}

pub async fn load(db: &Db, shop: ShopId, id: OrderId) -> Result<Order> {
    let mut conn = db.pool.acquire().await?;
    load_on(&mut conn, shop, id, "").await
}

pub async fn find_by_code(db: &Db, shop: ShopId, code: &OrderCode) -> Result<Order> {
    let row = sqlx::query(
        "select id from orders where shop_id = $1 and code = $2 and deleted_at is null",
    )
    .bind(shop.get())
    .bind(code.as_str())
    .fetch_optional(&db.pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    load(db, shop, OrderId(col(&row, "id")?)).await
}
