//! How much queued work there is: for `/metrics` and for draining.

use super::{Db, Result, col};
use crate::domain::Timestamp;

/// Inbound events, outbound messages and slip downloads that are due now
/// (a retry scheduled for later is not).
pub async fn due_now(db: &Db, now: Timestamp) -> Result<i64> {
    let row = sqlx::query(
        "select (select count(*) from inbox_events where status = 'pending') \
         + (select count(*) from outbox_messages where status = 'pending' and next_attempt_at <= $1) \
         + (select count(*) from payments where status = 'fetching' and (decided_at is null or decided_at <= $1)) \
         + (select count(*) from customers where profile_due_at is not null and profile_due_at <= $1 and channel = 'messenger') as n",
    )
    .bind(now.millis())
    .fetch_one(&db.pool)
    .await?;
    col(&row, "n")
}

/// The gauges `/metrics` shows: name, help, value.
pub async fn gauges(db: &Db) -> Result<Vec<(&'static str, &'static str, i64)>> {
    let row = sqlx::query(
        "select (select count(*) from inbox_events where status = 'pending') as inbox_pending, \
         (select count(*) from outbox_messages where status = 'pending') as outbox_pending, \
         (select count(*) from outbox_messages where status = 'held') as outbox_held, \
         (select count(*) from outbox_messages where status = 'failed') as outbox_failed",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok(vec![
        (
            "inbox_pending",
            "Inbound events not yet processed.",
            col(&row, "inbox_pending")?,
        ),
        (
            "outbox_pending",
            "Outbound messages waiting to be sent.",
            col(&row, "outbox_pending")?,
        ),
        (
            "outbox_held",
            "Pushes held until the customer writes again.",
            col(&row, "outbox_held")?,
        ),
        (
            "outbox_failed",
            "Outbound messages that gave up.",
            col(&row, "outbox_failed")?,
        ),
    ])
}
