//! Hold timers: remind before an unpaid order's hold lapses, then cancel
//! it and release its stock (or, where the shop keeps unpaid orders open,
//! just end the hold). Driven from the database, so it survives
//! restarts and runs once across instances (the order's version and the
//! reminder's unique mark guard it).

use super::AppState;
use super::orders::ApplyError;
use crate::domain::Timestamp;
use crate::domain::lifecycle::Actor;
use crate::domain::order::{Command, Notice};
use crate::store::orders;
use crate::store::outbox::{self, OutboundPayload};
use crate::store::{self, StoreError, shops, timers};

const HOLDS_PER_PASS: i64 = 200;

/// One pass over the held orders; returns how many it expired or reminded.
pub async fn expire_holds(state: &AppState, now: Timestamp) -> Result<usize, StoreError> {
    let mut n = 0;
    for due in timers::holds(&state.db, HOLDS_PER_PASS).await? {
        let shop = shops::get(&state.db, due.shop).await?;
        if due.hold_until <= now && !shop.settings.expiry_cancels {
            timers::end_hold(&state.db, due.shop, due.order).await?;
            tracing::info!(order = %due.order, "hold lapsed; the shop keeps unpaid orders open");
        } else if due.hold_until <= now {
            match super::orders::apply(
                &state.db,
                &shop,
                due.order,
                Command::Expire,
                &Actor::System,
                now,
            )
            .await
            {
                Ok(_) => n += 1,
                Err(ApplyError::Rejected(_)) | Err(ApplyError::NotFound) => {}
                Err(e) => {
                    tracing::warn!(error = %e, order = %due.order, "expiring an order failed")
                }
            }
        } else if shop.settings.expiry_cancels
            && due.hold_until.millis() - now.millis()
                <= shop.settings.reminder_before_hours * 3_600_000
        {
            let mut tx = state.db.begin().await?;
            if timers::mark_hold_reminded(&mut tx, due.shop, due.order, now).await? {
                let order = orders::load_in(&mut tx, due.shop, due.order).await?;
                let hours_left =
                    ((due.hold_until.millis() - now.millis()) as f64 / 3_600_000.0).ceil() as i64;
                let payload = OutboundPayload::Notice {
                    order_id: due.order,
                    order_code: order.code.clone(),
                    notice: Notice::HoldReminder { hours_left },
                };
                outbox::enqueue(
                    &mut tx,
                    due.shop,
                    order.customer_id,
                    &format!("hold:{}:reminder", due.order),
                    &payload,
                    now,
                )
                .await?;
                n += 1;
            }
            store::commit(tx).await?;
        }
    }
    if n > 0 {
        state.outbox_wake.notify_one();
    }
    Ok(n)
}
