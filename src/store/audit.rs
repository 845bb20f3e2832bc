//! Whole-database invariants, checked after a load or crash run (and by
//! anyone who wants to know the books hold): every acknowledged event
//! took effect, every order adds up and matches its history, no stock
//! below zero, every message sent.

use super::{Db, Result, col};
use std::collections::HashSet;

/// What the database says; [`Consistency::ok`] when nothing is wrong.
#[derive(Debug, Default)]
pub struct Consistency {
    pub acked: usize,
    pub acked_not_done: usize,
    pub customer_events: i64,
    pub customer_messages_recorded: i64,
    pub orders: i64,
    pub inconsistent_orders: i64,
    pub history_mismatches: i64,
    pub negative_stock: i64,
    pub outbox_sent: i64,
    pub outbox_not_sent: i64,
    /// Status and last error of messages not sent, if any.
    pub not_sent_detail: Vec<(String, String)>,
}

impl Consistency {
    pub fn ok(&self) -> bool {
        self.acked_not_done == 0
            && self.customer_events == self.customer_messages_recorded
            && self.inconsistent_orders == 0
            && self.history_mismatches == 0
            && self.negative_stock == 0
            && self.outbox_not_sent == 0
    }
}

/// Events, messages and slips still to be worked on, due or not.
pub async fn work_left(db: &Db) -> Result<i64> {
    let row = sqlx::query(
        "select (select count(*) from inbox_events where status = 'pending') + (select count(*) from outbox_messages where status = 'pending') \
         + (select count(*) from payments where status = 'fetching') as n",
    )
    .fetch_one(&db.pool)
    .await?;
    col(&row, "n")
}

async fn count(db: &Db, sql: &'static str) -> Result<i64> {
    let row = sqlx::query(sql).fetch_one(&db.pool).await?;
    col(&row, "n")
}

/// Checks the database against the message ids a load run saw acknowledged.
pub async fn consistency(db: &Db, acked: &[String]) -> Result<Consistency> {
    let rows = sqlx::query("select message_id from inbox_events where status = 'done'")
        .fetch_all(&db.pool)
        .await?;
    let mut done = HashSet::new();
    for r in &rows {
        done.insert(col::<String>(r, "message_id")?);
    }
    let unique: HashSet<&String> = acked.iter().collect();
    let mut c = Consistency {
        acked: unique.len(),
        acked_not_done: unique.iter().filter(|m| !done.contains(m.as_str())).count(),
        ..Default::default()
    };
    c.customer_events = count(db, "select count(*) as n from inbox_events where status = 'done' and kind not in ('echo', 'standby', 'reaction', 'other')").await?;
    c.customer_messages_recorded = count(
        db,
        "select count(*) as n from conversation_messages where author = 'customer'",
    )
    .await?;
    c.orders = count(db, "select count(*) as n from orders").await?;
    c.inconsistent_orders = count(
        db,
        "select count(*) as n from orders o where o.paid + o.remaining <> o.total \
         or o.total <> case when o.subtotal + o.shipping_fee + o.service_fees - o.discount < 0 then 0 else o.subtotal + o.shipping_fee + o.service_fees - o.discount end \
         or o.subtotal <> (select coalesce(cast(sum(l.unit_price * l.qty) as bigint), 0) from order_lines l where l.order_id = o.id and l.status <> 'refused')",
    )
    .await?;
    c.history_mismatches = count(
        db,
        "select count(*) as n from orders o where o.fulfilment <> (select h.to_state from order_history h where h.order_id = o.id and h.machine = 'fulfilment' order by h.id desc limit 1) \
         or o.payment_status <> coalesce((select h.to_state from order_history h where h.order_id = o.id and h.machine = 'payment' order by h.id desc limit 1), 'unpaid')",
    )
    .await?;
    c.negative_stock = count(db, "select count(*) as n from variants where stock < 0").await?;
    c.outbox_sent = count(
        db,
        "select count(*) as n from outbox_messages where status = 'sent'",
    )
    .await?;
    c.outbox_not_sent = count(
        db,
        "select count(*) as n from outbox_messages where status <> 'sent'",
    )
    .await?;
    let rows = sqlx::query(
        "select status, coalesce(last_error, held_reason, purpose) as why from outbox_messages where status <> 'sent' order by id limit 5",
    )
    .fetch_all(&db.pool)
    .await?;
    for r in &rows {
        c.not_sent_detail.push((col(r, "status")?, col(r, "why")?));
    }
    Ok(c)
}
