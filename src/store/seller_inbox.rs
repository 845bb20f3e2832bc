//! The seller's inbox: conversations with new / total message counts (the
//! green and grey ovals of seed 003), reading one (marks it read), replying
//! (recorded and queued for the channel in one transaction), and pausing
//! the bot for one customer.

use super::outbox::{self, OutboundPayload};
use super::{Db, Result, StoreError, col};
use crate::domain::{CustomerId, ShopId, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConversationRow {
    pub customer_id: CustomerId,
    pub customer_name: String,
    pub channel: String,
    /// New messages from the customer the seller has not read.
    pub unread: i64,
    pub total: i64,
    pub bot_paused: bool,
    pub last_message_at: Option<Timestamp>,
    pub last_message: Option<String>,
}

fn conversation_from_row(r: &sqlx::any::AnyRow) -> Result<ConversationRow> {
    Ok(ConversationRow {
        customer_id: CustomerId(col(r, "customer_id")?),
        customer_name: col(r, "display_name")?,
        channel: col(r, "channel")?,
        unread: col(r, "unread")?,
        total: col(r, "total_messages")?,
        bot_paused: col::<i64>(r, "bot_paused")? != 0,
        last_message_at: col::<Option<i64>>(r, "last_message_at")?.map(Timestamp),
        last_message: col(r, "last_body")?,
    })
}

const SELECT: &str = "select c.customer_id, cu.display_name, cu.channel, c.unread, c.total_messages, c.bot_paused, \
     c.last_message_at, (select m.body from conversation_messages m where m.customer_id = c.customer_id order by m.id desc limit 1) as last_body \
     from conversations c join customers cu on cu.id = c.customer_id";

/// Conversations, most recent first; `unread_only` keeps those with news.
pub async fn list(
    db: &Db,
    shop: ShopId,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<ConversationRow>> {
    let rows = sqlx::query(&format!(
        "{SELECT} where c.shop_id = $1 and ($2 = 0 or c.unread > 0) \
         order by coalesce(c.last_message_at, c.updated_at) desc, c.customer_id desc limit $3"
    ))
    .bind(shop.get())
    .bind(i64::from(unread_only))
    .bind(limit.clamp(1, 200))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(conversation_from_row).collect()
}

pub async fn get(db: &Db, shop: ShopId, customer: CustomerId) -> Result<ConversationRow> {
    let r = sqlx::query(&format!(
        "{SELECT} where c.shop_id = $1 and c.customer_id = $2"
    ))
    .bind(shop.get())
    .bind(customer.get())
    .fetch_optional(&db.pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    conversation_from_row(&r)
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MessageRow {
    pub id: i64,
    /// `in` (from the customer) or `out`.
    pub direction: String,
    /// `customer`, `bot`, `seller` or `page`.
    pub author: String,
    pub body: String,
    pub attachment_url: Option<String>,
    pub order_id: Option<i64>,
    pub read_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// The last `limit` messages, oldest first.
pub async fn messages(
    db: &Db,
    shop: ShopId,
    customer: CustomerId,
    limit: i64,
) -> Result<Vec<MessageRow>> {
    let rows = sqlx::query(
        "select id, direction, author, body, attachment_url, order_id, read_at, created_at from conversation_messages \
         where shop_id = $1 and customer_id = $2 order by id desc limit $3",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(limit.clamp(1, 500))
    .fetch_all(&db.pool)
    .await?;
    let mut out: Vec<MessageRow> = rows
        .iter()
        .map(|r| {
            Ok(MessageRow {
                id: col(r, "id")?,
                direction: col(r, "direction")?,
                author: col(r, "author")?,
                body: col(r, "body")?,
                attachment_url: col(r, "attachment_url")?,
                order_id: col(r, "order_id")?,
                read_at: col::<Option<i64>>(r, "read_at")?.map(Timestamp),
                created_at: Timestamp(col(r, "created_at")?),
            })
        })
        .collect::<Result<_>>()?;
    out.reverse();
    Ok(out)
}

/// Marks the customer's messages read and clears the unread count.
pub async fn mark_read(db: &Db, shop: ShopId, customer: CustomerId, now: Timestamp) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "update conversation_messages set read_at = $1 where shop_id = $2 and customer_id = $3 and direction = 'in' and read_at is null",
    )
    .bind(now.millis())
    .bind(shop.get())
    .bind(customer.get())
    .execute(&mut *tx)
    .await?;
    sqlx::query("update conversations set unread = 0 where shop_id = $1 and customer_id = $2")
        .bind(shop.get())
        .bind(customer.get())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the seller's reply and queues it for the customer's channel in
/// one transaction. `key` (the request's idempotency key, when it has one)
/// makes a double submit send once.
pub async fn reply(
    db: &Db,
    shop: ShopId,
    customer: CustomerId,
    body: &str,
    key: Option<&str>,
    now: Timestamp,
) -> Result<MessageRow> {
    let mut tx = db.begin().await?;
    sqlx::query("select customer_id from conversations where shop_id = $1 and customer_id = $2")
        .bind(shop.get())
        .bind(customer.get())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let r = sqlx::query(
        "insert into conversation_messages (shop_id, customer_id, direction, author, body, created_at) \
         values ($1, $2, 'out', 'seller', $3, $4) returning id",
    )
    .bind(shop.get())
    .bind(customer.get())
    .bind(body)
    .bind(now.millis())
    .fetch_one(&mut *tx)
    .await?;
    let id: i64 = col(&r, "id")?;
    sqlx::query(
        "update conversations set total_messages = total_messages + 1, last_message_at = $1, updated_at = $1 \
         where shop_id = $2 and customer_id = $3",
    )
    .bind(now.millis())
    .bind(shop.get())
    .bind(customer.get())
    .execute(&mut *tx)
    .await?;
    let outbox_key = match key {
        Some(k) => format!("seller:{}:{k}", shop.get()),
        None => format!("seller-msg:{id}"),
    };
    if !outbox::enqueue(
        &mut tx,
        shop,
        customer,
        &outbox_key,
        &OutboundPayload::SellerText {
            text: body.to_string(),
        },
        now,
    )
    .await?
    {
        // The same key was sent before: keep the first message only.
        return Err(StoreError::Conflict("this reply was already sent".into()));
    }
    tx.commit().await?;
    Ok(MessageRow {
        id,
        direction: "out".into(),
        author: "seller".into(),
        body: body.to_string(),
        attachment_url: None,
        order_id: None,
        read_at: None,
        created_at: now,
    })
}

pub async fn set_bot_paused(
    db: &Db,
    shop: ShopId,
    customer: CustomerId,
    paused: bool,
    now: Timestamp,
) -> Result<()> {
    let n = sqlx::query(
        "update conversations set bot_paused = $1, updated_at = $2 where shop_id = $3 and customer_id = $4",
    )
    .bind(i64::from(paused))
    .bind(now.millis())
    .bind(shop.get())
    .bind(customer.get())
    .execute(&db.writer)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Where the console shows a picture a customer sent: the slip or claim
/// photo kept in the media folder from that link (Meta's own links
/// expire). Returns `(link as sent, console path of the kept copy)`.
pub async fn kept_pictures(
    db: &Db,
    shop: ShopId,
    urls: &[String],
) -> Result<Vec<(String, String)>> {
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    let list = db.placeholders(1, urls.len(), 1);
    let sql = format!(
        "select source_url as url, id, 0 as claim_id from payments where shop_id = $1 and thumb_path is not null and source_url in ({list}) \
         union all select source as url, id, claim_id from claim_photos where shop_id = $1 and sha256 is not null and source in ({list})"
    );
    let mut q = sqlx::query(&sql).bind(shop.get());
    for u in urls {
        q = q.bind(u);
    }
    let rows = q.fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| {
            let (id, claim): (i64, i64) = (col(r, "id")?, col(r, "claim_id")?);
            let path = if claim == 0 {
                format!("/admin/payments/{id}/slip")
            } else {
                format!("/admin/claims/{claim}/photos/{id}")
            };
            Ok((col(r, "url")?, path))
        })
        .collect()
}
