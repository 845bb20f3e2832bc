//! Claims on orders: filed from chat (words and photos), handled by the
//! seller, each move one history row. Photos are downloaded into the media
//! folder by the slip worker; until then a photo is `fetching`.

use super::{Db, Result, StoreError, Tx, col, parse_enum};
use crate::domain::claim::{ClaimMove, ClaimOutcome, ClaimReason, ClaimStatus};
use crate::domain::{CustomerId, OrderId, ShopId, Timestamp};

/// Words or a photo for the claim one chat filing makes.
pub struct FileClaim<'a> {
    pub shop: ShopId,
    pub order: OrderId,
    pub customer: CustomerId,
    /// Names the filing: the first item opens the claim, the rest join it.
    pub filing: &'a str,
    pub reason: ClaimReason,
    pub text: Option<&'a str>,
    pub image: Option<&'a str>,
}

/// Adds to the filing's claim, opening it first; returns the claim's id
/// and whether this call opened it.
pub async fn file(tx: &mut Tx, f: &FileClaim<'_>, now: Timestamp) -> Result<(i64, bool)> {
    let opened = sqlx::query(
        "insert into claims (shop_id, order_id, customer_id, filing_key, reason, body, status, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, '', 'open', $6, $6) on conflict (shop_id, filing_key) do nothing",
    )
    .bind(f.shop.get())
    .bind(f.order.get())
    .bind(f.customer.get())
    .bind(f.filing)
    .bind(f.reason.as_str())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    let row = sqlx::query("select id from claims where shop_id = $1 and filing_key = $2")
        .bind(f.shop.get())
        .bind(f.filing)
        .fetch_one(&mut **tx)
        .await?;
    let id: i64 = col(&row, "id")?;
    if opened {
        history(tx, id, None, ClaimStatus::Open, "customer", None, now).await?;
    }
    if let Some(text) = f.text.map(str::trim).filter(|t| !t.is_empty()) {
        sqlx::query(
            "update claims set body = case when body = '' then $1 else body || $4 || $1 end, updated_at = $2 where id = $3",
        )
        .bind(text)
        .bind(now.millis())
        .bind(id)
        .bind("\n")
        .execute(&mut **tx)
        .await?;
    }
    if let Some(source) = f.image {
        sqlx::query(
            "insert into claim_photos (claim_id, shop_id, source, status, created_at) values ($1, $2, $3, 'fetching', $4)",
        )
        .bind(id)
        .bind(f.shop.get())
        .bind(source)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    }
    Ok((id, opened))
}

