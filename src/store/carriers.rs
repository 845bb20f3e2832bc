//! What carriers owe for cash on delivery, and the remittances they pay.
//!
//! What a carrier owes is not kept as a second number: it is the amount
//! still owed on the cash-on-delivery orders shipped with it, so it can
//! never drift from the orders. A remittance is one payment from a carrier
//! for many orders; each order's share is its own COD payment row.

use super::{Db, Result, Tx, col};
use crate::domain::{OrderId, ShopId, Timestamp};

/// One carrier's open cash on delivery: parcels on their way (the carrier
/// will collect) and delivered ones (the carrier has the cash).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Owed {
    pub carrier: String,
    pub collecting_orders: i64,
    pub collecting: i64,
    pub owed_orders: i64,
    pub owed: i64,
}

pub async fn owed(db: &Db, shop: ShopId) -> Result<Vec<Owed>> {
    let rows = sqlx::query(
        "select carrier, fulfilment, cast(count(*) as bigint) as n, cast(coalesce(sum(remaining), 0) as bigint) as amount from orders \
         where shop_id = $1 and payment_status = 'cod_pending' and fulfilment in ('shipping', 'awaiting_cod') \
         and carrier is not null and deleted_at is null group by carrier, fulfilment order by carrier",
    )
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    let mut out: Vec<Owed> = Vec::new();
    for r in rows {
        let carrier: String = col(&r, "carrier")?;
        let fulfilment: String = col(&r, "fulfilment")?;
        let (n, amount): (i64, i64) = (col(&r, "n")?, col(&r, "amount")?);
        let at = match out.iter().position(|o| o.carrier == carrier) {
            Some(at) => at,
            None => {
                out.push(Owed {
                    carrier,
                    ..Owed::default()
                });
                out.len() - 1
            }
        };
        let o = &mut out[at];
        if fulfilment == "awaiting_cod" {
            (o.owed_orders, o.owed) = (n, amount);
        } else {
            (o.collecting_orders, o.collecting) = (n, amount);
        }
    }
    Ok(out)
}

/// An order whose cash a carrier collects or holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CodOrder {
    pub id: i64,
    pub code: String,
    /// `shipping` (on its way) or `awaiting_cod` (delivered).
    pub fulfilment: String,
    pub amount: i64,
    pub tracking: Option<String>,
    pub customer_name: String,
    pub updated_at: i64,
}

/// The open cash-on-delivery orders of one carrier, delivered first.
pub async fn cod_orders(db: &Db, shop: ShopId, carrier: &str) -> Result<Vec<CodOrder>> {
    let rows = sqlx::query(
        "select o.id, o.code, o.fulfilment, o.remaining, o.tracking, o.updated_at, c.display_name from orders o \
         join customers c on c.id = o.customer_id \
         where o.shop_id = $1 and o.carrier = $2 and o.payment_status = 'cod_pending' \
         and o.fulfilment in ('shipping', 'awaiting_cod') and o.deleted_at is null \
         order by case when o.fulfilment = 'awaiting_cod' then 0 else 1 end, o.id limit 500",
    )
    .bind(shop.get())
    .bind(carrier)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CodOrder {
                id: col(r, "id")?,
                code: col(r, "code")?,
                fulfilment: col(r, "fulfilment")?,
                amount: col(r, "remaining")?,
                tracking: col(r, "tracking")?,
                customer_name: col(r, "display_name")?,
                updated_at: col(r, "updated_at")?,
            })
        })
        .collect()
}

/// The order of this code, if the shop has one.
pub async fn order_by_code(tx: &mut Tx, shop: ShopId, code: &str) -> Result<Option<OrderId>> {
    let row = sqlx::query(
        "select id from orders where shop_id = $1 and code = $2 and deleted_at is null",
    )
    .bind(shop.get())
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| col(&r, "id").map(OrderId)).transpose()
}

pub struct NewRemittance<'a> {
    pub shop: ShopId,
    pub carrier: &'a str,
    pub reference: &'a str,
    pub amount: i64,
    pub allocated: i64,
    pub note: Option<&'a str>,
    pub by: &'a str,
    /// Each order it paid and how much of it went there.
    pub orders: &'a [(OrderId, i64)],
}

/// Whether this carrier's remittance of this reference is recorded already.
pub async fn seen(tx: &mut Tx, shop: ShopId, carrier: &str, reference: &str) -> Result<bool> {
    let row = sqlx::query(
        "select 1 as one from cod_remittances where shop_id = $1 and carrier = $2 and reference = $3",
    )
    .bind(shop.get())
    .bind(carrier)
    .bind(reference)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

pub async fn insert(tx: &mut Tx, r: &NewRemittance<'_>, now: Timestamp) -> Result<i64> {
    let row = sqlx::query(
        "insert into cod_remittances (shop_id, carrier, reference, amount, allocated, difference, note, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(r.shop.get())
    .bind(r.carrier)
    .bind(r.reference)
    .bind(r.amount)
    .bind(r.allocated)
    .bind(r.amount - r.allocated)
    .bind(r.note)
    .bind(r.by)
    .bind(now.millis())
    .fetch_one(&mut **tx)
    .await?;
    let id: i64 = col(&row, "id")?;
    for (order, amount) in r.orders {
        sqlx::query(
            "insert into cod_remittance_orders (remittance_id, order_id, amount) values ($1, $2, $3)",
        )
        .bind(id)
        .bind(order.get())
        .bind(*amount)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Remittance {
    pub id: i64,
    pub carrier: String,
    pub reference: String,
    pub amount: i64,
    /// What went to orders.
    pub allocated: i64,
    /// `amount − allocated`: above (+) or below (−) what the orders owed.
    pub difference: i64,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub orders: Vec<String>,
}

/// The latest remittances, of one carrier or all, with their orders' codes.
pub async fn list(
    db: &Db,
    shop: ShopId,
    carrier: Option<&str>,
    limit: i64,
) -> Result<Vec<Remittance>> {
    let rows = sqlx::query(
        "select id, carrier, reference, amount, allocated, difference, note, created_by, created_at \
         from cod_remittances where shop_id = $1 and ($2 = '' or carrier = $2) order by id desc limit $3",
    )
    .bind(shop.get())
    .bind(carrier.unwrap_or(""))
    .bind(limit.clamp(1, 200))
    .fetch_all(&db.pool)
    .await?;
    // Every listed remittance's order codes in one read.
    let ids: Vec<i64> = rows.iter().map(|r| col(r, "id")).collect::<Result<_>>()?;
    let mut codes: Vec<(i64, String)> = Vec::new();
    if !ids.is_empty() {
        let sql = format!(
            "select ro.remittance_id, o.code from cod_remittance_orders ro join orders o on o.id = ro.order_id \
             where ro.remittance_id in ({}) order by o.id",
            db.placeholders(0, ids.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        for c in q.fetch_all(&db.pool).await? {
            codes.push((col(&c, "remittance_id")?, col(&c, "code")?));
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = col(r, "id")?;
        out.push(Remittance {
            id,
            carrier: col(r, "carrier")?,
            reference: col(r, "reference")?,
            amount: col(r, "amount")?,
            allocated: col(r, "allocated")?,
            difference: col(r, "difference")?,
            note: col(r, "note")?,
            created_by: col(r, "created_by")?,
            created_at: col(r, "created_at")?,
            orders: codes
                .iter()
                .filter(|(rid, _)| *rid == id)
                .map(|(_, c)| c.clone())
                .collect(),
        });
    }
    Ok(out)
}
