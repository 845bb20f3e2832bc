//! The engine's actions carried out inside the batch's transaction, and
//! the orders the engine is shown.

use super::{AfterCommit, Batch, ProcessError};
use crate::app::orders::ApplyError;
use crate::app::shop_views::ShopView;
use crate::channels::{AttachmentKind, InboundKind};
use crate::domain::lifecycle::Actor;
use crate::domain::{CustomerId, OrderId, ShopId};
use crate::engine::{
    self, Action, CartOp, Context, Input, Message, OrderSummary, PlaceProblem, State,
};
use crate::store::orders::{self, NewOrder, PlaceError};
use crate::store::{Db, StoreError, Tx, cart, complaints, customers, payments};
use std::collections::HashMap;

impl Batch<'_> {
    /// Runs the engine and carries out its actions; returns whether the
    /// customer's message was passed to the seller.
    pub(super) async fn run_engine(
        &mut self,
        view: &ShopView,
        customer_id: CustomerId,
        first: Input,
        event_id: i64,
    ) -> Result<bool, ProcessError> {
        let state = self.state;
        let now = self.now;
        let shop = &view.shop;
        let mut forwarded = false;
        let mut queue = vec![first];
        let mut said = 0usize;
        let mut rounds = 0;
        while let Some(input) = queue.pop() {
            rounds += 1;
            if rounds > 4 {
                break;
            }
            let Some(seat) = self.seats.get_mut(&customer_id) else {
                break;
            };
            let cart_lines = seat.cart(&mut self.tx).await?;
            // Browsing and cart taps never look at orders: skip those reads.
            let orders = if browsing_only(&input) {
                Vec::new()
            } else {
                let also = referenced_order(&input, &seat.state);
                match seat.orders.take() {
                    Some((read_for, list)) if read_for == also => list,
                    _ => load_orders(&mut self.tx, shop.id, customer_id, also).await?,
                }
            };
            let customer = seat.customer(&mut self.tx).await?.clone();
            let default_locale = customer
                .locale
                .clone()
                .unwrap_or_else(|| shop.locale.clone());
            let ctx = Context {
                shop_name: &shop.name,
                currency: shop.currency,
                default_locale: &default_locale,
                settings: &shop.settings,
                catalog: &view.catalog,
                cart: &cart_lines,
                orders: &orders,
                customer_name: &customer.display_name,
                saved_address: customer.address.as_ref(),
                balance: customer.balance,
                texts: &state.texts,
                public_url: &state.config.public_url,
                now,
            };
            let (next, actions) = engine::step(&seat.state, &input, &ctx);
            seat.state = next;
            seat.state_dirty = true;
            for action in actions {
                let Some(seat) = self.seats.get_mut(&customer_id) else {
                    break;
                };
                match action {
                    Action::Say(message) => {
                        self.pending.say(seat, event_id, &mut said, &message, now)
                    }
                    Action::Cart(op) => {
                        match op {
                            CartOp::Add { variant, qty } => {
                                cart::add(&mut self.tx, shop.id, customer_id, variant, qty, now)
                                    .await?
                            }
                            CartOp::Set { variant, qty } => {
                                cart::set(&mut self.tx, shop.id, customer_id, variant, qty, now)
                                    .await?
                            }
                            CartOp::Clear => cart::clear(&mut self.tx, customer_id).await?,
                        }
                        seat.cart = None;
                    }
                    Action::SaveAddress(address) => {
                        customers::save_address(&mut self.tx, customer_id, &address, now).await?;
                        seat.customer.phone = Some(address.phone.as_str().to_string());
                        seat.customer.address = Some(address);
                    }
                    Action::PlaceOrder {
                        address,
                        shipping_fee,
                    } => {
                        // The order queues its own notices: what this batch
                        // said before must be queued first.
                        self.pending.flush_outbound(&mut self.tx, now).await?;
                        let items: Vec<_> = cart_lines.iter().map(|l| (l.variant, l.qty)).collect();
                        let new = NewOrder {
                            customer: customer_id,
                            channel: customer.channel.clone(),
                            items,
                            address: Some(address),
                            method: None,
                            shipping_fee: Some(shipping_fee),
                        };
                        // A refusal must undo the lines already reserved. With
                        // one line it is refused before anything is written, and
                        // a database error fails the whole batch anyway.
                        let guarded = new.items.len() > 1;
                        if guarded {
                            Db::savepoint(&mut self.tx, "place_order").await?;
                        }
                        match orders::place_in_tx(&mut self.tx, shop, new, now).await {
                            Ok(order) => {
                                if guarded {
                                    Db::savepoint_end(&mut self.tx, "place_order", true).await?;
                                }
                                cart::clear(&mut self.tx, customer_id).await?;
                                tracing::info!(order = %order.code, "order placed from chat");
                                let next = Input::OrderPlaced { order: order.id };
                                // Placing empties the cart and leaves the
                                // customer row alone; a refusal changes nothing.
                                if let Some(seat) = self.seats.get_mut(&customer_id) {
                                    seat.cart = Some(Vec::new());
                                    if !browsing_only(&input) {
                                        seat.remember_order(orders.clone(), order, now, &next);
                                    }
                                }
                                queue.push(next);
                            }
                            Err(e) => {
                                if guarded {
                                    Db::savepoint_end(&mut self.tx, "place_order", false).await?;
                                }
                                let reason = match e {
                                    PlaceError::OutOfStock { name, .. } => {
                                        PlaceProblem::OutOfStock { name }
                                    }
                                    PlaceError::Empty => PlaceProblem::EmptyCart,
                                    PlaceError::Store(s) => return Err(s.into()),
                                    _ => PlaceProblem::Other,
                                };
                                queue.push(Input::OrderNotPlaced { reason });
                            }
                        }
                    }
                    Action::Order { order, command } => {
                        self.pending.flush_outbound(&mut self.tx, now).await?;
                        let asked = command.clone();
                        match crate::app::orders::apply_in_tx(
                            &mut self.tx,
                            shop,
                            order,
                            command,
                            &Actor::Customer,
                            now,
                        )
                        .await
                        {
                            Ok(applied) => {
                                let next = Input::CommandDone {
                                    order,
                                    command: asked,
                                };
                                if let Some(seat) = self.seats.get_mut(&customer_id) {
                                    // Only a ledger entry changes the customer row.
                                    seat.customer_stale |= !applied.plan.ledger.is_empty();
                                    if !browsing_only(&input) {
                                        seat.remember_order(
                                            orders.clone(),
                                            applied.order,
                                            now,
                                            &next,
                                        );
                                    }
                                }
                                queue.push(next);
                            }
                            Err(ApplyError::Store(s)) => return Err(s.into()),
                            Err(e) => {
                                queue.push(Input::CommandRefused {
                                    order,
                                    reason: e.to_string(),
                                });
                            }
                        }
                    }
                    Action::AcceptSlip { order, url } => {
                        if let Some(name) = url.strip_prefix("upload:") {
                            let path =
                                crate::slips::media::upload_path(&state.config.media_dir, name);
                            self.after.push(AfterCommit::Upload {
                                shop: shop.id,
                                order,
                                customer: customer_id,
                                path,
                            });
                        } else {
                            self.pending.flush_outbound(&mut self.tx, now).await?;
                            payments::insert_fetching(
                                &mut self.tx,
                                shop.id,
                                order,
                                customer_id,
                                Some(&url),
                                now,
                            )
                            .await?;
                            self.after.push(AfterCommit::WakeSlips);
                        }
                    }
                    Action::SendPaymentQr { order } => {
                        let o = orders::load_in(&mut self.tx, shop.id, order).await?;
                        match super::super::slips::payment_qr_image_url(state, shop, &o).await {
                            Ok(url) => self.pending.say(
                                seat,
                                event_id,
                                &mut said,
                                &Message::Image { url },
                                now,
                            ),
                            Err(e) => tracing::warn!(error = %e, "payment QR could not be made"),
                        }
                    }
                    Action::Complaint {
                        order,
                        text,
                        image_url,
                    } => {
                        complaints::open(
                            &mut self.tx,
                            shop.id,
                            order,
                            customer_id,
                            &text,
                            image_url.as_deref(),
                            now,
                        )
                        .await?;
                        forwarded = true;
                    }
                    Action::ForwardToShop { .. } => forwarded = true,
                }
            }
        }
        Ok(forwarded)
    }
}

