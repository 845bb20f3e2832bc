//! The customer's orders: the list, one order with its receipt, cancelling,
//! ordering more, answering a changed line, and what the shell
//! reports back after an order command.

use super::*;
use crate::domain::OrderLine;
use crate::domain::lifecycle::{self as lc, PaymentStatus};
use crate::domain::order::LineStatus;

pub(super) fn status_text(order: &Order, ctx: &Context, out: &Out) -> String {
    let f = out.t(ctx, &format!("status_{}", order.fulfilment.as_str()), &[]);
    let p = out.t(ctx, &format!("payment_{}", order.payment.as_str()), &[]);
    format!("{f} · {p}")
}

pub(super) fn list_orders(s: &mut State, ctx: &Context, out: &mut Out) {
    list_page(s, 0, ctx, out)
}

/// One page of the customer's orders, newest first, with a button for
/// older ones while there are any.
pub(super) fn list_page(s: &mut State, page: usize, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    if ctx.orders.is_empty() {
        let text = out.t(ctx, "no_orders", &[]);
        return out.say_choices(text, vec![out.choice(ctx, "btn_products", Tap::Products)]);
    }
    let per = ORDERS_PER_PAGE as usize;
    let page = page.min(MAX_ORDER_PAGES).min((ctx.orders.len() - 1) / per);
    let key = if page == 0 {
        "orders_header"
    } else {
        "orders_older_header"
    };
    let mut text = out.t(ctx, key, &[]);
    let mut choices = Vec::new();
    for o in ctx.orders.iter().skip(page * per).take(per) {
        text.push_str(&format!(
            "\n{} · {} · {}",
            o.order.code,
            out.money(ctx, o.order.totals().total.minor),
            status_text(&o.order, ctx, out)
        ));
        choices.push(Choice::tap(
            o.order.code.to_string(),
            &Tap::ShowOrder(o.order.id),
        ));
    }
    if ctx.orders.len() > (page + 1) * per && page < MAX_ORDER_PAGES {
        choices.push(out.choice(ctx, "btn_older_orders", Tap::OrdersPage(page + 1)));
    }
    out.say_choices(text, choices);
}

/// "My order": the one order when there is one, else the list.
pub(super) fn my_order(s: &mut State, ctx: &Context, out: &mut Out) {
    match ctx.orders {
        [only] => show_order(s, only, ctx, out),
        _ => list_orders(s, ctx, out),
    }
}

/// "Cancel my order" typed: the order when only one may be cancelled,
/// a choice when several may, and why not when none may.
pub(super) fn cancel_typed(s: &mut State, ctx: &Context, out: &mut Out) {
    let may: Vec<&OrderSummary> = ctx
        .orders
        .iter()
        .filter(|o| {
            lc::customer_may_cancel(
                o.order.fulfilment,
                o.order.payment,
                ctx.settings.cancel_rule,
            )
        })
        .collect();
    match may.as_slice() {
        [only] => ask_cancel(s, only, ctx, out),
        [] => match ctx.orders.first() {
            Some(newest) => cannot_cancel(s, newest, ctx, out),
            None => list_orders(s, ctx, out),
        },
        several => {
            s.stage = Stage::Idle;
            let text = out.t(ctx, "which_order_to_cancel", &[]);
            let choices = several
                .iter()
                .map(|o| Choice::tap(o.order.code.to_string(), &Tap::Cancel(o.order.id)))
                .collect();
            out.say_choices(text, choices);
        }
    }
}

/// "Where is my parcel": the newest shipped order with its tracking, or
/// what the newest order is waiting for.
pub(super) fn where_is_parcel(s: &mut State, ctx: &Context, out: &mut Out) {
    if let Some(sent) = ctx.orders.iter().find(|o| o.order.carrier.is_some()) {
        return show_order(s, sent, ctx, out);
    }
    let Some(newest) = ctx.orders.first() else {
        return list_orders(s, ctx, out);
    };
    let text = out.t(
        ctx,
        "parcel_not_shipped",
        &[
            ("code", newest.order.code.as_str()),
            ("status", &status_text(&newest.order, ctx, out)),
        ],
    );
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_view_order", Tap::ShowOrder(newest.order.id)),
            out.choice(ctx, "btn_talk", Tap::TalkToShop),
        ],
    );
}

