//! The shop's extra services in chat (seed 000): before the order ships,
//! the customer adds one (gift wrap, insurance, inspection…) or takes it
//! off; the order's own rules price it, and the answer gives the new total.

use super::*;
use crate::domain::lifecycle as lc;
use crate::domain::order::{Charging, OrderService};

/// The extras on an order, one line each, for the order's page.
pub(super) fn chosen_lines(text: &mut String, order: &Order, ctx: &Context, out: &Out) {
    if order.services.is_empty() {
        return;
    }
    text.push_str("\n\n");
    text.push_str(&out.t(ctx, "detail_services", &[]));
    for s in &order.services {
        text.push('\n');
        text.push_str(&chosen_line(s, ctx, out));
    }
}

fn chosen_line(s: &OrderService, ctx: &Context, out: &Out) -> String {
    let state = match (s.done, s.charged) {
        (true, _) => "service_state_done",
        (false, Charging::WhenDone) => "service_state_pending",
        (false, Charging::Always) => "service_state_chosen",
    };
    out.t(
        ctx,
        "service_chosen_line",
        &[
            ("name", &s.name),
            ("price", &out.money(ctx, s.price)),
            ("state", &out.t(ctx, state, &[])),
        ],
    )
}

/// Whether the order's page offers the Extras button.
pub(super) fn offered(order: &Order, ctx: &Context) -> bool {
    !ctx.settings.services.is_empty() && lc::seller_may_edit(order.fulfilment)
}

/// The shop's services with what each costs and when, and a button to add
/// each one not chosen or take off each one chosen (and not yet done).
pub(super) fn show(s: &mut State, o: &OrderSummary, ctx: &Context, out: &mut Out) {
    s.stage = Stage::Idle;
    let order = &o.order;
    let view = out.choice(ctx, "btn_view_order", Tap::ShowOrder(order.id));
    if ctx.settings.services.is_empty() {
        let text = out.t(ctx, "no_services", &[]);
        return out.say_choices(text, vec![view]);
    }
    if !lc::seller_may_edit(order.fulfilment) {
        let text = out.t(ctx, "services_too_late", &[("code", order.code.as_str())]);
        return out.say_choices(text, vec![view]);
    }
    let mut text = out.t(ctx, "services_menu", &[("code", order.code.as_str())]);
    let mut choices = Vec::new();
    for offer in &ctx.settings.services {
        let rule = match offer.charged {
            Charging::Always => "service_rule_always",
            Charging::WhenDone => "service_rule_when_done",
        };
        text.push('\n');
        text.push_str(&out.t(
            ctx,
            "service_offer_line",
            &[
                ("name", &offer.name),
                ("price", &out.money(ctx, offer.price)),
                ("rule", &out.t(ctx, rule, &[])),
            ],
        ));
        let chosen = order.services.iter().find(|c| c.id == offer.id);
        let (key, add) = match chosen {
            Some(c) if c.done => continue,
            Some(_) => ("btn_remove_service", false),
            None => ("btn_add_service", true),
        };
        let tap = Tap::ToggleService {
            order: order.id,
            service: offer.id.clone(),
            add,
        };
        choices.push(Choice::tap(out.t(ctx, key, &[("name", &offer.name)]), &tap));
    }
    choices.truncate(12);
    choices.push(view);
    out.say_choices(text, choices);
}

pub(super) fn toggle(
    s: &mut State,
    o: &OrderSummary,
    service: &str,
    add: bool,
    ctx: &Context,
    out: &mut Out,
) {
    s.stage = Stage::Idle;
    let command = if add {
        Command::AddService {
            service: service.to_string(),
            offer: ctx.settings.service(service).cloned(),
        }
    } else {
        Command::RemoveService {
            service: service.to_string(),
        }
    };
    out.actions.push(Action::Order {
        order: o.order.id,
        command,
    });
}

/// The order took the service on or off: the new total, and the extras.
pub(super) fn on_done(o: &OrderSummary, service: &str, added: bool, ctx: &Context, out: &mut Out) {
    let order = &o.order;
    let name = ctx
        .settings
        .service(service)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| service.to_string());
    let key = if added {
        "service_added"
    } else {
        "service_removed"
    };
    let text = out.t(
        ctx,
        key,
        &[
            ("service", &name),
            ("code", order.code.as_str()),
            ("total", &out.money(ctx, order.totals().total.minor)),
        ],
    );
    out.say_choices(
        text,
        vec![
            out.choice(ctx, "btn_services", Tap::Services(order.id)),
            out.choice(ctx, "btn_view_order", Tap::ShowOrder(order.id)),
        ],
    );
}
