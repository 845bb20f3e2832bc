//! Typed text: greetings, menu and language words from anywhere, answers
//! to the step the conversation is at, typed requests ("where is my
//! parcel"), order codes and product search; anything else goes to the
//! shop.

use super::*;
use crate::engine::intent::{self, Intent};

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

pub(super) fn on_text(s: &mut State, raw: &str, ctx: &Context, out: &mut Out) {
    let text = raw.trim();
    let lower = text.to_lowercase();
    let lower = lower.trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    let asked = intent::recognise(text);
    // Greetings and menu words work from every state, in the language
    // they were said in (English ones are said in every language, so
    // they keep the customer's).
    if let Some((said @ (Intent::Greeting | Intent::Menu), locale)) = asked {
        if locale != "en" {
            s.locale = Some(locale.to_string());
            out.locale = locale.to_string();
        }
        return match said {
            Intent::Greeting => welcome(s, ctx, out),
            _ => menu(s, ctx, out),
        };
    }
    if let Some(l) = match lower {
        "english" => Some("en"),
        "ไทย" | "ภาษาไทย" | "thai" => Some("th"),
        "tiếng việt" | "tieng viet" | "vietnamese" => Some("vi"),
        _ => None,
    } {
        s.locale = Some(l.to_string());
        out.locale = l.to_string();
        return menu(s, ctx, out);
    }
    if !answer_step(s, text, lower, asked.is_some(), ctx, out) {
        understand(s, text, asked.map(|a| a.0), ctx, out);
    }
}

/// Text as the answer the current step waits for; `false` when it is not
/// one, and the text means what it would mean anywhere.
fn answer_step(
    s: &mut State,
    text: &str,
    lower: &str,
    is_request: bool,
    ctx: &Context,
    out: &mut Out,
) -> bool {
    match s.stage.clone() {
        Stage::PickQty { variant, buy_now } => match num(text) {
            Some(q) => cart::add_to_cart(s, variant, q, buy_now, ctx, out),
            None if !is_request => {
                let t = out.t(ctx, "bad_qty", &[("max", &MAX_QTY.to_string())]);
                out.say(t);
            }
            None => return false,
        },
        Stage::ChangeQty { variant } => match num(text) {
            Some(q) => cart::set_qty(s, variant, q, ctx, out),
            None => return false,
        },
        Stage::Address { step } => checkout::on_address_text(s, step, text, ctx, out),
        Stage::ReviewOrder if is(YES_WORDS, lower) => checkout::place(s, ctx, out),
        Stage::ReviewOrder if is(NO_WORDS, lower) => cart::show_cart(s, ctx, out),
        Stage::ConfirmCancel { order } if is(YES_WORDS, lower) => {
            on_tap(s, &Tap::ConfirmCancel(OrderId(order)), ctx, out)
        }
        Stage::ConfirmCancel { order } if is(NO_WORDS, lower) => {
            on_tap(s, &Tap::KeepOrder(Some(OrderId(order))), ctx, out)
        }
        Stage::OrderMoreQty { order, line } => {
            let Some(o) = order_of(ctx, OrderId(order)) else {
                return false;
            };
            match num(text.trim_start_matches('+')) {
                Some(q) => orders::order_more(s, o, line, q, ctx, out),
                None => {
                    let t = out.t(ctx, "more_only_increase", &[]);
                    out.say(t)
                }
            }
        }
        Stage::ClaimReason { .. } | Stage::Claim { .. } => {
            claims::add(s, Some(text), None, ctx, out)
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
        }
        _ => return false,
    }
    true
}

/// Text outside any step: a typed request, an order code, a search; what
/// is left goes to the shop.
fn understand(s: &mut State, text: &str, asked: Option<Intent>, ctx: &Context, out: &mut Out) {
    match asked {
        Some(Intent::Cart) => return cart::show_cart(s, ctx, out),
        Some(Intent::Orders) => return orders::list_orders(s, ctx, out),
        Some(Intent::MyOrder) => return orders::my_order(s, ctx, out),
        Some(Intent::CancelOrder) => return orders::cancel_typed(s, ctx, out),
        Some(Intent::WhereIsParcel) => {
            // Not sent yet because it waits for the customer: say so too.
            orders::where_is_parcel(s, ctx, out);
            if let Some(prompt) = remind_stage(s, ctx, out) {
                out.say(prompt);
            }
            return;
        }
        Some(Intent::Balance) => return balance::show(s, ctx, out),
        Some(Intent::TalkToPerson) => return talk_to_shop(s, ctx, out),
        Some(Intent::Products) => return browse::browse(s, ctx, out),
        Some(Intent::Greeting | Intent::Menu) | None => {}
    }
    // An order code typed from memory or pasted.
    if let Ok(code) = text.parse::<crate::domain::OrderCode>() {
        match ctx.orders.iter().find(|o| o.order.code == code) {
            Some(o) => return orders::show_order(s, o, ctx, out),
            // An eight-letter word ("shipping") is not a code mistyped.
            None if looks_like_a_code(text) => {
                let t = out.t(ctx, "order_not_found", &[("code", code.as_str())]);
                return out.say(t);
            }
            None => {}
        }
    }
    if let Some(stage_prompt) = remind_stage(s, ctx, out) {
        return out.say(stage_prompt);
    }
    if browse::search(s, text, ctx, out) {
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

/// A typed code with its prefix or a digit in it, as codes mostly have.
fn looks_like_a_code(text: &str) -> bool {
    let t = text.trim().trim_start_matches('#').to_ascii_uppercase();
    t.starts_with("CB") || t.chars().any(|c| c.is_ascii_digit())
}

/// While a step waits for something specific, say what it waits for.
fn remind_stage(s: &State, ctx: &Context, out: &Out) -> Option<String> {
    match &s.stage {
        Stage::AwaitingSlip { order } => {
            let code = order_of(ctx, OrderId(*order))
                .map(|o| o.order.code.to_string())
                .unwrap_or_default();
            Some(out.t(ctx, "waiting_for_slip", &[("code", &code)]))
        }
        Stage::ChoosePayment { .. } => Some(out.t(ctx, "please_choose_payment", &[])),
        _ => None,
    }
}