async fn history(
    tx: &mut Tx,
    claim: i64,
    from: Option<ClaimStatus>,
    to: ClaimStatus,
    actor: &str,
    note: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "insert into claim_history (claim_id, from_status, to_status, actor, note, at) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(claim)
    .bind(from.map(ClaimStatus::as_str))
    .bind(to.as_str())
    .bind(actor)
    .bind(note)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether a claim keeps this picture (`upload:<name>`).
pub async fn references_picture(db: &Db, reference: &str) -> Result<bool> {
    let row = sqlx::query("select 1 as one from claim_photos where source = $1 limit 1")
        .bind(reference)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

/// One claim as lists and pages show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Claim {
    pub id: i64,
    pub order_id: OrderId,
    pub order_code: String,
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub reason: ClaimReason,
    pub body: String,
    pub status: ClaimStatus,
    pub outcome: Option<ClaimOutcome>,
    pub outcome_note: Option<String>,
    pub refund_amount: Option<i64>,
    pub photos: i64,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const CLAIM_COLUMNS: &str = "k.id, k.order_id, o.code, k.customer_id, c.display_name, k.reason, k.body, k.status, \
     k.outcome, k.outcome_note, k.refund_amount, k.version, k.created_at, k.updated_at, \
     (select count(*) from claim_photos p where p.claim_id = k.id) as photos \
     from claims k join orders o on o.id = k.order_id join customers c on c.id = k.customer_id";

fn claim_of(r: &sqlx::any::AnyRow) -> Result<Claim> {
    let reason: String = col(r, "reason")?;
    let status: String = col(r, "status")?;
    let outcome: Option<String> = col(r, "outcome")?;
    Ok(Claim {
        id: col(r, "id")?,
        order_id: OrderId(col(r, "order_id")?),
        order_code: col(r, "code")?,
        customer_id: CustomerId(col(r, "customer_id")?),
        customer_name: col(r, "display_name")?,
        reason: parse_enum(&reason, ClaimReason::parse, "claim reason")?,
        body: col(r, "body")?,
        status: parse_enum(&status, ClaimStatus::parse, "claim status")?,
        outcome: outcome
            .map(|o| parse_enum(&o, ClaimOutcome::parse, "claim outcome"))
            .transpose()?,
        outcome_note: col(r, "outcome_note")?,
        refund_amount: col(r, "refund_amount")?,
        photos: col(r, "photos")?,
        version: col(r, "version")?,
        created_at: Timestamp(col(r, "created_at")?),
        updated_at: Timestamp(col(r, "updated_at")?),
    })
}

/// A shop's claims in one status (or all), newest first, a page of them
/// before the id `before`.
pub async fn list(
    db: &Db,
    shop: ShopId,
    status: Option<ClaimStatus>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Claim>> {
    let sql = format!(
        "select {CLAIM_COLUMNS} where k.shop_id = $1 and ($2 = '' or k.status = $2) and k.id < $3 \
         order by k.id desc limit $4"
    );
    let rows = sqlx::query(&sql)
        .bind(shop.get())
        .bind(status.map(ClaimStatus::as_str).unwrap_or(""))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(claim_of).collect()
}

/// How many claims the shop has in each status.
pub async fn counts(db: &Db, shop: ShopId) -> Result<Vec<(ClaimStatus, i64)>> {
    let rows =
        sqlx::query("select status, count(*) as n from claims where shop_id = $1 group by status")
            .bind(shop.get())
            .fetch_all(&db.pool)
            .await?;
    let mut out: Vec<(ClaimStatus, i64)> = ClaimStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for r in &rows {
        let status: String = col(r, "status")?;
        let s = parse_enum(&status, ClaimStatus::parse, "claim status")?;
        if let Some(slot) = out.iter_mut().find(|(k, _)| *k == s) {
            slot.1 = col(r, "n")?;
        }
    }
    Ok(out)
}

pub async fn for_order(db: &Db, shop: ShopId, order: OrderId) -> Result<Vec<Claim>> {
    let sql =
        format!("select {CLAIM_COLUMNS} where k.shop_id = $1 and k.order_id = $2 order by k.id");
    let rows = sqlx::query(&sql)
        .bind(shop.get())
        .bind(order.get())
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(claim_of).collect()
}

pub async fn get(db: &Db, shop: ShopId, id: i64) -> Result<Claim> {
    let sql = format!("select {CLAIM_COLUMNS} where k.shop_id = $1 and k.id = $2");
    let row = sqlx::query(&sql)
        .bind(shop.get())
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    claim_of(&row)
}

/// The claim as the transaction that moves it reads it.
pub async fn get_in(tx: &mut Tx, shop: ShopId, id: i64) -> Result<Claim> {
    let sql = format!("select {CLAIM_COLUMNS} where k.shop_id = $1 and k.id = $2");
    let row = sqlx::query(&sql)
        .bind(shop.get())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    claim_of(&row)
}

/// Writes a move decided on `claim` as read; a claim moved meanwhile
/// makes the transaction run again from a fresh read.
pub async fn write_move(
    tx: &mut Tx,
    claim: &Claim,
    m: &ClaimMove,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let n = sqlx::query(
        "update claims set status = $1, outcome = $2, outcome_note = $3, refund_amount = $4, \
         version = version + 1, updated_at = $5 where id = $6 and version = $7",
    )
    .bind(m.to.as_str())
    .bind(m.outcome.map(ClaimOutcome::as_str))
    .bind(m.note.as_deref())
    .bind(m.refund)
    .bind(now.millis())
    .bind(claim.id)
    .bind(claim.version)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Stale);
    }
    let note = match (m.outcome, &m.note) {
        (Some(o), Some(n)) => Some(format!("{o}: {n}")),
        (Some(o), None) => Some(o.to_string()),
        (None, n) => n.clone(),
    };
    history(
        tx,
        claim.id,
        Some(m.from),
        m.to,
        actor,
        note.as_deref(),
        now,
    )
    .await
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Photo {
    pub id: i64,
    /// The stored picture, once downloaded.
    pub sha256: Option<String>,
    /// `fetching`, `stored` or `failed`.
    pub status: String,
    pub problem: Option<String>,
    pub created_at: Timestamp,
}

pub async fn photos(db: &Db, claim: i64) -> Result<Vec<Photo>> {
    let rows = sqlx::query(
        "select id, sha256, status, problem, created_at from claim_photos where claim_id = $1 order by id",
    )
    .bind(claim)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Photo {
                id: col(r, "id")?,
                sha256: col(r, "sha256")?,
                status: col(r, "status")?,
                problem: col(r, "problem")?,
                created_at: Timestamp(col(r, "created_at")?),
            })
        })
        .collect()
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct HistoryRow {
    pub from: Option<String>,
    pub to: String,
    pub actor: String,
    pub note: Option<String>,
    pub at: Timestamp,
}

