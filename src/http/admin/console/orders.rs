//! The console's orders: tabs, one order with its slip and actions, printing.

use super::{
    Console, Flash, back_to, can, money, page, page_error, refused, tab_label, unread_total,
};
use crate::app::AppState;
use crate::domain::OrderId;
use crate::domain::access::Permission;
use crate::domain::lifecycle::Tab;
use crate::http::admin::error::ApiError;
use crate::http::admin::orders::{self as api_orders, Action, ActionBody, ListQuery};
use crate::store::{listing, orders};
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde_json::{Value, json};
use std::collections::HashMap;

pub(super) async fn orders_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(q): Query<ListQuery>,
    Query(f): Query<Flash>,
) -> Response {
    let filter =
        match api_orders::parse_filter(&q, &auth.shop.settings.calendar(), &auth.token.label) {
            Ok(f) => f,
            Err(e) => return page_error(e),
        };
    let tab = filter.tab.unwrap_or(Tab::All);
    let (page_res, counts) = tokio::join!(
        listing::list_orders(&state.db, auth.shop.id, &filter),
        orders::tab_counts(&state.db, auth.shop.id)
    );
    let (page_data, counts) = match (page_res, counts) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(e), _) | (_, Err(e)) => return page_error(e.into()),
    };
    let cal = super::calendar(&auth);
    let tabs: Vec<Value> = counts
        .iter()
        .map(|(t, n)| json!({"tab": t.as_str(), "label": tab_label(*t), "count": n}))
        .collect();
    let rows: Vec<Value> = page_data
        .orders
        .iter()
        .map(|o| {
            json!({
                "id": o.id, "code": o.code, "customer_name": o.customer_name, "channel": o.channel,
                "total": money(&auth, o.total), "fulfilment": o.fulfilment.as_str(),
                "payment_status": o.payment_status.as_str(), "badge": api_orders::badge(o.payment_status),
                "created": cal.date_time(o.created_at),
            })
        })
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/orders.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, tabs => tabs, tab => tab.as_str(),
            error => f.error, notice => f.notice,
            q => q.q.clone().unwrap_or_default(), orders => rows, next => page_data.next_cursor,
            can => can(&auth), channel => q.channel.clone().unwrap_or_default(),
            from => q.from.clone().unwrap_or_default(), to => q.to.clone().unwrap_or_default(),
            channels => CHANNELS.iter().map(|(c, w)| json!({"value": c, "label": w})).collect::<Vec<_>>(),
            carriers => auth.shop.settings.carriers.keys().collect::<Vec<_>>(),
        },
    )
}

/// The channel selector's choices (seed 004: "All channels").
const CHANNELS: &[(&str, &str)] = &[
    ("", "All channels"),
    ("messenger", "Messenger"),
    ("instagram", "Instagram"),
    ("webchat", "Web chat"),
];

/// The orders ticked on the Orders page.
fn ticked(form: &[(String, String)]) -> Result<Vec<OrderId>, ApiError> {
    let ids: Vec<OrderId> = form
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse().ok().map(OrderId))
        .collect();
    if ids.is_empty() {
        return Err(ApiError::Unprocessable("tick at least one order".into()));
    }
    Ok(ids)
}

/// Bills or shipping notes for the ticked orders, one page each.
pub(super) async fn print_many(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ids = match ticked(&q) {
        Ok(ids) => ids,
        Err(e) => return back_to("/admin/orders", "error", &e.message()),
    };
    let template = match q.iter().find(|(k, _)| k == "what").map(|(_, v)| v.as_str()) {
        Some("notes") => "shipping_note.html",
        _ => "bill.html",
    };
    crate::http::admin::printing::render_batch(&state, &auth, template, &ids)
        .await
        .unwrap_or_else(page_error)
}

