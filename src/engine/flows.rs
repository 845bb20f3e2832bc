//! The customer journey: menu, browsing, cart, checkout, payment, orders,
//! cancellation, order more, line-change answers, complaints, talking to
//! the shop. Every input leads somewhere sensible; stale or forged buttons
//! get a polite answer and change nothing.

use super::*;
use crate::domain::lifecycle::{self as lc, PaymentStatus};
use crate::domain::order::{LineStatus, PaymentMethod};
use crate::domain::{Money, PhoneNumber, ProductId};

const PAGE_SIZE: usize = 9;
const MAX_QTY: i64 = 99;

/// One step of the conversation.
pub fn step(state: &State, input: &Input, ctx: &Context) -> (State, Vec<Action>) {
    let mut s = state.clone();
    if s.locale.is_none()
        && let Input::Text(t) = input
    {
        s.locale = texts::detect_locale(t).map(str::to_string);
    }
    let mut out = Out {
        actions: Vec::new(),
        locale: s
            .locale
            .clone()
            .unwrap_or_else(|| ctx.default_locale.to_string()),
    };
    match input {
        Input::Tap(payload) => on_tap(&mut s, payload, ctx, &mut out),
        Input::Text(text) => on_text(&mut s, text, ctx, &mut out),
        Input::Image { url } => on_image(&mut s, url, ctx, &mut out),
        Input::Sticker => on_sticker(&mut s, ctx, &mut out),
        Input::OtherAttachment(kind) => on_other_attachment(&mut s, kind, ctx, &mut out),
        Input::Referral(_) => welcome(&mut s, ctx, &mut out),
        Input::OrderPlaced { order } => on_order_placed(&mut s, *order, ctx, &mut out),
        Input::OrderNotPlaced { reason } => {
            s.stage = Stage::Idle;
            let text = match reason {
                PlaceProblem::OutOfStock { name } => {
                    out.t(ctx, "place_out_of_stock", &[("name", name)])
                }
                PlaceProblem::EmptyCart => out.t(ctx, "cart_empty", &[]),
                PlaceProblem::Other => out.t(ctx, "place_failed", &[]),
            };
            out.say_choices(
                text,
                vec![
                    out.choice(ctx, "btn_cart", "CART"),
                    out.choice(ctx, "btn_products", "MENU_PRODUCTS"),
                ],
            );
        }
        Input::CommandDone { order, command } => {
            on_command_done(&mut s, *order, command, ctx, &mut out)
        }
        Input::CommandRefused { reason, .. } => {
            s.stage = Stage::Idle;
            let text = out.t(ctx, "action_refused", &[("reason", reason)]);
            out.say_choices(
                text,
                vec![
                    out.choice(ctx, "btn_talk", "MENU_TALK"),
                    out.choice(ctx, "btn_orders", "ORDERS"),
                ],
            );
        }
    }
    (s, out.actions)
}

struct Out {
    actions: Vec<Action>,
    locale: String,
}

impl Out {
    fn t(&self, ctx: &Context, key: &str, args: &[(&str, &str)]) -> String {
        ctx.texts.get(&self.locale, key, args)
    }
    /// Appends one "Label: amount" line of a bill or cart.
    fn amount_line(&self, text: &mut String, ctx: &Context, key: &str, minor: i64) {
        text.push('\n');
        text.push_str(&self.t(ctx, key, &[("amount", &self.money(ctx, minor))]));
    }
    fn money(&self, ctx: &Context, minor: i64) -> String {
        Money::new(minor, ctx.currency).display(&self.locale)
    }
    fn say(&mut self, text: String) {
        self.actions.push(Action::Say(Message::text(text)));
    }
    fn say_choices(&mut self, text: String, mut choices: Vec<Choice>) {
        choices.truncate(13);
        self.actions.push(Action::Say(Message::Text {
            text,
            quick_replies: choices,
        }));
    }
    fn choice(&self, ctx: &Context, key: &str, payload: &str) -> Choice {
        Choice {
            title: self.t(ctx, key, &[]),
            payload: payload.to_string(),
        }
    }
    fn menu_choices(&self, ctx: &Context) -> Vec<Choice> {
        vec![
            self.choice(ctx, "btn_products", "MENU_PRODUCTS"),
            self.choice(ctx, "btn_cart", "CART"),
            self.choice(ctx, "btn_orders", "ORDERS"),
            self.choice(ctx, "btn_talk", "MENU_TALK"),
        ]
    }
}

fn welcome(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    s.told_shop_will_reply = false;
    let name = ctx.customer_name.split_whitespace().next().unwrap_or("");
    let text = if name.is_empty() {
        out.t(ctx, "welcome_anonymous", &[("shop", ctx.shop_name)])
    } else {
        out.t(ctx, "welcome", &[("shop", ctx.shop_name), ("name", name)])
    };
    let choices = out.menu_choices(ctx);
    out.say_choices(text, choices);
}

fn menu(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    s.told_shop_will_reply = false;
    let text = out.t(ctx, "menu", &[]);
    let choices = out.menu_choices(ctx);
    out.say_choices(text, choices);
}

fn stale(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let text = out.t(ctx, "stale_button", &[]);
    let choices = out.menu_choices(ctx);
    out.say_choices(text, choices);
}

fn num(s: &str) -> Option<i64> {
    let digits: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '๐'..='๙' => char::from(b'0' + (c as u32 - '๐' as u32) as u8),
            other => other,
        })
        .collect();
    digits.parse().ok()
}

fn product<'a>(ctx: &'a Context, id: i64) -> Option<&'a Product> {
    ctx.catalog
        .iter()
        .find(|p| p.id == ProductId(id) && p.active)
}

