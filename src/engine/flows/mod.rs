//! The customer journey: menu, browsing, cart, checkout, payment, orders,
//! cancellation, order more, line-change answers, claims, talking to
//! the shop. Every input leads somewhere sensible; stale or forged buttons
//! get a polite answer and change nothing.
//!
//! This file routes each input to its stage; each stage is a module.

mod balance;
mod browse;
mod cart;
mod checkout;
mod claims;
mod media;
mod orders;
mod services;
mod text;

use super::*;
use crate::domain::catalog::Variant;
use crate::domain::{Money, ProductId};

/// Quantities a customer may pick or type for one line.
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
        Input::Tap(tap) => on_tap(&mut s, tap, ctx, &mut out),
        // Not one of our buttons (or a mangled one): as stale as it gets.
        Input::UnknownTap(_) => stale(&mut s, ctx, &mut out),
        Input::Text(text) => text::on_text(&mut s, text, ctx, &mut out),
        Input::Image { url } => media::on_image(&mut s, url, ctx, &mut out),
        Input::Sticker => media::on_sticker(&mut s, ctx, &mut out),
        Input::OtherAttachment(kind) => media::on_other_attachment(&mut s, kind, ctx, &mut out),
        Input::Referral(_) => welcome(&mut s, ctx, &mut out),
        Input::OrderPlaced { order } => checkout::on_order_placed(&mut s, *order, ctx, &mut out),
        Input::OrderNotPlaced { reason } => {
            checkout::on_order_not_placed(&mut s, reason, ctx, &mut out)
        }
        Input::CommandDone { order, command } => {
            orders::on_command_done(&mut s, *order, command, ctx, &mut out)
        }
        Input::CommandRefused { reason, .. } => {
            orders::on_command_refused(&mut s, reason, ctx, &mut out)
        }
    }
    (s, out.actions)
}

/// Sends each tap to its stage. Ids in a tap may be stale or forged: the
/// stage looks them up and answers [`stale`] when they point nowhere.
fn on_tap(s: &mut State, tap: &Tap, ctx: &Context, out: &mut Out) {
    match tap {
        Tap::GetStarted => welcome(s, ctx, out),
        Tap::Menu => menu(s, ctx, out),
        Tap::Language(locale) => {
            s.locale = Some(locale.to_string());
            out.locale = locale.to_string();
            menu(s, ctx, out);
        }
        Tap::TalkToShop => talk_to_shop(s, ctx, out),

        Tap::Products => browse::browse(s, ctx, out),
        Tap::Category(category) => browse::show_page(s, ctx, out, Some(category), 0),
        Tap::Page(page) => browse::show_page(s, ctx, out, None, *page),
        Tap::CategoryPage { page, category } => {
            browse::show_page(s, ctx, out, Some(category), *page)
        }
        Tap::AddToCart(p) => browse::pick_product(s, *p, false, ctx, out),
        Tap::BuyNow(p) => browse::pick_product(s, *p, true, ctx, out),
        Tap::PickVariant { variant, buy_now } => {
            browse::pick_qty(s, variant.get(), *buy_now, ctx, out)
        }

        Tap::PickQty {
            variant,
            qty,
            buy_now,
        } => cart::add_to_cart(s, variant.get(), *qty, *buy_now, ctx, out),
        Tap::Cart => cart::show_cart(s, ctx, out),
        Tap::EditLine(variant) => cart::ask_new_qty(s, *variant, ctx, out),
        Tap::SetQty { variant, qty } if in_cart(ctx, *variant) > 0 => {
            cart::set_qty(s, variant.get(), *qty, ctx, out)
        }
        Tap::SetQty { .. } => stale(s, ctx, out),
        Tap::EmptyCart => cart::empty(s, ctx, out),

        Tap::Checkout => checkout::checkout(s, ctx, out),
        Tap::UseSavedAddress => checkout::use_saved_address(s, ctx, out),
        Tap::NewAddress => checkout::new_address(s, ctx, out),
        Tap::ChangeAddress(order) => {
            with_order(s, *order, ctx, out, checkout::change_order_address)
        }
        Tap::PlaceOrder => checkout::place(s, ctx, out),
        Tap::PaymentMenu(order) => with_order(s, *order, ctx, out, checkout::ask_payment),
        Tap::Pay { method, order } => with_order(s, *order, ctx, out, |s, o, ctx, out| {
            checkout::pay(s, *method, o, ctx, out)
        }),

        Tap::Orders => orders::list_orders(s, ctx, out),
        Tap::OrdersPage(page) => orders::list_page(s, *page, ctx, out),
        Tap::Balance => balance::show(s, ctx, out),
        Tap::ShowOrder(order) => with_order(s, *order, ctx, out, orders::show_order),
        Tap::Cancel(order) => with_order(s, *order, ctx, out, orders::ask_cancel),
        Tap::ConfirmCancel(order) => with_order(s, *order, ctx, out, orders::cancel),
        Tap::KeepOrder(_) => orders::keep_order(s, ctx, out),
        Tap::OrderMore(order) => with_order(s, *order, ctx, out, orders::pick_line_for_more),
        Tap::OrderMoreLine { order, line } => with_order(s, *order, ctx, out, |s, o, ctx, out| {
            orders::ask_more_qty(s, o, *line, ctx, out)
        }),
        Tap::OrderMoreQty { order, line, qty } => {
            with_order(s, *order, ctx, out, |s, o, ctx, out| {
                orders::order_more(s, o, *line, *qty, ctx, out)
            })
        }
        Tap::AnswerLineChange {
            order,
            line,
            accept,
        } => with_order(s, *order, ctx, out, |s, o, ctx, out| {
            orders::answer_line_change(s, o, *line, *accept, ctx, out)
        }),
        Tap::Complain(order) => with_order(s, *order, ctx, out, claims::ask_reason),
        Tap::ClaimReason { order, reason } => with_order(s, *order, ctx, out, |s, o, ctx, out| {
            claims::start(s, o, *reason, ctx, out)
        }),
        Tap::ClaimDone(order) => with_order(s, *order, ctx, out, claims::done),
        Tap::Services(order) => with_order(s, *order, ctx, out, services::show),
        Tap::ToggleService {
            order,
            service,
            add,
        } => with_order(s, *order, ctx, out, |s, o, ctx, out| {
            services::toggle(s, o, service, *add, ctx, out)
        }),
    }
}