/// Ships the ticked orders with one carrier; says how many went and why
/// the others did not.
pub(super) async fn ship_many(
    State(state): State<AppState>,
    Console(auth): Console,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let back = "/admin/orders";
    if let Some(r) = refused(&auth, Permission::RunFulfilment, back) {
        return r;
    }
    let ids = match ticked(&form) {
        Ok(ids) => ids,
        Err(e) => return back_to(back, "error", &e.message()),
    };
    let carrier = form
        .iter()
        .find(|(k, _)| k == "carrier")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let (mut shipped, mut refusals) = (0, Vec::new());
    for id in ids {
        let body = ActionBody {
            carrier: Some(carrier.clone()),
            ..Default::default()
        };
        let hash = api_orders::request_hash(&[b"console-ship-many", id.to_string().as_bytes()]);
        match api_orders::perform(&state, &auth, id, Action::Ship, body, None, hash).await {
            Ok(r) if r.status().is_success() => shipped += 1,
            Ok(r) => refusals.push(format!("order {id}: failed ({})", r.status())),
            Err(e) => refusals.push(e.message()),
        }
    }
    if refusals.is_empty() {
        back_to(
            back,
            "notice",
            &format!("{shipped} orders shipped with {carrier}"),
        )
    } else {
        back_to(
            back,
            "error",
            &format!("{shipped} shipped; not shipped: {}", refusals.join("; ")),
        )
    }
}

/// The slip worker's pre-checks as chips: green when fine, red when the
/// seller should look twice (see `slips::worker` for the shape).
pub fn precheck_flags(prechecks: &Value, flagged: bool) -> Vec<Value> {
    let chip = |label: String, class: &str| json!({"label": label, "class": class});
    let mut out = Vec::new();
    let suspicious = prechecks["suspicious"].as_bool().unwrap_or(false) || flagged;
    if suspicious {
        out.push(chip("needs a check".into(), "warn"));
    } else if prechecks.get("suspicious").is_some() {
        out.push(chip("checks passed".into(), "good"));
    }
    if let Some(flags) = prechecks["flags"].as_array() {
        for f in flags.iter().filter_map(|f| f.as_str()) {
            out.push(chip(crate::http::admin::words::flag(f), "warn"));
        }
    }
    let qr = &prechecks["slip_qr"];
    match qr["status"].as_str() {
        Some("ok") => out.push(chip(
            format!(
                "slip QR verified{}{}",
                qr["bank_name"]
                    .as_str()
                    .map(|b| format!(" · {b}"))
                    .unwrap_or_default(),
                qr["trans_ref"]
                    .as_str()
                    .map(|r| format!(" · ref {r}"))
                    .unwrap_or_default()
            ),
            "good",
        )),
        // The flags above already say what is wrong with the QR.
        Some(_) => {}
        None => {}
    }
    if let Some(code) = prechecks["reused_from"]["order_code"].as_str() {
        out.push(chip(format!("slip already used for {code}"), "warn"));
    }
    if let Some(similar) = prechecks["similar_images"].as_array()
        && !similar.is_empty()
    {
        out.push(chip(
            format!("{} similar earlier slip(s) (hint)", similar.len()),
            "",
        ));
    }
    if let Some(p) = prechecks["problem"].as_str() {
        out.push(chip(problem_words(p), "warn"));
    }
    out
}

/// Why a picture could not be used as a slip.
fn problem_words(p: &str) -> String {
    match p {
        "not_an_image" => "Not a picture".into(),
        "too_large" => "The picture is too large".into(),
        "sticker" => "A sticker, not a slip".into(),
        "pdf" => "A PDF, not a picture".into(),
        "expired" => "The picture's link expired before it was downloaded".into(),
        "order_not_found" => "No order to match it to".into(),
        other => format!("Could not be used ({})", other.replace('_', " ")),
    }
}

