//! The web console at `/admin`: server-rendered pages and plain forms (no
//! front-end build). Log in with an API token; the cookie then holds a
//! session (a random id, stored hashed, ending at logout, after
//! `SESSION_DAYS` or when the token is revoked), never the token. Forms
//! posted from another site are refused by `Origin` / `Sec-Fetch-Site`.
//! Every page and form goes through the same
//! store and action code as the JSON API, and the same permission checks
//! (`Auth::require`, `order_actions::perform`): a refused form comes back
//! with a message naming the permission, and pages hide the buttons the
//! role cannot use (`can` in every template context).

mod books;
mod carriers;
mod channels;
mod chats;
mod claims;
mod customer;
mod dashboard;
mod manage;
mod new_order;
mod orders;
mod products;
mod settings;
mod undelivered;
mod wording;

use super::auth::{self, Auth, FailureLimiter};
use super::error::ApiError;
use super::templates::render;
use crate::app::AppState;
use crate::domain::Money;
use crate::domain::access::Permission;
use crate::domain::lifecycle::Tab;
use crate::store::seller_inbox;
use axum::extract::{Form, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use minijinja::context;
use std::collections::HashMap;
use std::sync::Arc;

const COOKIE: &str = "cb_admin";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/orders") }))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/language", post(manage::language_switch))
        .route("/admin/dashboard", get(dashboard::dashboard_page))
        .route("/admin/orders", get(orders::orders_page))
        .route(
            "/admin/orders/new",
            get(new_order::new_order_page).post(new_order::new_order),
        )
        .route("/admin/orders/print", get(orders::print_many))
        .route("/admin/orders/ship-many", post(orders::ship_many))
        .route("/admin/orders/{id}", get(orders::order_page))
        .route("/admin/orders/{id}/bill", get(orders::print_bill))
        .route("/admin/orders/{id}/shipping-note", get(orders::print_note))
        .route("/admin/orders/{id}/{action}", post(orders::order_action))
        .route("/admin/payments/{id}/slip", get(orders::slip))
        .route("/admin/books", get(books::books_page))
        .route("/admin/channels/messenger", post(channels::bind))
        .route(
            "/admin/channels/messenger/{page}/unbind",
            post(channels::unbind),
        )
        .route(
            "/admin/channels/messenger/{page}/setup",
            post(channels::setup),
        )
        .route(
            "/admin/settings",
            get(settings::settings_page).post(settings::settings_save),
        )
        .route("/admin/books/{file}", get(books::books_download))
        .route("/admin/undelivered", get(undelivered::undelivered_page))
        .route("/admin/carriers", get(carriers::carriers_page))
        .route("/admin/carriers/{name}", get(carriers::carrier_page))
        .route(
            "/admin/carriers/{name}/remittances",
            post(carriers::carrier_remit),
        )
        .route("/admin/claims", get(claims::claims_page))
        .route("/admin/claims/{id}", get(claims::claim_page))
        .route(
            "/admin/claims/{id}/photos/{photo}",
            get(claims::claim_photo),
        )
        .route("/admin/claims/{id}/start", post(claims::claim_start))
        .route("/admin/claims/{id}/resolve", post(claims::claim_resolve))
        .route(
            "/admin/undelivered/{id}/{how}",
            post(undelivered::undelivered_resolve),
        )
        .route("/admin/chats", get(chats::chats_page))
        .route("/admin/chats/{customer}", get(chats::chat_page))
        .route("/admin/chats/{customer}/reply", post(chats::chat_reply))
        .route(
            "/admin/chats/{customer}/balance/{how}",
            post(customer::balance_move),
        )
        .route("/admin/chats/{customer}/name", post(chats::chat_rename))
        .route("/admin/chats/{customer}/pause", post(chats::chat_pause))
        .route("/admin/chats/{customer}/resume", post(chats::chat_resume))
        .route(
            "/admin/products",
            get(products::products_page).post(products::product_create),
        )
        .route("/admin/variants/{id}/stock", post(products::variant_stock))
        .route("/admin/variants/{id}/{what}", post(manage::variant_action))
        .route("/admin/customers", get(manage::customers_page))
        .route(
            "/admin/tokens",
            get(manage::tokens_page).post(manage::token_create),
        )
        .route("/admin/tokens/{id}/revoke", post(manage::token_revoke))
        .route(
            "/admin/products/{id}/pictures",
            post(products::picture_upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::http::admin::pictures::MAX_UPLOAD_BYTES,
            )),
        )
        .route("/admin/products/{id}/{what}", post(manage::product_action))
        .route(
            "/admin/products/{id}/pictures/{picture}/{action}",
            post(products::picture_action),
        )
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
        let Some(session) = cookie_token(&parts.headers) else {
            return Err(Redirect::to("/admin/login").into_response());
        };
        let token = crate::store::tokens::session_token(&state.db, &session, crate::clock::now())
            .await
            .map_err(|e| page_error(e.into()))?;
        let Some(token) = token else {
            return Err(Redirect::to("/admin/login?expired=1").into_response());
        };
        let shop = crate::store::shops::get(&state.db, token.shop_id)
            .await
            .map_err(|e| page_error(e.into()))?;
        let a = Auth { shop, token };
        match a.require(Permission::ViewOrders) {
            Ok(()) => Ok(Console(a)),
            Err(e) => Err(page_error(e)),
        }
    }
}

