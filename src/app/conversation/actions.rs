//! The engine's actions carried out inside the batch's transaction, and
//! the orders the engine is shown.

use super::{AfterCommit, Batch, ProcessError};
use crate::app::orders::ApplyError;
use crate::app::shop_views::ShopView;
use crate::channels::{AttachmentKind, InboundKind};
use crate::domain::lifecycle::Actor;
use crate::domain::order::Command;
use crate::domain::{Address, CustomerId, OrderId, ShopId};
use crate::engine::{
    self, Action, CartOp, Context, Input, Message, OrderSummary, PlaceProblem, State,
};
use crate::store::orders::{self, NewOrder, PlaceError};
use crate::store::{Db, StoreError, Tx, cart, claims, customers, payments};
use std::collections::HashMap;

/// One customer event on its way through the engine: who, which event,
/// and what it has led to so far.
struct Turn<'v> {
    view: &'v ShopView,
    customer: CustomerId,
    event_id: i64,
    /// Replies queued for this event (each gets its own idempotency key).
    said: usize,
    /// Whether the customer's message was passed to the seller.
    forwarded: bool,
}

/// What the engine saw when it decided: the actions act on the same.
struct Seen {
    input: Input,
    orders: Vec<OrderSummary>,
    cart: Vec<engine::CartLine>,
    channel: String,
}

/// An event leads to at most this many engine steps (its outcomes feed
/// back in), so a bug cannot loop.
const MAX_STEPS: usize = 4;

