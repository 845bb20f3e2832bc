//! The money check: every amount an order holds is explained by payment rows
//! and ledger entries, every balance is the sum of its ledger, and every
//! order's stored amounts and payment state agree. Tests run it after every
//! step; the reconciliation reports build on it.

use super::{Db, Result, col};
use crate::domain::lifecycle::PaymentStatus;
use crate::domain::order::implied_status;
use crate::domain::{CustomerId, OrderId, ShopId};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciliation {
    /// Σ orders.paid.
    pub orders_paid: i64,
    /// Σ payment rows that moved money: confirmed, COD differences (what the
    /// order took) and refunds due (negative).
    pub payments: i64,
    /// Σ spent from balances on orders.
    pub balance_spent: i64,
    /// Σ given back to balances from orders (refunds and credited excess).
    pub given_back: i64,
    /// Customers whose cached balance is not the sum of their ledger, or is
    /// below zero: (customer, balance, Σ ledger).
    pub bad_balances: Vec<(CustomerId, i64, i64)>,
    /// Orders whose amounts or state disagree: (order, why).
    pub bad_orders: Vec<(OrderId, String)>,
}

impl Reconciliation {
    /// Σ order payments = Σ payments + balance spends − refunds, and no
    /// balance or order out of line.
    pub fn balances(&self) -> bool {
        self.orders_paid == self.payments + self.balance_spent - self.given_back
            && self.bad_balances.is_empty()
            && self.bad_orders.is_empty()
    }
}

async fn sum(db: &Db, sql: &str, shop: ShopId) -> Result<i64> {
    let row = sqlx::query(sql)
        .bind(shop.get())
        .fetch_one(&db.pool)
        .await?;
    col(&row, "s")
}

pub async fn check(db: &Db, shop: ShopId) -> Result<Reconciliation> {
    let mut r = Reconciliation {
        orders_paid: sum(
            db,
            "select cast(coalesce(sum(paid), 0) as bigint) as s from orders where shop_id = $1",
            shop,
        )
        .await?,
        payments: sum(
            db,
            "select cast(coalesce(sum(amount), 0) as bigint) as s from payments \
             where shop_id = $1 and status in ('confirmed', 'difference', 'refund_due')",
            shop,
        )
        .await?,
        balance_spent: -sum(
            db,
            "select cast(coalesce(sum(amount), 0) as bigint) as s from balance_ledger \
             where shop_id = $1 and kind = 'pay_order'",
            shop,
        )
        .await?,
        given_back: sum(
            db,
            "select cast(coalesce(sum(amount), 0) as bigint) as s from balance_ledger \
             where shop_id = $1 and kind in ('refund', 'credit') and order_id is not null",
            shop,
        )
        .await?,
        ..Default::default()
    };
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
    let rows = sqlx::query(
        "select id, payment_status, total, paid, remaining from orders where shop_id = $1 order by id",
    )
    .bind(shop.get())
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
    Ok(r)
}
