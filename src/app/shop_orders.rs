//! Orders a person of the shop makes for a customer who phoned or walked
//! in: the customer found (by id, or by phone) or created, the lines from
//! the catalog with their stock reserved, and — when the customer chats —
//! the bill and how to pay pushed, all in one transaction.

use crate::domain::lifecycle::Actor;
use crate::domain::order::{Notice, Order, PaymentMethod};
use crate::domain::{
    Address, CustomerId, CustomerName, NameSource, PhoneNumber, Timestamp, VariantId,
};
use crate::store::customers::{self, Customer};
use crate::store::orders::{self, NewOrder, PlaceError};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::shops::Shop;
use crate::store::{self, Db, StoreError, Tx};

/// Who the order is for.
pub enum ForCustomer {
    /// One of the shop's customers.
    Known(CustomerId),
    /// Found by phone, or made new with this name.
    ByPhone {
        phone: PhoneNumber,
        name: CustomerName,
    },
}

pub struct ShopOrder {
    pub customer: ForCustomer,
    pub items: Vec<(VariantId, i64)>,
    pub address: Option<Address>,
    pub method: Option<PaymentMethod>,
    /// `None` applies the shop's shipping rule.
    pub shipping_fee: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShopOrderError {
    #[error("no such customer")]
    NoCustomer,
    #[error(transparent)]
    Place(PlaceError),
}

impl From<StoreError> for ShopOrderError {
    fn from(e: StoreError) -> Self {
        ShopOrderError::Place(PlaceError::Store(e))
    }
}

/// Channels whose customers can be sent the bill.
fn chats(channel: &str) -> bool {
    matches!(channel, "messenger" | "instagram" | "webchat")
}

async fn customer_for(
    tx: &mut Tx,
    shop: &Shop,
    who: &ForCustomer,
    now: Timestamp,
) -> Result<Customer, ShopOrderError> {
    match who {
        ForCustomer::Known(id) => customers::get_in(tx, shop.id, *id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ShopOrderError::NoCustomer,
                e => e.into(),
            }),
        ForCustomer::ByPhone { phone, name } => {
            if let Some(c) = customers::find_by_phone(tx, shop.id, phone.as_str()).await? {
                return Ok(c);
            }
            // Someone without a chat: their phone is who they are here.
            let c = customers::upsert(tx, shop.id, "shop", phone.as_str(), now).await?;
            customers::offer_name(tx, c.id, name, NameSource::Seller, now).await?;
            Ok(c)
        }
    }
}

pub async fn make(
    db: &Db,
    shop: &Shop,
    req: ShopOrder,
    by: &Actor,
    now: Timestamp,
) -> Result<Order, ShopOrderError> {
    let mut tx = db.begin().await?;
    let customer = customer_for(&mut tx, shop, &req.customer, now).await?;
    if let Some(a) = &req.address {
        customers::save_address(&mut tx, customer.id, a, now).await?;
    }
    let new = NewOrder {
        customer: customer.id,
        channel: customer.channel.clone(),
        items: req.items,
        address: req.address.or(customer.address.clone()),
        method: req.method,
        shipping_fee: req.shipping_fee,
    };
    let order = orders::place_as(&mut tx, shop, new, by, now)
        .await
        .map_err(ShopOrderError::Place)?;
    if chats(&customer.channel) {
        let push = OutboundPayload::Notice {
            order_id: order.id,
            order_code: order.code.clone(),
            notice: Notice::MadeByShop {
                total: order.totals().total.minor,
            },
        };
        let key = format!("order:{}:made", order.id);
        outbox::enqueue(&mut tx, shop.id, customer.id, &key, &push, now).await?;
    }
    store::commit(tx).await?;
    tracing::info!(
        shop = shop.id.get(),
        order = order.id.get(),
        customer = customer.id.get(),
        "order made by the shop"
    );
    Ok(order)
}
