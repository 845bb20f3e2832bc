//! Checkout: the address, the order review, placing the order and
//! choosing how to pay.

use super::*;
use crate::domain::PhoneNumber;
use crate::domain::lifecycle::{self as lc, PaymentStatus};
use crate::domain::order::PaymentMethod;

pub(super) fn checkout(s: &mut State, ctx: &Context, out: &mut Out) {
    s.address_for = None;
    if cart::cart_lines(ctx).is_empty() {
        s.stage = Stage::Idle;
        let text = out.t(ctx, "cart_empty", &[]);
        return out.say_choices(text, vec![out.choice(ctx, "btn_products", Tap::Products)]);
    }
    match ctx.saved_address {
        Some(a) => {
            s.stage = Stage::Address {
                step: AddressStep::Name,
            };
            let text = out.t(
                ctx,
                "use_saved_address",
                &[(
                    "address",
                    &format!("{}, {}\n{}", a.full_name, a.phone, a.one_line()),
                )],
            );
            out.say_choices(
                text,
                vec![
                    out.choice(ctx, "btn_use_this_address", Tap::UseSavedAddress),
                    out.choice(ctx, "btn_new_address", Tap::NewAddress),
                ],
            );
        }
        None => {
            s.draft = DraftAddress::default();
            ask_address(s, AddressStep::Name, ctx, out);
        }
    }
}

pub(super) fn use_saved_address(s: &mut State, ctx: &Context, out: &mut Out) {
    s.address_for = None;
    match ctx.saved_address {
        Some(a) => review(s, a.clone(), ctx, out),
        None => ask_address(s, AddressStep::Name, ctx, out),
    }
}

pub(super) fn new_address(s: &mut State, ctx: &Context, out: &mut Out) {
    s.address_for = None;
    s.draft = DraftAddress::default();
    ask_address(s, AddressStep::Name, ctx, out)
}

pub(super) fn ask_address(s: &mut State, step: AddressStep, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Address { step };
    let key = match step {
        AddressStep::Name => "ask_name",
        AddressStep::Phone => "ask_phone",
        AddressStep::Line => "ask_address_line",
        AddressStep::Province => "ask_province",
        AddressStep::District => "ask_district",
    };
    let text = out.t(ctx, key, &[]);
    out.say(text);
}

fn calling_code(ctx: &Context) -> Option<u16> {
    crate::domain::phone::calling_code_for(ctx.currency)
}

pub(super) fn on_address_text(
    s: &mut State,
    step: AddressStep,
    text: &str,
    ctx: &Context,
    out: &mut Out,
) {
    let value = text.trim();
    if value.is_empty() || value.chars().count() > 200 {
        let t = out.t(ctx, "address_too_long", &[]);
        return out.say(t);
    }
    match step {
        AddressStep::Name => {
            s.draft.full_name = Some(value.to_string());
            ask_address(s, AddressStep::Phone, ctx, out);
        }
        AddressStep::Phone => match PhoneNumber::parse(value, calling_code(ctx)) {
            Ok(p) => {
                s.draft.phone = Some(p.as_str().to_string());
                ask_address(s, AddressStep::Line, ctx, out);
            }
            Err(_) => {
                let t = out.t(ctx, "bad_phone", &[]);
                out.say(t);
            }
        },
        AddressStep::Line => {
            s.draft.line = Some(value.to_string());
            ask_address(s, AddressStep::Province, ctx, out);
        }
        AddressStep::Province => {
            s.draft.province = Some(value.to_string());
            ask_address(s, AddressStep::District, ctx, out);
        }
        AddressStep::District => {
            let d = std::mem::take(&mut s.draft);
            let phone = d
                .phone
                .as_deref()
                .and_then(|p| PhoneNumber::parse(p, None).ok());
            match (d.full_name, phone, d.line, d.province) {
                (Some(full_name), Some(phone), Some(line), Some(province)) => {
                    let address = Address {
                        full_name,
                        phone,
                        line,
                        province,
                        district: value.to_string(),
                        postcode: None,
                    };
                    out.actions.push(Action::SaveAddress(address.clone()));
                    match s.address_for.take() {
                        Some(order) => readdress(s, OrderId(order), address, ctx, out),
                        None => review(s, address, ctx, out),
                    }
                }
                // A draft lost half-way (old state): start the address again.
                _ => ask_address(s, AddressStep::Name, ctx, out),
            }
        }
    }
}