fn variant<'a>(
    ctx: &'a Context,
    id: i64,
) -> Option<(&'a Product, &'a crate::domain::catalog::Variant)> {
    ctx.catalog.iter().filter(|p| p.active).find_map(|p| {
        p.variants
            .iter()
            .find(|v| v.id == VariantId(id))
            .map(|v| (p, v))
    })
}

fn order_of<'a>(ctx: &'a Context, id: i64) -> Option<&'a OrderSummary> {
    ctx.orders.iter().find(|o| o.order.id == OrderId(id))
}

fn item_name(p: &Product, v: &crate::domain::catalog::Variant) -> String {
    if v.name.is_empty() {
        p.name.clone()
    } else {
        format!("{} ({})", p.name, v.name)
    }
}

fn absolute(ctx: &Context, url: &Option<String>) -> Option<String> {
    url.as_ref().map(|u| {
        if u.starts_with('/') {
            format!("{}{u}", ctx.public_url)
        } else {
            u.clone()
        }
    })
}

fn in_cart(ctx: &Context, v: VariantId) -> i64 {
    ctx.cart
        .iter()
        .filter(|l| l.variant == v)
        .map(|l| l.qty)
        .sum()
}

// ---------------------------------------------------------------- taps

fn on_tap(s: &mut State, payload: &str, ctx: &Context, out: &mut Out) {
    let parts: Vec<&str> = payload.split(':').collect();
    let n = |i: usize| parts.get(i).and_then(|x| x.parse::<i64>().ok());
    match parts.first().copied().unwrap_or("") {
        "GET_STARTED" => welcome(s, ctx, out),
        "MENU" => menu(s, ctx, out),
        "MENU_PRODUCTS" | "PRODUCTS" => browse(s, ctx, out),
        "CAT" if parts.len() >= 2 => show_page(s, ctx, out, Some(&parts[1..].join(":")), 0),
        "PAGE" => match n(1) {
            Some(p) if p >= 0 => show_page(s, ctx, out, None, p as usize),
            _ => stale(s, ctx, out),
        },
        "CATPAGE" if parts.len() >= 3 => match n(1) {
            Some(p) if p >= 0 => show_page(s, ctx, out, Some(&parts[2..].join(":")), p as usize),
            _ => stale(s, ctx, out),
        },
        "ADD" | "BUY" => match n(1).and_then(|id| product(ctx, id)) {
            Some(p) => pick_variant(s, p, parts[0] == "BUY", ctx, out),
            None => stale(s, ctx, out),
        },
        "VAR" => match (n(1), n(2)) {
            (Some(v), Some(b)) if variant(ctx, v).is_some() => pick_qty(s, v, b == 1, ctx, out),
            _ => stale(s, ctx, out),
        },
        "QTY" => match (n(1), n(2), n(3)) {
            (Some(v), Some(q), Some(b)) => add_to_cart(s, v, q, b == 1, ctx, out),
            _ => stale(s, ctx, out),
        },
        "MENU_CART" | "CART" => show_cart(s, ctx, out),
        "EDIT" => match n(1).filter(|v| in_cart(ctx, VariantId(*v)) > 0) {
            Some(v) => {
                s.stage = Stage::ChangeQty { variant: v };
                let name = variant(ctx, v)
                    .map(|(p, vv)| item_name(p, vv))
                    .unwrap_or_default();
                let text = out.t(ctx, "ask_new_qty", &[("name", &name)]);
                let mut choices: Vec<Choice> = (1..=5)
                    .map(|q| Choice {
                        title: q.to_string(),
                        payload: format!("SETQTY:{v}:{q}"),
                    })
                    .collect();
                choices.push(out.choice(ctx, "btn_remove", &format!("SETQTY:{v}:0")));
                out.say_choices(text, choices);
            }
            None => stale(s, ctx, out),
        },
        "SETQTY" => match (n(1), n(2)) {
            (Some(v), Some(q)) if in_cart(ctx, VariantId(v)) > 0 => set_qty(s, v, q, ctx, out),
            _ => stale(s, ctx, out),
        },
        "EMPTY" => {
            s.stage = Stage::Idle;
            out.actions.push(Action::Cart(CartOp::Clear));
            let text = out.t(ctx, "cart_emptied", &[]);
            out.say_choices(text, vec![out.choice(ctx, "btn_products", "MENU_PRODUCTS")]);
        }
        "CHECKOUT" => checkout(s, ctx, out),
        "ADDR_SAVED" => match ctx.saved_address {
            Some(a) => review(s, a.clone(), ctx, out),
            None => ask_address(s, AddressStep::Name, ctx, out),
        },
        "ADDR_NEW" => {
            s.draft = DraftAddress::default();
            ask_address(s, AddressStep::Name, ctx, out)
        }
        "PLACE" => place(s, ctx, out),
        "PAYMENU" => match n(1).and_then(|id| order_of(ctx, id)) {
            Some(o) => ask_payment(s, o, ctx, out),
            None => stale(s, ctx, out),
        },
        "PAY" => match (parts.get(1).copied(), n(2).and_then(|id| order_of(ctx, id))) {
            (Some(method), Some(o)) => pay(s, method, o, ctx, out),
            _ => stale(s, ctx, out),
        },
        "MENU_ORDERS" | "ORDERS" => list_orders(s, ctx, out),
        "ORDER" => match n(1).and_then(|id| order_of(ctx, id)) {
            Some(o) => show_order(s, o, ctx, out),
            None => stale(s, ctx, out),
        },
        "CANCEL" => match n(1).and_then(|id| order_of(ctx, id)) {
            Some(o) if lc::customer_may_cancel(o.order.fulfilment, o.order.payment) => {
                s.stage = Stage::ConfirmCancel {
                    order: o.order.id.get(),
                };
                let text = out.t(ctx, "confirm_cancel", &[("code", o.order.code.as_str())]);
                out.say_choices(
                    text,
                    vec![
                        out.choice(ctx, "btn_yes_cancel", &format!("CANCEL_YES:{}", o.order.id)),
                        out.choice(ctx, "btn_keep_order", &format!("CANCEL_NO:{}", o.order.id)),
                    ],
                );
            }
            Some(o) => cannot_cancel(s, o, ctx, out),
            None => stale(s, ctx, out),
        },
        "CANCEL_YES" => match n(1).and_then(|id| order_of(ctx, id)) {
            Some(o) if lc::customer_may_cancel(o.order.fulfilment, o.order.payment) => {
                s.stage = Stage::Idle;
                let reason = out.t(ctx, "cancel_reason_customer", &[]);
                out.actions.push(Action::Order {
                    order: o.order.id,
                    command: Command::Cancel { reason },
                });
            }
            Some(o) => cannot_cancel(s, o, ctx, out),
            None => stale(s, ctx, out),
        },
        "CANCEL_NO" => {
            s.stage = Stage::Idle;
            let text = out.t(ctx, "cancel_kept", &[]);
            let choices = out.menu_choices(ctx);
            out.say_choices(text, choices);
        }
        "MORE" => match n(1).and_then(|id| order_of(ctx, id)) {
            Some(o) if lc::may_order_more(o.order.fulfilment, o.order.payment) => {
                let text = out.t(ctx, "more_pick_line", &[("code", o.order.code.as_str())]);
                let choices = o
                    .order
                    .lines
                    .iter()
                    .filter(|l| l.status != LineStatus::Refused)
                    .map(|l| Choice {
                        title: short(&l.name, 20),
                        payload: format!("MORE_LINE:{}:{}", o.order.id, l.id),
                    })
                    .collect();
                out.say_choices(text, choices);
            }
            Some(o) => {
                s.stage = Stage::Idle;
                let text = out.t(ctx, "more_not_allowed", &[("code", o.order.code.as_str())]);
                out.say_choices(text, vec![out.choice(ctx, "btn_talk", "MENU_TALK")]);
            }
            None => stale(s, ctx, out),
        },
        "MORE_LINE" => match (n(1).and_then(|id| order_of(ctx, id)), n(2)) {
            (Some(o), Some(line)) if o.order.lines.iter().any(|l| l.id == line) => {
                s.stage = Stage::OrderMoreQty {
                    order: o.order.id.get(),
                    line,
                };
                let text = out.t(ctx, "more_ask_qty", &[]);
                let choices = (1..=5)
                    .map(|q| Choice {
                        title: format!("+{q}"),
                        payload: format!("MORE_QTY:{}:{line}:{q}", o.order.id),
                    })
                    .collect();
                out.say_choices(text, choices);
            }
            _ => stale(s, ctx, out),
        },
        "MORE_QTY" => match (n(1).and_then(|id| order_of(ctx, id)), n(2), n(3)) {
            (Some(o), Some(line), Some(q)) => order_more(s, o, line, q, ctx, out),
            _ => stale(s, ctx, out),
        },
        "LINE_OK" | "LINE_NO" => match (n(1).and_then(|id| order_of(ctx, id)), n(2)) {
            (Some(o), Some(line))
                if o.order
                    .lines
                    .iter()
                    .any(|l| l.id == line && l.status == LineStatus::AwaitingCustomer) =>
            {
                s.stage = Stage::Idle;
                out.actions.push(Action::Order {
                    order: o.order.id,
                    command: Command::AnswerLineChange {
                        line_id: line,
                        accept: parts[0] == "LINE_OK",
                    },
                });
            }
            _ => stale(s, ctx, out),
        },
        "COMPLAIN" => match n(1).and_then(|id| order_of(ctx, id)) {
            Some(o) => {
                s.stage = Stage::Complaint {
                    order: o.order.id.get(),
                };
                let text = out.t(ctx, "complaint_ask", &[("code", o.order.code.as_str())]);
                out.say(text);
            }
            None => stale(s, ctx, out),
        },
        "MENU_TALK" | "TALK" => {
            s.stage = Stage::TalkToShop;
            let text = out.t(ctx, "talk_ask", &[]);
            out.say(text);
        }
        "LANG" => match parts.get(1).and_then(|l| texts::normalize_locale(l)) {
            Some(l) => {
                s.locale = Some(l.to_string());
                out.locale = l.to_string();
                menu(s, ctx, out);
            }
            None => stale(s, ctx, out),
        },
        _ => stale(s, ctx, out),
    }
}