pub(super) fn receipt(o: &OrderSummary, ctx: &Context, out: &Out) -> Receipt {
    let order = &o.order;
    let t = order.totals();
    let lines: Vec<ReceiptLine> = order
        .lines
        .iter()
        .filter(|l| l.status != LineStatus::Refused)
        .map(|l| ReceiptLine {
            title: l.name.clone(),
            subtitle: l.variant_name.clone(),
            qty: l.qty,
            unit_price: l.unit_price,
        })
        .collect();
    let method = match order.method {
        Some(m) => out.t(ctx, &format!("method_{}", m.as_str()), &[]),
        None => out.t(ctx, "method_not_chosen", &[]),
    };
    let mut text = out.t(
        ctx,
        "bill_header",
        &[("code", order.code.as_str()), ("shop", ctx.shop_name)],
    );
    for l in &lines {
        let name = if l.subtitle.is_empty() {
            l.title.clone()
        } else {
            format!("{} ({})", l.title, l.subtitle)
        };
        text.push_str(&format!(
            "\n{} × {} — {}",
            l.qty,
            name,
            out.money(ctx, l.unit_price * l.qty)
        ));
    }
    out.amount_line(&mut text, ctx, "subtotal_line", t.subtotal.minor);
    let province = order
        .address
        .as_ref()
        .map(|a| a.province.as_str())
        .unwrap_or("");
    out.shipping_line(
        &mut text,
        ctx,
        t.subtotal.minor,
        province,
        t.shipping_fee.minor,
    );
    if t.service_fees.minor > 0 {
        out.amount_line(&mut text, ctx, "fees_line", t.service_fees.minor);
    }
    if t.discount.minor > 0 {
        out.amount_line(&mut text, ctx, "discount_line", t.discount.minor);
    }
    out.amount_line(&mut text, ctx, "total_line", t.total.minor);
    if t.paid.minor > 0 {
        text.push('\n');
        text.push_str(&out.t(
            ctx,
            "paid_line",
            &[
                ("paid", &out.money(ctx, t.paid.minor)),
                ("remaining", &out.money(ctx, t.remaining.minor)),
            ],
        ));
    }
    Receipt {
        order_code: order.code.to_string(),
        recipient_name: order
            .address
            .as_ref()
            .map(|a| a.full_name.clone())
            .unwrap_or_else(|| ctx.customer_name.to_string()),
        merchant_name: ctx.shop_name.to_string(),
        currency: ctx.currency,
        payment_method: method,
        lines,
        subtotal: t.subtotal.minor,
        shipping: t.shipping_fee.minor,
        fees: t.service_fees.minor,
        discount: t.discount.minor,
        total: t.total.minor,
        address: order.address.clone(),
        timestamp: o.created_at,
        text,
    }
}

