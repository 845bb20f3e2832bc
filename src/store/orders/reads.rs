//! Reads beside the aggregate: the seller's tab counts, an order's history
//! and the pushes queued for it.

use crate::domain::lifecycle::{Fulfilment, PaymentStatus, Tab};
use crate::domain::order::Notice;
use crate::domain::{OrderId, ShopId, Timestamp};
use crate::store::outbox::OutboundPayload;
use crate::store::{Db, Result, Tx, col, parse_enum};

/// Tab counts for the seller's tab bar, from the maintained counters.
pub async fn tab_counts(db: &Db, shop: ShopId) -> Result<Vec<(Tab, i64)>> {
    let rows = sqlx::query("select fulfilment, payment_status, n from order_status_counts where shop_id = $1 and n <> 0")
        .bind(shop.get())
        .fetch_all(&db.pool)
        .await?;
    let mut pairs = Vec::with_capacity(rows.len());
    for r in &rows {
        let f = parse_enum(
            &col::<String>(r, "fulfilment")?,
            Fulfilment::parse,
            "fulfilment",
        )?;
        let p = parse_enum(
            &col::<String>(r, "payment_status")?,
            PaymentStatus::parse,
            "payment status",
        )?;
        pairs.push((f, p, col::<i64>(r, "n")?));
    }
    Ok(Tab::ALL
        .iter()
        .map(|t| {
            (
                *t,
                pairs
                    .iter()
                    .filter(|(f, p, _)| t.contains(*f, *p))
                    .map(|x| x.2)
                    .sum(),
            )
        })
        .collect())
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HistoryRow {
    pub machine: String,
    pub from: String,
    pub to: String,
    pub event: String,
    pub actor: String,
    pub reason: Option<String>,
    pub at: Timestamp,
}

pub async fn history(db: &Db, shop: ShopId, id: OrderId) -> Result<Vec<HistoryRow>> {
    let rows = sqlx::query(
        "select machine, from_state, to_state, event, actor, reason, at from order_history where order_id = $1 and shop_id = $2 order by id",
    )
    .bind(id.get())
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryRow {
                machine: col(r, "machine")?,
                from: col(r, "from_state")?,
                to: col(r, "to_state")?,
                event: col(r, "event")?,
                actor: col(r, "actor")?,
                reason: col(r, "reason")?,
                at: Timestamp(col(r, "at")?),
            })
        })
        .collect()
}

/// What the customer's page of one order shows in chat: its history, its
/// payments and its claims, read in the conversation's transaction.
pub async fn chat_detail(
    tx: &mut Tx,
    shop: ShopId,
    id: OrderId,
) -> Result<crate::engine::OrderDetail> {
    let history = sqlx::query(
        "select machine, to_state, at from order_history where order_id = $1 and shop_id = $2 \
         and machine in ('fulfilment', 'payment') order by id",
    )
    .bind(id.get())
    .bind(shop.get())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok((
            Timestamp(col(r, "at")?),
            col(r, "machine")?,
            col(r, "to_state")?,
        ))
    })
    .collect::<Result<Vec<_>>>()?;
    let payments = sqlx::query(
        "select method, amount, status, created_at from payments where order_id = $1 and shop_id = $2 order by id",
    )
    .bind(id.get())
    .bind(shop.get())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok((
            Timestamp(col(r, "created_at")?),
            col(r, "method")?,
            col(r, "amount")?,
            col(r, "status")?,
        ))
    })
    .collect::<Result<Vec<_>>>()?;
    let claims = sqlx::query(
        "select reason, status from claims where order_id = $1 and shop_id = $2 order by id",
    )
    .bind(id.get())
    .bind(shop.get())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        let reason: String = col(r, "reason")?;
        let status: String = col(r, "status")?;
        Ok((
            parse_enum(
                &reason,
                crate::domain::claim::ClaimReason::parse,
                "claim reason",
            )?,
            parse_enum(
                &status,
                crate::domain::claim::ClaimStatus::parse,
                "claim status",
            )?,
        ))
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(crate::engine::OrderDetail {
        order: id,
        history,
        payments,
        claims,
    })
}

/// Notices queued for an order, oldest first (for tests and the console).
pub async fn queued_notices(db: &Db, shop: ShopId, id: OrderId) -> Result<Vec<Notice>> {
    let rows = sqlx::query(
        "select payload from outbox_messages where shop_id = $1 and purpose = 'push' order by id",
    )
    .bind(shop.get())
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let raw: String = col(r, "payload")?;
        if let Ok(OutboundPayload::Notice {
            order_id, notice, ..
        }) = serde_json::from_str(&raw)
            && order_id == id
        {
            out.push(notice);
        }
    }
    Ok(out)
}