/// The payments as the order page shows them: money in words, slip pre-checks as chips.
fn payment_views(auth: &crate::http::admin::auth::Auth, payments: &Value) -> Vec<Value> {
    payments
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let status = p["status"].as_str().unwrap_or("");
                    json!({
                        "id": p["id"], "method": p["method"], "amount": money(auth, p["amount"].as_i64().unwrap_or(0)),
                        "status": if matches!(status, "pending" | "flagged") { "pending_review" } else { status },
                        "has_slip": p["original_media"].is_string(),
                        "flags": precheck_flags(&p["prechecks"], p["flagged"].as_bool().unwrap_or(false)),
                        "reject_reason": p["reject_reason"],
                        "open": matches!(status, "difference" | "refund_due") && p["resolved_at"].is_null(),
                        "resolution": p["resolution"], "resolved_by": p["resolved_by"],
                        "what": match status {
                            "refund_due" => "Refund due: pay this back to the customer",
                            "difference" => "The carrier's remittance did not match",
                            _ => "",
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) async fn order_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Response {
    let detail = match api_orders::detail_json(&state, &auth, OrderId(id)).await {
        Ok(d) => d,
        Err(e) => return page_error(e),
    };
    let o = &detail["order"];
    let m = |k: &str| money(&auth, o[k].as_i64().unwrap_or(0));
    let t = json!({
        "subtotal": m("subtotal"), "shipping_fee": m("shipping_fee"), "service_fees": m("service_fees"),
        "discount": m("discount"), "total": m("total"), "paid": m("paid"), "remaining": m("remaining"),
    });
    let lines: Vec<Value> = o["lines"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| json!({
                    "id": l["id"], "unit_price": decimal(&auth, l["unit_price"].as_i64().unwrap_or(0)),
                    "name": l["name"], "variant": l["variant_name"], "qty": l["qty"], "status": l["status"],
                    "amount": money(&auth, l["amount"].as_i64().unwrap_or(0)),
                }))
                .collect()
        })
        .unwrap_or_default();
    let payments = payment_views(&auth, &detail["payments"]);
    let pending_slip = payments.iter().any(|p| p["status"] == "pending_review");
    let actions: Vec<&str> = o["actions"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let simple: Vec<Value> = [
        ("complete", "Complete", "ok"),
        ("fail-delivery", "Failed to ship", "bad"),
        ("return-to-stock", "Return to stock", ""),
        ("collect-cod", "Collect COD", "ok"),
        ("pay-from-balance", "Pay from balance", ""),
    ]
    .iter()
    .filter(|(slug, _, _)| actions.contains(slug))
    .filter(|(slug, _, _)| {
        Action::parse(slug).is_some_and(|a| a.permissions().iter().any(|p| auth.may(*p)))
    })
    .filter(|(slug, _, _)| {
        *slug != "pay-from-balance" || detail["customer"]["balance"].as_i64().unwrap_or(0) > 0
    })
    .map(|(slug, label, class)| json!({"slug": slug, "label": label, "class": class, "yes": needs_yes(slug)}))
    .collect();
    let cal = super::calendar(&auth);
    let history: Vec<Value> = detail["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|r| {
                    let mut r = r.clone();
                    r["at"] = json!(
                        cal.date_time(crate::domain::Timestamp(r["at"].as_i64().unwrap_or(0)))
                    );
                    r
                })
                .collect()
        })
        .unwrap_or_default();
    let address = o["address"]
        .is_object()
        .then(|| {
            serde_json::from_value::<crate::domain::Address>(o["address"].clone())
                .ok()
                .map(|a| a.one_line())
        })
        .flatten();
    let created = cal.date_time(crate::domain::Timestamp(
        o["created_at"].as_i64().unwrap_or(0),
    ));
    let mut messages: Vec<Value> = detail["messages"].as_array().cloned().unwrap_or_default();
    super::chats::with_pictures(&state, &auth, &mut messages).await;
    let services = services_in_words(&auth, o);
    let edit = json!({
        "fees": o["fees"].as_array().map(|fs| fs.iter().map(|f| format!("{} = {}",
            f["label"].as_str().unwrap_or(""), decimal(&auth, f["amount"].as_i64().unwrap_or(0)))).collect::<Vec<_>>().join("\n")).unwrap_or_default(),
        "shipping_fee": decimal(&auth, o["shipping_fee"].as_i64().unwrap_or(0)),
        "discount": decimal(&auth, o["discount"].as_i64().unwrap_or(0)),
    });
    let unread = unread_total(&state, &auth).await;
    let undelivered = super::undelivered::in_words(
        &auth,
        detail["undelivered"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    page(
        &auth,
        "admin/order.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, o => o.clone(), totals => t, lines => lines,
            payments => payments, pending_slip => pending_slip, simple_actions => simple,
            history => history, address => address, created => created,
            customer => detail["customer"].clone(), balance => money(&auth, detail["customer"]["balance"].as_i64().unwrap_or(0)),
            conversation => detail["conversation"].clone(), messages => messages,
            idem => crate::clock::hex(&crate::clock::random_bytes::<8>()),
            error => f.error, notice => f.notice, can => can(&auth),
            undelivered => undelivered, back => format!("/admin/orders/{id}"),
            claims => detail["claims"].clone(), line_counts => detail["line_counts"].clone(),
            services => services, edit => edit, currency => auth.shop.currency.code(), carriers => auth.shop.settings.carriers.keys().collect::<Vec<_>>(),
            tracking_status => o["tracking_status"].as_str().map(tracking_words),
        },
    )
}