// ---------------------------------------------------------------- browse

fn categories(ctx: &Context) -> Vec<String> {
    let mut cats: Vec<String> = Vec::new();
    for p in ctx.catalog.iter().filter(|p| p.active) {
        if !p.category.is_empty() && !cats.contains(&p.category) {
            cats.push(p.category.clone());
        }
    }
    cats
}

fn browse(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let cats = categories(ctx);
    if cats.len() > 1 {
        let text = out.t(ctx, "pick_category", &[]);
        let mut choices: Vec<Choice> = vec![out.choice(ctx, "btn_all_products", "PAGE:0")];
        choices.extend(cats.iter().take(12).map(|c| Choice {
            title: short(c, 20),
            payload: format!("CAT:{c}"),
        }));
        out.say_choices(text, choices);
    } else {
        show_page(s, ctx, out, None, 0);
    }
}

fn show_page(s: &mut State, ctx: &Context, out: &mut Out, category: Option<&str>, page: usize) {
    s.stage = Stage::Idle;
    let items: Vec<&Product> = ctx
        .catalog
        .iter()
        .filter(|p| p.active && category.is_none_or(|c| p.category == c))
        .collect();
    if items.is_empty() {
        let text = out.t(ctx, "no_products", &[]);
        let choices = out.menu_choices(ctx);
        out.say_choices(text, choices);
        return;
    }
    // Page numbers come from buttons, which can be forged.
    let Some(start) = page.checked_mul(PAGE_SIZE).filter(|st| *st < items.len()) else {
        return stale(s, ctx, out);
    };
    let mut cards: Vec<Card> = items[start..]
        .iter()
        .take(PAGE_SIZE)
        .map(|p| product_card(p, ctx, out))
        .collect();
    if items.len() > start + PAGE_SIZE {
        let payload = match category {
            Some(c) => format!("CATPAGE:{}:{c}", page + 1),
            None => format!("PAGE:{}", page + 1),
        };
        cards.push(Card {
            title: out.t(ctx, "more_products_title", &[]),
            subtitle: out.t(
                ctx,
                "more_products_subtitle",
                &[("n", &(items.len() - start - PAGE_SIZE).to_string())],
            ),
            image_url: None,
            buttons: vec![Button::Postback {
                title: out.t(ctx, "btn_next_page", &[]),
                payload,
            }],
        });
    }
    out.actions.push(Action::Say(Message::Carousel { cards }));
}

