//! Payments: the slip a customer sent (or a web-chat upload), its
//! pre-checks, and the seller's confirm / reject — each decision one
//! transaction with the order change and the customer's push.
//!
//! Status: `fetching` (waiting for the slip worker) → `pending` (clean) or
//! `flagged` (re-used / unreadable slip: the seller must look) or `failed`
//! (not a usable picture; the order did not change) → `confirmed` /
//! `rejected` by the seller.
//!
//! While a row is `fetching`, `decided_at` holds the worker's lease (the
//! instant until which a claimed row is left alone) and `prechecks` counts
//! the claims (`{"attempts": n}`); both are overwritten when the row is
//! decided. (Dedicated `lease_until` / `attempts` columns would be cleaner;
//! see the slips module notes.)

use super::{Db, Result, StoreError, Tx, col};
use crate::domain::lifecycle::Actor;
use crate::domain::order::PaymentRecord;
use crate::domain::{CustomerId, OrderId, ShopId, Timestamp};

/// A payment as the seller's API and console show it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PaymentView {
    pub id: i64,
    pub order_id: OrderId,
    pub method: String,
    pub amount: i64,
    pub status: String,
    /// For a COD remittance: collected − owed (0 when it matched).
    pub difference: i64,
    /// True when the slip needs the seller's eyes (re-used, duplicate,
    /// unreadable or missing verification QR).
    pub flagged: bool,
    pub sha256: Option<String>,
    /// Media ids for `slips::media::open(config, id, kind)`.
    pub original_media: Option<String>,
    pub thumbnail_media: Option<String>,
    pub slip_bank: Option<String>,
    pub slip_ref: Option<String>,
    pub phash: Option<String>,
    pub prechecks: serde_json::Value,
    pub reject_reason: Option<String>,
    /// Host of the attachment URL (never the signed URL itself).
    pub source_host: Option<String>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    /// A `difference` or `refund_due` the seller has dealt with: when, who,
    /// and their note.
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

const COLUMNS: &str = "id, order_id, method, amount, status, difference, slip_sha256, slip_path, thumb_path, \
    slip_bank, slip_ref, slip_phash, prechecks, reject_reason, source_url, created_at, decided_at, decided_by, \
    resolved_at, resolved_by, resolution";

fn view(row: &sqlx::any::AnyRow) -> Result<PaymentView> {
    let status: String = col(row, "status")?;
    let prechecks_raw: String = col(row, "prechecks")?;
    let prechecks: serde_json::Value =
        serde_json::from_str(&prechecks_raw).unwrap_or(serde_json::Value::Null);
    let sha: Option<String> = col(row, "slip_sha256")?;
    let slip_path: Option<String> = col(row, "slip_path")?;
    let thumb_path: Option<String> = col(row, "thumb_path")?;
    let source: Option<String> = col(row, "source_url")?;
    let fetching = status == "fetching";
    let decided_at: Option<i64> = col(row, "decided_at")?;
    Ok(PaymentView {
        id: col(row, "id")?,
        order_id: OrderId(col(row, "order_id")?),
        method: col(row, "method")?,
        amount: col(row, "amount")?,
        difference: col(row, "difference")?,
        flagged: status == "flagged",
        original_media: slip_path.and(sha.clone()),
        thumbnail_media: thumb_path.and(sha.clone()),
        sha256: sha,
        slip_bank: col(row, "slip_bank")?,
        slip_ref: col(row, "slip_ref")?,
        phash: col(row, "slip_phash")?,
        prechecks: if fetching {
            serde_json::json!({})
        } else {
            prechecks
        },
        reject_reason: col(row, "reject_reason")?,
        source_host: source.map(|u| crate::slips::fetch::host_of(&u)),
        created_at: Timestamp(col(row, "created_at")?),
        decided_at: if fetching {
            None
        } else {
            decided_at.map(Timestamp)
        },
        decided_by: col(row, "decided_by")?,
        resolved_at: col::<Option<i64>>(row, "resolved_at")?.map(Timestamp),
        resolved_by: col(row, "resolved_by")?,
        resolution: col(row, "resolution")?,
        status,
    })
}

