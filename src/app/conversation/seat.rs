//! One customer during a batch, and the writes a batch gathers.

use super::actions::{RECENT_ORDERS, referenced_order};
use crate::domain::{CustomerId, Timestamp};
use crate::engine::{self, Input, Message, OrderSummary, State};
use crate::store::conversations::{self, Author};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::{StoreError, Tx, cart, customers, inbox};
use std::collections::HashMap;

/// One customer during a batch: what the engine reads, kept current in
/// memory, and what changed in their conversation, written at the end.
pub(super) struct Seat {
    pub(super) customer: customers::Customer,
    /// Re-read before next use: an order or address changed it in SQL.
    pub(super) customer_stale: bool,
    pub(super) state: State,
    pub(super) bot_paused: bool,
    /// `None` until read, and again after any cart change.
    pub(super) cart: Option<Vec<engine::CartLine>>,
    /// Read ahead with the batch for the first event, and for the order it
    /// refers to; used once.
    pub(super) orders: Option<(Option<i64>, Vec<OrderSummary>)>,
    pub(super) state_dirty: bool,
    pub(super) change: conversations::Change,
    pub(super) renewed_window: bool,
}

impl Seat {
    pub(super) async fn customer(
        &mut self,
        tx: &mut Tx,
    ) -> Result<&customers::Customer, StoreError> {
        if self.customer_stale {
            self.customer = customers::get_in(tx, self.customer.shop_id, self.customer.id).await?;
            self.customer_stale = false;
        }
        Ok(&self.customer)
    }

    /// Keeps the orders the engine just saw, with the one this batch
    /// placed or changed as written, for the step that follows: its reply
    /// needs no second read.
    pub(super) fn remember_order(
        &mut self,
        mut list: Vec<OrderSummary>,
        order: crate::domain::Order,
        placed_at: Timestamp,
        next: &Input,
    ) {
        match list.iter_mut().find(|s| s.order.id == order.id) {
            Some(known) => known.order = order,
            None => {
                list.insert(
                    0,
                    OrderSummary {
                        order,
                        created_at: placed_at,
                    },
                );
                list.truncate(RECENT_ORDERS as usize);
            }
        }
        self.orders = Some((referenced_order(next, &self.state), list));
    }

    pub(super) async fn cart(&mut self, tx: &mut Tx) -> Result<Vec<engine::CartLine>, StoreError> {
        if self.cart.is_none() {
            self.cart = Some(cart::load(tx, self.customer.id).await?);
        }
        Ok(self.cart.clone().unwrap_or_default())
    }
}

/// Writes gathered over a batch and issued as a few multi-row statements
/// at its end; queued replies go first before anything that queues its
/// own (placing an order queues its notices), so order holds.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) outbound: Vec<outbox::NewOutbound>,
    pub(super) messages: Vec<conversations::NewMessage>,
    pub(super) finished: Vec<(i64, &'static str, Option<i64>, Option<&'static str>)>,
}

impl Pending {
    pub(super) fn record(
        &mut self,
        seat: &mut Seat,
        author: Author,
        body: &str,
        attachment_url: Option<&str>,
        needs_seller: bool,
        now: Timestamp,
    ) {
        seat.change.count_message(needs_seller, now);
        self.messages.push(conversations::NewMessage {
            shop: seat.customer.shop_id,
            customer: seat.customer.id,
            author,
            body: body.to_string(),
            attachment_url: attachment_url.map(str::to_string),
            needs_seller,
            at: now,
        });
    }

    /// Queues a reply, keyed by the inbound event so reprocessing cannot
    /// queue it twice.
    pub(super) fn say(
        &mut self,
        seat: &mut Seat,
        event_id: i64,
        said: &mut usize,
        message: &Message,
        now: Timestamp,
    ) {
        let key = format!("in:{event_id}:{said}");
        *said += 1;
        self.outbound.push(outbox::NewOutbound {
            shop: seat.customer.shop_id,
            customer: seat.customer.id,
            channel: seat.customer.channel.clone(),
            recipient: seat.customer.channel_user_id.clone(),
            key,
            payload: OutboundPayload::Message {
                message: message.clone(),
            },
        });
        self.record(seat, Author::Bot, &message.plain(), None, false, now);
    }

    /// Queues the replies gathered so far. Enough before an action that
    /// queues messages of its own (an order's notices): replies go out in
    /// the order they were queued. The rest waits for [`Pending::flush`],
    /// as nothing else in the batch reads it back from SQL.
    pub(super) async fn flush_outbound(
        &mut self,
        tx: &mut Tx,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if !self.outbound.is_empty() {
            outbox::enqueue_many(tx, &self.outbound, now).await?;
            self.outbound.clear();
        }
        Ok(())
    }

    pub(super) async fn flush(
        &mut self,
        tx: &mut Tx,
        seats: &mut HashMap<CustomerId, Seat>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        outbox::enqueue_many(tx, &self.outbound, now).await?;
        self.outbound.clear();
        conversations::insert_messages(tx, &self.messages).await?;
        self.messages.clear();
        let mut renewed = Vec::new();
        let mut changes = Vec::new();
        for (id, seat) in seats.iter_mut() {
            if std::mem::take(&mut seat.state_dirty) {
                seat.change.state =
                    Some(serde_json::to_string(&seat.state).unwrap_or_else(|_| "{}".into()));
            }
            if !seat.change.is_empty() {
                changes.push((*id, std::mem::take(&mut seat.change)));
            }
            if std::mem::take(&mut seat.renewed_window) {
                renewed.push(*id);
            }
        }
        conversations::apply_changes(tx, &changes, now).await?;
        conversations::release_held_many(tx, &renewed, now).await?;
        // Most of a batch finishes the same way: one statement per kind.
        self.finished
            .sort_by_key(|(_, status, shop, error)| (*status, *shop, *error));
        for group in self
            .finished
            .chunk_by(|a, b| (a.1, a.2, a.3) == (b.1, b.2, b.3))
        {
            let ids: Vec<i64> = group.iter().map(|f| f.0).collect();
            let (_, status, shop, error) = group[0];
            inbox::finish_many(tx, &ids, status, shop, error, now).await?;
        }
        self.finished.clear();
        Ok(())
    }
}
