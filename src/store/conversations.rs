//! A customer's conversation: the engine's state, the 24-hour window, the
//! bot pause, and the messages the seller sees in their inbox.

use super::{Backend, Result, Tx, col, placeholders};
use crate::domain::{CustomerId, ShopId, Timestamp};
use std::collections::HashMap;

#[derive(Clone, Debug)]
pub struct Conversation {
    pub state: String,
    pub last_inbound_at: Option<Timestamp>,
    pub bot_paused: bool,
}

/// Several customers' conversations at once, locked on PostgreSQL.
pub async fn load_many(
    tx: &mut Tx,
    customers: &[CustomerId],
) -> Result<HashMap<CustomerId, Conversation>> {
    let backend = super::backend_of(tx);
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " for update",
    };
    let mut out = HashMap::with_capacity(customers.len());
    for chunk in customers.chunks(500) {
        let sql = format!(
            "select customer_id, state, last_inbound_at, bot_paused from conversations where customer_id in ({}){lock}",
            placeholders(backend, 0, chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.get());
        }
        for row in q.fetch_all(&mut **tx).await? {
            out.insert(
                CustomerId(col(&row, "customer_id")?),
                Conversation {
                    state: col(&row, "state")?,
                    last_inbound_at: col::<Option<i64>>(&row, "last_inbound_at")?.map(Timestamp),
                    bot_paused: col::<i64>(&row, "bot_paused")? != 0,
                },
            );
        }
    }
    Ok(out)
}

/// What a run of events changed in one conversation, written as one update.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub state: Option<String>,
    pub messages: i64,
    pub unread: i64,
    pub last_message_at: Option<Timestamp>,
    pub last_inbound_at: Option<Timestamp>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.state.is_none() && self.messages == 0 && self.last_inbound_at.is_none()
    }

    /// Counts a message as [`record`] would.
    pub fn count_message(&mut self, needs_seller: bool, at: Timestamp) {
        self.messages += 1;
        self.unread += i64::from(needs_seller);
        self.last_message_at = Some(at);
    }

    /// The window runs from the latest customer action, never moving back.
    pub fn touch_inbound(&mut self, at: Timestamp) {
        if self.last_inbound_at.is_none_or(|t| t < at) {
            self.last_inbound_at = Some(at);
        }
    }
}

/// Writes many conversations' changes in one statement.
pub async fn apply_changes(
    tx: &mut Tx,
    changes: &[(CustomerId, Change)],
    now: Timestamp,
) -> Result<()> {
    let backend = super::backend_of(tx);
    for chunk in changes.chunks(100) {
        // v: customer, state, messages, unread, last message, last inbound.
        let sql = format!(
            "update conversations set state = coalesce(v.column2, conversations.state), \
             version = conversations.version + case when v.column2 is null then 0 else 1 end, \
             total_messages = conversations.total_messages + v.column3, unread = conversations.unread + v.column4, \
             last_message_at = coalesce(v.column5, conversations.last_message_at), \
             last_inbound_at = case when v.column6 is null then conversations.last_inbound_at \
               when conversations.last_inbound_at is null or conversations.last_inbound_at < v.column6 then v.column6 \
               else conversations.last_inbound_at end, \
             updated_at = {} from (values {}) as v where conversations.customer_id = v.column1",
            placeholders(backend, 0, 1, 1),
            placeholders(backend, 1, chunk.len(), 6)
        );
        let mut q = sqlx::query(&sql).bind(now.millis());
        for (customer, c) in chunk {
            q = q
                .bind(customer.get())
                .bind(c.state.as_deref())
                .bind(c.messages)
                .bind(c.unread)
                .bind(c.last_message_at.map(|t| t.millis()))
                .bind(c.last_inbound_at.map(|t| t.millis()));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn set_paused(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    paused: bool,
    now: Timestamp,
) -> Result<bool> {
    let n = sqlx::query("update conversations set bot_paused = $1, updated_at = $2 where customer_id = $3 and shop_id = $4")
        .bind(i64::from(paused))
        .bind(now.millis())
        .bind(customer.get())
        .bind(shop.get())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    Customer,
    Bot,
    Seller,
    /// A person answering from the Page inbox, outside chatbill.
    Page,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Bot => "bot",
            Author::Seller => "seller",
            Author::Page => "page",
        }
    }
}

/// Records one message for the seller's inbox and counts it in its
/// conversation. `needs_seller` marks it new (unread) for the shop.
pub async fn record(tx: &mut Tx, m: &NewMessage, order_id: Option<i64>) -> Result<()> {
    let NewMessage {
        shop,
        customer,
        author,
        ref body,
        ref attachment_url,
        needs_seller,
        at: now,
    } = *m;
    let attachment_url = attachment_url.as_deref();
    let direction = if author == Author::Customer {
        "in"
    } else {
        "out"
    };
    // Messages nobody needs to read are born read.
    let read_at = (!needs_seller).then_some(now.millis());
    sqlx::query(
        "insert into conversation_messages (shop_id, customer_id, direction, author, body, attachment_url, order_id, read_at, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(direction)
    .bind(author.as_str())
    .bind(body)
    .bind(attachment_url)
    .bind(order_id)
    .bind(read_at)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "update conversations set total_messages = total_messages + 1, unread = unread + $1, last_message_at = $2 where customer_id = $3",
    )
    .bind(i64::from(needs_seller))
    .bind(now.millis())
    .bind(customer.get())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A message for the seller's inbox, written with others in one statement;
/// the conversation's counters go through [`Change::count_message`].
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub shop: ShopId,
    pub customer: CustomerId,
    pub author: Author,
    pub body: String,
    pub attachment_url: Option<String>,
    pub needs_seller: bool,
    pub at: Timestamp,
}

pub async fn insert_messages(tx: &mut Tx, messages: &[NewMessage]) -> Result<()> {
    let backend = super::backend_of(tx);
    for chunk in messages.chunks(100) {
        let sql = format!(
            "insert into conversation_messages (shop_id, customer_id, direction, author, body, attachment_url, read_at, created_at) values {}",
            placeholders(backend, 0, chunk.len(), 8)
        );
        let mut q = sqlx::query(&sql);
        for m in chunk {
            let direction = if m.author == Author::Customer {
                "in"
            } else {
                "out"
            };
            q = q
                .bind(m.shop.get())
                .bind(m.customer.get())
                .bind(direction)
                .bind(m.author.as_str())
                .bind(m.body.as_str())
                .bind(m.attachment_url.as_deref())
                .bind((!m.needs_seller).then_some(m.at.millis()))
                .bind(m.at.millis());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// These customers wrote: pushes held for the closed window may go now.
pub async fn release_held_many(
    tx: &mut Tx,
    customers: &[CustomerId],
    now: Timestamp,
) -> Result<u64> {
    let backend = super::backend_of(tx);
    let mut released = 0;
    for chunk in customers.chunks(500) {
        let sql = format!(
            "update outbox_messages set status = 'pending', held_reason = null, next_attempt_at = {} \
             where status = 'held' and customer_id in ({})",
            placeholders(backend, 0, 1, 1),
            placeholders(backend, 1, chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql).bind(now.millis());
        for id in chunk {
            q = q.bind(id.get());
        }
        released += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(released)
}
