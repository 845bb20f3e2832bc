//! The web console at `/admin`: server-rendered pages and plain forms (no
//! front-end build). Log in with an API token (kept in an HttpOnly,
//! SameSite=Strict cookie); every page and form goes through the same
//! store and action code as the JSON API.

use super::auth::{self, Auth, FailureLimiter};
use super::error::ApiError;
use super::orders::{self as api_orders, Action, ActionBody, ListQuery};
use super::templates::render;
use crate::app::AppState;
use crate::domain::lifecycle::Tab;
use crate::domain::{CustomerId, Money, OrderId, VariantId};
use crate::store::catalog::{self, NewProduct, NewVariant};
use crate::store::{StoreError, listing, orders, seller_inbox};
use axum::extract::{Form, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use minijinja::context;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const COOKIE: &str = "cb_admin";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/orders") }))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/orders", get(orders_page))
        .route("/admin/orders/{id}", get(order_page))
        .route("/admin/orders/{id}/bill", get(print_bill))
        .route("/admin/orders/{id}/shipping-note", get(print_note))
        .route("/admin/orders/{id}/{action}", post(order_action))
        .route("/admin/payments/{id}/slip", get(slip))
        .route("/admin/chats", get(chats_page))
        .route("/admin/chats/{customer}", get(chat_page))
        .route("/admin/chats/{customer}/reply", post(chat_reply))
        .route("/admin/chats/{customer}/pause", post(chat_pause))
        .route("/admin/chats/{customer}/resume", post(chat_resume))
        .route("/admin/products", get(products_page).post(product_create))
        .route("/admin/variants/{id}/stock", post(variant_stock))
}

/// The console's login: the token cookie, or off to the login page.
pub struct Console(pub Auth);

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

impl axum::extract::FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = cookie_token(&parts.headers) else {
            return Err(Redirect::to("/admin/login").into_response());
        };
        let limiter = parts
            .extensions
            .get::<Arc<FailureLimiter>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal.into_response())?;
        let client = auth::client_key(parts);
        match auth::check_token(state, &limiter, &client, &token).await {
            Ok(a) => Ok(Console(a)),
            Err(ApiError::Unauthorized(_)) => {
                Err(Redirect::to("/admin/login?expired=1").into_response())
            }
            Err(e) => Err(page_error(e)),
        }
    }
}

fn page_error(e: ApiError) -> Response {
    let status = e.status();
    let html = render("admin/base.html", context! { error => e.message() })
        .unwrap_or_else(|_| e.message());
    (status, Html(html)).into_response()
}

fn page(name: &str, ctx: minijinja::Value) -> Response {
    match render(name, ctx) {
        Ok(html) => Html(html).into_response(),
        Err(e) => page_error(e),
    }
}

fn money(auth: &Auth, minor: i64) -> String {
    Money::new(minor, auth.shop.currency).display(&auth.shop.locale)
}

fn tab_label(t: Tab) -> &'static str {
    match t {
        Tab::All => "All",
        Tab::PendingPayment => "Pending payment",
        Tab::PendingReview => "To review",
        Tab::Paid => "Paid",
        Tab::Shipping => "Shipping",
        Tab::AwaitingCod => "Wait for COD",
        Tab::Complete => "Complete",
        Tab::Failed => "Failed to ship",
        Tab::Returned => "Returned",
        Tab::Cancelled => "Cancelled",
    }
}

async fn unread_total(state: &AppState, auth: &Auth) -> i64 {
    seller_inbox::list(&state.db, auth.shop.id, true, 200)
        .await
        .map(|v| v.iter().map(|c| c.unread).sum())
        .unwrap_or(0)
}

#[derive(Debug, Default, serde::Deserialize)]
struct Flash {
    error: Option<String>,
    notice: Option<String>,
    expired: Option<String>,
}

async fn login_page(Query(f): Query<Flash>) -> Response {
    let error = f
        .expired
        .map(|_| "Your token is unknown or was revoked; log in again.".to_string())
        .or(f.error);
    page("admin/login.html", context! { error => error })
}

async fn login(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<FailureLimiter>>,
    auth::ClientKey(client): auth::ClientKey,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = form.get("token").map(|t| t.trim()).unwrap_or("");
    // Failures count against the same bucket as the API's.
    match auth::check_token(&state, &limiter, &client, token).await {
        Ok(_) => {
            let secure = if state.config.public_url.starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=2592000{secure}"
            );
            (
                [(header::SET_COOKIE, cookie)],
                Redirect::to("/admin/orders"),
            )
                .into_response()
        }
        Err(e) => (
            e.status(),
            Html(
                render("admin/login.html", context! { error => e.message() })
                    .unwrap_or_else(|_| e.message()),
            ),
        )
            .into_response(),
    }
}