fn product_card(p: &Product, ctx: &Context, out: &Out) -> Card {
    let min = p
        .variants
        .iter()
        .map(|v| p.price_of(v))
        .min()
        .unwrap_or(p.price);
    let max = p
        .variants
        .iter()
        .map(|v| p.price_of(v))
        .max()
        .unwrap_or(p.price);
    let price = if min == max {
        out.money(ctx, min)
    } else {
        format!("{} – {}", out.money(ctx, min), out.money(ctx, max))
    };
    let options: Vec<&str> = p
        .variants
        .iter()
        .map(|v| v.name.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    let stock = if p.in_stock() {
        out.t(ctx, "in_stock", &[])
    } else {
        out.t(ctx, "out_of_stock", &[])
    };
    let mut subtitle = price;
    if !options.is_empty() {
        subtitle.push_str(" · ");
        subtitle.push_str(&options.join(" "));
    }
    subtitle.push_str(" · ");
    subtitle.push_str(&stock);
    let buttons = if p.in_stock() {
        vec![
            Button::Postback {
                title: out.t(ctx, "btn_buy_now", &[]),
                payload: format!("BUY:{}", p.id),
            },
            Button::Postback {
                title: out.t(ctx, "btn_add_to_cart", &[]),
                payload: format!("ADD:{}", p.id),
            },
        ]
    } else {
        vec![Button::Postback {
            title: out.t(ctx, "btn_talk", &[]),
            payload: "MENU_TALK".into(),
        }]
    };
    Card {
        title: short(&p.name, 80),
        subtitle: short(&subtitle, 80),
        image_url: absolute(ctx, &p.image_url),
        buttons,
    }
}

fn pick_variant(s: &mut State, p: &Product, buy_now: bool, ctx: &Context, out: &mut Out) {
    if !p.in_stock() {
        s.stage = Stage::Idle;
        let text = out.t(ctx, "product_out_of_stock", &[("name", &p.name)]);
        out.say_choices(text, vec![out.choice(ctx, "btn_products", "MENU_PRODUCTS")]);
        return;
    }
    if p.variants.len() == 1 {
        return pick_qty(s, p.variants[0].id.get(), buy_now, ctx, out);
    }
    s.stage = Stage::PickVariant {
        product: p.id.get(),
        buy_now,
    };
    let mut sold_out = Vec::new();
    let mut choices = Vec::new();
    for v in &p.variants {
        if v.stock.is_some_and(|st| st <= 0) {
            sold_out.push(v.name.clone());
        } else {
            choices.push(Choice {
                title: short(&v.name, 20),
                payload: format!("VAR:{}:{}", v.id, u8::from(buy_now)),
            });
        }
    }
    let mut text = out.t(ctx, "pick_variant", &[("name", &p.name)]);
    if !sold_out.is_empty() {
        text.push('\n');
        text.push_str(&out.t(ctx, "variants_sold_out", &[("list", &sold_out.join(", "))]));
    }
    out.say_choices(text, choices);
}

fn pick_qty(s: &mut State, v: i64, buy_now: bool, ctx: &Context, out: &mut Out) {
    let Some((p, var)) = variant(ctx, v) else {
        return stale(s, ctx, out);
    };
    let available = var
        .stock
        .map(|st| st - in_cart(ctx, var.id))
        .unwrap_or(MAX_QTY);
    if available <= 0 {
        s.stage = Stage::Idle;
        let text = out.t(ctx, "product_out_of_stock", &[("name", &item_name(p, var))]);
        out.say_choices(
            text,
            vec![
                out.choice(ctx, "btn_cart", "CART"),
                out.choice(ctx, "btn_products", "MENU_PRODUCTS"),
            ],
        );
        return;
    }
    s.stage = Stage::PickQty {
        variant: v,
        buy_now,
    };
    let text = out.t(
        ctx,
        "ask_qty",
        &[
            ("name", &item_name(p, var)),
            ("price", &out.money(ctx, p.price_of(var))),
        ],
    );
    let choices = (1..=available.min(5))
        .map(|q| Choice {
            title: q.to_string(),
            payload: format!("QTY:{v}:{q}:{}", u8::from(buy_now)),
        })
        .collect();
    out.say_choices(text, choices);
}

fn add_to_cart(s: &mut State, v: i64, qty: i64, buy_now: bool, ctx: &Context, out: &mut Out) {
    let Some((p, var)) = variant(ctx, v) else {
        return stale(s, ctx, out);
    };
    if !(1..=MAX_QTY).contains(&qty) {
        let text = out.t(ctx, "bad_qty", &[("max", &MAX_QTY.to_string())]);
        return out.say(text);
    }
    let already = in_cart(ctx, var.id);
    if let Some(stock) = var.stock
        && already + qty > stock
    {
        let left = (stock - already).max(0);
        let text = out.t(
            ctx,
            "not_enough_stock",
            &[("name", &item_name(p, var)), ("left", &left.to_string())],
        );
        return out.say(text);
    }
    out.actions.push(Action::Cart(CartOp::Add {
        variant: var.id,
        qty,
    }));
    if buy_now {
        // The cart the checkout sees includes what was just added.
        let mut cart = ctx.cart.to_vec();
        match cart.iter_mut().find(|l| l.variant == var.id) {
            Some(l) => l.qty += qty,
            None => cart.push(CartLine {
                variant: var.id,
                qty,
            }),
        }
        let with_item = Context {
            cart: &cart,
            ..*ctx
        };
        return checkout(s, &with_item, out);
    }
    s.stage = Stage::Idle;
    let text = out.t(
        ctx,
        "added_to_cart",
        &[("qty", &qty.to_string()), ("name", &item_name(p, var))],
    );
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_checkout", "CHECKOUT"),
            out.choice(ctx, "btn_cart", "CART"),
            out.choice(ctx, "btn_keep_shopping", "MENU_PRODUCTS"),
        ],
    );
}