pub async fn history_of(db: &Db, claim: i64) -> Result<Vec<HistoryRow>> {
    let rows = sqlx::query(
        "select from_status, to_status, actor, note, at from claim_history where claim_id = $1 order by id",
    )
    .bind(claim)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryRow {
                from: col(r, "from_status")?,
                to: col(r, "to_status")?,
                actor: col(r, "actor")?,
                note: col(r, "note")?,
                at: Timestamp(col(r, "at")?),
            })
        })
        .collect()
}

/// A photo leased to the worker that downloads it.
pub struct PhotoJob {
    pub id: i64,
    pub shop_id: ShopId,
    pub source: String,
    pub attempts: i64,
}

/// Leases the next photo to download, if one is due.
pub async fn next_photo(db: &Db, now: Timestamp, lease_ms: i64) -> Result<Option<PhotoJob>> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(&format!(
        "select id, shop_id, source, attempts from claim_photos \
         where status = 'fetching' and lease_until <= $1 order by id limit 1{}",
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
    let n = sqlx::query(
        "update claim_photos set lease_until = $1, attempts = attempts + 1 \
         where id = $2 and status = 'fetching' and lease_until <= $3",
    )
    .bind(now.millis() + lease_ms)
    .bind(id)
    .bind(now.millis())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if n != 1 {
        return Ok(None);
    }
    Ok(Some(PhotoJob {
        id,
        shop_id: ShopId(col(&row, "shop_id")?),
        source: col(&row, "source")?,
        attempts: col::<i64>(&row, "attempts")? + 1,
    }))
}

/// The photo is in the media folder, or could not be used (`problem`).
pub async fn photo_done(
    db: &Db,
    id: i64,
    sha256: Option<&str>,
    problem: Option<&str>,
) -> Result<()> {
    let status = if sha256.is_some() { "stored" } else { "failed" };
    sqlx::query(
        "update claim_photos set status = $1, sha256 = $2, problem = $3 where id = $4 and status = 'fetching'",
    )
    .bind(status)
    .bind(sha256)
    .bind(problem)
    .bind(id)
    .execute(&db.writer)
    .await?;
    Ok(())
}

pub async fn photo_retry_at(db: &Db, id: i64, at: Timestamp) -> Result<()> {
    sqlx::query("update claim_photos set lease_until = $1 where id = $2 and status = 'fetching'")
        .bind(at.millis())
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}
