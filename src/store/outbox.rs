//! Outbound messages, written in the same transaction as the change that
//! caused them. The dispatcher (`workers::outbox`) sends them.

use super::{Result, StoreError, Tx, col};
use crate::domain::order::Notice;
use crate::domain::{CustomerId, OrderCode, OrderId, ShopId, Timestamp};

/// What an outbox row carries, rendered per channel at send time.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboundPayload {
    /// An order event the customer cares about.
    Notice {
        order_id: OrderId,
        order_code: OrderCode,
        notice: Notice,
    },
    /// A free-text reply written by the seller.
    SellerText { text: String },
    /// The seller moved the customer's shop balance (a deposit or a
    /// withdrawal); `amount` is positive, `balance` what is left after.
    Balance {
        movement: crate::domain::ledger::LedgerKind,
        amount: i64,
        balance: i64,
    },
    /// A message the engine produced in reply.
    Message { message: crate::engine::Message },
}

impl OutboundPayload {
    /// Replies go out at once; pushes respect the 24-hour window.
    pub fn purpose(&self) -> &'static str {
        match self {
            OutboundPayload::Notice { .. } | OutboundPayload::Balance { .. } => "push",
            OutboundPayload::SellerText { .. } => "seller",
            OutboundPayload::Message { .. } => "reply",
        }
    }

    /// The kind of push, which names the shop's utility template for it
    /// (`shipped`, `balance_moved`, …); `None` for chat messages.
    pub fn push_kind(&self) -> Option<&'static str> {
        match self {
            OutboundPayload::Notice { notice, .. } => Some(crate::engine::notices::kind(notice)),
            OutboundPayload::Balance { .. } => Some(crate::engine::notices::BALANCE_KIND),
            _ => None,
        }
    }

    /// The order a push is about, kept beside it so the order page can
    /// show its undelivered pushes.
    pub fn order_id(&self) -> Option<i64> {
        match self {
            OutboundPayload::Notice { order_id, .. } => Some(order_id.get()),
            _ => None,
        }
    }
}

/// Queues one message for a customer, in one statement: the insert reads
/// the channel and recipient itself. `key` makes the enqueue idempotent: the
/// same key twice is stored once (`false`). An unknown customer is
/// `NotFound`.
pub async fn enqueue(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    key: &str,
    payload: &OutboundPayload,
    now: Timestamp,
) -> Result<bool> {
    let json = serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let n = sqlx::query(
        "insert into outbox_messages (shop_id, customer_id, channel, recipient, idempotency_key, purpose, payload, status, next_attempt_at, created_at, order_id) \
         select shop_id, id, channel, channel_user_id, $1, $2, $3, 'pending', $4, $4, $7 from customers where id = $5 and shop_id = $6 \
         on conflict (idempotency_key) do nothing",
    )
    .bind(key)
    .bind(payload.purpose())
    .bind(json)
    .bind(now.millis())
    .bind(customer.get())
    .bind(shop.get())
    .bind(payload.order_id())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        return Ok(true);
    }
    // Nothing inserted: already queued, or no such customer (rare; read only then).
    sqlx::query("select id from customers where id = $1 and shop_id = $2")
        .bind(customer.get())
        .bind(shop.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(false)
}

/// A message to queue with others in one statement.
#[derive(Clone, Debug)]
pub struct NewOutbound {
    pub shop: ShopId,
    pub customer: CustomerId,
    pub channel: String,
    pub recipient: String,
    pub key: String,
    pub payload: OutboundPayload,
}

