//! One send budget per Page, shared by every instance: each read-modify-
//! write is a compare and swap on the Page's row, so two instances never
//! spend the same calls. The arithmetic is `domain::send_budget`.

use super::{Db, Result, StoreError, col};
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
    get_from(&db.pool, page_key).await
}

async fn get_from(pool: &sqlx::AnyPool, page_key: &str) -> Result<Option<Bucket>> {
    let row = sqlx::query(
        "select milli_calls, refilled_at, paused_until, last_pause_ms, throttled_rate from send_budgets where page_key = $1",
    )
    .bind(page_key)
    .fetch_optional(pool)
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

/// Read, decide, then write only if nobody wrote in between (compare and
/// swap on the whole row); on a lost race, read again. Two statements, no
/// transaction: this runs once per dispatcher pass, and a transaction there
/// would be one more commit on SQLite's single writer.
async fn update<T>(
    db: &Db,
    page_key: &str,
    now: Timestamp,
    rate: SendRate,
    change: impl Fn(Bucket) -> (Bucket, T),
) -> Result<T> {
    for _ in 0..50 {
        let Some(before) = get_from(&db.pool, page_key).await? else {
            // The first send to a Page starts from a full bucket.
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
            .execute(&db.writer)
            .await?;
            continue;
        };
        let (after, out) = change(before);
        if after == before {
            return Ok(out);
        }
        let swapped = sqlx::query(
            "update send_budgets set milli_calls = $1, refilled_at = $2, paused_until = $3, last_pause_ms = $4, throttled_rate = $5 \
             where page_key = $6 and milli_calls = $7 and refilled_at = $8 and paused_until = $9 and last_pause_ms = $10 and throttled_rate = $11",
        )
        .bind(after.milli_calls)
        .bind(after.refilled_at.millis())
        .bind(after.paused_until.millis())
        .bind(after.last_pause_ms)
        .bind(after.throttled_rate)
        .bind(page_key)
        .bind(before.milli_calls)
        .bind(before.refilled_at.millis())
        .bind(before.paused_until.millis())
        .bind(before.last_pause_ms)
        .bind(before.throttled_rate)
        .execute(&db.writer)
        .await?
        .rows_affected();
        if swapped == 1 {
            return Ok(out);
        }
    }
    Err(StoreError::Stale)
}