fn set_qty(s: &mut State, v: i64, qty: i64, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let Some((p, var)) = variant(ctx, v) else {
        out.actions.push(Action::Cart(CartOp::Set {
            variant: VariantId(v),
            qty: 0,
        }));
        return show_cart_after(s, ctx, out, VariantId(v), 0);
    };
    if !(0..=MAX_QTY).contains(&qty) {
        let text = out.t(ctx, "bad_qty", &[("max", &MAX_QTY.to_string())]);
        return out.say(text);
    }
    if let Some(stock) = var.stock
        && qty > stock
    {
        let text = out.t(
            ctx,
            "not_enough_stock",
            &[("name", &item_name(p, var)), ("left", &stock.to_string())],
        );
        return out.say(text);
    }
    out.actions.push(Action::Cart(CartOp::Set {
        variant: var.id,
        qty,
    }));
    show_cart_after(s, ctx, out, var.id, qty);
}

/// Shows the cart as it will be after setting `variant` to `qty`.
fn show_cart_after(s: &mut State, ctx: &Context, out: &mut Out, v: VariantId, qty: i64) {
    let mut cart: Vec<CartLine> = ctx
        .cart
        .iter()
        .filter(|l| l.variant != v)
        .cloned()
        .collect();
    if qty > 0 {
        cart.push(CartLine { variant: v, qty });
    }
    let after = Context {
        cart: &cart,
        ..*ctx
    };
    show_cart(s, &after, out);
}

fn cart_lines<'a>(
    ctx: &'a Context,
) -> Vec<(&'a Product, &'a crate::domain::catalog::Variant, i64)> {
    ctx.cart
        .iter()
        .filter_map(|l| variant(ctx, l.variant.get()).map(|(p, v)| (p, v, l.qty)))
        .collect()
}

fn cart_subtotal(ctx: &Context) -> i64 {
    cart_lines(ctx)
        .iter()
        .map(|(p, v, q)| p.price_of(v) * q)
        .sum()
}

fn show_cart(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let lines = cart_lines(ctx);
    if lines.is_empty() {
        let text = out.t(ctx, "cart_empty", &[]);
        return out.say_choices(text, vec![out.choice(ctx, "btn_products", "MENU_PRODUCTS")]);
    }
    let mut text = out.t(ctx, "cart_header", &[]);
    for (p, v, q) in &lines {
        text.push_str(&format!(
            "\n{} × {} — {}",
            q,
            item_name(p, v),
            out.money(ctx, p.price_of(v) * q)
        ));
    }
    let gone = ctx.cart.len() - lines.len();
    if gone > 0 {
        text.push('\n');
        text.push_str(&out.t(ctx, "cart_items_gone", &[("n", &gone.to_string())]));
    }
    out.amount_line(&mut text, ctx, "subtotal_line", cart_subtotal(ctx));
    let mut choices = vec![out.choice(ctx, "btn_checkout", "CHECKOUT")];
    for (p, v, _) in lines.iter().take(9) {
        choices.push(Choice {
            title: format!("✎ {}", short(&item_name(p, v), 17)),
            payload: format!("EDIT:{}", v.id),
        });
    }
    choices.push(out.choice(ctx, "btn_empty_cart", "EMPTY"));
    choices.push(out.choice(ctx, "btn_keep_shopping", "MENU_PRODUCTS"));
    out.say_choices(text, choices);
}

// ---------------------------------------------------------------- checkout

fn checkout(s: &mut State, ctx: &Context, out: &mut Out) {
    if cart_lines(ctx).is_empty() {
        s.stage = Stage::Idle;
        let text = out.t(ctx, "cart_empty", &[]);
        return out.say_choices(text, vec![out.choice(ctx, "btn_products", "MENU_PRODUCTS")]);
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
                    out.choice(ctx, "btn_use_this_address", "ADDR_SAVED"),
                    out.choice(ctx, "btn_new_address", "ADDR_NEW"),
                ],
            );
        }
        None => {
            s.draft = DraftAddress::default();
            ask_address(s, AddressStep::Name, ctx, out);
        }
    }
}

fn ask_address(s: &mut State, step: AddressStep, ctx: &Context, out: &mut Out) {
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
    match ctx.currency.code() {
        "THB" => Some(66),
        "VND" => Some(84),
        "LAK" => Some(856),
        "KHR" => Some(855),
        "MYR" => Some(60),
        "SGD" => Some(65),
        "IDR" => Some(62),
        "PHP" => Some(63),
        _ => None,
    }
}

fn on_address_text(s: &mut State, step: AddressStep, text: &str, ctx: &Context, out: &mut Out) {
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
                    review(s, address, ctx, out);
                }
                // A draft lost half-way (old state): start the address again.
                _ => ask_address(s, AddressStep::Name, ctx, out),
            }
        }
    }
}