/// An amount as a seller types it back (`350.00`).
fn decimal(auth: &crate::http::admin::auth::Auth, minor: i64) -> String {
    crate::domain::Money::new(minor, auth.shop.currency).to_decimal_string()
}

/// The address typed on the order page, the phone read the shop's
/// country's way; `None` when the form has no address.
fn edit_address(
    auth: &crate::http::admin::auth::Auth,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<crate::domain::Address>, ApiError> {
    let Some(full_name) = get("full_name") else {
        return Ok(None);
    };
    let phone = crate::domain::PhoneNumber::parse(
        &get("phone").unwrap_or_default(),
        crate::domain::phone::calling_code_for(auth.shop.currency),
    )
    .map_err(|e| ApiError::InvalidField {
        field: "phone".into(),
        reason: e.to_string(),
    })?;
    let need = |k: &str| {
        get(k).ok_or_else(|| ApiError::InvalidField {
            field: k.into(),
            reason: "required".into(),
        })
    };
    Ok(Some(crate::domain::Address {
        full_name,
        phone,
        line: need("line")?,
        province: need("province")?,
        district: need("district")?,
        postcode: get("postcode"),
    }))
}

/// Fee lines typed one per line, `Gift box = 20`.
fn fee_lines(
    auth: &crate::http::admin::auth::Auth,
    text: Option<String>,
) -> Result<Option<Vec<crate::domain::order::Fee>>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let mut fees = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bad = || ApiError::InvalidField {
            field: "fees".into(),
            reason: format!("write “{line}” as “Label = amount”"),
        };
        let (label, amount) = line.rsplit_once('=').ok_or_else(bad)?;
        let amount = crate::domain::Money::parse_major(amount.trim(), auth.shop.currency)
            .map_err(|_| bad())?;
        fees.push(crate::domain::order::Fee {
            label: label.trim().to_string(),
            amount: amount.minor,
        });
    }
    Ok(Some(fees))
}

/// Actions that move money or cannot be undone ask "Yes" first (seed 004:
/// "Confirm payment → Yes"); the check is here, so a form without the tick
/// changes nothing even if the page's own check was skipped.
pub(super) fn needs_yes(action: &str) -> bool {
    matches!(
        action,
        "confirm-payment"
            | "reject-payment"
            | "cancel"
            | "pay-from-balance"
            | "collect-cod"
            | "delete"
    )
}

/// Where the parcel is, as a seller reads it.
pub(super) fn tracking_words(status: &str) -> &'static str {
    match status {
        "in_transit" => "On its way",
        "out_for_delivery" => "Out for delivery",
        "delivered" => "Delivered",
        "failed_attempt" => "Delivery failed, the carrier will retry",
        "returning" => "Going back to the shop",
        _ => "Unknown",
    }
}

/// The order's extras in words, and the shop's others it could still add.
fn services_in_words(auth: &crate::http::admin::auth::Auth, o: &Value) -> Value {
    use crate::domain::order::Charging;
    let rule = |charged: &str| match charged {
        "when_done" => "charged once done",
        _ => "charged when chosen",
    };
    let chosen: Vec<Value> = o["services"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|s| {
                    let state = match (s["done"].as_bool(), s["charged"].as_str()) {
                        (Some(true), _) => "Done",
                        (_, Some("when_done")) => "To do, then charged",
                        _ => "To do",
                    };
                    json!({"id": s["id"], "name": s["name"], "price": money(auth, s["price"].as_i64().unwrap_or(0)),
                           "rule": rule(s["charged"].as_str().unwrap_or("")), "state": state,
                           "done": s["done"].as_bool().unwrap_or(false)})
                })
                .collect()
        })
        .unwrap_or_default();
    let offers: Vec<Value> = auth
        .shop
        .settings
        .services
        .iter()
        .filter(|offer| !chosen.iter().any(|c| c["id"] == offer.id.as_str()))
        .map(|offer| {
            let charged = match offer.charged {
                Charging::Always => "always",
                Charging::WhenDone => "when_done",
            };
            json!({"id": offer.id, "name": offer.name, "price": money(auth, offer.price), "rule": rule(charged)})
        })
        .collect();
    json!({"chosen": chosen, "offers": offers})
}

