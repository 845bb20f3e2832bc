//! One send budget per Page, shared by every instance: each read-modify-
//! write runs in one transaction under the row's lock (PostgreSQL) or the
//! single writer (SQLite). The arithmetic is `domain::send_budget`.

use super::{Db, Result, col};
use crate::domain::Timestamp;
use crate::domain::send_budget::{Bucket, Grant, SendRate};

/// The key Meta's limit applies to: the channel and the Page's id.
pub fn page_key(channel: &str, page_id: &str) -> String {
    format!("{channel}:{page_id}")
}

/// Asks for the queued messages of one Page, in queue order; see
/// [`Bucket::take`].
pub async fn take(
    db: &Db,
    page_key: &str,
    now: Timestamp,
    rate: SendRate,
    calls: &[u32],
) -> Result<Grant> {
    update(db, page_key, now, rate, |b| b.take(now, rate, calls)).await
}

/// Meta answered a rate limit: pause the Page for every instance. Returns
/// when sending may resume.
pub async fn pause(
    db: &Db,
    page_key: &str,
    now: Timestamp,
    rate: SendRate,
    suggested_ms: Option<i64>,
) -> Result<Timestamp> {
    update(db, page_key, now, rate, |b| {
        let paused = b.pause(now, rate, suggested_ms);
        (paused, paused.paused_until)
    })
    .await
}

/// The bucket as stored, if the Page has sent anything yet.
pub async fn get(db: &Db, page_key: &str) -> Result<Option<Bucket>> {
    let row = sqlx::query(
        "select milli_calls, refilled_at, paused_until, last_pause_ms, throttled_rate from send_budgets where page_key = $1",
    )
    .bind(page_key)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(bucket_from_row).transpose()
}

fn bucket_from_row(r: &sqlx::any::AnyRow) -> Result<Bucket> {
    Ok(Bucket {
        milli_calls: col(r, "milli_calls")?,
        refilled_at: Timestamp(col(r, "refilled_at")?),
        paused_until: Timestamp(col(r, "paused_until")?),
        last_pause_ms: col(r, "last_pause_ms")?,
        throttled_rate: col(r, "throttled_rate")?,
    })
}

async fn update<T>(
    db: &Db,
    page_key: &str,
    now: Timestamp,
    rate: SendRate,
    change: impl FnOnce(Bucket) -> (Bucket, T),
) -> Result<T> {
    let mut tx = db.begin().await?;
    // The first send to a Page starts from a full bucket; inserting it first
    // gives the lock below a row to hold, so two instances cannot both start
    // from full.
    let full = Bucket::full(rate, now);
    sqlx::query(
        "insert into send_budgets (page_key, milli_calls, refilled_at, paused_until, last_pause_ms, throttled_rate) \
         values ($1, $2, $3, $4, $5, $6) on conflict (page_key) do nothing",
    )
    .bind(page_key)
    .bind(full.milli_calls)
    .bind(full.refilled_at.millis())
    .bind(full.paused_until.millis())
    .bind(full.last_pause_ms)
    .bind(full.throttled_rate)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(&format!(
        "select milli_calls, refilled_at, paused_until, last_pause_ms, throttled_rate from send_budgets where page_key = $1{}",
        db.lock_clause()
    ))
    .bind(page_key)
    .fetch_one(&mut *tx)
    .await?;
    let before = bucket_from_row(&row)?;
    let (after, out) = change(before);
    if after != before {
        sqlx::query(
            "update send_budgets set milli_calls = $1, refilled_at = $2, paused_until = $3, last_pause_ms = $4, throttled_rate = $5 \
             where page_key = $6",
        )
        .bind(after.milli_calls)
        .bind(after.refilled_at.millis())
        .bind(after.paused_until.millis())
        .bind(after.last_pause_ms)
        .bind(after.throttled_rate)
        .bind(page_key)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(out)
}