pub async fn list_for_order(db: &Db, shop: ShopId, order: OrderId) -> Result<Vec<PaymentView>> {
    let rows = sqlx::query(&format!(
        "select {COLUMNS} from payments where shop_id = $1 and order_id = $2 order by id"
    ))
    .bind(shop.get())
    .bind(order.get())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(view).collect()
}

pub async fn get(db: &Db, shop: ShopId, payment_id: i64) -> Result<PaymentView> {
    let row = sqlx::query(&format!(
        "select {COLUMNS} from payments where shop_id = $1 and id = $2"
    ))
    .bind(shop.get())
    .bind(payment_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    view(&row)
}

/// Payments waiting for a decision, oldest first (flagged ones included).
pub async fn list_to_review(db: &Db, shop: ShopId, limit: i64) -> Result<Vec<PaymentView>> {
    let rows = sqlx::query(&format!(
        "select {COLUMNS} from payments where shop_id = $1 and status in ('pending', 'flagged') order by created_at, id limit $2"
    ))
    .bind(shop.get())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(view).collect()
}

/// A new row for the slip worker. The order must be this customer's, in
/// this shop: `NotFound` otherwise, checked by the insert itself.
pub async fn insert_fetching(
    tx: &mut Tx,
    shop: ShopId,
    order: OrderId,
    customer: CustomerId,
    source_url: Option<&str>,
    now: Timestamp,
) -> Result<i64> {
    let row = sqlx::query(
        "insert into payments (shop_id, order_id, method, amount, status, prechecks, source_url, created_at) \
         select shop_id, id, 'bank_transfer', 0, 'fetching', '{}', $1, $2 from orders \
         where id = $3 and shop_id = $4 and customer_id = $5 returning id",
    )
    .bind(source_url)
    .bind(now.millis())
    .bind(order.get())
    .bind(shop.get())
    .bind(customer.get())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    col(&row, "id")
}

/// A payment row a decision adds: a manual confirmation, a COD remittance
/// (with its difference), or a refund the seller owes (negative).
pub async fn insert_record(
    tx: &mut Tx,
    shop: ShopId,
    order: OrderId,
    r: &PaymentRecord,
    actor: &Actor,
    now: Timestamp,
) -> Result<i64> {
    let row = sqlx::query(
        "insert into payments (shop_id, order_id, method, amount, status, difference, prechecks, created_at, decided_at, decided_by) \
         values ($1, $2, $3, $4, $5, $6, '{}', $7, $7, $8) returning id",
    )
    .bind(shop.get())
    .bind(order.get())
    .bind(r.method.as_str())
    .bind(r.amount)
    .bind(r.status.as_str())
    .bind(r.difference)
    .bind(now.millis())
    .bind(actor.to_db())
    .fetch_one(&mut **tx)
    .await?;
    col(&row, "id")
}

/// A claimed `fetching` row.
#[derive(Clone, Debug)]
pub struct Claim {
    pub id: i64,
    pub shop_id: ShopId,
    pub order_id: OrderId,
    pub source_url: Option<String>,
    /// Claims so far, this one included.
    pub attempts: i64,
}

/// Claims the oldest `fetching` row whose lease has lapsed, for `lease_ms`.
/// Safe across instances: `for update skip locked` on PostgreSQL, the
/// single writer on SQLite, and the conditional update either way.
pub async fn claim_next(db: &Db, now: Timestamp, lease_ms: i64) -> Result<Option<Claim>> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(&format!(
        "select id, shop_id, order_id, source_url, prechecks from payments \
         where status = 'fetching' and (decided_at is null or decided_at <= $1) \
         order by id limit 1{}",
        db.skip_locked_clause()
    ))
    .bind(now.millis())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let id: i64 = col(&row, "id")?;
    let prechecks: String = col(&row, "prechecks")?;
    let attempts = serde_json::from_str::<serde_json::Value>(&prechecks)
        .ok()
        .and_then(|v| v.get("attempts").and_then(|a| a.as_i64()))
        .unwrap_or(0)
        + 1;
    let n = sqlx::query(
        "update payments set decided_at = $1, prechecks = $2 \
         where id = $3 and status = 'fetching' and (decided_at is null or decided_at <= $4)",
    )
    .bind(now.millis() + lease_ms)
    .bind(serde_json::json!({ "attempts": attempts }).to_string())
    .bind(id)
    .bind(now.millis())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if n != 1 {
        return Ok(None);
    }
    Ok(Some(Claim {
        id,
        shop_id: ShopId(col(&row, "shop_id")?),
        order_id: OrderId(col(&row, "order_id")?),
        source_url: col(&row, "source_url")?,
        attempts,
    }))
}

