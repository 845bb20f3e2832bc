//! What a queued message says: the stored payload rendered as the
//! engine's channel-neutral message, in the customer's language.

use super::AppState;
use crate::domain::Timestamp;
use crate::engine::notices::{self, NoticeContext};
use crate::engine::{Message, Texts};
use crate::store::conversations::{self, Author, NewMessage};
use crate::store::outbox::{self, OutRow, OutboundPayload};
use crate::store::shops::Shop;
use crate::store::{self as db, StoreError};

pub fn message_for(payload: &OutboundPayload, shop: &Shop, locale: &str, texts: &Texts) -> Message {
    match payload {
        OutboundPayload::Message { message } => message.clone(),
        OutboundPayload::SellerText { text } => Message::text(text.clone()),
        OutboundPayload::Notice {
            order_id,
            order_code,
            notice,
        } => notices::render(
            notice,
            &NoticeContext {
                order_id: *order_id,
                order_code: order_code.as_str(),
                currency: shop.currency,
                locale,
                texts,
            },
        ),
    }
}

/// A message that will never go out: marked failed, and shown to the
/// seller in the customer's conversation.
pub async fn give_up(
    state: &AppState,
    row: &OutRow,
    reason: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    state.metrics.incr("outbox_failed", 1);
    tracing::error!(outbox = row.id, reason, "message not delivered");
    outbox::mark_failed(&state.db, row.id, reason).await?;
    let mut tx = state.db.begin().await?;
    let note = NewMessage {
        shop: row.shop_id,
        customer: row.customer_id,
        author: Author::Bot,
        body: format!("⚠ not delivered: {reason}"),
        attachment_url: None,
        needs_seller: true,
        at: now,
    };
    conversations::record(&mut tx, &note, None).await?;
    db::commit(tx).await
}
