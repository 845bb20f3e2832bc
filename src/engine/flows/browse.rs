//! Browsing: categories, carousel pages, search, and picking a product's
//! option and quantity.

use super::*;
use crate::engine::intent;

/// Cards on a carousel page, leaving room for the "more" card.
const PAGE_SIZE: usize = 9;

fn categories(ctx: &Context) -> Vec<String> {
    let mut cats: Vec<String> = Vec::new();
    for p in ctx.catalog.iter().filter(|p| p.active) {
        if !p.category.is_empty() && !cats.contains(&p.category) {
            cats.push(p.category.clone());
        }
    }
    cats
}

pub(super) fn browse(s: &mut State, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let cats = categories(ctx);
    if cats.len() > 1 {
        let text = out.t(ctx, "pick_category", &[]);
        let mut choices: Vec<Choice> = vec![out.choice(ctx, "btn_all_products", Tap::Page(0))];
        choices.extend(
            cats.iter()
                .take(12)
                .map(|c| Choice::tap(short(c, 20), &Tap::Category(c.clone()))),
        );
        out.say_choices(text, choices);
    } else {
        show_page(s, ctx, out, None, 0);
    }
}

pub(super) fn show_page(
    s: &mut State,
    ctx: &Context,
    out: &mut Out,
    category: Option<&str>,
    page: usize,
) {
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
        let next = match category {
            Some(c) => Tap::CategoryPage {
                page: page + 1,
                category: c.to_string(),
            },
            None => Tap::Page(page + 1),
        };
        cards.push(Card {
            title: out.t(ctx, "more_products_title", &[]),
            subtitle: out.t(
                ctx,
                "more_products_subtitle",
                &[("n", &(items.len() - start - PAGE_SIZE).to_string())],
            ),
            image_url: None,
            buttons: vec![Button::tap(out.t(ctx, "btn_next_page", &[]), &next)],
        });
    }
    out.actions.push(Action::Say(Message::Carousel { cards }));
}

pub(super) fn product_card(p: &Product, ctx: &Context, out: &Out) -> Card {
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
            Button::tap(out.t(ctx, "btn_buy_now", &[]), &Tap::BuyNow(p.id)),
            Button::tap(out.t(ctx, "btn_add_to_cart", &[]), &Tap::AddToCart(p.id)),
        ]
    } else {
        vec![Button::tap(out.t(ctx, "btn_talk", &[]), &Tap::TalkToShop)]
    };
    Card {
        title: short(&p.name, 80),
        subtitle: short(&subtitle, 80),
        image_url: absolute(ctx, &p.image_url),
        buttons,
    }
}

/// A product's button: its option first, unless it has only one.
pub(super) fn pick_product(
    s: &mut State,
    id: ProductId,
    buy_now: bool,
    ctx: &Context,
    out: &mut Out,
) {
    match product(ctx, id) {
        Some(p) => pick_variant(s, p, buy_now, ctx, out),
        None => stale(s, ctx, out),
    }
}

fn pick_variant(s: &mut State, p: &Product, buy_now: bool, ctx: &Context, out: &mut Out) {
    if !p.in_stock() {
        s.stage = Stage::Idle;
        let text = out.t(ctx, "product_out_of_stock", &[("name", &p.name)]);
        out.say_choices(text, vec![out.choice(ctx, "btn_products", Tap::Products)]);
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
            let tap = Tap::PickVariant {
                variant: v.id,
                buy_now,
            };
            choices.push(Choice::tap(short(&v.name, 20), &tap));
        }
    }
    let mut text = out.t(ctx, "pick_variant", &[("name", &p.name)]);
    if !sold_out.is_empty() {
        text.push('\n');
        text.push_str(&out.t(ctx, "variants_sold_out", &[("list", &sold_out.join(", "))]));
    }
    out.say_choices(text, choices);
}

pub(super) fn pick_qty(s: &mut State, v: i64, buy_now: bool, ctx: &Context, out: &mut Out) {
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
                out.choice(ctx, "btn_cart", Tap::Cart),
                out.choice(ctx, "btn_products", Tap::Products),
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
        .map(|q| {
            let tap = Tap::PickQty {
                variant: VariantId(v),
                qty: q,
                buy_now,
            };
            Choice::tap(q.to_string(), &tap)
        })
        .collect();
    out.say_choices(text, choices);
}

/// Products whose words match the text; `false` when none do.
/// Free text as a product search, only when it reads like one: a word of
/// it names a product (its name, category or a variant), or, when the
/// text is not a question, every word is found in a product's words.
/// Greetings and questions that merely share a word with a description
/// go to the shop instead.
pub(super) fn search(s: &mut State, text: &str, ctx: &Context, out: &mut Out) -> bool {
    let words = intent::search_words(text);
    if words.is_empty() {
        return false;
    }
    let question = intent::is_question(text);
    let hits: Vec<&Product> = ctx
        .catalog
        .iter()
        .filter(|p| p.active)
        .filter(|p| {
            let names = intent::fold(&format!(
                "{} {} {}",
                p.name,
                p.category,
                p.variants
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            if words.iter().any(|w| names_word(&names, w)) {
                return true;
            }
            let all = format!("{names} {}", intent::fold(&p.description));
            !question && words.iter().all(|w| names_word(&all, w))
        })
        .take(10)
        .collect();
    if hits.is_empty() {
        return false;
    }
    s.stage = Stage::Idle;
    let text = out.t(ctx, "search_results", &[("query", text.trim())]);
    out.say(text);
    let cards = hits.iter().map(|p| product_card(p, ctx, out)).collect();
    out.actions.push(Action::Say(Message::Carousel { cards }));
    true
}

/// Whether `word` is one of the words of `hay` (or its start, for plurals
/// and short forms of three letters or more); Thai, without spaces, by
/// substring.
fn names_word(hay: &str, word: &str) -> bool {
    if word.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c)) {
        return hay.contains(word);
    }
    hay.split(' ').any(|h| {
        h == word
            || (word.chars().count() >= 3 && h.starts_with(word))
            || (h.chars().count() >= 3 && word.starts_with(h) && word.len() <= h.len() + 2)
    })
}

/// Catalog images may be stored as paths; chat apps need whole URLs.
fn absolute(ctx: &Context, url: &Option<String>) -> Option<String> {
    url.as_ref().map(|u| {
        if u.starts_with('/') {
            format!("{}{u}", ctx.public_url)
        } else {
            u.clone()
        }
    })
}
