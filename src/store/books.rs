//! The books for a period: the reconciliation report's figures and the
//! rows of the CSV exports, read in pages so an export of a busy year
//! never sits in memory whole.

use super::{Db, Result, col};
use crate::domain::books::{
    BalanceRow, CarrierCod, Line, MoneyRow, OpenItem, OrderRow, Period, Report,
};
use crate::domain::calendar::Calendar;
use crate::domain::{Address, Currency, OrderId, ShopId, Timestamp};
use sqlx::any::AnyRow;

/// Rows an export reads at a time.
pub const PAGE: i64 = 1_000;

/// Binds the shop and the period as `$1`, `$2`, `$3`.
fn scoped<'q>(
    sql: &'q str,
    shop: ShopId,
    p: &Period,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(shop.get())
        .bind(p.from.millis())
        .bind(p.to.millis())
}

fn lines(rows: &[AnyRow], key: &str) -> Result<Vec<Line>> {
    rows.iter()
        .map(|r| {
            Ok(Line {
                item: col(r, key)?,
                count: col(r, "n")?,
                amount: col(r, "s")?,
            })
        })
        .collect()
}

/// `at` falls in the period.
fn in_period(at: &str) -> String {
    format!("{at} >= $2 and {at} < $3")
}

pub async fn report(
    db: &Db,
    shop: ShopId,
    currency: Currency,
    cal: &Calendar,
    p: &Period,
) -> Result<Report> {
    let decided = in_period("coalesce(decided_at, created_at)");
    let received = scoped(
        &format!(
            "select method, cast(count(*) as bigint) as n, cast(coalesce(sum(amount), 0) as bigint) as s from payments \
             where shop_id = $1 and status in ('confirmed', 'difference') and amount > 0 and {decided} \
             group by method order by method"
        ),
        shop,
        p,
    )
    .fetch_all(&db.pool)
    .await?;
    let ledger = scoped(
        &format!(
            "select kind, cast(count(*) as bigint) as n, \
             cast(coalesce(sum(case when amount < 0 then -amount else amount end), 0) as bigint) as s, \
             cast(coalesce(sum(case when order_id is null then 0 else 1 end), 0) as bigint) as on_orders \
             from balance_ledger where shop_id = $1 and {} group by kind order by kind",
            in_period("created_at")
        ),
        shop,
        p,
    )
    .fetch_all(&db.pool)
    .await?;
    let balances = lines(&ledger, "kind")?;
    let of_kind = |k: &str, name: &str| {
        balances
            .iter()
            .find(|l| l.item == k)
            .map(|l| Line {
                item: name.to_string(),
                ..l.clone()
            })
            .unwrap_or(Line {
                item: name.to_string(),
                count: 0,
                amount: 0,
            })
    };
    let mut refunds = vec![
        on_orders(db, shop, p, "refund", "to_balance").await?,
        on_orders(db, shop, p, "credit", "credited_excess").await?,
    ];
    refunds.extend(refunds_due(db, shop, p).await?);
    Ok(Report {
        currency,
        time_zone: cal.zone_name(),
        from: p.first_day.to_string(),
        to: p.last_day.to_string(),
        received: lines(&received, "method")?,
        paid_from_balance: of_kind("pay_order", "balance"),
        refunds,
        balances,
        cod: cod_by_carrier(db, shop, p).await?,
        open: open_items(db, shop, 500).await?,
        period_books: super::reconcile::check_placed(db, shop, (p.from, p.to)).await?,
        books: super::reconcile::check(db, shop).await?,
    })
}

/// Ledger entries of `kind` that gave money back from an order.
async fn on_orders(db: &Db, shop: ShopId, p: &Period, kind: &str, name: &str) -> Result<Line> {
    let sql = format!(
        "select cast(count(*) as bigint) as n, cast(coalesce(sum(amount), 0) as bigint) as s from balance_ledger \
         where shop_id = $1 and {} and kind = $4 and order_id is not null",
        in_period("created_at")
    );
    let row = scoped(&sql, shop, p).bind(kind).fetch_one(&db.pool).await?;
    Ok(Line {
        item: name.into(),
        count: col(&row, "n")?,
        amount: col(&row, "s")?,
    })
}