pub(super) fn show_order(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let order = &o.order;
    out.actions.push(Action::Say(Message::Receipt {
        receipt: Box::new(receipt(o, ctx, out)),
    }));
    let mut text = out.t(
        ctx,
        "order_status",
        &[
            ("code", order.code.as_str()),
            ("status", &status_text(order, ctx, out)),
        ],
    );
    if let Some(carrier) = &order.carrier {
        text.push('\n');
        text.push_str(&out.t(
            ctx,
            "tracking_line",
            &[
                ("carrier", carrier),
                ("tracking", order.tracking.as_deref().unwrap_or("-")),
            ],
        ));
        if let Some(url) = order
            .tracking
            .as_deref()
            .and_then(|t| ctx.settings.tracking_url(carrier, t))
        {
            text.push('\n');
            text.push_str(&out.t(ctx, "tracking_link_line", &[("url", &url)]));
        }
    }
    if let Some(status) = order
        .tracking_status
        .filter(|_| order.fulfilment == crate::domain::lifecycle::Fulfilment::Shipping)
    {
        text.push('\n');
        let words = out.t(ctx, &format!("tracking_status_{}", status.as_str()), &[]);
        text.push_str(&out.t(ctx, "tracking_status_line", &[("status", &words)]));
    }
    super::services::chosen_lines(&mut text, order, ctx, out);
    if let Some(d) = ctx.detail.filter(|d| d.order == order.id) {
        detail_lines(&mut text, order, d, ctx, out);
    }
    push_policy(&mut text, ctx, out);
    let mut choices = Vec::new();
    for l in order
        .lines
        .iter()
        .filter(|l| l.status == LineStatus::AwaitingCustomer)
    {
        text.push('\n');
        text.push_str(&line_change_text(order, l, ctx, out));
        let answer = |accept| Tap::AnswerLineChange {
            order: order.id,
            line: l.id,
            accept,
        };
        choices.push(out.choice(ctx, "btn_accept_change", answer(true)));
        choices.push(out.choice(ctx, "btn_refuse_change", answer(false)));
    }
    if lc::holds_stock(order.fulfilment)
        && matches!(
            order.payment,
            PaymentStatus::Unpaid | PaymentStatus::Rejected | PaymentStatus::PartiallyPaid
        )
    {
        choices.push(out.choice(ctx, "btn_pay", Tap::PaymentMenu(order.id)));
    }
    if lc::customer_may_cancel(order.fulfilment, order.payment, ctx.settings.cancel_rule) {
        choices.push(out.choice(ctx, "btn_cancel_order", Tap::Cancel(order.id)));
    }
    if lc::may_order_more(order.fulfilment, order.payment) {
        choices.push(out.choice(ctx, "btn_order_more", Tap::OrderMore(order.id)));
    }
    if lc::seller_may_edit(order.fulfilment) {
        choices.push(out.choice(ctx, "btn_change_address", Tap::ChangeAddress(order.id)));
    }
    if super::services::offered(order, ctx) {
        choices.push(out.choice(ctx, "btn_services", Tap::Services(order.id)));
    }
    choices.push(out.choice(ctx, "btn_complain", Tap::Complain(order.id)));
    choices.push(out.choice(ctx, "btn_talk", Tap::TalkToShop));
    out.say_choices(text, choices);
}

/// The order's history, payments (with what is still owed) and claims,
/// as the seeds' order tabs show them, newest history last.
fn detail_lines(text: &mut String, order: &Order, d: &OrderDetail, ctx: &Context, out: &Out) {
    let cal = ctx.settings.calendar();
    const SHOWN: usize = 8;
    if !d.history.is_empty() {
        text.push_str("\n\n");
        text.push_str(&out.t(ctx, "detail_history", &[]));
        for (at, machine, to) in d.history.iter().rev().take(SHOWN).rev() {
            let key = match machine.as_str() {
                "payment" => format!("payment_{to}"),
                _ => format!("status_{to}"),
            };
            text.push_str(&format!(
                "\n{} · {}",
                cal.date_time(*at),
                out.t(ctx, &key, &[])
            ));
        }
    }
    if !d.payments.is_empty() {
        text.push_str("\n\n");
        text.push_str(&out.t(ctx, "detail_payments", &[]));
        for (at, method, amount, status) in d.payments.iter().rev().take(SHOWN).rev() {
            let state = match status.as_str() {
                "confirmed" | "difference" => "pay_row_received",
                "rejected" | "failed" => "pay_row_not_accepted",
                "refund_due" => "pay_row_to_pay_back",
                _ => "pay_row_checking",
            };
            text.push_str(&format!(
                "\n{} · {} · {} · {}",
                cal.date_time(*at),
                out.t(ctx, &format!("method_{method}"), &[]),
                out.money(ctx, amount.abs()),
                out.t(ctx, state, &[])
            ));
        }
    }
    let owed = order.totals().remaining.minor;
    if owed > 0 && lc::holds_stock(order.fulfilment) {
        text.push('\n');
        text.push_str(&out.t(
            ctx,
            "detail_still_owed",
            &[("amount", &out.money(ctx, owed))],
        ));
    }
    for (reason, status) in &d.claims {
        text.push('\n');
        text.push_str(&out.t(
            ctx,
            "detail_claim",
            &[
                (
                    "reason",
                    &out.t(ctx, &format!("claim_reason_{}", reason.as_str()), &[]),
                ),
                (
                    "status",
                    &out.t(ctx, &format!("claim_status_{}", status.as_str()), &[]),
                ),
            ],
        ));
    }
}

