//! The money check: every amount an order holds is explained by payment rows
//! and ledger entries, every balance is the sum of its ledger, and every
//! order's stored amounts and payment state agree. Tests run it after every
//! step; the reconciliation reports build on it.

use super::{Db, Result, col};
use crate::domain::lifecycle::PaymentStatus;
use crate::domain::order::implied_status;
use crate::domain::{CustomerId, OrderId, ShopId, Timestamp};

pub use crate::domain::books::Reconciliation;

/// The orders a check covers: those placed in `[from, to)`.
const PLACED: &str = "order_id in (select id from orders where shop_id = $1 and created_at >= $2 and created_at < $3)";

async fn sum(db: &Db, sql: &str, shop: ShopId, placed: (Timestamp, Timestamp)) -> Result<i64> {
    let row = sqlx::query(&sql.replace("{placed}", PLACED))
        .bind(shop.get())
        .bind(placed.0.millis())
        .bind(placed.1.millis())
        .fetch_one(&db.pool)
        .await?;
    col(&row, "s")
}

const ALL_TIME: (Timestamp, Timestamp) = (Timestamp(i64::MIN), Timestamp(i64::MAX));

/// The whole shop: every order, every balance.
pub async fn check(db: &Db, shop: ShopId) -> Result<Reconciliation> {
    let mut r = check_placed(db, shop, ALL_TIME).await?;
    balances(db, shop, &mut r).await?;
    Ok(r)
}

/// The orders placed in `[from, to)`: what they hold as paid, explained by
/// their own payment rows and ledger entries, whenever those were made.
pub async fn check_placed(
    db: &Db,
    shop: ShopId,
    placed: (Timestamp, Timestamp),
) -> Result<Reconciliation> {
    let mut r = Reconciliation {
        orders_paid: sum(
            db,
            "select cast(coalesce(sum(paid), 0) as bigint) as s from orders \
             where shop_id = $1 and created_at >= $2 and created_at < $3",
            shop,
            placed,
        )
        .await?,
        payments: sum(
            db,
            "select cast(coalesce(sum(amount), 0) as bigint) as s from payments \
             where shop_id = $1 and status in ('confirmed', 'difference', 'refund_due') and {placed}",
            shop,
            placed,
        )
        .await?,
        balance_spent: -sum(
            db,
            "select cast(coalesce(sum(amount), 0) as bigint) as s from balance_ledger \
             where shop_id = $1 and kind = 'pay_order' and {placed}",
            shop,
            placed,
        )
        .await?,
        given_back: sum(
            db,
            "select cast(coalesce(sum(amount), 0) as bigint) as s from balance_ledger \
             where shop_id = $1 and kind in ('refund', 'credit') and {placed}",
            shop,
            placed,
        )
        .await?,
        ..Default::default()
    };
    bad_orders(db, shop, placed, &mut r).await?;
    Ok(r)
}

async fn balances(db: &Db, shop: ShopId, r: &mut Reconciliation) -> Result<()> {
    let rows = sqlx::query(
        "select c.id, c.balance, cast(coalesce(sum(l.amount), 0) as bigint) as s from customers c \
         left join balance_ledger l on l.customer_id = c.id where c.shop_id = $1 group by c.id, c.balance",
    )
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    for row in &rows {
        let (id, balance, s): (i64, i64, i64) =
            (col(row, "id")?, col(row, "balance")?, col(row, "s")?);
        if balance != s || balance < 0 {
            r.bad_balances.push((CustomerId(id), balance, s));
        }
    }
    Ok(())
}

async fn bad_orders(
    db: &Db,
    shop: ShopId,
    placed: (Timestamp, Timestamp),
    r: &mut Reconciliation,
) -> Result<()> {
    let rows = sqlx::query(
        "select id, payment_status, total, paid, remaining from orders \
         where shop_id = $1 and created_at >= $2 and created_at < $3 order by id",
    )
    .bind(shop.get())
    .bind(placed.0.millis())
    .bind(placed.1.millis())
    .fetch_all(&db.pool)
    .await?;
    for row in &rows {
        let id = OrderId(col(row, "id")?);
        let status: String = col(row, "payment_status")?;
        let (total, paid, remaining): (i64, i64, i64) = (
            col(row, "total")?,
            col(row, "paid")?,
            col(row, "remaining")?,
        );
        let why = match PaymentStatus::parse(&status) {
            _ if remaining < 0 || paid < 0 || paid > total => Some("amounts out of line"),
            _ if remaining != total - paid => Some("remaining is not total − paid"),
            None => Some("unknown payment status"),
            Some(p) if implied_status(p, paid, total) != p => {
                Some("the payment state is not the one the amounts imply")
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            r.bad_orders.push((
                id,
                format!("{why}: {status}, paid {paid} of {total}, remaining {remaining}"),
            ));
        }
    }
    Ok(())
}