pub(super) async fn order_action(
    State(state): State<AppState>,
    Console(auth): Console,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = format!("/admin/orders/{id}");
    if action == "assign" {
        if let Some(r) = refused(&auth, Permission::RunFulfilment, &back) {
            return r;
        }
        let person = form.get("person").map(String::as_str);
        return match api_orders::assign_to(&state, &auth, OrderId(id), person).await {
            Ok(_) => back_to(&back, "notice", "Assigned"),
            Err(e) => back_to(&back, "error", &e.message()),
        };
    }
    if needs_yes(&action)
        && let Some(r) = super::unconfirmed(form.get("yes").map(String::as_str), &back)
    {
        return r;
    }
    if action == "delete" {
        if let Some(r) = refused(&auth, Permission::DeleteOrders, &back) {
            return r;
        }
        return match listing::delete_order(
            &state.db,
            auth.shop.id,
            OrderId(id),
            crate::clock::now(),
        )
        .await
        {
            Ok(()) => back_to("/admin/orders", "notice", "Order deleted"),
            Err(e) => back_to(&back, "error", &ApiError::from(e).message()),
        };
    }
    let Some(action) = Action::parse(&action) else {
        return page_error(ApiError::not_found("action"));
    };
    let get = |k: &str| {
        form.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let num = |k: &str| -> Result<Option<i64>, ApiError> {
        get(k)
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| ApiError::Unprocessable(format!("{k} must be a whole number")))
            })
            .transpose()
    };
    let major = |k: &str| super::typed_amount(&auth, get(k).as_deref());
    let body = (|| -> Result<ActionBody, ApiError> {
        Ok(ActionBody {
            payment_id: num("payment_id")?,
            amount: major("amount")?,
            address: edit_address(&auth, &get)?,
            fees: fee_lines(&auth, get("fees"))?,
            shipping_fee: major("shipping_fee")?,
            discount: major("discount")?,
            line_id: num("line_id")?,
            unit_price: major("unit_price")?,
            qty: num("qty")?,
            credit_excess: get("credit_excess").map(|v| v == "true"),
            reason: get("reason"),
            carrier: get("carrier"),
            tracking: get("tracking"),
            ship_now: get("ship_now").map(|v| v == "true"),
            person: get("person"),
            note: get("note"),
            service: get("service"),
            status: get("status")
                .map(|s| {
                    crate::domain::order::TrackingStatus::parse(&s).ok_or_else(|| {
                        ApiError::Unprocessable(format!("{s:?} is not a tracking status"))
                    })
                })
                .transpose()?,
        })
    })();
    let body = match body {
        Ok(b) => b,
        Err(e) => return back_to(&back, "error", &e.message()),
    };
    let key = get("idem").map(|k| format!("console:{k}"));
    let hash = api_orders::request_hash(&[
        b"console",
        id.to_string().as_bytes(),
        action.slug().as_bytes(),
    ]);
    match api_orders::perform(&state, &auth, OrderId(id), action, body, key, hash).await {
        Ok(resp) if resp.status().is_success() => back_to(&back, "notice", "Done"),
        Ok(resp) => back_to(&back, "error", &format!("failed ({})", resp.status())),
        Err(e) => back_to(&back, "error", &e.message()),
    }
}

pub(super) async fn print_bill(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
) -> Response {
    crate::http::admin::printing::render_batch(&state, &auth, "bill.html", &[OrderId(id)])
        .await
        .unwrap_or_else(page_error)
}

pub(super) async fn print_note(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
) -> Response {
    crate::http::admin::printing::render_batch(&state, &auth, "shipping_note.html", &[OrderId(id)])
        .await
        .unwrap_or_else(page_error)
}

pub(super) async fn slip(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
) -> Response {
    crate::http::admin::printing::slip_file(
        &state,
        &auth,
        id,
        crate::slips::media::MediaKind::Original,
    )
    .await
    .unwrap_or_else(|e| e.into_response())
}
