//! The inbox: every inbound event stored once (unique on channel + message
//! id) before the webhook is answered, then processed per customer in order.

use super::{Db, Result, col};
use crate::channels::{Channel, InboundEvent, InboundKind};
use crate::domain::Timestamp;

/// Rows per INSERT statement (9 parameters each, well under SQLite's limit).
const ROWS_PER_STATEMENT: usize = 200;

/// Stores a batch in ONE transaction with few statements; returns how many
/// were new (the rest were redeliveries).
pub async fn insert_batch(db: &Db, events: &[InboundEvent], now: Timestamp) -> Result<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let mut inserted = 0;
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "insert into inbox_events (channel, message_id, account_id, sender_id, sender_key, kind, payload, occurred_at, received_at, status) values ",
        );
        for i in 0..chunk.len() {
            let b = i * 9;
            if i > 0 {
                sql.push(',');
            }
            match db.backend {
                // sqlx resolves each `$N` through sqlite3_bind_parameter_name,
                // a linear scan: quadratic over a 1,800-parameter insert. Bare
                // `?` binds in order without it (measured: 8 % of intake CPU).
                super::Backend::Sqlite => sql.push_str("(?,?,?,?,?,?,?,?,?,'pending')"),
                super::Backend::Postgres => sql.push_str(&format!(
                    "(${},${},${},${},${},${},${},${},${},'pending')",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9
                )),
            }
        }

        sql.push_str(" on conflict (channel, message_id) do nothing");
        let mut q = sqlx::query(&sql);
        for e in chunk {
            let payload = serde_json::to_string(&e.kind).unwrap_or_else(|_| "{}".into());
            q = q
                .bind(e.channel.as_str())
                .bind(e.message_id.clone())
                .bind(e.account_id.clone())
                .bind(e.sender_id.clone())
                .bind(e.sender_key())
                .bind(e.kind.name())
                .bind(payload)
                .bind(e.timestamp)
                .bind(now.millis());
        }
        inserted += q.execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Customers with pending events, oldest first.
pub async fn pending_senders(db: &Db, limit: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "select sender_key from inbox_events where status = 'pending' group by sender_key order by min(id) limit $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| col(r, "sender_key")).collect()
}

/// Takes the customer's lease if it is free or expired. Across instances
/// exactly one holder wins.
pub async fn lease(
    db: &Db,
    sender_key: &str,
    owner: &str,
    now: Timestamp,
    secs: i64,
) -> Result<bool> {
    let n = sqlx::query(
        "insert into inbox_leases (sender_key, owner, lease_until) values ($1, $2, $3) \
         on conflict (sender_key) do update set owner = excluded.owner, lease_until = excluded.lease_until \
         where inbox_leases.lease_until < $4 or inbox_leases.owner = $2",
    )
    .bind(sender_key)
    .bind(owner)
    .bind(now.plus_secs(secs).millis())
    .bind(now.millis())
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn release(db: &Db, sender_key: &str, owner: &str) -> Result<()> {
    sqlx::query("delete from inbox_leases where sender_key = $1 and owner = $2")
        .bind(sender_key)
        .bind(owner)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub id: i64,
    pub event: InboundEvent,
    pub attempts: i64,
}

/// The customer's pending events in the order they happened.
pub async fn pending_for(db: &Db, sender_key: &str, limit: i64) -> Result<Vec<StoredEvent>> {
    let rows = sqlx::query(
        "select id, channel, message_id, account_id, sender_id, payload, occurred_at, attempts from inbox_events \
         where sender_key = $1 and status = 'pending' order by occurred_at, id limit $2",
    )
    .bind(sender_key)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let channel: String = col(r, "channel")?;
        let payload: String = col(r, "payload")?;
        let kind: InboundKind = serde_json::from_str(&payload).unwrap_or(InboundKind::Other {
            kind: "unreadable".into(),
        });
        out.push(StoredEvent {
            id: col(r, "id")?,
            event: InboundEvent {
                channel: Channel::parse(&channel).unwrap_or(Channel::Messenger),
                account_id: col(r, "account_id")?,
                sender_id: col(r, "sender_id")?,
                message_id: col(r, "message_id")?,
                timestamp: col(r, "occurred_at")?,
                kind,
            },
            attempts: col(r, "attempts")?,
        });
    }
    Ok(out)
}

/// Marks an event finished inside the transaction that applied its effects,
/// so an event takes effect exactly once.
pub async fn finish(
    tx: &mut super::Tx,
    id: i64,
    status: &str,
    shop: Option<i64>,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("update inbox_events set status = $1, shop_id = $2, error = $3, processed_at = $4 where id = $5 and status = 'pending'")
        .bind(status)
        .bind(shop)
        .bind(error)
        .bind(now.millis())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A failed attempt outside any transaction; after a few the event is
/// parked as failed so one poisonous event cannot block a customer forever.
pub async fn record_failure(
    db: &Db,
    id: i64,
    error: &str,
    max_attempts: i64,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "update inbox_events set attempts = attempts + 1, error = $1, \
         status = case when attempts + 1 >= $2 then 'failed' else status end, processed_at = $3 where id = $4",
    )
    .bind(error)
    .bind(max_attempts)
    .bind(now.millis())
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}