fn review(s: &mut State, address: Address, ctx: &Context, out: &mut Out) {
    let lines = cart_lines(ctx);
    if lines.is_empty() {
        return checkout(s, ctx, out);
    }
    s.stage = Stage::ReviewOrder;
    let subtotal = cart_subtotal(ctx);
    let shipping = ctx.settings.shipping_fee_for(subtotal);
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
    out.amount_line(&mut text, ctx, "shipping_line", shipping);
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
            out.choice(ctx, "btn_place_order", "PLACE"),
            out.choice(ctx, "btn_new_address", "ADDR_NEW"),
            out.choice(ctx, "btn_cart", "CART"),
        ],
    );
}

fn place(s: &mut State, ctx: &Context, out: &mut Out) {
    if s.stage != Stage::ReviewOrder {
        return stale(s, ctx, out);
    }
    let Some(address) = s.reviewing.take() else {
        return checkout(s, ctx, out);
    };
    let subtotal = cart_subtotal(ctx);
    s.stage = Stage::Idle;
    s.draft = DraftAddress::default();
    out.actions.push(Action::PlaceOrder {
        address,
        shipping_fee: ctx.settings.shipping_fee_for(subtotal),
    });
}

fn on_order_placed(s: &mut State, id: OrderId, ctx: &Context, out: &mut Out) {
    let Some(o) = ctx.orders.iter().find(|o| o.order.id == id) else {
        return menu(s, ctx, out);
    };
    out.actions.push(Action::Say(Message::Receipt {
        receipt: Box::new(receipt(o, ctx, out)),
    }));
    if o.order.payment == PaymentStatus::CodPending {
        s.stage = Stage::Idle;
        let text = out.t(ctx, "cod_chosen", &[]);
        return out.say(text);
    }
    ask_payment(s, o, ctx, out);
}

fn ask_payment(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
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
        let (key, tag) = match m {
            PaymentMethod::BankTransfer if !ctx.settings.bank_accounts.is_empty() => {
                ("btn_pay_bank", "bank")
            }
            PaymentMethod::QrTransfer if ctx.settings.payment_qr.is_some() => ("btn_pay_qr", "qr"),
            PaymentMethod::Cod => ("btn_pay_cod", "cod"),
            PaymentMethod::Balance if ctx.balance >= remaining && remaining > 0 => {
                ("btn_pay_balance", "balance")
            }
            _ => continue,
        };
        choices.push(out.choice(ctx, key, &format!("PAY:{tag}:{}", o.order.id)));
    }
    out.say_choices(text, choices);
}