/// The customer's new delivery address for an order that has not shipped:
/// the address steps, then the order's own command with the shipping fee
/// the shop's rules give for it.
pub(super) fn change_order_address(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    if !crate::domain::lifecycle::seller_may_edit(o.order.fulfilment) {
        s.stage = Stage::Idle;
        let text = out.t(
            ctx,
            "address_change_too_late",
            &[("code", o.order.code.as_str())],
        );
        return out.say_choices(text, vec![out.choice(ctx, "btn_talk", Tap::TalkToShop)]);
    }
    s.address_for = Some(o.order.id.get());
    s.draft = DraftAddress::default();
    let text = out.t(
        ctx,
        "address_change_intro",
        &[("code", o.order.code.as_str())],
    );
    out.say(text);
    ask_address(s, AddressStep::Name, ctx, out);
}

fn readdress(s: &mut State, order: OrderId, address: Address, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let Some(o) = order_of(ctx, order) else {
        return stale(s, ctx, out);
    };
    let subtotal = o.order.totals().subtotal.minor;
    let fee = ctx.settings.shipping_fee_for(subtotal, &address.province);
    out.actions.push(Action::Order {
        order,
        command: Command::EditAddress {
            address,
            shipping_fee: Some(fee),
        },
    });
}

fn review(s: &mut State, address: Address, ctx: &Context, out: &mut Out) {
    let lines = cart::cart_lines(ctx);
    if lines.is_empty() {
        return checkout(s, ctx, out);
    }
    s.stage = Stage::ReviewOrder;
    let subtotal = cart::cart_subtotal(ctx);
    let shipping = ctx.settings.shipping_fee_for(subtotal, &address.province);
    let mut text = out.t(ctx, "review_header", &[]);
    for (p, v, q) in &lines {
        text.push_str(&format!(
            "\n{} × {} — {}",
            q,
            item_name(p, v),
            out.money(ctx, p.price_of(v) * q)
        ));
    }
    out.amount_line(&mut text, ctx, "subtotal_line", subtotal);
    out.shipping_line(&mut text, ctx, subtotal, &address.province, shipping);
    out.amount_line(&mut text, ctx, "total_line", subtotal + shipping);
    text.push_str("\n\n");
    text.push_str(&out.t(
        ctx,
        "deliver_to",
        &[(
            "address",
            &format!(
                "{}, {}\n{}",
                address.full_name,
                address.phone,
                address.one_line()
            ),
        )],
    ));
    s.reviewing = Some(address);
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_place_order", Tap::PlaceOrder),
            out.choice(ctx, "btn_new_address", Tap::NewAddress),
            out.choice(ctx, "btn_cart", Tap::Cart),
        ],
    );
}

pub(super) fn place(s: &mut State, ctx: &Context, out: &mut Out) {
    if s.stage != Stage::ReviewOrder {
        return stale(s, ctx, out);
    }
    let Some(address) = s.reviewing.take() else {
        return checkout(s, ctx, out);
    };
    let subtotal = cart::cart_subtotal(ctx);
    s.stage = Stage::Idle;
    s.draft = DraftAddress::default();
    let shipping_fee = ctx.settings.shipping_fee_for(subtotal, &address.province);
    out.actions.push(Action::PlaceOrder {
        address,
        shipping_fee,
    });
}

/// The shell could not place the order; nothing was written.
pub(super) fn on_order_not_placed(
    s: &mut State,
    reason: &PlaceProblem,
    ctx: &Context,
    out: &mut Out,
) {
    s.stage = Stage::Idle;
    let text = match reason {
        PlaceProblem::OutOfStock { name } => out.t(ctx, "place_out_of_stock", &[("name", name)]),
        PlaceProblem::EmptyCart => out.t(ctx, "cart_empty", &[]),
        PlaceProblem::Other => out.t(ctx, "place_failed", &[]),
    };
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_cart", Tap::Cart),
            out.choice(ctx, "btn_products", Tap::Products),
        ],
    );
}