/// Runs `then` on one of this customer's orders, or calls the button stale.
fn with_order(
    s: &mut State,
    id: OrderId,
    ctx: &Context,
    out: &mut Out,
    then: impl FnOnce(&mut State, &OrderSummary, &Context, &mut Out),
) {
    match order_of(ctx, id) {
        Some(o) => then(s, o, ctx, out),
        None => stale(s, ctx, out),
    }
}

/// The actions of one step, and the locale its words are in.
struct Out {
    actions: Vec<Action>,
    locale: String,
}

impl Out {
    fn t(&self, ctx: &Context, key: &str, args: &[(&str, &str)]) -> String {
        ctx.texts
            .get_with(Some(&ctx.settings.messages), &self.locale, key, args)
    }
    /// The shipping line of a bill, naming the rule it came from.
    fn shipping_line(
        &self,
        text: &mut String,
        ctx: &Context,
        subtotal: i64,
        province: &str,
        fee: i64,
    ) {
        use crate::domain::shop::ShippingRule;
        let line = match ctx.settings.shipping_rule(subtotal, province, fee) {
            ShippingRule::FreeFrom(from) => self.t(
                ctx,
                "shipping_line_free",
                &[("from", &self.money(ctx, from))],
            ),
            ShippingRule::Province(place) => self.t(
                ctx,
                "shipping_line_province",
                &[("province", &place), ("amount", &self.money(ctx, fee))],
            ),
            ShippingRule::Flat => {
                self.t(ctx, "shipping_line", &[("amount", &self.money(ctx, fee))])
            }
        };
        text.push('\n');
        text.push_str(&line);
    }
    /// Appends one "Label: amount" line of a bill or cart.
    fn amount_line(&self, text: &mut String, ctx: &Context, key: &str, minor: i64) {
        text.push('\n');
        text.push_str(&self.t(ctx, key, &[("amount", &self.money(ctx, minor))]));
    }
    fn money(&self, ctx: &Context, minor: i64) -> String {
        Money::new(minor, ctx.currency).display_as(&self.locale, ctx.settings.currency_display)
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
    /// A quick reply labelled with the text `key`.
    fn choice(&self, ctx: &Context, key: &str, tap: Tap) -> Choice {
        Choice::tap(self.t(ctx, key, &[]), &tap)
    }
    fn menu_choices(&self, ctx: &Context) -> Vec<Choice> {
        vec![
            self.choice(ctx, "btn_products", Tap::Products),
            self.choice(ctx, "btn_cart", Tap::Cart),
            self.choice(ctx, "btn_orders", Tap::Orders),
            self.choice(ctx, "btn_balance", Tap::Balance),
            self.choice(ctx, "btn_talk", Tap::TalkToShop),
        ]
    }
}

fn welcome(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    s.address_for = None;
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
    s.address_for = None;
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

fn talk_to_shop(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::TalkToShop;
    let text = out.t(ctx, "talk_ask", &[]);
    out.say(text);
}

/// A typed number, Thai digits included.
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

fn product<'a>(ctx: &'a Context, id: ProductId) -> Option<&'a Product> {
    ctx.catalog.iter().find(|p| p.id == id && p.active)
}

fn variant<'a>(ctx: &'a Context, id: i64) -> Option<(&'a Product, &'a Variant)> {
    ctx.catalog.iter().filter(|p| p.active).find_map(|p| {
        p.variants
            .iter()
            .find(|v| v.id == VariantId(id))
            .map(|v| (p, v))
    })
}

/// One of this customer's orders; the context never holds another's.
fn order_of<'a>(ctx: &'a Context, id: OrderId) -> Option<&'a OrderSummary> {
    ctx.orders.iter().find(|o| o.order.id == id)
}

fn item_name(p: &Product, v: &Variant) -> String {
    if v.name.is_empty() {
        p.name.clone()
    } else {
        format!("{} ({})", p.name, v.name)
    }
}

fn in_cart(ctx: &Context, v: VariantId) -> i64 {
    ctx.cart
        .iter()
        .filter(|l| l.variant == v)
        .map(|l| l.qty)
        .sum()
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
