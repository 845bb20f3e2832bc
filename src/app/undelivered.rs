//! What the seller does with a message that did not reach the customer:
//! retry it, send it as the shop's utility template, or mark it handled.
//! Each is one transaction on the locked row, refused with a reason when
//! it cannot work (Meta would refuse it again, or nothing is left to do).

use super::AppState;
use super::outbound::{self, Route, route};
use crate::domain::{Actor, Timestamp};
use crate::store::shops::Shop;
use crate::store::undelivered::{self, Undelivered};
use crate::store::{self, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Retry,
    SendAsTemplate,
    Handled,
}

impl Resolution {
    pub fn parse(slug: &str) -> Option<Resolution> {
        match slug {
            "retry" => Some(Resolution::Retry),
            "send-as-template" => Some(Resolution::SendAsTemplate),
            "handled" => Some(Resolution::Handled),
            _ => None,
        }
    }
    pub fn slug(self) -> &'static str {
        match self {
            Resolution::Retry => "retry",
            Resolution::SendAsTemplate => "send-as-template",
            Resolution::Handled => "handled",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UndeliveredError {
    #[error("no such message")]
    NotFound,
    /// It cannot be done now; the reason says what would work.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for UndeliveredError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => UndeliveredError::NotFound,
            e => UndeliveredError::Store(e),
        }
    }
}

/// What the console and the API show about an undelivered message.
pub struct Facts<'a> {
    pub message: &'a Undelivered,
    /// The approved template its kind would go as, if the shop set one.
    pub template: Option<&'a str>,
    /// The notice kind of a push (`shipped`, …).
    pub kind: Option<&'static str>,
    /// Whether the customer wrote in the last 24 hours.
    pub window_open: bool,
}

pub fn facts<'a>(shop: &'a Shop, message: &'a Undelivered, now: Timestamp) -> Facts<'a> {
    Facts {
        template: outbound::template_for(&message.payload, &shop.settings.utility_templates),
        kind: message.payload.push_kind(),
        window_open: since_customer_wrote(message, now) < outbound::WINDOW_MS,
        message,
    }
}

fn since_customer_wrote(m: &Undelivered, now: Timestamp) -> i64 {
    m.last_inbound_at
        .map_or(i64::MAX, |t| now.millis() - t.millis())
}

/// Applies the seller's decision to one of the shop's held or failed
/// messages; a retried one goes out on the dispatcher's next pass.
pub async fn resolve(
    state: &AppState,
    shop: &Shop,
    id: i64,
    how: Resolution,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), UndeliveredError> {
    let mut tx = state.db.begin().await?;
    let message = undelivered::get_for_update(&mut tx, shop.id, id).await?;
    if !matches!(message.status.as_str(), "held" | "failed") {
        return Err(UndeliveredError::Refused(match message.status.as_str() {
            "handled" => "This message was already marked handled.".into(),
            "sent" => "This message has been delivered since.".into(),
            _ => "This message is already on its way.".into(),
        }));
    }
    let templates = &shop.settings.utility_templates;
    let since = since_customer_wrote(&message, now);
    match how {
        Resolution::Retry => {
            if message.status == "held"
                && route(&message.payload, since, templates, false) == Route::Hold
            {
                return Err(UndeliveredError::Refused(
                    "The customer has not written in the last 24 hours, so Messenger only takes an approved utility template for this message. \
                     It goes out by itself when they write again; or add the template in Settings and send it as one."
                        .into(),
                ));
            }
            undelivered::requeue(&mut tx, id, false, now).await?;
        }
        Resolution::SendAsTemplate => {
            let kind = match message.payload.push_kind() {
                Some(kind) => kind,
                None => {
                    return Err(UndeliveredError::Refused(
                        "Only order updates can go as a utility template; this is a chat message."
                            .into(),
                    ));
                }
            };
            if outbound::template_for(&message.payload, templates).is_none() {
                return Err(UndeliveredError::Refused(format!(
                    "No utility template is set for the {kind} notice: add its approved name in Settings first."
                )));
            }
            undelivered::requeue(&mut tx, id, true, now).await?;
        }
        Resolution::Handled => {
            undelivered::mark_handled(&mut tx, id, &actor.to_db(), now).await?;
        }
    }
    store::commit(tx).await?;
    tracing::info!(shop = shop.id.get(), outbox = id, resolution = ?how, "undelivered message resolved by the seller");
    if how != Resolution::Handled {
        state.outbox_wake.notify_one();
    }
    Ok(())
}