async fn logout() -> Response {
    (
        [(
            header::SET_COOKIE,
            format!("{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
        Redirect::to("/admin/login"),
    )
        .into_response()
}

async fn orders_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(q): Query<ListQuery>,
) -> Response {
    let filter = match api_orders::parse_filter(&q, &auth.shop.settings.calendar()) {
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
    let cal = auth.shop.settings.calendar();
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
        "admin/orders.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, tabs => tabs, tab => tab.as_str(),
            q => q.q.clone().unwrap_or_default(), orders => rows, next => page_data.next_cursor,
        },
    )
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
            out.push(chip(f.replace('_', " "), "warn"));
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
        Some(other) => out.push(chip(
            format!("slip QR: {}", other.replace('_', " ")),
            "warn",
        )),
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
        out.push(chip(format!("problem: {}", p.replace('_', " ")), "warn"));
    }
    out
}

async fn order_page(
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
                    "name": l["name"], "variant": l["variant_name"], "qty": l["qty"], "status": l["status"],
                    "amount": money(&auth, l["amount"].as_i64().unwrap_or(0)),
                }))
                .collect()
        })
        .unwrap_or_default();
    let payments: Vec<Value> = detail["payments"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let status = p["status"].as_str().unwrap_or("");
                    json!({
                        "id": p["id"], "method": p["method"], "amount": money(&auth, p["amount"].as_i64().unwrap_or(0)),
                        "status": if matches!(status, "pending" | "flagged") { "pending_review" } else { status },
                        "has_slip": p["original_media"].is_string(),
                        "flags": precheck_flags(&p["prechecks"], p["flagged"].as_bool().unwrap_or(false)),
                        "reject_reason": p["reject_reason"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
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
        *slug != "pay-from-balance" || detail["customer"]["balance"].as_i64().unwrap_or(0) > 0
    })
    .map(|(slug, label, class)| json!({"slug": slug, "label": label, "class": class}))
    .collect();
    let cal = auth.shop.settings.calendar();
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
    let unread = unread_total(&state, &auth).await;
    page(
        "admin/order.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, o => o.clone(), t => t, lines => lines,
            payments => payments, pending_slip => pending_slip, simple_actions => simple,
            history => history, address => address, created => created,
            customer => detail["customer"].clone(), balance => money(&auth, detail["customer"]["balance"].as_i64().unwrap_or(0)),
            conversation => detail["conversation"].clone(), messages => detail["messages"].clone(),
            idem => crate::clock::hex(&crate::clock::random_bytes::<8>()),
            error => f.error, notice => f.notice,
        },
    )
}

fn back_to(path: &str, key: &str, msg: &str) -> Response {
    let enc: String = msg
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    Redirect::to(&format!("{path}?{key}={enc}")).into_response()
}