/// Refunds owed back by hand in the period, and those marked paid back.
async fn refunds_due(db: &Db, shop: ShopId, p: &Period) -> Result<Vec<Line>> {
    let mut out = Vec::new();
    for (name, at) in [
        ("refund_due", "created_at"),
        ("refund_paid_back", "resolved_at"),
    ] {
        let sql = format!(
            "select cast(count(*) as bigint) as n, cast(coalesce(sum(-amount), 0) as bigint) as s from payments \
             where shop_id = $1 and status = 'refund_due' and {}",
            in_period(at)
        );
        let row = scoped(&sql, shop, p).fetch_one(&db.pool).await?;
        out.push(Line {
            item: name.into(),
            count: col(&row, "n")?,
            amount: col(&row, "s")?,
        });
    }
    Ok(out)
}

/// COD orders handed to a carrier in the period.
const SHIPPED_COD: &str = "o.shop_id = $1 and o.payment_method = 'cod' and o.carrier is not null \
    and exists (select 1 from order_history h where h.order_id = o.id and h.machine = 'fulfilment' \
    and h.event = 'ship' and h.at >= $2 and h.at < $3)";

async fn cod_by_carrier(db: &Db, shop: ShopId, p: &Period) -> Result<Vec<CarrierCod>> {
    let orders = scoped(
        &format!(
            "select o.carrier, o.fulfilment, cast(count(*) as bigint) as n, cast(sum(o.total) as bigint) as total, \
             cast(sum(o.remaining) as bigint) as remaining from orders o where {SHIPPED_COD} \
             group by o.carrier, o.fulfilment order by o.carrier"
        ),
        shop,
        p,
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out: Vec<CarrierCod> = Vec::new();
    for row in &orders {
        let carrier: String = col(row, "carrier")?;
        let fulfilment: String = col(row, "fulfilment")?;
        let (n, total, remaining): (i64, i64, i64) =
            (col(row, "n")?, col(row, "total")?, col(row, "remaining")?);
        let k = match out.iter_mut().position(|k| k.carrier == carrier) {
            Some(i) => &mut out[i],
            None => {
                out.push(CarrierCod {
                    carrier: carrier.clone(),
                    ..Default::default()
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        k.orders += n;
        match fulfilment.as_str() {
            "awaiting_cod" => {
                k.expected += total;
                k.awaiting += remaining;
            }
            "completed" => k.expected += total,
            "shipping" => k.in_transit += total,
            _ => k.not_delivered += n,
        }
    }
    let remitted = scoped(
        &format!(
            "select o.carrier, cast(coalesce(sum(p.amount + case when p.difference > 0 then p.difference else 0 end), 0) as bigint) as collected, \
             cast(coalesce(sum(p.difference), 0) as bigint) as difference from payments p join orders o on o.id = p.order_id \
             where p.method = 'cod' and p.status in ('confirmed', 'difference') and {SHIPPED_COD} group by o.carrier"
        ),
        shop,
        p,
    )
    .fetch_all(&db.pool)
    .await?;
    for row in &remitted {
        let carrier: String = col(row, "carrier")?;
        if let Some(k) = out.iter_mut().find(|k| k.carrier == carrier) {
            k.collected = col(row, "collected")?;
            k.difference = col(row, "difference")?;
        }
    }
    Ok(out)
}

/// COD differences and refunds due nobody has resolved yet, oldest first.
pub async fn open_items(db: &Db, shop: ShopId, limit: i64) -> Result<Vec<OpenItem>> {
    let rows = sqlx::query(
        "select p.id, p.order_id, o.code, p.status, p.amount, p.difference, p.created_at from payments p \
         join orders o on o.id = p.order_id where p.shop_id = $1 and p.resolved_at is null \
         and p.status in ('difference', 'refund_due') order by p.id limit $2",
    )
    .bind(shop.get())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let amount: i64 = col(r, "amount")?;
            Ok(OpenItem {
                payment_id: col(r, "id")?,
                order_id: OrderId(col(r, "order_id")?),
                order_code: col(r, "code")?,
                status: col(r, "status")?,
                amount: amount.abs(),
                difference: col(r, "difference")?,
                created_at: Timestamp(col(r, "created_at")?),
            })
        })
        .collect()
}

fn text(r: &AnyRow, name: &str) -> Result<String> {
    Ok(col::<Option<String>>(r, name)?.unwrap_or_default())
}

/// Orders placed in the period with an id above `after`, by id.
pub async fn orders_page(db: &Db, shop: ShopId, p: &Period, after: i64) -> Result<Vec<OrderRow>> {
    let rows = scoped(
        "select o.id, o.code, o.created_at, c.display_name, o.address, o.channel, o.fulfilment, o.payment_status, \
         o.payment_method, o.subtotal, o.shipping_fee, o.service_fees, o.discount, o.total, o.paid, o.remaining, \
         o.carrier, o.tracking from orders o join customers c on c.id = o.customer_id \
         where o.shop_id = $1 and o.created_at >= $2 and o.created_at < $3 and o.id > $4 order by o.id limit $5",
        shop,
        p,
    )
    .bind(after)
    .bind(PAGE)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let address: Option<Address> =
                col::<Option<String>>(r, "address")?.and_then(|a| serde_json::from_str(&a).ok());
            let name: String = col(r, "display_name")?;
            let customer = match (&address, name.trim().is_empty()) {
                (Some(a), true) => a.full_name.clone(),
                _ => name,
            };
            Ok(OrderRow {
                id: OrderId(col(r, "id")?),
                code: col(r, "code")?,
                created_at: Timestamp(col(r, "created_at")?),
                customer,
                phone: address.map(|a| a.phone.to_string()).unwrap_or_default(),
                channel: col(r, "channel")?,
                fulfilment: col(r, "fulfilment")?,
                payment_status: col(r, "payment_status")?,
                payment_method: text(r, "payment_method")?,
                subtotal: col(r, "subtotal")?,
                shipping_fee: col(r, "shipping_fee")?,
                service_fees: col(r, "service_fees")?,
                discount: col(r, "discount")?,
                total: col(r, "total")?,
                paid: col(r, "paid")?,
                remaining: col(r, "remaining")?,
                carrier: text(r, "carrier")?,
                tracking: text(r, "tracking")?,
            })
        })
        .collect()
}

/// Where a money export has got to: payment rows first, then balance
/// entries on orders, each by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MoneyCursor {
    pub payments_after: i64,
    pub ledger_after: i64,
    pub payments_done: bool,
}