impl Batch<'_> {
    /// Runs the engine and carries out its actions; returns whether the
    /// customer's message was passed to the seller.
    pub(super) async fn run_engine(
        &mut self,
        view: &ShopView,
        customer: CustomerId,
        inputs: Vec<Input>,
        event_id: i64,
    ) -> Result<bool, ProcessError> {
        let mut turn = Turn {
            view,
            customer,
            event_id,
            said: 0,
            forwarded: false,
        };
        // Several photos in one message are each their own input, in order,
        // while a claim collects them; otherwise the first speaks for the
        // message, as a slip always did.
        for (i, first) in inputs.into_iter().enumerate() {
            let filing = self
                .seats
                .get(&customer)
                .is_some_and(|s| matches!(s.state.stage, engine::Stage::Claim { .. }));
            if i > 0 && !filing {
                break;
            }
            let mut queue = vec![first];
            let mut steps = 0;
            while let Some(input) = queue.pop() {
                steps += 1;
                if steps > MAX_STEPS {
                    break;
                }
                let Some((seen, actions)) = self.step(&turn, input).await? else {
                    break;
                };
                for action in actions {
                    if let Some(next) = self.carry_out(&mut turn, &seen, action).await? {
                        queue.push(next);
                    }
                }
            }
        }
        Ok(turn.forwarded)
    }

    /// Reads what the engine needs, steps it, and keeps the new state.
    async fn step(
        &mut self,
        turn: &Turn<'_>,
        input: Input,
    ) -> Result<Option<(Seen, Vec<Action>)>, ProcessError> {
        let shop = &turn.view.shop;
        let Some(seat) = self.seats.get_mut(&turn.customer) else {
            return Ok(None);
        };
        let cart = seat.cart(&mut self.tx).await?;
        // Browsing and cart taps never look at orders: skip those reads.
        let orders = if browsing_only(&input) {
            Vec::new()
        } else {
            let also = referenced_order(&input, &seat.state);
            let need = engine::orders_needed(&input);
            match seat.orders.take() {
                Some((read_for, list)) if read_for == also && need <= RECENT_ORDERS => list,
                _ => load_orders(&mut self.tx, shop.id, turn.customer, also, need).await?,
            }
        };
        let detail = match engine::detail_wanted(&input) {
            Some(id) if orders.iter().any(|o| o.order.id == id) => {
                Some(orders::chat_detail(&mut self.tx, shop.id, id).await?)
            }
            _ => None,
        };
        let customer = seat.customer(&mut self.tx).await?.clone();
        let default_locale = customer
            .locale
            .clone()
            .unwrap_or_else(|| shop.locale.clone());
        // The balance's movements are read only when the engine asks for
        // them ("My balance"), and then it steps again with them.
        let mut movements = None;
        let (next, actions) = loop {
            let ctx = Context {
                shop_name: &shop.name,
                currency: shop.currency,
                default_locale: &default_locale,
                settings: &shop.settings,
                catalog: &turn.view.catalog,
                cart: &cart,
                orders: &orders,
                customer_name: &customer.display_name,
                saved_address: customer.address.as_ref(),
                balance: customer.balance,
                movements: movements.as_deref(),
                detail: detail.as_ref(),
                texts: &self.state.texts,
                public_url: &self.state.config.public_url,
                now: self.now,
            };
            let (next, actions) = engine::step(&seat.state, &input, &ctx);
            if movements.is_none() && actions.contains(&Action::LoadBalance) {
                let shown = engine::BALANCE_MOVES_SHOWN;
                movements = Some(
                    customers::recent_movements(&mut self.tx, shop.id, turn.customer, shown)
                        .await?,
                );
                continue;
            }
            break (next, actions);
        };
        seat.state = next;
        seat.state_dirty = true;
        let seen = Seen {
            input,
            orders,
            cart,
            channel: customer.channel,
        };
        Ok(Some((seen, actions)))
    }

    /// Carries out one action; returns the outcome to feed back in, if any.
    async fn carry_out(
        &mut self,
        turn: &mut Turn<'_>,
        seen: &Seen,
        action: Action,
    ) -> Result<Option<Input>, ProcessError> {
        let (now, shop, customer) = (self.now, turn.view.shop.id, turn.customer);
        let Some(seat) = self.seats.get_mut(&customer) else {
            return Ok(None);
        };
        match action {
            Action::Say(message) => {
                self.pending
                    .say(seat, turn.event_id, &mut turn.said, &message, now)
            }
            Action::Cart(op) => {
                match op {
                    CartOp::Add { variant, qty } => {
                        cart::add(&mut self.tx, shop, customer, variant, qty, now).await?
                    }
                    CartOp::Set { variant, qty } => {
                        cart::set(&mut self.tx, shop, customer, variant, qty, now).await?
                    }
                    CartOp::Clear => cart::clear(&mut self.tx, customer).await?,
                }
                seat.cart = None;
            }
            Action::SaveAddress(address) => {
                customers::save_address(&mut self.tx, customer, &address, now).await?;
                seat.customer.phone = Some(address.phone.as_str().to_string());
                seat.customer.address = Some(address);
            }
            Action::PlaceOrder {
                address,
                shipping_fee,
            } => {
                return self
                    .place_order(turn, seen, address, shipping_fee)
                    .await
                    .map(Some);
            }
            Action::Order { order, command } => {
                return self
                    .order_command(turn, seen, order, command)
                    .await
                    .map(Some);
            }
            Action::AcceptSlip { order, url } => self.accept_slip(turn, order, &url).await?,
            Action::SendPaymentQr { order } => self.send_payment_qr(turn, order).await?,
            Action::Claim {
                order,
                reason,
                filing,
                text,
                image_url,
            } => {
                if !seen.orders.iter().any(|o| o.order.id == order) {
                    return Ok(None);
                }
                let f = claims::FileClaim {
                    shop,
                    order,
                    customer,
                    filing: &filing,
                    reason,
                    text: text.as_deref(),
                    image: image_url.as_deref(),
                };
                let (claim, _) = claims::file(&mut self.tx, &f, now).await?;
                tracing::info!(claim, order = order.get(), "claim filed from chat");
                if image_url.is_some() {
                    self.after.push(AfterCommit::WakeSlips);
                }
                turn.forwarded = true;
            }
            Action::ForwardToShop { .. } => turn.forwarded = true,
            // Answered in `step`, which reads the movements and steps again.
            Action::LoadBalance => {}
        }
        Ok(None)
    }

    /// Places the cart as an order, or says why it could not be.
    async fn place_order(
        &mut self,
        turn: &Turn<'_>,
        seen: &Seen,
        address: Address,
        shipping_fee: i64,
    ) -> Result<Input, ProcessError> {
        let now = self.now;
        // The order queues its own notices: what this batch said before
        // must be queued first.
        self.pending.flush_outbound(&mut self.tx, now).await?;
        let new = NewOrder {
            customer: turn.customer,
            channel: seen.channel.clone(),
            items: seen.cart.iter().map(|l| (l.variant, l.qty)).collect(),
            address: Some(address),
            method: None,
            shipping_fee: Some(shipping_fee),
        };
        // A refusal must undo the lines already reserved. With one line it
        // is refused before anything is written, and a database error fails
        // the whole batch anyway.
        let guarded = new.items.len() > 1;
        if guarded {
            Db::savepoint(&mut self.tx, "place_order").await?;
        }
        let placed = orders::place_in_tx(&mut self.tx, &turn.view.shop, new, now).await;
        if guarded {
            Db::savepoint_end(&mut self.tx, "place_order", placed.is_ok()).await?;
        }
        let order = match placed {
            Ok(order) => order,
            Err(PlaceError::Store(s)) => return Err(s.into()),
            Err(e) => {
                let reason = match e {
                    PlaceError::OutOfStock { name, .. } => PlaceProblem::OutOfStock { name },
                    PlaceError::Empty => PlaceProblem::EmptyCart,
                    _ => PlaceProblem::Other,
                };
                return Ok(Input::OrderNotPlaced { reason });
            }
        };
        cart::clear(&mut self.tx, turn.customer).await?;
        tracing::info!(order = %order.code, "order placed from chat");
        let next = Input::OrderPlaced { order: order.id };
        // Placing empties the cart and leaves the customer row alone.
        if let Some(seat) = self.seats.get_mut(&turn.customer) {
            seat.cart = Some(Vec::new());
            if !browsing_only(&seen.input) {
                seat.remember_order(seen.orders.clone(), order, now, &next);
            }
        }
        Ok(next)
    }

    /// A customer's command on one of their orders (cancel, pay from
    /// balance, choose COD, ...), through the same rules as the seller's.
    async fn order_command(
        &mut self,
        turn: &Turn<'_>,
        seen: &Seen,
        order: OrderId,
        command: Command,
    ) -> Result<Input, ProcessError> {
        let now = self.now;
        self.pending.flush_outbound(&mut self.tx, now).await?;
        let asked = command.clone();
        let applied = crate::app::orders::apply_in_tx(
            &mut self.tx,
            &turn.view.shop,
            order,
            command,
            &Actor::Customer,
            now,
        )
        .await;
        let applied = match applied {
            Ok(applied) => applied,
            Err(ApplyError::Store(s)) => return Err(s.into()),
            Err(e) => {
                return Ok(Input::CommandRefused {
                    order,
                    reason: e.to_string(),
                });
            }
        };
        let next = Input::CommandDone {
            order,
            command: asked,
        };
        if let Some(seat) = self.seats.get_mut(&turn.customer) {
            // Only a ledger entry changes the customer row.
            seat.customer_stale |= !applied.plan.ledger.is_empty();
            if !browsing_only(&seen.input) {
                seat.remember_order(seen.orders.clone(), applied.order, now, &next);
            }
        }
        Ok(next)
    }

    /// A slip photo: a web-chat upload is analysed after the commit; a
    /// Messenger attachment is queued for the slip worker to download.
    async fn accept_slip(
        &mut self,
        turn: &Turn<'_>,
        order: OrderId,
        url: &str,
    ) -> Result<(), ProcessError> {
        let shop = turn.view.shop.id;
        if let Some(name) = url.strip_prefix("upload:") {
            let path = crate::slips::media::upload_path(&self.state.config.media_dir, name);
            self.after.push(AfterCommit::Upload {
                shop,
                order,
                customer: turn.customer,
                path,
            });
        } else {
            self.pending.flush_outbound(&mut self.tx, self.now).await?;
            payments::insert_fetching(
                &mut self.tx,
                shop,
                order,
                turn.customer,
                Some(url),
                self.now,
            )
            .await?;
            self.after.push(AfterCommit::WakeSlips);
        }
        Ok(())
    }

    /// A QR for exactly what the order still owes, as a picture.
    async fn send_payment_qr(
        &mut self,
        turn: &mut Turn<'_>,
        order: OrderId,
    ) -> Result<(), ProcessError> {
        let shop = &turn.view.shop;
        let o = orders::load_in(&mut self.tx, shop.id, order).await?;
        let url = match super::super::slips::payment_qr_image_url(self.state, shop, &o).await {
            Ok(url) => url,
            Err(e) => {
                tracing::warn!(error = %e, "payment QR could not be made");
                return Ok(());
            }
        };
        if let Some(seat) = self.seats.get_mut(&turn.customer) {
            let image = Message::Image { url };
            self.pending
                .say(seat, turn.event_id, &mut turn.said, &image, self.now);
        }
        Ok(())
    }
}