fn pay(s: &mut State, method: &str, o: &OrderSummary, ctx: &Context, out: &mut Out) {
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
                ("status", &status_text(order, ctx, out)),
            ],
        );
        return out.say(text);
    }
    let amount = out.money(ctx, order.totals().remaining.minor);
    match method {
        "bank"
            if enabled(PaymentMethod::BankTransfer) && !ctx.settings.bank_accounts.is_empty() =>
        {
            s.stage = Stage::AwaitingSlip {
                order: order.id.get(),
            };
            let accounts: Vec<String> = ctx
                .settings
                .bank_accounts
                .iter()
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
        "qr" if enabled(PaymentMethod::QrTransfer) && ctx.settings.payment_qr.is_some() => {
            s.stage = Stage::AwaitingSlip {
                order: order.id.get(),
            };
            out.actions.push(Action::SendPaymentQr { order: order.id });
            let text = out.t(ctx, "pay_qr", &[("amount", &amount)]);
            out.say(text);
        }
        "cod" if enabled(PaymentMethod::Cod) && order.payment == PaymentStatus::Unpaid => {
            s.stage = Stage::Idle;
            out.actions.push(Action::Order {
                order: order.id,
                command: Command::ChooseCod,
            });
        }
        "balance" if enabled(PaymentMethod::Balance) => {
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

// ---------------------------------------------------------------- orders

fn status_text(order: &Order, ctx: &Context, out: &Out) -> String {
    let f = out.t(ctx, &format!("status_{}", order.fulfilment.as_str()), &[]);
    let p = out.t(ctx, &format!("payment_{}", order.payment.as_str()), &[]);
    format!("{f} · {p}")
}

fn list_orders(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    if ctx.orders.is_empty() {
        let text = out.t(ctx, "no_orders", &[]);
        return out.say_choices(text, vec![out.choice(ctx, "btn_products", "MENU_PRODUCTS")]);
    }
    let mut text = out.t(ctx, "orders_header", &[]);
    let mut choices = Vec::new();
    for o in ctx.orders.iter().take(10) {
        text.push_str(&format!(
            "\n{} · {} · {}",
            o.order.code,
            out.money(ctx, o.order.totals().total.minor),
            status_text(&o.order, ctx, out)
        ));
        choices.push(Choice {
            title: o.order.code.to_string(),
            payload: format!("ORDER:{}", o.order.id),
        });
    }
    out.say_choices(text, choices);
}

fn receipt(o: &OrderSummary, ctx: &Context, out: &Out) -> Receipt {
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
    out.amount_line(&mut text, ctx, "shipping_line", t.shipping_fee.minor);
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

fn show_order(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
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
    }
    let mut choices = Vec::new();
    for l in order
        .lines
        .iter()
        .filter(|l| l.status == LineStatus::AwaitingCustomer)
    {
        text.push('\n');
        text.push_str(&line_change_text(order, l, ctx, out));
        choices.push(Choice {
            title: out.t(ctx, "btn_accept_change", &[]),
            payload: format!("LINE_OK:{}:{}", order.id, l.id),
        });
        choices.push(Choice {
            title: out.t(ctx, "btn_refuse_change", &[]),
            payload: format!("LINE_NO:{}:{}", order.id, l.id),
        });
    }
    if lc::holds_stock(order.fulfilment)
        && matches!(
            order.payment,
            PaymentStatus::Unpaid | PaymentStatus::Rejected | PaymentStatus::PartiallyPaid
        )
    {
        choices.push(out.choice(ctx, "btn_pay", &format!("PAYMENU:{}", order.id)));
    }
    if lc::customer_may_cancel(order.fulfilment, order.payment) {
        choices.push(out.choice(ctx, "btn_cancel_order", &format!("CANCEL:{}", order.id)));
    }
    if lc::may_order_more(order.fulfilment, order.payment) {
        choices.push(out.choice(ctx, "btn_order_more", &format!("MORE:{}", order.id)));
    }
    choices.push(out.choice(ctx, "btn_complain", &format!("COMPLAIN:{}", order.id)));
    choices.push(out.choice(ctx, "btn_talk", "MENU_TALK"));
    out.say_choices(text, choices);
}

fn line_change_text(
    order: &Order,
    l: &crate::domain::OrderLine,
    ctx: &Context,
    out_locale: &Out,
) -> String {
    let price = Money::new(
        l.proposed_unit_price.unwrap_or(l.unit_price),
        order.currency,
    )
    .display(&out_locale.locale);
    let qty = l.proposed_qty.unwrap_or(l.qty).to_string();
    out_locale.t(
        ctx,
        "line_change",
        &[("name", &l.name), ("qty", &qty), ("price", &price)],
    )
}

fn cannot_cancel(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let text = out.t(
        ctx,
        "cannot_cancel",
        &[
            ("code", o.order.code.as_str()),
            ("status", &status_text(&o.order, ctx, out)),
        ],
    );
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_talk", "MENU_TALK"),
            out.choice(ctx, "btn_orders", "ORDERS"),
        ],
    );
}

fn order_more(s: &mut State, o: &OrderSummary, line: i64, qty: i64, ctx: &Context, out: &mut Out) {
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

fn on_command_done(s: &mut State, order: OrderId, command: &str, ctx: &Context, out: &mut Out) {
    let Some(o) = ctx.orders.iter().find(|o| o.order.id == order) else {
        return menu(s, ctx, out);
    };
    match command {
        "choose_cod" => {
            s.stage = Stage::Idle;
            let text = out.t(ctx, "cod_chosen", &[]);
            out.say(text);
        }
        "order_more" | "answer_line_change" => {
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
                vec![out.choice(ctx, "btn_view_order", &format!("ORDER:{}", order))],
            );
        }
        // Cancellation and balance payments answer through their order notices.
        _ => {}
    }
}

// ---------------------------------------------------------------- text

const MENU_WORDS: &[&str] = &[
    "menu",
    "help",
    "start",
    "hi",
    "hello",
    "เมนู",
    "ช่วยด้วย",
    "สวัสดี",
    "trợ giúp",
    "xin chào",
    "bắt đầu",
];
const CART_WORDS: &[&str] = &["cart", "basket", "ตะกร้า", "giỏ hàng", "giỏ"];
const ORDER_WORDS: &[&str] = &[
    "orders",
    "my orders",
    "order status",
    "คำสั่งซื้อ",
    "ออเดอร์",
    "đơn hàng",
];
const PRODUCT_WORDS: &[&str] = &["products", "shop", "catalog", "สินค้า", "sản phẩm"];
const YES_WORDS: &[&str] = &[
    "yes",
    "y",
    "ok",
    "confirm",
    "ใช่",
    "ตกลง",
    "ยืนยัน",
    "có",
    "đồng ý",
    "xác nhận",
];
const NO_WORDS: &[&str] = &["no", "n", "cancel", "ไม่", "ไม่ใช่", "không"];

fn is(words: &[&str], text: &str) -> bool {
    words.contains(&text)
}

fn on_text(s: &mut State, raw: &str, ctx: &Context, out: &mut Out) {
    let text = raw.trim();
    let lower = text.to_lowercase();
    let lower = lower.trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    // Menu words work from every state.
    if is(MENU_WORDS, lower) {
        return menu(s, ctx, out);
    }
    if let Some(l) = match lower {
        "english" => Some("en"),
        "ไทย" | "ภาษาไทย" | "thai" => Some("th"),
        "tiếng việt" | "vietnamese" => Some("vi"),
        _ => None,
    } {
        s.locale = Some(l.to_string());
        out.locale = l.to_string();
        return menu(s, ctx, out);
    }
    match s.stage.clone() {
        Stage::PickQty { variant, buy_now } => match num(text) {
            Some(q) => return add_to_cart(s, variant, q, buy_now, ctx, out),
            None if !is(CART_WORDS, lower)
                && !is(ORDER_WORDS, lower)
                && !is(PRODUCT_WORDS, lower) =>
            {
                let t = out.t(ctx, "bad_qty", &[("max", &MAX_QTY.to_string())]);
                return out.say(t);
            }
            None => {}
        },
        Stage::ChangeQty { variant } => {
            if let Some(q) = num(text) {
                return set_qty(s, variant, q, ctx, out);
            }
        }
        Stage::Address { step } => return on_address_text(s, step, text, ctx, out),
        Stage::ReviewOrder => {
            if is(YES_WORDS, lower) {
                return place(s, ctx, out);
            }
            if is(NO_WORDS, lower) {
                return show_cart(s, ctx, out);
            }
        }
        Stage::ConfirmCancel { order } => {
            if is(YES_WORDS, lower) {
                return on_tap(s, &format!("CANCEL_YES:{order}"), ctx, out);
            }
            if is(NO_WORDS, lower) {
                return on_tap(s, &format!("CANCEL_NO:{order}"), ctx, out);
            }
        }
        Stage::OrderMoreQty { order, line } => {
            if let Some(o) = order_of(ctx, order) {
                return match num(text.trim_start_matches('+')) {
                    Some(q) => order_more(s, o, line, q, ctx, out),
                    None => {
                        let t = out.t(ctx, "more_only_increase", &[]);
                        out.say(t)
                    }
                };
            }
        }
        Stage::Complaint { order } => {
            s.stage = Stage::Idle;
            out.actions.push(Action::Complaint {
                order: OrderId(order),
                text: text.to_string(),
                image_url: None,
            });
            let t = out.t(ctx, "complaint_recorded", &[]);
            return out.say(t);
        }
        Stage::TalkToShop => {
            out.actions.push(Action::ForwardToShop {
                text: text.to_string(),
            });
            if !s.told_shop_will_reply {
                s.told_shop_will_reply = true;
                let t = out.t(ctx, "shop_will_reply", &[]);
                out.say(t);
            }
            return;
        }
        _ => {}
    }
    if is(CART_WORDS, lower) {
        return show_cart(s, ctx, out);
    }
    if is(ORDER_WORDS, lower) {
        return list_orders(s, ctx, out);
    }
    if is(PRODUCT_WORDS, lower) {
        return browse(s, ctx, out);
    }
    // An order code typed from memory or pasted.
    if let Ok(code) = text.parse::<crate::domain::OrderCode>() {
        return match ctx.orders.iter().find(|o| o.order.code == code) {
            Some(o) => show_order(s, o, ctx, out),
            None => {
                let t = out.t(ctx, "order_not_found", &[("code", code.as_str())]);
                out.say(t);
            }
        };
    }
    if let Some(stage_prompt) = remind_stage(s, ctx, out) {
        return out.say(stage_prompt);
    }
    if search(s, lower, ctx, out) {
        return;
    }
    out.actions.push(Action::ForwardToShop {
        text: text.to_string(),
    });
    if !s.told_shop_will_reply {
        s.told_shop_will_reply = true;
        let t = out.t(ctx, "not_understood", &[]);
        let choices = out.menu_choices(ctx);
        out.say_choices(t, choices);
    }
}

/// While a step waits for something specific, say what it waits for.
fn remind_stage(s: &State, ctx: &Context, out: &Out) -> Option<String> {
    match &s.stage {
        Stage::AwaitingSlip { order } => {
            let code = order_of(ctx, *order)
                .map(|o| o.order.code.to_string())
                .unwrap_or_default();
            Some(out.t(ctx, "waiting_for_slip", &[("code", &code)]))
        }
        Stage::ChoosePayment { .. } => Some(out.t(ctx, "please_choose_payment", &[])),
        _ => None,
    }
}

fn search(s: &mut State, query: &str, ctx: &Context, out: &mut Out) -> bool {
    let words: Vec<&str> = query
        .split_whitespace()
        .filter(|w| w.chars().count() >= 2)
        .collect();
    if words.is_empty() {
        return false;
    }
    let hits: Vec<&Product> = ctx
        .catalog
        .iter()
        .filter(|p| p.active)
        .filter(|p| {
            let hay = format!(
                "{} {} {} {}",
                p.name,
                p.category,
                p.description,
                p.variants
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
            .to_lowercase();
            words.iter().any(|w| hay.contains(w))
        })
        .take(10)
        .collect();
    if hits.is_empty() {
        return false;
    }
    s.stage = Stage::Idle;
    let text = out.t(ctx, "search_results", &[("query", query)]);
    out.say(text);
    let cards = hits.iter().map(|p| product_card(p, ctx, out)).collect();
    out.actions.push(Action::Say(Message::Carousel { cards }));
    true
}

// ---------------------------------------------------------------- media

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

fn on_image(s: &mut State, url: &str, ctx: &Context, out: &mut Out) {
    if let Stage::Complaint { order } = s.stage {
        s.stage = Stage::Idle;
        out.actions.push(Action::Complaint {
            order: OrderId(order),
            text: String::new(),
            image_url: Some(url.to_string()),
        });
        let t = out.t(ctx, "complaint_recorded", &[]);
        return out.say(t);
    }
    let target = match s.stage {
        Stage::AwaitingSlip { order } | Stage::ChoosePayment { order } => order_of(ctx, order),
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

fn on_sticker(s: &mut State, ctx: &Context, out: &mut Out) {
    // A sticker mid-checkout changes nothing; repeat what the step waits for.
    match s.stage.clone() {
        Stage::Address { step } => ask_address(s, step, ctx, out),
        Stage::AwaitingSlip { .. } => {
            let t = out.t(ctx, "sticker_not_slip", &[]);
            out.say(t);
        }
        Stage::PickQty { variant, buy_now } => pick_qty(s, variant, buy_now, ctx, out),
        Stage::ReviewOrder => {
            let t = out.t(ctx, "please_confirm_order", &[]);
            out.say_choices(
                t,
                vec![
                    out.choice(ctx, "btn_place_order", "PLACE"),
                    out.choice(ctx, "btn_cart", "CART"),
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

fn on_other_attachment(s: &mut State, kind: &str, ctx: &Context, out: &mut Out) {
    if matches!(s.stage, Stage::AwaitingSlip { .. })
        || payable_order(ctx).is_some() && kind == "file"
    {
        let t = out.t(ctx, "slip_must_be_photo", &[]);
        return out.say(t);
    }
    if let Stage::Address { step } = s.stage {
        let t = out.t(ctx, "address_as_text", &[]);
        out.say(t);
        return ask_address(s, step, ctx, out);
    }
    out.actions.push(Action::ForwardToShop {
        text: format!("[{kind}]"),
    });
    let t = out.t(ctx, "image_forwarded", &[]);
    out.say(t);
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