/// Queues many messages in order; keys already queued are skipped.
pub async fn enqueue_many(tx: &mut Tx, rows: &[NewOutbound], now: Timestamp) -> Result<()> {
    let backend = super::backend_of(tx);
    for chunk in rows.chunks(100) {
        let sql = format!(
            "insert into outbox_messages (shop_id, customer_id, channel, recipient, idempotency_key, purpose, payload, next_attempt_at, created_at, order_id) \
             values {} on conflict (idempotency_key) do nothing",
            super::placeholders(backend, 0, chunk.len(), 10)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            let json = serde_json::to_string(&r.payload)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            q = q
                .bind(r.shop.get())
                .bind(r.customer.get())
                .bind(r.channel.as_str())
                .bind(r.recipient.as_str())
                .bind(r.key.as_str())
                .bind(r.payload.purpose())
                .bind(json)
                .bind(now.millis())
                .bind(now.millis())
                .bind(r.payload.order_id());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Our own messages came back as echoes carrying their keys: delivered.
/// Returns the keys that were ours.
pub async fn mark_delivered_many(
    tx: &mut Tx,
    shop: ShopId,
    keys: &[&str],
    now: Timestamp,
) -> Result<std::collections::HashSet<String>> {
    let backend = super::backend_of(tx);
    let mut ours = std::collections::HashSet::new();
    for chunk in keys.chunks(500) {
        let sql = format!(
            "update outbox_messages set delivered_at = coalesce(delivered_at, {}), \
             status = case when status in ('pending', 'held') then 'sent' else status end \
             where shop_id = {} and idempotency_key in ({}) returning idempotency_key",
            super::placeholders(backend, 0, 1, 1),
            super::placeholders(backend, 1, 1, 1),
            super::placeholders(backend, 2, chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql).bind(now.millis()).bind(shop.get());
        for key in chunk {
            q = q.bind(*key);
        }
        for r in q.fetch_all(&mut **tx).await? {
            ours.insert(col::<String>(&r, "idempotency_key")?);
        }
    }
    Ok(ours)
}

#[derive(Clone, Debug)]
pub struct OutRow {
    pub id: i64,
    pub shop_id: ShopId,
    pub customer_id: CustomerId,
    pub channel: String,
    pub recipient: String,
    pub key: String,
    pub purpose: String,
    pub payload: String,
    pub attempts: i64,
    pub parts_sent: i64,
    /// The customer's language, if known, and when they last wrote (the
    /// 24-hour window), read with the claim.
    pub locale: Option<String>,
    pub last_inbound_at: Option<Timestamp>,
    /// The seller asked for it to go as the shop's utility template.
    pub via_template: bool,
}

/// Leases due messages that are first in line for their customer, so each
/// customer's messages go out strictly in order, on any number of
/// instances (`for update skip locked` on PostgreSQL).
pub async fn claim(
    db: &super::Db,
    now: Timestamp,
    lease_secs: i64,
    limit: i64,
) -> Result<Vec<OutRow>> {
    let mut tx = db.begin().await?;
    let lock = match db.backend {
        super::Backend::Sqlite => "",
        super::Backend::Postgres => " for update of o skip locked",
    };
    let rows = sqlx::query(&format!(
        "select o.id, o.shop_id, o.customer_id, o.channel, o.recipient, o.idempotency_key, o.purpose, o.payload, o.attempts, o.parts_sent, o.via_template, \
         c.locale, v.last_inbound_at \
         from outbox_messages o join customers c on c.id = o.customer_id left join conversations v on v.customer_id = o.customer_id \
         where o.status = 'pending' and o.next_attempt_at <= $1 and (o.lease_until is null or o.lease_until < $1) \
         and not exists (select 1 from outbox_messages p where p.customer_id = o.customer_id and p.status = 'pending' and p.id < o.id) \
         order by o.id limit $2{lock}"
    ))
    .bind(now.millis())
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(OutRow {
            id: col(r, "id")?,
            shop_id: ShopId(col(r, "shop_id")?),
            customer_id: CustomerId(col(r, "customer_id")?),
            channel: col(r, "channel")?,
            recipient: col(r, "recipient")?,
            key: col(r, "idempotency_key")?,
            purpose: col(r, "purpose")?,
            payload: col(r, "payload")?,
            attempts: col::<i64>(r, "attempts")? + 1,
            parts_sent: col(r, "parts_sent")?,
            locale: col(r, "locale")?,
            last_inbound_at: col::<Option<i64>>(r, "last_inbound_at")?.map(Timestamp),
            via_template: col::<i64>(r, "via_template")? != 0,
        });
    }
    if !out.is_empty() {
        let sql = format!(
            "update outbox_messages set lease_until = {}, attempts = attempts + 1 where id in ({})",
            db.placeholders(0, 1, 1),
            db.placeholders(1, out.len(), 1)
        );
        let mut q = sqlx::query(&sql).bind(now.plus_secs(lease_secs).millis());
        for row in &out {
            q = q.bind(row.id);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// A message Meta accepted (or the web chat may show).
#[derive(Clone, Debug)]
pub struct Sent {
    pub id: i64,
    pub external_id: String,
    pub parts: i64,
}

/// Marks a pass's sent messages in one statement.
pub async fn mark_sent_many(db: &super::Db, sent: &[Sent], now: Timestamp) -> Result<()> {
    for chunk in sent.chunks(200) {
        let sql = format!(
            "update outbox_messages set status = 'sent', sent_at = {}, external_message_id = v.column2, parts_sent = v.column3, \
             lease_until = null, last_error = null from (values {}) as v where outbox_messages.id = v.column1",
            db.placeholders(0, 1, 1),
            db.placeholders(1, chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql).bind(now.millis());
        for s in chunk {
            q = q.bind(s.id).bind(s.external_id.as_str()).bind(s.parts);
        }
        q.execute(&db.writer).await?;
    }
    Ok(())
}

/// A part went out: remember it, and extend the claim by a part's worth,
/// so a long multi-part message never outlives its lease mid-send.
pub async fn mark_progress(
    db: &super::Db,
    id: i64,
    parts: i64,
    lease_until: Timestamp,
) -> Result<()> {
    sqlx::query("update outbox_messages set parts_sent = $1, lease_until = $2 where id = $3")
        .bind(parts)
        .bind(lease_until.millis())
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

pub async fn retry_later(db: &super::Db, id: i64, at: Timestamp, error: &str) -> Result<()> {
    sqlx::query("update outbox_messages set next_attempt_at = $1, lease_until = null, last_error = $2 where id = $3")
        .bind(at.millis())
        .bind(error)
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Claimed but not sent because the Page had no room: back in line, due at
/// `at`, and the attempt the claim counted is given back (a Page's rate is
/// no fault of the message's, so a long throttle never makes it give up).
pub async fn defer(db: &super::Db, ids: &[i64], at: Timestamp, error: Option<&str>) -> Result<()> {
    for chunk in ids.chunks(500) {
        let sql = format!(
            "update outbox_messages set lease_until = null, attempts = attempts - 1, next_attempt_at = {}, \
             last_error = coalesce({}, last_error) where id in ({})",
            db.placeholders(0, 1, 1),
            db.placeholders(1, 1, 1),
            db.placeholders(2, chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql).bind(at.millis()).bind(error);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&db.writer).await?;
    }
    Ok(())
}

pub async fn mark_failed(db: &super::Db, id: i64, error: &str) -> Result<()> {
    sqlx::query("update outbox_messages set status = 'failed', lease_until = null, last_error = $1 where id = $2")
        .bind(error)
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Waiting for the customer to write again (outside the 24-hour window).
pub async fn hold(db: &super::Db, id: i64, reason: &str) -> Result<()> {
    sqlx::query("update outbox_messages set status = 'held', held_reason = $1, lease_until = null where id = $2")
        .bind(reason)
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SentMessage {
    pub id: i64,
    pub purpose: String,
    pub payload: serde_json::Value,
    pub sent_at: Option<i64>,
}

/// Web chat: what has been "sent" to a visitor after `after_id`.
pub async fn sent_after(
    db: &super::Db,
    customer: CustomerId,
    after_id: i64,
    limit: i64,
) -> Result<Vec<SentMessage>> {
    let rows = sqlx::query(
        "select id, purpose, payload, sent_at from outbox_messages where customer_id = $1 and status = 'sent' and id > $2 order by id limit $3",
    )
    .bind(customer.get())
    .bind(after_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let raw: String = col(r, "payload")?;
            Ok(SentMessage {
                id: col(r, "id")?,
                purpose: col(r, "purpose")?,
                payload: serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null),
                sent_at: col(r, "sent_at")?,
            })
        })
        .collect()
}

/// The web-chat visitors (shop, recipient) with a message sent since
/// `since` (ms), for the streams of this instance to look at their own.
pub async fn webchat_sent_since(
    db: &super::Db,
    since: Timestamp,
    limit: i64,
) -> Result<Vec<(ShopId, String)>> {
    let rows = sqlx::query(
        "select distinct shop_id, recipient from outbox_messages where channel = 'webchat' and status = 'sent' and sent_at >= $1 limit $2",
    )
    .bind(since.millis())
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((ShopId(col(r, "shop_id")?), col(r, "recipient")?)))
        .collect()
}