fn line_change_text(order: &Order, l: &OrderLine, ctx: &Context, out_locale: &Out) -> String {
    let price = Money::new(
        l.proposed_unit_price.unwrap_or(l.unit_price),
        order.currency,
    )
    .display_as(&out_locale.locale, ctx.settings.currency_display);
    let qty = l.proposed_qty.unwrap_or(l.qty).to_string();
    out_locale.t(
        ctx,
        "line_change",
        &[("name", &l.name), ("qty", &qty), ("price", &price)],
    )
}

/// The shop's cancel policy in words, in the customer's language, if set.
fn push_policy(text: &mut String, ctx: &Context, out: &Out) {
    if let Some(policy) = ctx
        .settings
        .cancel_policy_in(&out.locale, ctx.default_locale)
    {
        text.push_str("\n\n");
        text.push_str(&out.t(ctx, "cancel_policy_line", &[("policy", policy)]));
    }
}

/// Asks before cancelling, when the customer still may.
pub(super) fn ask_cancel(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    if !lc::customer_may_cancel(
        o.order.fulfilment,
        o.order.payment,
        ctx.settings.cancel_rule,
    ) {
        return cannot_cancel(s, o, ctx, out);
    }
    s.stage = Stage::ConfirmCancel {
        order: o.order.id.get(),
    };
    let mut text = out.t(ctx, "confirm_cancel", &[("code", o.order.code.as_str())]);
    push_policy(&mut text, ctx, out);
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_yes_cancel", Tap::ConfirmCancel(o.order.id)),
            out.choice(ctx, "btn_keep_order", Tap::KeepOrder(Some(o.order.id))),
        ],
    );
}

/// Cancels, checking again: the order may have moved since the question.
pub(super) fn cancel(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    if !lc::customer_may_cancel(
        o.order.fulfilment,
        o.order.payment,
        ctx.settings.cancel_rule,
    ) {
        return cannot_cancel(s, o, ctx, out);
    }
    s.stage = Stage::Idle;
    let reason = out.t(ctx, "cancel_reason_customer", &[]);
    out.actions.push(Action::Order {
        order: o.order.id,
        command: Command::Cancel { reason },
    });
}

pub(super) fn keep_order(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let text = out.t(ctx, "cancel_kept", &[]);
    let choices = out.menu_choices(ctx);
    out.say_choices(text, choices);
}

fn cannot_cancel(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let mut text = out.t(
        ctx,
        "cannot_cancel",
        &[
            ("code", o.order.code.as_str()),
            ("status", &status_text(&o.order, ctx, out)),
        ],
    );
    push_policy(&mut text, ctx, out);
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_talk", Tap::TalkToShop),
            out.choice(ctx, "btn_orders", Tap::Orders),
        ],
    );
}

/// Offers the order's lines to add to.
pub(super) fn pick_line_for_more(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    if !lc::may_order_more(o.order.fulfilment, o.order.payment) {
        s.stage = Stage::Idle;
        let text = out.t(ctx, "more_not_allowed", &[("code", o.order.code.as_str())]);
        return out.say_choices(text, vec![out.choice(ctx, "btn_talk", Tap::TalkToShop)]);
    }
    let text = out.t(ctx, "more_pick_line", &[("code", o.order.code.as_str())]);
    let choices = o
        .order
        .lines
        .iter()
        .filter(|l| l.status != LineStatus::Refused)
        .map(|l| {
            let tap = Tap::OrderMoreLine {
                order: o.order.id,
                line: l.id,
            };
            Choice::tap(short(&l.name, 20), &tap)
        })
        .collect();
    out.say_choices(text, choices);
}

/// Offers how many more of one line; typed numbers work too.
pub(super) fn ask_more_qty(
    s: &mut State,
    o: &OrderSummary,
    line: i64,
    ctx: &Context,
    out: &mut Out,
) {
    if !o.order.lines.iter().any(|l| l.id == line) {
        return stale(s, ctx, out);
    }
    s.stage = Stage::OrderMoreQty {
        order: o.order.id.get(),
        line,
    };
    let text = out.t(ctx, "more_ask_qty", &[]);
    let choices = (1..=5)
        .map(|qty| {
            let tap = Tap::OrderMoreQty {
                order: o.order.id,
                line,
                qty,
            };
            Choice::tap(format!("+{qty}"), &tap)
        })
        .collect();
    out.say_choices(text, choices);
}