pub(super) fn on_order_placed(s: &mut State, id: OrderId, ctx: &Context, out: &mut Out) {
    let Some(o) = ctx.orders.iter().find(|o| o.order.id == id) else {
        return menu(s, ctx, out);
    };
    out.actions.push(Action::Say(Message::Receipt {
        receipt: Box::new(orders::receipt(o, ctx, out)),
    }));
    if o.order.payment == PaymentStatus::CodPending {
        s.stage = Stage::Idle;
        let text = out.t(ctx, "cod_chosen", &[]);
        return out.say(text);
    }
    ask_payment(s, o, ctx, out);
}

pub(super) fn ask_payment(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    s.stage = Stage::ChoosePayment {
        order: o.order.id.get(),
    };
    let remaining = o.order.totals().remaining.minor;
    let text = out.t(
        ctx,
        "choose_payment",
        &[
            ("code", o.order.code.as_str()),
            ("amount", &out.money(ctx, remaining)),
        ],
    );
    let mut choices = Vec::new();
    for m in &ctx.settings.payment_methods {
        let key = match m {
            PaymentMethod::BankTransfer if !ctx.settings.bank_accounts.is_empty() => "btn_pay_bank",
            PaymentMethod::QrTransfer if ctx.settings.payment_qr.is_some() => "btn_pay_qr",
            PaymentMethod::Cod => "btn_pay_cod",
            PaymentMethod::Balance if ctx.balance >= remaining && remaining > 0 => {
                "btn_pay_balance"
            }
            _ => continue,
        };
        let tap = Tap::Pay {
            method: *m,
            order: o.order.id,
        };
        let title = if *m == PaymentMethod::Cod && ctx.settings.cod_fee > 0 {
            out.t(
                ctx,
                "btn_pay_cod_fee",
                &[("fee", &out.money(ctx, ctx.settings.cod_fee))],
            )
        } else {
            out.t(ctx, key, &[])
        };
        choices.push(Choice::tap(title, &tap));
    }
    out.say_choices(text, choices);
}

pub(super) fn pay(
    s: &mut State,
    method: PaymentMethod,
    o: &OrderSummary,
    ctx: &Context,
    out: &mut Out,
) {
    let order = &o.order;
    let payable = lc::holds_stock(order.fulfilment)
        && matches!(
            order.payment,
            PaymentStatus::Unpaid | PaymentStatus::Rejected | PaymentStatus::PartiallyPaid
        );
    let enabled = |m: PaymentMethod| ctx.settings.payment_methods.contains(&m);
    if !payable {
        s.stage = Stage::Idle;
        let text = out.t(
            ctx,
            "nothing_to_pay",
            &[
                ("code", order.code.as_str()),
                ("status", &orders::status_text(order, ctx, out)),
            ],
        );
        return out.say(text);
    }
    let amount = out.money(ctx, order.totals().remaining.minor);
    match method {
        PaymentMethod::BankTransfer
            if enabled(PaymentMethod::BankTransfer) && !ctx.settings.bank_accounts.is_empty() =>
        {
            s.stage = Stage::AwaitingSlip {
                order: order.id.get(),
            };
            let accounts: Vec<String> = ctx
                .settings
                .accounts_in_order()
                .into_iter()
                .map(|a| format!("{} {}\n{}", a.bank, a.account_number, a.account_name))
                .collect();
            let text = out.t(
                ctx,
                "pay_bank",
                &[
                    ("amount", &amount),
                    ("accounts", &accounts.join("\n\n")),
                    ("code", order.code.as_str()),
                ],
            );
            out.say(text);
        }
        PaymentMethod::QrTransfer
            if enabled(PaymentMethod::QrTransfer) && ctx.settings.payment_qr.is_some() =>
        {
            s.stage = Stage::AwaitingSlip {
                order: order.id.get(),
            };
            out.actions.push(Action::SendPaymentQr { order: order.id });
            let text = out.t(ctx, "pay_qr", &[("amount", &amount)]);
            out.say(text);
        }
        PaymentMethod::Cod
            if enabled(PaymentMethod::Cod) && order.payment == PaymentStatus::Unpaid =>
        {
            s.stage = Stage::Idle;
            out.actions.push(Action::Order {
                order: order.id,
                command: Command::ChooseCod,
            });
        }
        PaymentMethod::Balance if enabled(PaymentMethod::Balance) => {
            s.stage = Stage::Idle;
            out.actions.push(Action::Order {
                order: order.id,
                command: Command::PayFromBalance {
                    available: ctx.balance,
                    allow_negative: false,
                },
            });
        }
        _ => stale(s, ctx, out),
    }
}
