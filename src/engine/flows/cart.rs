//! The cart: adding, changing and removing lines, and showing it.

use super::*;

pub(super) fn add_to_cart(
    s: &mut State,
    v: i64,
    qty: i64,
    buy_now: bool,
    ctx: &Context,
    out: &mut Out,
) {
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
        return checkout::checkout(s, &with_item, out);
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
            out.choice(ctx, "btn_checkout", Tap::Checkout),
            out.choice(ctx, "btn_cart", Tap::Cart),
            out.choice(ctx, "btn_keep_shopping", Tap::Products),
        ],
    );
}

pub(super) fn set_qty(s: &mut State, v: i64, qty: i64, ctx: &Context, out: &mut Out) {
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

/// Offers quantities for a cart line; `0` removes it.
pub(super) fn ask_new_qty(s: &mut State, v: VariantId, ctx: &Context, out: &mut Out) {
    if in_cart(ctx, v) <= 0 {
        return stale(s, ctx, out);
    }
    s.stage = Stage::ChangeQty { variant: v.get() };
    let name = variant(ctx, v.get())
        .map(|(p, var)| item_name(p, var))
        .unwrap_or_default();
    let text = out.t(ctx, "ask_new_qty", &[("name", &name)]);
    let set = |qty| Tap::SetQty { variant: v, qty };
    let mut choices: Vec<Choice> = (1..=5)
        .map(|q| Choice::tap(q.to_string(), &set(q)))
        .collect();
    choices.push(out.choice(ctx, "btn_remove", set(0)));
    out.say_choices(text, choices);
}

pub(super) fn empty(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    out.actions.push(Action::Cart(CartOp::Clear));
    let text = out.t(ctx, "cart_emptied", &[]);
    out.say_choices(text, vec![out.choice(ctx, "btn_products", Tap::Products)]);
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

/// The cart's lines still in the catalog, with their products.
pub(super) fn cart_lines<'a>(ctx: &'a Context) -> Vec<(&'a Product, &'a Variant, i64)> {
    ctx.cart
        .iter()
        .filter_map(|l| variant(ctx, l.variant.get()).map(|(p, v)| (p, v, l.qty)))
        .collect()
}

pub(super) fn cart_subtotal(ctx: &Context) -> i64 {
    cart_lines(ctx)
        .iter()
        .map(|(p, v, q)| p.price_of(v) * q)
        .sum()
}

pub(super) fn show_cart(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let lines = cart_lines(ctx);
    if lines.is_empty() {
        let text = out.t(ctx, "cart_empty", &[]);
        return out.say_choices(text, vec![out.choice(ctx, "btn_products", Tap::Products)]);
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
    let mut choices = vec![out.choice(ctx, "btn_checkout", Tap::Checkout)];
    for (p, v, _) in lines.iter().take(9) {
        let title = format!("✎ {}", short(&item_name(p, v), 17));
        choices.push(Choice::tap(title, &Tap::EditLine(v.id)));
    }
    choices.push(out.choice(ctx, "btn_empty_cart", Tap::EmptyCart));
    choices.push(out.choice(ctx, "btn_keep_shopping", Tap::Products));
    out.say_choices(text, choices);
}