pub(super) fn order_more(
    s: &mut State,
    o: &OrderSummary,
    line: i64,
    qty: i64,
    ctx: &Context,
    out: &mut Out,
) {
    s.stage = Stage::Idle;
    if !lc::may_order_more(o.order.fulfilment, o.order.payment) {
        let text = out.t(ctx, "more_not_allowed", &[("code", o.order.code.as_str())]);
        return out.say(text);
    }
    if !(1..=MAX_QTY).contains(&qty) {
        let text = out.t(ctx, "more_only_increase", &[]);
        return out.say(text);
    }
    out.actions.push(Action::Order {
        order: o.order.id,
        command: Command::OrderMore {
            increases: vec![(line, qty)],
        },
    });
}

/// Accepts or refuses a line the shop changed, if it still waits for that.
pub(super) fn answer_line_change(
    s: &mut State,
    o: &OrderSummary,
    line: i64,
    accept: bool,
    ctx: &Context,
    out: &mut Out,
) {
    let waiting = o
        .order
        .lines
        .iter()
        .any(|l| l.id == line && l.status == LineStatus::AwaitingCustomer);
    if !waiting {
        return stale(s, ctx, out);
    }
    s.stage = Stage::Idle;
    out.actions.push(Action::Order {
        order: o.order.id,
        command: Command::AnswerLineChange {
            line_id: line,
            accept,
        },
    });
}

/// The shell carried out an order command the customer asked for.
pub(super) fn on_command_done(
    s: &mut State,
    order: OrderId,
    command: &Command,
    ctx: &Context,
    out: &mut Out,
) {
    let Some(o) = ctx.orders.iter().find(|o| o.order.id == order) else {
        return menu(s, ctx, out);
    };
    match command {
        Command::ChooseCod => {
            s.stage = Stage::Idle;
            let cod_fee = o
                .order
                .fees
                .iter()
                .find(|f| f.label == crate::domain::order::COD_FEE_LABEL);
            let text = match cod_fee {
                Some(fee) => out.t(
                    ctx,
                    "cod_chosen_with_fee",
                    &[
                        ("fee", &out.money(ctx, fee.amount)),
                        ("total", &out.money(ctx, o.order.totals().remaining.minor)),
                    ],
                ),
                None => out.t(ctx, "cod_chosen", &[]),
            };
            out.say(text);
        }
        Command::EditAddress { .. } => {
            s.stage = Stage::Idle;
            let t = o.order.totals();
            let mut text = out.t(
                ctx,
                "address_changed",
                &[
                    ("code", o.order.code.as_str()),
                    (
                        "address",
                        &o.order
                            .address
                            .as_ref()
                            .map(|a| a.one_line())
                            .unwrap_or_default(),
                    ),
                ],
            );
            out.amount_line(&mut text, ctx, "shipping_line", t.shipping_fee.minor);
            out.amount_line(&mut text, ctx, "total_line", t.total.minor);
            out.say_choices(
                text,
                vec![out.choice(ctx, "btn_view_order", Tap::ShowOrder(order))],
            );
        }
        Command::OrderMore { .. } | Command::AnswerLineChange { .. } => {
            s.stage = Stage::Idle;
            let text = out.t(
                ctx,
                "order_updated",
                &[
                    ("code", o.order.code.as_str()),
                    ("total", &out.money(ctx, o.order.totals().total.minor)),
                ],
            );
            out.say_choices(
                text,
                vec![out.choice(ctx, "btn_view_order", Tap::ShowOrder(order))],
            );
        }
        Command::AddService { service, .. } => {
            s.stage = Stage::Idle;
            super::services::on_done(o, service, true, ctx, out);
        }
        Command::RemoveService { service } => {
            s.stage = Stage::Idle;
            super::services::on_done(o, service, false, ctx, out);
        }
        // Cancellation and balance payments answer through their order notices.
        _ => {}
    }
}

/// The order refused a command the customer asked for.
pub(super) fn on_command_refused(s: &mut State, reason: &str, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let text = out.t(ctx, "action_refused", &[("reason", reason)]);
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_talk", Tap::TalkToShop),
            out.choice(ctx, "btn_orders", Tap::Orders),
        ],
    );
}