/// The next page of an order-money export, and where the one after starts
/// (`None` when this was the last).
pub async fn money_page(
    db: &Db,
    shop: ShopId,
    cal: &Calendar,
    p: &Period,
    cursor: MoneyCursor,
) -> Result<(Vec<MoneyRow>, Option<MoneyCursor>)> {
    if !cursor.payments_done {
        let rows = payment_rows(db, shop, cal, p, cursor.payments_after).await?;
        let next = match rows.last() {
            Some(_) if rows.len() as i64 == PAGE => MoneyCursor {
                payments_after: rows.last().map(|r| r.1).unwrap_or(0),
                ..cursor
            },
            _ => MoneyCursor {
                payments_done: true,
                ..cursor
            },
        };
        return Ok((rows.into_iter().map(|r| r.0).collect(), Some(next)));
    }
    let rows = ledger_money_rows(db, shop, p, cursor.ledger_after).await?;
    let next = (rows.len() as i64 == PAGE).then(|| MoneyCursor {
        ledger_after: rows.last().map(|r| r.1).unwrap_or(0),
        ..cursor
    });
    Ok((rows.into_iter().map(|r| r.0).collect(), next))
}

async fn payment_rows(
    db: &Db,
    shop: ShopId,
    cal: &Calendar,
    p: &Period,
    after: i64,
) -> Result<Vec<(MoneyRow, i64)>> {
    let sql = format!(
        "select p.id, coalesce(p.decided_at, p.created_at) as at, o.code, c.display_name, p.method, p.status, \
         p.amount, p.difference, p.slip_bank, p.slip_ref, p.decided_by, p.resolved_at, p.resolution \
         from payments p join orders o on o.id = p.order_id join customers c on c.id = o.customer_id \
         where p.shop_id = $1 and p.status in ('confirmed', 'difference', 'refund_due') and {} \
         and p.id > $4 order by p.id limit $5",
        in_period("coalesce(p.decided_at, p.created_at)")
    );
    let rows = scoped(&sql, shop, p)
        .bind(after)
        .bind(PAGE)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = col(r, "id")?;
            let bank = [text(r, "slip_bank")?, text(r, "slip_ref")?]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let resolved = match col::<Option<i64>>(r, "resolved_at")? {
                Some(at) => format!("{} {}", cal.sortable(Timestamp(at)), text(r, "resolution")?)
                    .trim()
                    .to_string(),
                None => String::new(),
            };
            let row = MoneyRow {
                reference: format!("payment:{id}"),
                at: Timestamp(col(r, "at")?),
                order_code: col(r, "code")?,
                customer: col(r, "display_name")?,
                method: col(r, "method")?,
                kind: col(r, "status")?,
                amount: col(r, "amount")?,
                difference: col(r, "difference")?,
                bank_reference: bank,
                by: text(r, "decided_by")?,
                resolved,
            };
            Ok((row, id))
        })
        .collect()
}