pub(super) fn to_input(kind: &InboundKind) -> Input {
    match kind {
        InboundKind::Text { text } | InboundKind::Edit { text, .. } => Input::Text(text.clone()),
        InboundKind::QuickReply { payload, .. } | InboundKind::Postback { payload, .. } => {
            Input::from_payload(payload)
        }
        InboundKind::Referral { referral } => Input::Referral(referral.clone()),
        InboundKind::Attachments { attachments, text } => {
            if let Some(url) = attachments
                .iter()
                .find(|a| a.kind == AttachmentKind::Image)
                .and_then(|a| a.url.clone())
            {
                Input::Image { url }
            } else if attachments
                .iter()
                .any(|a| a.kind == AttachmentKind::Sticker)
            {
                Input::Sticker
            } else if let Some(a) = attachments.first() {
                Input::OtherAttachment(format!("{:?}", a.kind).to_lowercase())
            } else {
                Input::Text(text.clone().unwrap_or_default())
            }
        }
        _ => Input::Text(String::new()),
    }
}

/// Orders the engine may see: the customer's recent ones, plus any a
/// button or the current step refers to.
async fn load_orders(
    tx: &mut Tx,
    shop: ShopId,
    customer: CustomerId,
    also: Option<i64>,
) -> Result<Vec<OrderSummary>, StoreError> {
    let mut many = orders_of(tx, shop, &[(customer, also)]).await?;
    Ok(many.remove(&customer).unwrap_or_default())
}

