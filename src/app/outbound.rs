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
use std::collections::BTreeMap;

/// Meta's standard messaging window after the customer last wrote.
pub const WINDOW_MS: i64 = 24 * 3_600_000;
/// How long a person (not the bot) may still reply, with the human-agent tag.
pub const HUMAN_AGENT_MS: i64 = 7 * 24 * 3_600_000;

/// How a message may go out, given Meta's 24-hour window.
#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// A reply inside the window.
    Respond,
    /// A push inside the window.
    Update,
    /// A push as the shop's approved template: outside the window, or
    /// because the seller asked for it.
    Utility(&'a str),
    /// A person's reply within 7 days.
    HumanAgent,
    /// Nothing may go now: wait for the customer to write.
    Hold,
}

/// The shop's approved utility template for a push, if it has one.
pub fn template_for<'a>(
    payload: &OutboundPayload,
    templates: &'a BTreeMap<String, String>,
) -> Option<&'a str> {
    payload
        .push_kind()
        .and_then(|kind| templates.get(kind))
        .map(String::as_str)
}

pub fn route<'a>(
    payload: &OutboundPayload,
    since_customer_wrote_ms: i64,
    templates: &'a BTreeMap<String, String>,
    as_template: bool,
) -> Route<'a> {
    let template = template_for(payload, templates);
    if let (true, Some(t)) = (as_template, template) {
        return Route::Utility(t);
    }
    if since_customer_wrote_ms < WINDOW_MS {
        return match payload {
            OutboundPayload::Message { .. } => Route::Respond,
            _ => Route::Update,
        };
    }
    match (payload, template) {
        (_, Some(t)) => Route::Utility(t),
        (OutboundPayload::SellerText { .. }, None) if since_customer_wrote_ms < HUMAN_AGENT_MS => {
            Route::HumanAgent
        }
        _ => Route::Hold,
    }
}

pub fn message_for(payload: &OutboundPayload, shop: &Shop, locale: &str, texts: &Texts) -> Message {
    match payload {
        OutboundPayload::Message { message } => message.clone(),
        OutboundPayload::SellerText { text } => Message::text(text.clone()),
        OutboundPayload::Balance {
            movement,
            amount,
            balance,
        } => notices::render_balance(
            *movement,
            *amount,
            *balance,
            &notices::Words {
                currency: shop.currency,
                locale,
                texts,
                messages: Some(&shop.settings.messages),
                amounts: shop.settings.currency_display,
            },
        ),
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
                messages: Some(&shop.settings.messages),
                amounts: shop.settings.currency_display,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::Notice;
    use crate::domain::{OrderCode, OrderId};

    #[test]
    fn the_window_decides_how_a_message_goes() {
        const HOUR: i64 = 3_600_000;
        let reply = OutboundPayload::Message {
            message: crate::engine::Message::text("hi".to_string()),
        };
        let push = OutboundPayload::Notice {
            order_id: OrderId(1),
            order_code: "CB-00000001".parse::<OrderCode>().unwrap(),
            notice: Notice::OrderConfirmed,
        };
        let person = OutboundPayload::SellerText { text: "hi".into() };
        let none = std::collections::BTreeMap::new();
        let mut approved = std::collections::BTreeMap::new();
        approved.insert(
            notices::kind(&Notice::OrderConfirmed).to_string(),
            "t1".to_string(),
        );
        // (message, since the customer wrote, templates, seller asked for the template, route)
        let table = [
            (&reply, HOUR, &none, false, Route::Respond),
            (&push, HOUR, &none, false, Route::Update),
            (&person, HOUR, &none, false, Route::Update),
            (&reply, 25 * HOUR, &approved, false, Route::Hold),
            (&push, 25 * HOUR, &none, false, Route::Hold),
            (&push, 25 * HOUR, &approved, false, Route::Utility("t1")),
            (&person, 25 * HOUR, &none, false, Route::HumanAgent),
            (&person, 8 * 24 * HOUR, &none, false, Route::Hold),
            (&push, HOUR, &approved, true, Route::Utility("t1")),
            (&push, 25 * HOUR, &none, true, Route::Hold),
            (&person, HOUR, &approved, true, Route::Update),
        ];
        for (payload, since, templates, as_template, want) in table {
            assert_eq!(
                route(payload, since, templates, as_template),
                want,
                "{payload:?} after {since} ms, as template: {as_template}"
            );
        }
    }
}
