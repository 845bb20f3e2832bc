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
        let sql = format!(
            "insert into inbox_events (channel, message_id, account_id, sender_id, sender_key, kind, payload, occurred_at, received_at) values {} \
             on conflict (channel, message_id) do nothing",
            db.placeholders(0, chunk.len(), 9)
        );
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

/// Customers with pending events that no worker holds, oldest first.
pub async fn pending_senders(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "select e.sender_key from inbox_events e where e.status = 'pending' \
         and not exists (select 1 from inbox_leases l where l.sender_key = e.sender_key and l.lease_until >= $1) \
         group by e.sender_key order by min(e.id) limit $2",
    )
    .bind(now.millis())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| col(r, "sender_key")).collect()
}

/// Takes the leases of those customers that are free or expired; returns
/// the ones taken. Across instances exactly one holder wins each.
pub async fn lease_many(
    db: &Db,
    sender_keys: &[String],
    owner: &str,
    now: Timestamp,
    secs: i64,
) -> Result<Vec<String>> {
    if sender_keys.is_empty() {
        return Ok(Vec::new());
    }
    let n = sender_keys.len();
    let sql = format!(
        "insert into inbox_leases (sender_key, owner, lease_until) values {} \
         on conflict (sender_key) do update set owner = excluded.owner, lease_until = excluded.lease_until \
         where inbox_leases.lease_until < {} or inbox_leases.owner = {} returning sender_key",
        db.placeholders(0, n, 3),
        db.placeholders(n * 3, 1, 1),
        db.placeholders(n * 3 + 1, 1, 1),
    );
    let until = now.plus_secs(secs).millis();
    let mut q = sqlx::query(&sql);
    for key in sender_keys {
        q = q.bind(key.as_str()).bind(owner).bind(until);
    }
    let rows = q
        .bind(now.millis())
        .bind(owner)
        .fetch_all(&db.writer)
        .await?;
    rows.iter().map(|r| col(r, "sender_key")).collect()
}

pub async fn release_many(db: &Db, sender_keys: &[String], owner: &str) -> Result<()> {
    if sender_keys.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "delete from inbox_leases where owner = {} and sender_key in ({})",
        db.placeholders(0, 1, 1),
        db.placeholders(1, sender_keys.len(), 1)
    );
    let mut q = sqlx::query(&sql).bind(owner);
    for key in sender_keys {
        q = q.bind(key.as_str());
    }
    q.execute(&db.writer).await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub id: i64,
    pub event: InboundEvent,
    pub attempts: i64,
}

/// The first `per_customer` pending events of each customer, grouped by
/// customer and in the order they happened within each.
pub async fn pending_for_many(
    db: &Db,
    sender_keys: &[String],
    per_customer: i64,
) -> Result<Vec<StoredEvent>> {
    if sender_keys.is_empty() {
        return Ok(Vec::new());
    }
    let n = sender_keys.len();
    let sql = format!(
        "select id, channel, message_id, account_id, sender_id, payload, occurred_at, attempts from \
         (select id, channel, message_id, account_id, sender_id, sender_key, payload, occurred_at, attempts, \
          row_number() over (partition by sender_key order by occurred_at, id) as position \
          from inbox_events where status = 'pending' and sender_key in ({})) t \
         where position <= {} order by sender_key, occurred_at, id",
        db.placeholders(0, n, 1),
        db.placeholders(n, 1, 1)
    );
    let mut q = sqlx::query(&sql);
    for key in sender_keys {
        q = q.bind(key.as_str());
    }
    let rows = q.bind(per_customer).fetch_all(&db.pool).await?;
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

/// Which of these events are still pending, read inside the transaction
/// that will process them (after the customers' rows are locked), so an
/// overrun lease cannot make two workers apply one event.
pub async fn still_pending(
    tx: &mut super::Tx,
    ids: &[i64],
) -> Result<std::collections::HashSet<i64>> {
    let backend = super::backend_of(tx);
    let mut out = std::collections::HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "select id from inbox_events where status = 'pending' and id in ({})",
            super::placeholders(backend, 0, chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            out.insert(col::<i64>(&r, "id")?);
        }
    }
    Ok(out)
}

/// Marks events finished inside the transaction that applied their
/// effects, so each takes effect exactly once.
pub async fn finish_many(
    tx: &mut super::Tx,
    ids: &[i64],
    status: &str,
    shop: Option<i64>,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let backend = super::backend_of(tx);
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "update inbox_events set status = {}, shop_id = {}, error = {}, processed_at = {} \
             where status = 'pending' and id in ({})",
            super::placeholders(backend, 0, 1, 1),
            super::placeholders(backend, 1, 1, 1),
            super::placeholders(backend, 2, 1, 1),
            super::placeholders(backend, 3, 1, 1),
            super::placeholders(backend, 4, chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql)
            .bind(status)
            .bind(shop)
            .bind(error)
            .bind(now.millis());
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
    }
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
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Whether an event with this id was stored already.
pub async fn has_message(db: &Db, channel: &str, message_id: &str) -> Result<bool> {
    let row =
        sqlx::query("select 1 as one from inbox_events where channel = $1 and message_id = $2")
            .bind(channel)
            .bind(message_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.is_some())
}

/// Whether an event still waiting to be processed mentions `needle` (a
/// web-chat upload's reference).
pub async fn pending_mentions(db: &Db, needle: &str) -> Result<bool> {
    let row = sqlx::query(
        "select 1 as one from inbox_events where status = 'pending' and channel = 'webchat' and payload like $1 limit 1",
    )
    .bind(format!("%{needle}%"))
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}