/// Several customers' recent orders (plus the one each refers to) at once.
/// A referenced order counts only if it is that customer's own.
pub(super) async fn orders_of(
    tx: &mut Tx,
    shop: ShopId,
    wants: &[(CustomerId, Option<i64>)],
) -> Result<HashMap<CustomerId, Vec<OrderSummary>>, StoreError> {
    let customers: Vec<CustomerId> = wants.iter().map(|(c, _)| *c).collect();
    let also: Vec<OrderId> = wants.iter().filter_map(|(_, a)| a.map(OrderId)).collect();
    let mut out: HashMap<CustomerId, Vec<OrderSummary>> =
        customers.iter().map(|c| (*c, Vec::new())).collect();
    for (order, created_at) in
        orders::recent_of_customers(tx, shop, &customers, &also, RECENT_ORDERS).await?
    {
        if let Some(list) = out.get_mut(&order.customer_id) {
            list.push(OrderSummary { order, created_at });
        }
    }
    Ok(out)
}

/// Orders the engine shows a customer ("view orders" and the like).
pub(super) const RECENT_ORDERS: i64 = 6;

/// Inputs whose whole path through the engine ignores the customer's
/// orders, so they are not read.
pub(super) fn browsing_only(input: &Input) -> bool {
    match input {
        Input::Tap(tap) => tap.browsing_only(),
        // Answered as a stale button, which reads nothing.
        Input::UnknownTap(_) => true,
        _ => false,
    }
}

/// The order id a tap or the conversation step points at.
pub(super) fn referenced_order(input: &Input, state: &State) -> Option<i64> {
    if let Input::Tap(tap) = input
        && let Some(order) = tap.order()
    {
        return Some(order.get());
    }
    match state.stage {
        engine::Stage::AwaitingSlip { order }
        | engine::Stage::ChoosePayment { order }
        | engine::Stage::ConfirmCancel { order }
        | engine::Stage::OrderMoreQty { order, .. }
        | engine::Stage::Complaint { order } => Some(order),
        _ => None,
    }
}
