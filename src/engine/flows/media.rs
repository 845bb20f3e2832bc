//! Photos (slips, claim photos), stickers and other attachments.

use super::*;
use crate::domain::lifecycle::{self as lc, PaymentStatus};
use crate::domain::order::PaymentMethod;

/// An order a slip could be for when the step does not say which.
fn payable_order<'a>(ctx: &'a Context) -> Option<&'a OrderSummary> {
    ctx.orders.iter().find(|o| {
        lc::holds_stock(o.order.fulfilment)
            && matches!(
                o.order.payment,
                PaymentStatus::Unpaid
                    | PaymentStatus::Rejected
                    | PaymentStatus::PartiallyPaid
                    | PaymentStatus::PendingReview
            )
            && o.order.method != Some(PaymentMethod::Cod)
    })
}

pub(super) fn on_image(s: &mut State, url: &str, ctx: &Context, out: &mut Out) {
    if matches!(s.stage, Stage::ClaimReason { .. } | Stage::Claim { .. }) {
        return claims::add(s, None, Some(url), ctx, out);
    }
    let target = match s.stage {
        Stage::AwaitingSlip { order } | Stage::ChoosePayment { order } => {
            order_of(ctx, OrderId(order))
        }
        _ => None,
    }
    .filter(|o| lc::holds_stock(o.order.fulfilment))
    .or_else(|| payable_order(ctx));
    match target {
        Some(o) if o.order.payment != PaymentStatus::Paid => {
            s.stage = Stage::Idle;
            out.actions.push(Action::AcceptSlip {
                order: o.order.id,
                url: url.to_string(),
            });
            let t = out.t(ctx, "slip_checking", &[("code", o.order.code.as_str())]);
            out.say(t);
        }
        _ => {
            out.actions.push(Action::ForwardToShop {
                text: format!("[image] {url}"),
            });
            let t = out.t(ctx, "image_forwarded", &[]);
            out.say(t);
        }
    }
}

pub(super) fn on_sticker(s: &mut State, ctx: &Context, out: &mut Out) {
    // A sticker mid-checkout changes nothing; repeat what the step waits for.
    match s.stage.clone() {
        Stage::Address { step } => checkout::ask_address(s, step, ctx, out),
        Stage::AwaitingSlip { .. } => {
            let t = out.t(ctx, "sticker_not_slip", &[]);
            out.say(t);
        }
        Stage::PickQty { variant, buy_now } => browse::pick_qty(s, variant, buy_now, ctx, out),
        Stage::ReviewOrder => {
            let t = out.t(ctx, "please_confirm_order", &[]);
            out.say_choices(
                t,
                vec![
                    out.choice(ctx, "btn_place_order", Tap::PlaceOrder),
                    out.choice(ctx, "btn_cart", Tap::Cart),
                ],
            );
        }
        _ => {
            let t = out.t(ctx, "sticker_thanks", &[]);
            let choices = out.menu_choices(ctx);
            out.say_choices(t, choices);
        }
    }
}

pub(super) fn on_other_attachment(s: &mut State, kind: &str, ctx: &Context, out: &mut Out) {
    if matches!(s.stage, Stage::AwaitingSlip { .. })
        || payable_order(ctx).is_some() && kind == "file"
    {
        let t = out.t(ctx, "slip_must_be_photo", &[]);
        return out.say(t);
    }
    if let Stage::Address { step } = s.stage {
        let t = out.t(ctx, "address_as_text", &[]);
        out.say(t);
        return checkout::ask_address(s, step, ctx, out);
    }
    out.actions.push(Action::ForwardToShop {
        text: format!("[{kind}]"),
    });
    let t = out.t(ctx, "image_forwarded", &[]);
    out.say(t);
}
