//! "My balance": what the customer holds in the shop and its last
//! movements.

use super::*;
use crate::domain::ledger::LedgerKind;

pub(super) fn show(s: &mut State, ctx: &Context, out: &mut Out) {
    let Some(movements) = ctx.movements else {
        return out.actions.push(Action::LoadBalance);
    };
    s.stage = Stage::Idle;
    let mut text = out.t(
        ctx,
        "balance_header",
        &[("amount", &out.money(ctx, ctx.balance))],
    );
    if movements.is_empty() {
        text.push('\n');
        text.push_str(&out.t(ctx, "balance_no_movements", &[]));
    } else {
        text.push('\n');
        text.push_str(&out.t(ctx, "balance_movements", &[]));
    }
    let calendar = ctx.settings.calendar();
    for m in movements {
        let what = match (&m.kind, &m.order_code) {
            (LedgerKind::PayOrder, Some(code)) => {
                out.t(ctx, "ledger_pay_order_for", &[("code", code)])
            }
            (LedgerKind::Refund, Some(code)) => out.t(ctx, "ledger_refund_for", &[("code", code)]),
            (kind, _) => out.t(ctx, &format!("ledger_{}", kind.as_str()), &[]),
        };
        let sign = if m.amount < 0 { "−" } else { "+" };
        text.push_str(&format!(
            "\n{} · {what} · {sign}{}",
            calendar.date_time(m.at),
            out.money(ctx, m.amount.abs())
        ));
    }
    let mut choices = vec![out.choice(ctx, "btn_orders", Tap::Orders)];
    choices.push(out.choice(ctx, "btn_products", Tap::Products));
    choices.push(out.choice(ctx, "btn_talk", Tap::TalkToShop));
    out.say_choices(text, choices);
}