/// Gives a claimed row back, to be retried from `retry_at`.
pub async fn release(db: &Db, id: i64, retry_at: Timestamp) -> Result<()> {
    sqlx::query("update payments set decided_at = $1 where id = $2 and status = 'fetching'")
        .bind(retry_at.millis())
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Another payment of the shop, as pre-checks name it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PaymentRef {
    pub payment_id: i64,
    pub order_id: OrderId,
    pub order_code: String,
    pub status: String,
}

fn payment_ref(row: &sqlx::any::AnyRow) -> Result<PaymentRef> {
    Ok(PaymentRef {
        payment_id: col(row, "id")?,
        order_id: OrderId(col(row, "order_id")?),
        order_code: col(row, "code")?,
        status: col(row, "status")?,
    })
}

/// Other payments of the shop with the same bytes.
pub async fn same_sha256(
    tx: &mut Tx,
    shop: ShopId,
    sha256: &str,
    except: i64,
) -> Result<Vec<PaymentRef>> {
    let rows = sqlx::query(
        "select p.id, p.order_id, o.code, p.status from payments p join orders o on o.id = p.order_id \
         where p.shop_id = $1 and p.slip_sha256 = $2 and p.id <> $3 order by p.id limit 20",
    )
    .bind(shop.get())
    .bind(sha256)
    .bind(except)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(payment_ref).collect()
}

/// The payment that already holds this (bank, transaction reference).
pub async fn holding_slip_ref(
    tx: &mut Tx,
    shop: ShopId,
    bank: &str,
    trans_ref: &str,
    except: i64,
) -> Result<Option<PaymentRef>> {
    let row = sqlx::query(
        "select p.id, p.order_id, o.code, p.status from payments p join orders o on o.id = p.order_id \
         where p.shop_id = $1 and p.slip_bank = $2 and p.slip_ref = $3 and p.id <> $4",
    )
    .bind(shop.get())
    .bind(bank)
    .bind(trans_ref)
    .bind(except)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(payment_ref).transpose()
}

/// Recent perceptual hashes of the shop's other slips (for the hint).
pub async fn recent_hashes(
    db: &Db,
    shop: ShopId,
    except: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    // Two narrow columns: this runs for every slip against up to `limit`
    // others, and only the few closest are looked up in full.
    let rows = sqlx::query(
        "select id, slip_phash from payments where shop_id = $1 and id <> $2 and slip_phash is not null order by id desc limit $3",
    )
    .bind(shop.get())
    .bind(except)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((col(r, "id")?, col::<String>(r, "slip_phash")?)))
        .collect()
}

/// The payments behind these ids, in the order given.
pub async fn refs(tx: &mut Tx, shop: ShopId, ids: &[i64]) -> Result<Vec<PaymentRef>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = super::backend_of(tx);
    let sql = format!(
        "select p.id, p.order_id, o.code, p.status from payments p join orders o on o.id = p.order_id \
         where p.shop_id = {} and p.id in ({})",
        super::placeholders(backend, 0, 1, 1),
        super::placeholders(backend, 1, ids.len(), 1)
    );
    let mut q = sqlx::query(&sql).bind(shop.get());
    for id in ids {
        q = q.bind(*id);
    }
    let found: Vec<PaymentRef> = q
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(payment_ref)
        .collect::<Result<_>>()?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|r| r.payment_id == *id).cloned())
        .collect())
}

/// What the analysis wrote on a payment.
#[derive(Clone, Debug)]
pub struct SlipRecord<'a> {
    pub status: &'a str,
    pub sha256: &'a str,
    pub slip_path: &'a str,
    pub thumb_path: &'a str,
    /// Only when this payment holds the reference (not for a re-use).
    pub slip_bank: Option<&'a str>,
    pub slip_ref: Option<&'a str>,
    pub phash: &'a str,
    pub prechecks: &'a serde_json::Value,
}

