//! Orders: placing (with atomic stock reservation), loading, and applying a
//! domain decision — order row, lines, fees, history, stock, ledger, tab
//! counts and customer pushes — in one transaction guarded by `version`.

use super::catalog;
use super::customers::{self, BalanceError};
use super::outbox::{self, OutboundPayload};
use super::shops::Shop;
use super::{Db, Result, StoreError, Tx, col, parse_enum};
use crate::clock::random_bytes;
use crate::domain::lifecycle::{Actor, Fulfilment, PaymentStatus, Tab, Transition};
use crate::domain::order::{
    self, Command, Fee, LineStatus, Notice, Order, OrderError, OrderLine, PaymentMethod, Plan,
};
use crate::domain::{
    Address, CustomerId, OrderCode, OrderId, ProductId, ShopId, Timestamp, VariantId,
};
use sqlx::AnyConnection;

#[derive(Clone, Debug)]
pub struct NewOrder {
    pub customer: CustomerId,
    pub channel: String,
    pub items: Vec<(VariantId, i64)>,
    pub address: Option<Address>,
    pub method: Option<PaymentMethod>,
    /// `None` applies the shop's shipping rule.
    pub shipping_fee: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("the order has no items")]
    Empty,
    #[error("quantities must be between 1 and 10000")]
    BadQuantity,
    #[error("item {0} is not for sale")]
    UnknownItem(VariantId),
    #[error("{name} is out of stock")]
    OutOfStock { variant: VariantId, name: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PlaceError {
    fn from(e: sqlx::Error) -> Self {
        PlaceError::Store(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("order not found")]
    NotFound,
    #[error(transparent)]
    Rejected(#[from] OrderError),
    #[error("{0} is out of stock")]
    OutOfStock(String),
    #[error(transparent)]
    Balance(customers::BalanceError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApplyError::NotFound,
            other => ApplyError::Store(other),
        }
    }
}
impl From<sqlx::Error> for ApplyError {
    fn from(e: sqlx::Error) -> Self {
        ApplyError::Store(e.into())
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Places an order: reserves every line's stock or nothing, snapshots names
/// and prices, computes totals, and writes the first history row.
pub async fn place(
    db: &Db,
    shop: &Shop,
    new: NewOrder,
    now: Timestamp,
) -> Result<Order, PlaceError> {
    let mut tx = db.begin().await?;
    let order = place_in_tx(&mut tx, shop, new, now).await?;
    super::commit(tx).await?;
    Ok(order)
}

/// The same inside the caller's transaction. On an error the caller must
/// roll back (or roll back to a savepoint): reservations may have been made.
pub async fn place_in_tx(
    tx: &mut Tx,
    shop: &Shop,
    new: NewOrder,
    now: Timestamp,
) -> Result<Order, PlaceError> {
    if new.items.is_empty() {
        return Err(PlaceError::Empty);
    }
    if new.items.iter().any(|(_, q)| !(1..=10_000).contains(q)) {
        return Err(PlaceError::BadQuantity);
    }
    let mut lines = Vec::with_capacity(new.items.len());
    for (variant, qty) in &new.items {
        let item = catalog::sale_item(tx, shop.id, *variant)
            .await?
            .ok_or(PlaceError::UnknownItem(*variant))?;
        if !catalog::reserve(tx, *variant, *qty).await? {
            // Dropping the transaction rolls back earlier reservations.
            let name = if item.variant_name.is_empty() {
                item.name
            } else {
                format!("{} ({})", item.name, item.variant_name)
            };
            return Err(PlaceError::OutOfStock {
                variant: *variant,
                name,
            });
        }
        lines.push(OrderLine {
            id: 0,
            product_id: item.product_id,
            variant_id: item.variant_id,
            name: item.name,
            variant_name: item.variant_name,
            unit_price: item.unit_price,
            qty: *qty,
            status: LineStatus::Active,
            proposed_unit_price: None,
            proposed_qty: None,
        });
    }
    let mut order = Order {
        id: OrderId(0),
        shop_id: shop.id,
        customer_id: new.customer,
        code: OrderCode::from_random([0; 8]),
        currency: shop.currency,
        fulfilment: Fulfilment::Placed,
        payment: PaymentStatus::Unpaid,
        method: new.method,
        lines,
        fees: Vec::new(),
        shipping_fee: 0,
        discount: 0,
        paid: 0,
        address: new.address.clone(),
        carrier: None,
        tracking: None,
        version: 1,
    };
    order.shipping_fee = new.shipping_fee.unwrap_or_else(|| {
        shop.settings
            .shipping_fee_for(order.totals().subtotal.minor)
    });
    let totals = order.totals();
    let hold_until = (new.method != Some(PaymentMethod::Cod)).then(|| {
        now.plus_secs(shop.settings.hold_hours.max(1) * 3600)
            .millis()
    });
    let address_json = new.address.as_ref().map(json).transpose()?;

    // Codes are random; on the rare clash, draw again.
    let mut id = None;
    for _ in 0..8 {
        order.code = OrderCode::from_random(random_bytes());
        let row = sqlx::query(
            "insert into orders (shop_id, customer_id, code, channel, currency, fulfilment, payment_status, payment_method, address, \
             subtotal, shipping_fee, service_fees, discount, total, paid, remaining, hold_until, version, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18, $18) \
             on conflict (shop_id, code) do nothing returning id",
        )
        .bind(shop.id.get())
        .bind(new.customer.get())
        .bind(order.code.as_str())
        .bind(&new.channel)
        .bind(shop.currency.code())
        .bind(order.fulfilment.as_str())
        .bind(order.payment.as_str())
        .bind(order.method.map(|m| m.as_str()))
        .bind(&address_json)
        .bind(totals.subtotal.minor)
        .bind(totals.shipping_fee.minor)
        .bind(totals.service_fees.minor)
        .bind(totals.discount.minor)
        .bind(totals.total.minor)
        .bind(totals.paid.minor)
        .bind(totals.remaining.minor)
        .bind(hold_until)
        .bind(now.millis())
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            id = Some(OrderId(col(&row, "id")?));
            break;
        }
    }
    order.id = id.ok_or_else(|| StoreError::Conflict("could not draw a free order code".into()))?;
    for (pos, line) in order.lines.iter_mut().enumerate() {
        let row = sqlx::query(
            "insert into order_lines (order_id, product_id, variant_id, name, variant_name, unit_price, qty, status, position) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
        )
        .bind(order.id.get())
        .bind(line.product_id.get())
        .bind(line.variant_id.get())
        .bind(&line.name)
        .bind(&line.variant_name)
        .bind(line.unit_price)
        .bind(line.qty)
        .bind(line.status.as_str())
        .bind(pos as i64)
        .fetch_one(&mut **tx)
        .await?;
        line.id = col(&row, "id")?;
    }
    insert_history(
        tx,
        &order,
        &Transition {
            machine: "fulfilment",
            from: "new",
            to: "placed",
            event: "place",
        },
        &Actor::Customer,
        None,
        now,
    )
    .await?;
    bump_count(tx, shop.id, order.fulfilment, order.payment, 1).await?;
    if new.method == Some(PaymentMethod::Cod) {
        let plan = order::decide(&order, Command::ChooseCod, &Actor::Customer)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        write_plan(tx, shop, &order, &plan, &Actor::Customer, now)
            .await
            .map_err(|e| match e {
                ApplyError::Store(s) => PlaceError::Store(s),
                other => PlaceError::Store(StoreError::Conflict(other.to_string())),
            })?;
        order = plan.order;
        order.version += 1;
    }
    Ok(order)
}

async fn insert_history(
    tx: &mut Tx,
    order: &Order,
    t: &Transition,
    actor: &Actor,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "insert into order_history (order_id, shop_id, machine, from_state, to_state, event, actor, reason, at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(order.id.get())
    .bind(order.shop_id.get())
    .bind(t.machine)
    .bind(t.from)
    .bind(t.to)
    .bind(t.event)
    .bind(actor.to_db())
    .bind(reason)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn bump_count(
    tx: &mut Tx,
    shop: ShopId,
    f: Fulfilment,
    p: PaymentStatus,
    by: i64,
) -> Result<()> {
    sqlx::query(
        "insert into order_status_counts (shop_id, fulfilment, payment_status, n) values ($1, $2, $3, $4) \
         on conflict (shop_id, fulfilment, payment_status) do update set n = order_status_counts.n + excluded.n",
    )
    .bind(shop.get())
    .bind(f.as_str())
    .bind(p.as_str())
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An order moved from one tab pair to another: both counters in one
/// statement (the two keys differ, so neither row is touched twice).
async fn move_count(
    tx: &mut Tx,
    shop: ShopId,
    from: (Fulfilment, PaymentStatus),
    to: (Fulfilment, PaymentStatus),
) -> Result<()> {
    sqlx::query(
        "insert into order_status_counts (shop_id, fulfilment, payment_status, n) values ($1, $2, $3, -1), ($1, $4, $5, 1) \
         on conflict (shop_id, fulfilment, payment_status) do update set n = order_status_counts.n + excluded.n",
    )
    .bind(shop.get())
    .bind(from.0.as_str())
    .bind(from.1.as_str())
    .bind(to.0.as_str())
    .bind(to.1.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the order has fee rows at all: most have none, and then their
/// read is skipped. (The service-fee total cannot tell: a fee may be 0.)
const HAS_FEES: &str = "cast(case when exists (select 1 from order_fees f where f.order_id = orders.id) then 1 else 0 end as bigint) as has_fees";

const ORDER_COLUMNS: &str = "id, shop_id, customer_id, code, currency, fulfilment, payment_status, payment_method, address, \
    shipping_fee, discount, paid, carrier, tracking, version";

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

fn fee_from_row(r: &sqlx::any::AnyRow) -> Result<Fee> {
    Ok(Fee {
        label: col(r, "label")?,
        amount: col(r, "amount")?,
    })
}

/// Loads the whole aggregate inside a transaction.
pub async fn load_in(tx: &mut Tx, shop: ShopId, id: OrderId) -> Result<Order> {
    load_on(&mut **tx, shop, id, "").await
}

/// Loads it to change it: on PostgreSQL its row stays locked until the
/// transaction ends (SQLite's single writer already serialises).
pub async fn load_locked(tx: &mut Tx, shop: ShopId, id: OrderId) -> Result<Order> {
    let lock = super::lock_clause(super::backend_of(tx));
    load_on(&mut **tx, shop, id, lock).await
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
        let rows =
            sqlx::query("select label, amount from order_fees where order_id = $1 order by id")
                .bind(id.get())
                .fetch_all(&mut *conn)
                .await?;
        order.fees = rows.iter().map(fee_from_row).collect::<Result<_>>()?;
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
        "select order_id, label, amount from order_fees where order_id in ({}) order by id",
        ph(0, with_fees.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &with_fees {
        q = q.bind(*id);
    }
    for row in q.fetch_all(&mut **tx).await? {
        let order_id: i64 = col(&row, "order_id")?;
        if let Some((o, _)) = orders.iter_mut().find(|(o, _)| o.id.get() == order_id) {
            o.fees.push(fee_from_row(&row)?);
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

/// The outcome of a command: the order as it is now and what was decided.
#[derive(Debug)]
pub struct Applied {
    pub order: Order,
    pub plan: Plan,
}

/// Writes a decision. The order row is updated only if nobody changed it
/// since `before` was read; otherwise `Stale` and the caller retries.
pub async fn write_plan(
    tx: &mut Tx,
    shop: &Shop,
    before: &Order,
    plan: &Plan,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), ApplyError> {
    let after = &plan.order;
    let totals = after.totals();
    let awaiting_money = after.fulfilment == Fulfilment::Placed
        && matches!(
            after.payment,
            PaymentStatus::Unpaid | PaymentStatus::Rejected
        );
    let address_json = after.address.as_ref().map(json).transpose()?;
    let n = sqlx::query(
        "update orders set fulfilment = $1, payment_status = $2, payment_method = $3, address = $4, subtotal = $5, \
         shipping_fee = $6, service_fees = $7, discount = $8, total = $9, paid = $10, remaining = $11, carrier = $12, \
         tracking = $13, hold_until = case when $14 = 1 then coalesce(hold_until, $19) else null end, version = version + 1, updated_at = $15 \
         where id = $16 and shop_id = $17 and version = $18",
    )
    .bind(after.fulfilment.as_str())
    .bind(after.payment.as_str())
    .bind(after.method.map(|m| m.as_str()))
    .bind(address_json)
    .bind(totals.subtotal.minor)
    .bind(totals.shipping_fee.minor)
    .bind(totals.service_fees.minor)
    .bind(totals.discount.minor)
    .bind(totals.total.minor)
    .bind(totals.paid.minor)
    .bind(totals.remaining.minor)
    .bind(&after.carrier)
    .bind(&after.tracking)
    .bind(i64::from(awaiting_money))
    .bind(now.millis())
    .bind(after.id.get())
    .bind(shop.id.get())
    .bind(before.version)
    .bind(now.plus_secs(shop.settings.hold_hours.max(1) * 3600).millis())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(ApplyError::Store(StoreError::Stale));
    }
    for line in &after.lines {
        if before.lines.iter().any(|b| b == line) {
            continue;
        }
        sqlx::query(
            "update order_lines set unit_price = $1, qty = $2, status = $3, proposed_unit_price = $4, proposed_qty = $5 \
             where id = $6 and order_id = $7",
        )
        .bind(line.unit_price)
        .bind(line.qty)
        .bind(line.status.as_str())
        .bind(line.proposed_unit_price)
        .bind(line.proposed_qty)
        .bind(line.id)
        .bind(after.id.get())
        .execute(&mut **tx)
        .await?;
    }
    if before.fees != after.fees {
        sqlx::query("delete from order_fees where order_id = $1")
            .bind(after.id.get())
            .execute(&mut **tx)
            .await?;
        for fee in &after.fees {
            sqlx::query("insert into order_fees (order_id, label, amount) values ($1, $2, $3)")
                .bind(after.id.get())
                .bind(fee.label.trim())
                .bind(fee.amount)
                .execute(&mut **tx)
                .await?;
        }
    }
    for t in &plan.transitions {
        insert_history(tx, after, t, actor, plan.reason.as_deref(), now).await?;
    }
    for m in &plan.stock {
        if m.delta < 0 {
            if !catalog::reserve(tx, m.variant_id, -m.delta).await? {
                let name = after
                    .lines
                    .iter()
                    .find(|l| l.variant_id == m.variant_id)
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                return Err(ApplyError::OutOfStock(name));
            }
        } else {
            catalog::release(tx, m.variant_id, m.delta).await?;
        }
    }
    for l in &plan.ledger {
        let post = customers::LedgerPost {
            shop: shop.id,
            customer: after.customer_id,
            kind: l.kind,
            amount: l.amount,
            order: Some(after.id),
            note: Some(after.code.as_str()),
            actor: &actor.to_db(),
            allow_negative: shop.settings.allow_negative_balance,
        };
        customers::post(tx, &post, now).await.map_err(|e| match e {
            BalanceError::Store(s) => ApplyError::Store(s),
            other => ApplyError::Balance(other),
        })?;
    }
    if (before.fulfilment, before.payment) != (after.fulfilment, after.payment) {
        move_count(
            tx,
            shop.id,
            (before.fulfilment, before.payment),
            (after.fulfilment, after.payment),
        )
        .await?;
    }
    for (i, notice) in plan.notices.iter().enumerate() {
        let payload = OutboundPayload::Notice {
            order_id: after.id,
            order_code: after.code.clone(),
            notice: notice.clone(),
        };
        // The version makes the key unique per decision, so a retried
        // request cannot queue the same push twice.
        let key = format!("order:{}:v{}:{}", after.id, before.version + 1, i);
        outbox::enqueue(tx, shop.id, after.customer_id, &key, &payload, now).await?;
    }
    Ok(())
}

/// Tab counts for the seller's tab bar, from the maintained counters.
pub async fn tab_counts(db: &Db, shop: ShopId) -> Result<Vec<(Tab, i64)>> {
    let rows = sqlx::query("select fulfilment, payment_status, n from order_status_counts where shop_id = $1 and n <> 0")
        .bind(shop.get())
        .fetch_all(&db.pool)
        .await?;
    let mut pairs = Vec::with_capacity(rows.len());
    for r in &rows {
        let f = parse_enum(
            &col::<String>(r, "fulfilment")?,
            Fulfilment::parse,
            "fulfilment",
        )?;
        let p = parse_enum(
            &col::<String>(r, "payment_status")?,
            PaymentStatus::parse,
            "payment status",
        )?;
        pairs.push((f, p, col::<i64>(r, "n")?));
    }
    Ok(Tab::ALL
        .iter()
        .map(|t| {
            (
                *t,
                pairs
                    .iter()
                    .filter(|(f, p, _)| t.contains(*f, *p))
                    .map(|x| x.2)
                    .sum(),
            )
        })
        .collect())
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HistoryRow {
    pub machine: String,
    pub from: String,
    pub to: String,
    pub event: String,
    pub actor: String,
    pub reason: Option<String>,
    pub at: Timestamp,
}

pub async fn history(db: &Db, shop: ShopId, id: OrderId) -> Result<Vec<HistoryRow>> {
    let rows = sqlx::query(
        "select machine, from_state, to_state, event, actor, reason, at from order_history where order_id = $1 and shop_id = $2 order by id",
    )
    .bind(id.get())
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryRow {
                machine: col(r, "machine")?,
                from: col(r, "from_state")?,
                to: col(r, "to_state")?,
                event: col(r, "event")?,
                actor: col(r, "actor")?,
                reason: col(r, "reason")?,
                at: Timestamp(col(r, "at")?),
            })
        })
        .collect()
}

/// Notices queued for an order, oldest first (for tests and the console).
pub async fn queued_notices(db: &Db, shop: ShopId, id: OrderId) -> Result<Vec<Notice>> {
    let rows = sqlx::query(
        "select payload from outbox_messages where shop_id = $1 and purpose = 'push' order by id",
    )
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let raw: String = col(r, "payload")?;
        if let Ok(OutboundPayload::Notice {
            order_id, notice, ..
        }) = serde_json::from_str(&raw)
            && order_id == id
        {
            out.push(notice);
        }
    }
    Ok(out)
}