/// What one message says to the engine: one input, or one per photo
/// when it carries several (at most [`MAX_PHOTOS_PER_MESSAGE`]).
pub(super) fn to_inputs(kind: &InboundKind) -> Vec<Input> {
    match kind {
        InboundKind::Attachments { attachments, .. } => {
            let photos: Vec<Input> = attachments
                .iter()
                .filter(|a| a.kind == AttachmentKind::Image)
                .filter_map(|a| a.url.clone())
                .take(MAX_PHOTOS_PER_MESSAGE)
                .map(|url| Input::Image { url })
                .collect();
            if photos.is_empty() {
                vec![to_input(kind)]
            } else {
                photos
            }
        }
        _ => vec![to_input(kind)],
    }
}

/// Messenger sends an album as one message; ten photos are plenty.
const MAX_PHOTOS_PER_MESSAGE: usize = 10;

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
    limit: i64,
) -> Result<Vec<OrderSummary>, StoreError> {
    let mut many = orders_of(tx, shop, &[(customer, also)], limit).await?;
    Ok(many.remove(&customer).unwrap_or_default())
}

/// Several customers' recent orders (plus the one each refers to) at once.
/// A referenced order counts only if it is that customer's own.
pub(super) async fn orders_of(
    tx: &mut Tx,
    shop: ShopId,
    wants: &[(CustomerId, Option<i64>)],
    limit: i64,
) -> Result<HashMap<CustomerId, Vec<OrderSummary>>, StoreError> {
    let customers: Vec<CustomerId> = wants.iter().map(|(c, _)| *c).collect();
    let also: Vec<OrderId> = wants.iter().filter_map(|(_, a)| a.map(OrderId)).collect();
    let mut out: HashMap<CustomerId, Vec<OrderSummary>> =
        customers.iter().map(|c| (*c, Vec::new())).collect();
    for (order, created_at) in
        orders::recent_of_customers(tx, shop, &customers, &also, limit).await?
    {
        if let Some(list) = out.get_mut(&order.customer_id) {
            list.push(OrderSummary { order, created_at });
        }
    }
    Ok(out)
}

/// Orders the engine is shown for most inputs: the first page of "View
/// orders" and one more, to know whether older ones exist.
pub(super) const RECENT_ORDERS: i64 = engine::ORDERS_PER_PAGE + 1;

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
        | engine::Stage::ClaimReason { order }
        | engine::Stage::Claim { order, .. } => Some(order),
        _ => None,
    }
}