/// Balance entries that moved an order's money: a spend adds to what the
/// order holds, a refund or a credited excess takes from it.
async fn ledger_money_rows(
    db: &Db,
    shop: ShopId,
    p: &Period,
    after: i64,
) -> Result<Vec<(MoneyRow, i64)>> {
    let sql = format!(
        "select l.id, l.created_at, o.code, c.display_name, l.kind, l.amount, l.actor from balance_ledger l \
         join orders o on o.id = l.order_id join customers c on c.id = l.customer_id \
         where l.shop_id = $1 and l.kind in ('pay_order', 'refund', 'credit') and {} \
         and l.id > $4 order by l.id limit $5",
        in_period("l.created_at")
    );
    let rows = scoped(&sql, shop, p)
        .bind(after)
        .bind(PAGE)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = col(r, "id")?;
            let amount: i64 = col(r, "amount")?;
            let row = MoneyRow {
                reference: format!("ledger:{id}"),
                at: Timestamp(col(r, "created_at")?),
                order_code: col(r, "code")?,
                customer: col(r, "display_name")?,
                method: "balance".into(),
                kind: col(r, "kind")?,
                amount: -amount,
                difference: 0,
                bank_reference: String::new(),
                by: col(r, "actor")?,
                resolved: String::new(),
            };
            Ok((row, id))
        })
        .collect()
}

/// Balance entries made in the period with an id above `after`, by id.
pub async fn balances_page(
    db: &Db,
    shop: ShopId,
    p: &Period,
    after: i64,
) -> Result<Vec<BalanceRow>> {
    let sql = format!(
        "select l.id, l.created_at, c.display_name, l.kind, l.amount, l.balance_after, o.code, l.note, l.actor \
         from balance_ledger l join customers c on c.id = l.customer_id left join orders o on o.id = l.order_id \
         where l.shop_id = $1 and {} and l.id > $4 order by l.id limit $5",
        in_period("l.created_at")
    );
    let rows = scoped(&sql, shop, p)
        .bind(after)
        .bind(PAGE)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(BalanceRow {
                id: col(r, "id")?,
                at: Timestamp(col(r, "created_at")?),
                customer: col(r, "display_name")?,
                kind: col(r, "kind")?,
                amount: col(r, "amount")?,
                balance_after: col(r, "balance_after")?,
                order_code: text(r, "code")?,
                note: text(r, "note")?,
                by: col(r, "actor")?,
            })
        })
        .collect()
}