async fn order_action(
    State(state): State<AppState>,
    Console(auth): Console,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = format!("/admin/orders/{id}");
    if action == "delete" {
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
    let body = (|| -> Result<ActionBody, ApiError> {
        Ok(ActionBody {
            payment_id: num("payment_id")?,
            amount: num("amount")?,
            reason: get("reason"),
            carrier: get("carrier"),
            tracking: get("tracking"),
            ship_now: get("ship_now").map(|v| v == "true"),
            person: get("person"),
            ..Default::default()
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

async fn print_bill(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
) -> Response {
    super::printing::render_batch(&state, &auth, "bill.html", &[OrderId(id)])
        .await
        .unwrap_or_else(page_error)
}

async fn print_note(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
) -> Response {
    super::printing::render_batch(&state, &auth, "shipping_note.html", &[OrderId(id)])
        .await
        .unwrap_or_else(page_error)
}

async fn slip(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
) -> Response {
    super::printing::slip_file(&state, &auth, id, crate::slips::media::MediaKind::Original)
        .await
        .unwrap_or_else(|e| e.into_response())
}

async fn chats_page(State(state): State<AppState>, Console(auth): Console) -> Response {
    match seller_inbox::list(&state.db, auth.shop.id, false, 100).await {
        Ok(list) => {
            let unread: i64 = list.iter().map(|c| c.unread).sum();
            page(
                "admin/chat.html",
                context! { shop => auth.shop.name.clone(), unread => unread, conversations => list },
            )
        }
        Err(e) => page_error(e.into()),
    }
}

async fn chat_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(customer): Path<i64>,
    Query(f): Query<Flash>,
) -> Response {
    let c = CustomerId(customer);
    let conv = match seller_inbox::get(&state.db, auth.shop.id, c).await {
        Ok(conv) => conv,
        Err(StoreError::NotFound) => return page_error(ApiError::not_found("conversation")),
        Err(e) => return page_error(e.into()),
    };
    let cal = auth.shop.settings.calendar();
    let messages: Vec<Value> = match seller_inbox::messages(&state.db, auth.shop.id, c, 200).await {
        Ok(ms) => ms
            .iter()
            .map(|m| json!({"direction": m.direction, "author": m.author, "body": m.body, "at": cal.date_time(m.created_at)}))
            .collect(),
        Err(e) => return page_error(e.into()),
    };
    let _ = seller_inbox::mark_read(&state.db, auth.shop.id, c, crate::clock::now()).await;
    let unread = unread_total(&state, &auth).await;
    page(
        "admin/chat.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, conv => conv, messages => messages,
            idem => crate::clock::hex(&crate::clock::random_bytes::<8>()),
            error => f.error, notice => f.notice,
        },
    )
}

async fn chat_reply(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(customer): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/admin/") && !b.contains("//"))
        .cloned()
        .unwrap_or_else(|| format!("/admin/chats/{customer}"));
    let text = form.get("text").map(|t| t.trim()).unwrap_or("");
    if text.is_empty() || text.chars().count() > 2000 {
        return back_to(&back, "error", "A message is 1 to 2000 characters");
    }
    let key = form.get("idem").map(|k| format!("console:{k}"));
    match seller_inbox::reply(
        &state.db,
        auth.shop.id,
        CustomerId(customer),
        text,
        key.as_deref(),
        crate::clock::now(),
    )
    .await
    {
        Ok(_) => back_to(&back, "notice", "Sent"),
        Err(StoreError::Conflict(_)) => back_to(&back, "notice", "Sent"),
        Err(e) => back_to(&back, "error", &ApiError::from(e).message()),
    }
}

async fn set_paused(state: &AppState, auth: &Auth, customer: i64, paused: bool) -> Response {
    let back = format!("/admin/chats/{customer}");
    match seller_inbox::set_bot_paused(
        &state.db,
        auth.shop.id,
        CustomerId(customer),
        paused,
        crate::clock::now(),
    )
    .await
    {
        Ok(()) => back_to(
            &back,
            "notice",
            if paused { "Bot paused" } else { "Bot resumed" },
        ),
        Err(e) => back_to(&back, "error", &ApiError::from(e).message()),
    }
}

async fn chat_pause(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(c): Path<i64>,
) -> Response {
    set_paused(&state, &auth, c, true).await
}

async fn chat_resume(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(c): Path<i64>,
) -> Response {
    set_paused(&state, &auth, c, false).await
}

async fn products_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(f): Query<Flash>,
) -> Response {
    let products = match catalog::list_products(&state.db, auth.shop.id, true).await {
        Ok(p) => p,
        Err(e) => return page_error(e.into()),
    };
    let rows: Vec<Value> = products
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "name": p.name, "active": p.active,
                "variants": p.variants.iter().map(|v| json!({
                    "id": v.id, "name": v.name, "price": money(&auth, p.price_of(v)), "stock": v.stock,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        "admin/products.html",
        context! { shop => auth.shop.name.clone(), unread => unread, products => rows, error => f.error, notice => f.notice },
    )
}

async fn product_create(
    State(state): State<AppState>,
    Console(auth): Console,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = "/admin/products";
    let name = form
        .get("name")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let price = form.get("price").and_then(|s| s.trim().parse::<i64>().ok());
    let stock = match form
        .get("stock")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return back_to(back, "error", "Stock must be a whole number, 0 or more"),
        },
    };
    let (Some(price), false) = (price.filter(|p| *p >= 0), name.is_empty()) else {
        return back_to(
            back,
            "error",
            "A product needs a name and a price (0 or more)",
        );
    };
    let p = NewProduct {
        name,
        description: String::new(),
        category: String::new(),
        image_url: None,
        price,
        variants: vec![NewVariant {
            name: String::new(),
            price: None,
            stock,
        }],
    };
    match catalog::create_product(&state.db, auth.shop.id, &p, crate::clock::now()).await {
        Ok(_) => back_to(back, "notice", "Product added"),
        Err(e) => back_to(back, "error", &ApiError::from(e).message()),
    }
}

async fn variant_stock(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = "/admin/products";
    let Some(delta) = form
        .get("delta")
        .and_then(|s| s.trim().trim_start_matches('+').parse::<i64>().ok())
    else {
        return back_to(back, "error", "Give a whole number, e.g. 5 or -2");
    };
    match listing::variant_exists(&state.db, auth.shop.id, VariantId(id)).await {
        Ok(true) => {}
        Ok(false) => return back_to(back, "error", "No such variant"),
        Err(e) => return back_to(back, "error", &ApiError::from(e).message()),
    }
    match catalog::adjust_stock(&state.db, auth.shop.id, VariantId(id), delta).await {
        Ok(_) => back_to(back, "notice", "Stock updated"),
        Err(e) => back_to(back, "error", &ApiError::from(e).message()),
    }
}
