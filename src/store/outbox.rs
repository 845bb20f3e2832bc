//! Outbound messages, written in the same transaction as the change that
//! caused them. The dispatcher (crate::outbox) sends them.

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
    /// Channel-neutral actions produced by the engine.
    Actions { actions: serde_json::Value },
}

impl OutboundPayload {
    /// Replies go out at once; pushes respect the 24-hour window.
    pub fn purpose(&self) -> &'static str {
        match self {
            OutboundPayload::Notice { .. } => "push",
            OutboundPayload::SellerText { .. } => "seller",
            OutboundPayload::Actions { .. } => "reply",
        }
    }
}

/// Queues one message for a customer. `key` makes the enqueue idempotent:
/// the same key twice is stored once.
pub async fn enqueue(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    key: &str,
    payload: &OutboundPayload,
    now: Timestamp,
) -> Result<bool> {
    let row = sqlx::query(
        "select channel, channel_user_id from customers where id = $1 and shop_id = $2",
    )
    .bind(customer.get())
    .bind(shop.get())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let channel: String = col(&row, "channel")?;
    let recipient: String = col(&row, "channel_user_id")?;
    let json = serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let n = sqlx::query(
        "insert into outbox_messages (shop_id, customer_id, channel, recipient, idempotency_key, purpose, payload, status, next_attempt_at, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) on conflict (idempotency_key) do nothing",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(channel)
    .bind(recipient)
    .bind(key)
    .bind(payload.purpose())
    .bind(json)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}