pub(super) fn page_error(e: ApiError) -> Response {
    let status = e.status();
    let html = render("admin/base.html", context! { error => e.message() })
        .unwrap_or_else(|_| e.message());
    (status, Html(html)).into_response()
}

/// A page in the language its reader chose (`lang` in every template).
pub(super) fn page(auth: &Auth, name: &str, ctx: minijinja::Value) -> Response {
    let languages: Vec<_> = super::lang::LANGUAGES
        .iter()
        .map(|(code, name)| context! { code, name })
        .collect();
    let ctx = context! { lang => super::lang::of(auth), languages, ..ctx };
    match render(name, ctx) {
        Ok(html) => Html(html).into_response(),
        Err(e) => page_error(e),
    }
}

/// The console's one "Yes" rule: a form that moves money or cannot be
/// undone carries a ticked `yes`, else nothing happens and the page says
/// why. `None`: go on.
pub(super) fn unconfirmed(yes: Option<&str>, back: &str) -> Option<Response> {
    (yes.map(str::trim) != Some("on")).then(|| {
        back_to(
            back,
            "error",
            "Nothing was done: tick “Yes” beside the button to confirm",
        )
    })
}

/// An amount as a seller types it (baht, dong: `1,250.50`), in minor
/// units; empty is `None`.
pub(super) fn typed_amount(auth: &Auth, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Money::parse_major(s, auth.shop.currency)
                .map(|m| m.minor)
                .map_err(|_| ApiError::Unprocessable(format!("“{s}” is not an amount")))
        })
        .transpose()
}

/// What the role may do, by permission name, for the templates
/// (`{% if can.confirm_payments %}`).
pub(super) fn can(auth: &Auth) -> minijinja::Value {
    let map: serde_json::Map<String, serde_json::Value> = Permission::ALL
        .iter()
        .map(|p| (p.as_str().to_string(), auth.may(*p).into()))
        .collect();
    minijinja::Value::from_serialize(&map)
}

/// The console's own check for a form: a refusal goes back as a message
/// that names the permission.
pub(super) fn refused(auth: &Auth, p: Permission, back: &str) -> Option<Response> {
    auth.require(p)
        .err()
        .map(|e| back_to(back, "error", &e.message()))
}

/// An amount written the way the page's reader reads numbers.
pub(super) fn money(auth: &Auth, minor: i64) -> String {
    Money::new(minor, auth.shop.currency)
        .display_as(super::lang::of(auth), auth.shop.settings.currency_display)
}

/// The shop's calendar, its dates written the way the reader reads them.
pub(super) fn calendar(auth: &Auth) -> crate::domain::calendar::Calendar {
    auth.shop
        .settings
        .calendar()
        .in_language(super::lang::of(auth))
}

pub(super) fn tab_label(t: Tab) -> &'static str {
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

/// The counts on the console's menu: new chat messages, and messages that
/// did not reach a customer.
#[derive(serde::Serialize)]
pub(super) struct Badges {
    chats: i64,
    undelivered: i64,
    claims: i64,
}

pub(super) async fn unread_total(state: &AppState, auth: &Auth) -> Badges {
    let chats = seller_inbox::list(&state.db, auth.shop.id, true, 200)
        .await
        .map(|v| v.iter().map(|c| c.unread).sum())
        .unwrap_or(0);
    badges(state, auth, chats).await
}

pub(super) async fn badges(state: &AppState, auth: &Auth, chats: i64) -> Badges {
    let undelivered = crate::store::undelivered::count(&state.db, auth.shop.id)
        .await
        .unwrap_or(0);
    let claims = crate::store::claims::counts(&state.db, auth.shop.id)
        .await
        .map(|c| {
            c.iter()
                .filter(|(s, _)| *s != crate::domain::claim::ClaimStatus::Resolved)
                .map(|c| c.1)
                .sum()
        })
        .unwrap_or(0);
    Badges {
        chats,
        undelivered,
        claims,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Flash {
    error: Option<String>,
    notice: Option<String>,
    expired: Option<String>,
}

async fn login_page(Query(f): Query<Flash>) -> Response {
    let error = f
        .expired
        .map(|_| "Your token is unknown or was revoked; log in again.".to_string())
        .or(f.error);
    match render("admin/login.html", context! { error => error }) {
        Ok(html) => Html(html).into_response(),
        Err(e) => page_error(e),
    }
}

async fn login(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<FailureLimiter>>,
    crate::http::client::ClientAddr(client): crate::http::client::ClientAddr,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = form.get("token").map(|t| t.trim()).unwrap_or("");
    // Failures count against the same bucket as the API's.
    let started = match auth::check_token(&state, &limiter, &client, token).await {
        Ok(a) => crate::store::tokens::start_session(&state.db, &a.token, crate::clock::now())
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match started {
        Ok(session) => {
            let secure = if state.config.public_url.starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            let max_age = crate::store::tokens::SESSION_DAYS * 86_400;
            let cookie = format!(
                "{COOKIE}={session}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
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

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(session) = cookie_token(&headers)
        && let Err(e) =
            crate::store::tokens::end_session(&state.db, &session, crate::clock::now()).await
    {
        return page_error(e.into());
    }
    (
        [(
            header::SET_COOKIE,
            format!("{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
        Redirect::to("/admin/login"),
    )
        .into_response()
}

pub(super) fn back_to(path: &str, key: &str, msg: &str) -> Response {
    let enc: String = msg
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    Redirect::to(&format!("{path}?{key}={enc}")).into_response()
}
