//! Placing an order: every line's stock reserved or nothing, names and
//! prices snapshotted, the first history row and the tab counter written.

use super::json;
use super::write::{ApplyError, bump_count, insert_history, write_plan};
use crate::clock::random_bytes;
use crate::domain::lifecycle::{Actor, Fulfilment, PaymentStatus, Transition};
use crate::domain::order::{self, Command, LineStatus, Order, OrderLine, PaymentMethod};
use crate::domain::{Address, CustomerId, OrderCode, OrderId, Timestamp, VariantId};
use crate::store::shops::Shop;
use crate::store::{Db, StoreError, Tx, catalog, col};

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
    crate::store::commit(tx).await?;
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
    place_as(tx, shop, new, &Actor::Customer, now).await
}

/// The same, placed by `by` (a person of the shop making the order for a
/// customer who phoned or walked in), whom its first history row names.
pub async fn place_as(
    tx: &mut Tx,
    shop: &Shop,
    new: NewOrder,
    by: &Actor,
    now: Timestamp,
) -> Result<Order, PlaceError> {
    check_quantities(&new.items)?;
    let lines = reserve_lines(tx, shop, &new.items).await?;
    let mut order = unsaved_order(shop, &new, lines);
    order.id = insert_order_row(tx, shop, &new, &mut order, now).await?;
    insert_lines(tx, &mut order).await?;
    insert_history(
        tx,
        &order,
        &Transition {
            machine: "fulfilment",
            from: "new",
            to: "placed",
            event: "place",
        },
        by,
        None,
        now,
    )
    .await?;
    bump_count(tx, shop.id, order.fulfilment, order.payment, 1).await?;
    if new.method == Some(PaymentMethod::Cod) {
        order = choose_cod(tx, shop, order, now).await?;
    }
    Ok(order)
}

fn check_quantities(items: &[(VariantId, i64)]) -> Result<(), PlaceError> {
    if items.is_empty() {
        return Err(PlaceError::Empty);
    }
    if items.iter().any(|(_, q)| !(1..=10_000).contains(q)) {
        return Err(PlaceError::BadQuantity);
    }
    Ok(())
}

/// Reserves each item's stock and snapshots its name and price, so later
/// catalog edits do not change what was ordered.
async fn reserve_lines(
    tx: &mut Tx,
    shop: &Shop,
    items: &[(VariantId, i64)],
) -> Result<Vec<OrderLine>, PlaceError> {
    let mut lines = Vec::with_capacity(items.len());
    for (variant, qty) in items {
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
    Ok(lines)
}

/// The order before it has an id or a code; the shipping fee follows the
/// shop's rule on the subtotal unless the caller set one.
fn unsaved_order(shop: &Shop, new: &NewOrder, lines: Vec<OrderLine>) -> Order {
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
        services: Vec::new(),
        shipping_fee: 0,
        discount: 0,
        paid: 0,
        address: new.address.clone(),
        carrier: None,
        tracking: None,
        tracking_status: None,
        version: 1,
    };
    order.shipping_fee = new.shipping_fee.unwrap_or_else(|| {
        let province = order.address.as_ref().map(|a| a.province.as_str());
        shop.settings
            .shipping_fee_for(order.totals().subtotal.minor, province.unwrap_or(""))
    });
    order
}

/// Writes the order row under a fresh code (set on `order`) and returns
/// its id. An unpaid order is held for the shop's hold hours; COD is not.
async fn insert_order_row(
    tx: &mut Tx,
    shop: &Shop,
    new: &NewOrder,
    order: &mut Order,
    now: Timestamp,
) -> Result<OrderId, PlaceError> {
    let totals = order.totals();
    let hold_until = (new.method != Some(PaymentMethod::Cod)).then(|| {
        now.plus_secs(shop.settings.hold_hours.max(1) * 3600)
            .millis()
    });
    let address_json = new.address.as_ref().map(json).transpose()?;
    // Codes are random; on the rare clash, draw again.
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
            return Ok(OrderId(col(&row, "id")?));
        }
    }
    Err(StoreError::Conflict("could not draw a free order code".into()).into())
}

/// Writes the lines in order and gives each its id.
async fn insert_lines(tx: &mut Tx, order: &mut Order) -> Result<(), PlaceError> {
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
    Ok(())
}

/// Cash on delivery chosen at checkout goes through the same decision as a
/// later choice, so its history row and tab counts are the usual ones.
async fn choose_cod(
    tx: &mut Tx,
    shop: &Shop,
    order: Order,
    now: Timestamp,
) -> Result<Order, PlaceError> {
    let plan = order::decide(&order, Command::ChooseCod, &Actor::Customer)
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    write_plan(tx, shop, &order, &plan, &Actor::Customer, now)
        .await
        .map_err(|e| match e {
            ApplyError::Store(s) => PlaceError::Store(s),
            other => PlaceError::Store(StoreError::Conflict(other.to_string())),
        })?;
    let mut order = plan.order;
    order.version += 1;
    Ok(order)
}
