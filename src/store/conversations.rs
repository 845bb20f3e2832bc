//! A customer's conversation: the engine's state, the 24-hour window, the
//! bot pause, and the messages the seller sees in their inbox.

use super::{Result, Tx, col};
use crate::domain::{CustomerId, ShopId, Timestamp};

#[derive(Clone, Debug)]
pub struct Conversation {
    pub state: String,
    pub last_inbound_at: Option<Timestamp>,
    pub bot_paused: bool,
}

pub async fn load(tx: &mut Tx, customer: CustomerId, lock: &str) -> Result<Conversation> {
    let row = sqlx::query(&format!(
        "select state, last_inbound_at, bot_paused from conversations where customer_id = $1{lock}"
    ))
    .bind(customer.get())
    .fetch_one(&mut **tx)
    .await?;
    Ok(Conversation {
        state: col(&row, "state")?,
        last_inbound_at: col::<Option<i64>>(&row, "last_inbound_at")?.map(Timestamp),
        bot_paused: col::<i64>(&row, "bot_paused")? != 0,
    })
}

/// When the customer last acted, read outside any transaction.
pub async fn last_inbound(db: &super::Db, customer: CustomerId) -> Result<Option<Timestamp>> {
    let row = sqlx::query("select last_inbound_at from conversations where customer_id = $1")
        .bind(customer.get())
        .fetch_optional(&db.pool)
        .await?;
    Ok(match row {
        Some(r) => col::<Option<i64>>(&r, "last_inbound_at")?.map(Timestamp),
        None => None,
    })
}

pub async fn save_state(
    tx: &mut Tx,
    customer: CustomerId,
    state: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("update conversations set state = $1, version = version + 1, updated_at = $2 where customer_id = $3")
        .bind(state)
        .bind(now.millis())
        .bind(customer.get())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The window is measured from the latest customer action; late-arriving
/// older events never move it back.
pub async fn touch_inbound(tx: &mut Tx, customer: CustomerId, at: Timestamp) -> Result<()> {
    sqlx::query(
        "update conversations set last_inbound_at = case when last_inbound_at is null or last_inbound_at < $1 then $1 else last_inbound_at end \
         where customer_id = $2",
    )
    .bind(at.millis())
    .bind(customer.get())
    .execute(&mut **tx)
    .await?;
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

/// Records a message for the seller's inbox. `needs_seller` marks it new
/// (unread) for the shop.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    author: Author,
    body: &str,
    attachment_url: Option<&str>,
    order_id: Option<i64>,
    needs_seller: bool,
    now: Timestamp,
) -> Result<()> {
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

/// The customer wrote: pushes held for the closed window may go now.
pub async fn release_held(tx: &mut Tx, customer: CustomerId, now: Timestamp) -> Result<u64> {
    Ok(sqlx::query(
        "update outbox_messages set status = 'pending', held_reason = null, next_attempt_at = $1 where customer_id = $2 and status = 'held'",
    )
    .bind(now.millis())
    .bind(customer.get())
    .execute(&mut **tx)
    .await?
    .rows_affected())
}