pub async fn record_slip(tx: &mut Tx, shop: ShopId, id: i64, r: &SlipRecord<'_>) -> Result<()> {
    let n = sqlx::query(
        "update payments set status = $1, slip_sha256 = $2, slip_path = $3, thumb_path = $4, slip_bank = $5, \
         slip_ref = $6, slip_phash = $7, prechecks = $8, decided_at = null \
         where id = $9 and shop_id = $10 and status = 'fetching'",
    )
    .bind(r.status)
    .bind(r.sha256)
    .bind(r.slip_path)
    .bind(r.thumb_path)
    .bind(r.slip_bank)
    .bind(r.slip_ref)
    .bind(r.phash)
    .bind(r.prechecks.to_string())
    .bind(id)
    .bind(shop.get())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale)
    }
}

/// A picture that cannot be used: the payment fails, the order is untouched.
pub async fn record_failure(
    tx: &mut Tx,
    shop: ShopId,
    id: i64,
    problem: &str,
    prechecks: &serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    let n = sqlx::query(
        "update payments set status = 'failed', reject_reason = $1, prechecks = $2, decided_at = $3, decided_by = 'system' \
         where id = $4 and shop_id = $5 and status = 'fetching'",
    )
    .bind(problem)
    .bind(prechecks.to_string())
    .bind(now.millis())
    .bind(id)
    .bind(shop.get())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale)
    }
}

/// The payment's order and status, its row locked until the transaction ends.
pub async fn lock(tx: &mut Tx, shop: ShopId, id: i64) -> Result<(OrderId, String)> {
    let lock = super::lock_clause(super::backend_of(tx));
    let row = sqlx::query(&format!(
        "select order_id, status from payments where id = $1 and shop_id = $2{lock}"
    ))
    .bind(id)
    .bind(shop.get())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok((OrderId(col(&row, "order_id")?), col(&row, "status")?))
}

/// Marks a slip rejected (or confirmed, with the amount the order took)
/// by a seller's decision.
pub async fn set_decision(
    tx: &mut Tx,
    shop: ShopId,
    id: i64,
    decision: &SlipDecision<'_>,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    let (status, amount, reason) = match decision {
        SlipDecision::Confirmed { amount } => ("confirmed", *amount, None),
        SlipDecision::Rejected { reason } => ("rejected", 0, Some(*reason)),
    };
    sqlx::query(
        "update payments set status = $1, amount = case when $2 > 0 then $2 else amount end, \
         reject_reason = coalesce($3, reject_reason), decided_at = $4, decided_by = $5 \
         where id = $6 and shop_id = $7",
    )
    .bind(status)
    .bind(amount)
    .bind(reason)
    .bind(now.millis())
    .bind(actor.to_db())
    .bind(id)
    .bind(shop.get())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub enum SlipDecision<'a> {
    Confirmed { amount: i64 },
    Rejected { reason: &'a str },
}

/// A payment of `order` as a resolution needs it, locked; `None` when the
/// order has no such payment.
pub async fn open_row(
    tx: &mut Tx,
    shop: ShopId,
    order: OrderId,
    id: i64,
) -> Result<Option<crate::domain::order::OpenPayment>> {
    let lock = super::lock_clause(super::backend_of(tx));
    let row = sqlx::query(&format!(
        "select status, amount, difference, resolved_at from payments \
         where id = $1 and shop_id = $2 and order_id = $3{lock}"
    ))
    .bind(id)
    .bind(shop.get())
    .bind(order.get())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(crate::domain::order::OpenPayment {
            status: col(&r, "status")?,
            amount: col(&r, "amount")?,
            difference: col(&r, "difference")?,
            resolved: col::<Option<i64>>(&r, "resolved_at")?.is_some(),
        })
    })
    .transpose()
}

/// Records the seller's resolution of a COD difference or a refund due.
/// Only an unresolved row is touched: a concurrent resolution makes this
/// `Stale`, and the retry finds it resolved.
pub async fn resolve(
    tx: &mut Tx,
    shop: ShopId,
    id: i64,
    note: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    let n = sqlx::query(
        "update payments set resolved_at = $1, resolved_by = $2, resolution = $3 \
         where id = $4 and shop_id = $5 and resolved_at is null and status in ('difference', 'refund_due')",
    )
    .bind(now.millis())
    .bind(actor.to_db())
    .bind(note)
    .bind(id)
    .bind(shop.get())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale)
    }
}
