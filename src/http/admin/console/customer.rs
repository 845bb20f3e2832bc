//! A customer's page (with their chat): phone, address, shop balance with
//! its movements, deposit and withdraw with "Yes", their active and past
//! orders with paying one from the balance. The same rules as
//! `/api/v1/customers/{id}/…`.

use super::{back_to, money, refused};
use crate::app::AppState;
use crate::domain::CustomerId;
use crate::domain::access::Permission;
use crate::domain::ledger::LedgerKind;
use crate::http::admin::auth::Auth;
use crate::http::admin::customers::{BalanceBody, move_balance};
use crate::store::listing::{self, OrderFilter};
use crate::store::{StoreError, customers};
use axum::extract::{Form, Path, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;

/// What the page shows of the customer beside the chat.
pub(super) async fn profile(
    state: &AppState,
    auth: &Auth,
    c: CustomerId,
) -> Result<Value, StoreError> {
    let person = customers::get(&state.db, auth.shop.id, c).await?;
    let cal = super::calendar(auth);
    let ledger: Vec<Value> = customers::ledger(&state.db, auth.shop.id, c)
        .await?
        .iter()
        .rev()
        .take(20)
        .map(|e| {
            json!({"what": super::books::label(&e.kind), "amount": money(auth, e.amount),
                   "after": money(auth, e.balance_after), "note": e.note, "when": cal.date_time(e.created_at)})
        })
        .collect();
    let page = listing::list_orders(
        &state.db,
        auth.shop.id,
        &OrderFilter {
            customer: Some(c),
            limit: 50,
            ..Default::default()
        },
    )
    .await?;
    let (mut active, mut past) = (Vec::new(), Vec::new());
    for o in &page.orders {
        use crate::domain::lifecycle::Fulfilment as F;
        let row = json!({
            "id": o.id, "code": o.code, "total": money(auth, o.total), "remaining": money(auth, o.remaining),
            "fulfilment": o.fulfilment.as_str(), "payment_status": o.payment_status.as_str(),
            "when": cal.date_time(o.created_at),
            "payable": o.remaining > 0 && person.balance > 0 && crate::domain::lifecycle::holds_stock(o.fulfilment),
        });
        if matches!(o.fulfilment, F::Completed | F::Cancelled | F::Returned) {
            past.push(row);
        } else {
            active.push(row);
        }
    }
    Ok(json!({
        "id": c.get(), "phone": person.phone, "address": person.address.as_ref().map(|a| a.one_line()),
        "balance": money(auth, person.balance), "has_balance": person.balance > 0,
        "ledger": ledger, "active": active, "past": past, "currency": auth.shop.currency.code(),
    }))
}

/// `POST /admin/chats/{customer}/deposit` and `…/withdraw`: an amount in
/// the shop's currency, a note, and "Yes".
pub(super) async fn balance_move(
    State(state): State<AppState>,
    super::Console(auth): super::Console,
    Path((customer, how)): Path<(i64, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = format!("/admin/chats/{customer}");
    let kind = match how.as_str() {
        "deposit" => LedgerKind::Deposit,
        "withdraw" => LedgerKind::Withdraw,
        _ => return back_to(&back, "error", "Unknown balance move"),
    };
    if let Some(r) = refused(&auth, Permission::MoveBalances, &back) {
        return r;
    }
    if let Some(r) = super::unconfirmed(form.get("yes").map(String::as_str), &back) {
        return r;
    }
    let amount = match super::typed_amount(&auth, form.get("amount").map(String::as_str)) {
        Ok(Some(a)) => a,
        Ok(None) => return back_to(&back, "error", "Write the amount"),
        Err(e) => return back_to(&back, "error", &e.message()),
    };
    let body = BalanceBody {
        amount,
        note: form.get("note").cloned(),
    };
    match move_balance(&state, &auth, customer, kind, body).await {
        Ok(_) => back_to(
            &back,
            "notice",
            match kind {
                LedgerKind::Deposit => "Added to the balance",
                _ => "Taken out of the balance",
            },
        ),
        Err(e) => back_to(&back, "error", &e.message()),
    }
}
