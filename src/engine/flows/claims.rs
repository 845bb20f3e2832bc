//! Reporting a problem with an order: the reason, then words and photos
//! (as many as the customer sends) until "Done". While a claim is being
//! filed, a picture belongs to it, never to a payment.

use super::*;
use crate::domain::claim::ClaimReason;

pub(super) fn ask_reason(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    s.stage = Stage::ClaimReason {
        order: o.order.id.get(),
    };
    let text = out.t(ctx, "claim_ask_reason", &[("code", o.order.code.as_str())]);
    let choices = ClaimReason::ALL
        .iter()
        .map(|r| {
            let tap = Tap::ClaimReason {
                order: o.order.id,
                reason: *r,
            };
            out.choice(ctx, &format!("claim_reason_{}", r.as_str()), tap)
        })
        .collect();
    out.say_choices(text, choices);
}

pub(super) fn start(
    s: &mut State,
    o: &OrderSummary,
    reason: ClaimReason,
    ctx: &Context,
    out: &mut Out,
) {
    s.stage = Stage::Claim {
        order: o.order.id.get(),
        reason,
        started: ctx.now.millis(),
        items: 0,
    };
    let text = out.t(ctx, "claim_ask_details", &[]);
    out.say_choices(text, vec![done_choice(o.order.id, ctx, out)]);
}

fn done_choice(order: OrderId, ctx: &Context, out: &Out) -> Choice {
    out.choice(ctx, "btn_claim_done", Tap::ClaimDone(order))
}

/// Words or a photo while filing: added to the claim. The first is
/// acknowledged; the rest join quietly, so an album is not ten replies.
pub(super) fn add(
    s: &mut State,
    text: Option<&str>,
    image_url: Option<&str>,
    ctx: &Context,
    out: &mut Out,
) {
    let (order, reason, started, items) = match s.stage {
        Stage::Claim {
            order,
            reason,
            started,
            items,
        } => (order, reason, started, items),
        // Typed straight after "what went wrong": a claim about something else.
        Stage::ClaimReason { order } => (order, ClaimReason::Other, ctx.now.millis(), 0),
        _ => return,
    };
    out.actions.push(Action::Claim {
        order: OrderId(order),
        reason,
        filing: format!("chat:{order}:{started}"),
        text: text.map(str::to_string),
        image_url: image_url.map(str::to_string),
    });
    s.stage = Stage::Claim {
        order,
        reason,
        started,
        items: items.saturating_add(1),
    };
    if items == 0 {
        let t = out.t(ctx, "claim_got", &[]);
        let done = done_choice(OrderId(order), ctx, out);
        out.say_choices(t, vec![done]);
    }
}

pub(super) fn done(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    let filed = matches!(s.stage, Stage::Claim { order, items, .. } if order == o.order.id.get() && items > 0);
    s.stage = Stage::Idle;
    let key = if filed {
        "claim_filed"
    } else {
        "claim_nothing_filed"
    };
    let text = out.t(ctx, key, &[("code", o.order.code.as_str())]);
    let choices = out.menu_choices(ctx);
    out.say_choices(text, choices);
}
