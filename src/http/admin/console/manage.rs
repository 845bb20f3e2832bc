//! The rest of what the API lets a seller do, in the console: change or
//! remove a product and its variants, the customers list with search, and
//! the shop's API tokens. Each form calls the API's own handler, so the
//! rules, limits and refusals are the same words.

use super::{Console, Flash, back_to, can, money, page, page_error, refused, unread_total};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::http::admin::error::ApiError;
use crate::http::admin::{products as api_products, tokens as api_tokens};
use crate::store::listing::{self, ProductPatch};
use crate::store::tokens::{self, Role};
use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use minijinja::context;
use serde_json::json;
use std::collections::HashMap;

type Fields = HashMap<String, String>;

fn field(form: &Fields, k: &str) -> Option<String> {
    form.get(k)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn amount(
    auth: &crate::http::admin::auth::Auth,
    form: &Fields,
    k: &str,
) -> Result<Option<i64>, ApiError> {
    super::typed_amount(auth, form.get(k).map(String::as_str))
}

fn done<T>(back: &str, r: Result<T, ApiError>, words: &str) -> Response {
    match r {
        Ok(_) => back_to(back, "notice", words),
        Err(e) => back_to(back, "error", &e.message()),
    }
}

/// `POST /admin/products/{id}/{what}`: edit, delete, image, variants.
pub(super) async fn product_action(
    State(state): State<AppState>,
    Console(auth): Console,
    Path((id, what)): Path<(i64, String)>,
    Form(form): Form<Fields>,
) -> Response {
    let back = "/admin/products";
    if let Some(r) = refused(&auth, Permission::EditProductsAndStock, back) {
        return r;
    }
    let st = || State(state.clone());
    match what.as_str() {
        "edit" => {
            let price = match amount(&auth, &form, "price") {
                Ok(p) => p,
                Err(e) => return back_to(back, "error", &e.message()),
            };
            let patch = ProductPatch {
                name: field(&form, "name"),
                description: form.get("description").map(|d| d.trim().to_string()),
                category: form.get("category").map(|c| c.trim().to_string()),
                price,
                active: Some(form.contains_key("active")),
                image_url: None,
            };
            let r = api_products::update(st(), auth.clone(), Path(id), Json(patch)).await;
            done(back, r, "Product saved")
        }
        "image" => {
            let body = api_products::ImageBody {
                image_url: field(&form, "image_url").unwrap_or_default(),
            };
            let r = api_products::set_image(st(), auth.clone(), Path(id), Json(body)).await;
            done(back, r, "Picture link saved")
        }
        "delete" if let Some(r) = super::unconfirmed(form.get("yes").map(String::as_str), back) => {
            r
        }
        "delete" => done(
            back,
            api_products::delete(st(), auth.clone(), Path(id)).await,
            "Product removed",
        ),
        "variants" => {
            let (price, stock) = match (amount(&auth, &form, "price"), stock(&form)) {
                (Ok(p), Ok(s)) => (p, s),
                (Err(e), _) | (_, Err(e)) => return back_to(back, "error", &e.message()),
            };
            let body = api_products::NewVariantBody {
                name: field(&form, "name").unwrap_or_default(),
                price,
                stock,
            };
            let r = api_products::add_variant(st(), auth.clone(), Path(id), Json(body)).await;
            done(back, r, "Option added")
        }
        _ => page_error(ApiError::not_found("product action")),
    }
}

fn stock(form: &Fields) -> Result<Option<i64>, ApiError> {
    field(form, "stock")
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| ApiError::Unprocessable("stock must be a whole number".into()))
        })
        .transpose()
}

/// `POST /admin/variants/{id}/{what}`: edit (name, price) or delete.
pub(super) async fn variant_action(
    State(state): State<AppState>,
    Console(auth): Console,
    Path((id, what)): Path<(i64, String)>,
    Form(form): Form<Fields>,
) -> Response {
    let back = "/admin/products";
    if let Some(r) = refused(&auth, Permission::EditProductsAndStock, back) {
        return r;
    }
    match what.as_str() {
        "edit" => {
            let price = match amount(&auth, &form, "price") {
                Ok(p) => p,
                Err(e) => return back_to(back, "error", &e.message()),
            };
            let patch = api_products::VariantPatch {
                name: field(&form, "name"),
                // Empty: the product's own price.
                price: Some(price),
                stock: None,
            };
            let r = api_products::update_variant(State(state), auth.clone(), Path(id), Json(patch))
                .await;
            done(back, r, "Option saved")
        }
        "delete" if let Some(r) = super::unconfirmed(form.get("yes").map(String::as_str), back) => {
            r
        }
        "delete" => done(
            back,
            api_products::delete_variant(State(state), auth.clone(), Path(id)).await,
            "Option removed",
        ),
        _ => page_error(ApiError::not_found("option action")),
    }
}

/// `GET /admin/customers?q=`: every customer, chatting or not.
pub(super) async fn customers_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let search = q.get("q").map(|s| s.trim()).filter(|s| !s.is_empty());
    let rows = match listing::search_customers(&state.db, auth.shop.id, search, 100).await {
        Ok(r) => r,
        Err(e) => return page_error(e.into()),
    };
    let rows: Vec<_> = rows
        .iter()
        .map(|c| json!({"id": c.id, "name": c.display_name, "channel": c.channel, "phone": c.phone, "balance": money(&auth, c.balance)}))
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/customers.html",
        context! { shop => auth.shop.name.clone(), unread => unread, customers => rows, q => search.unwrap_or(""), can => can(&auth) },
    )
}

/// `GET /admin/tokens`: who may use the API and the console.
pub(super) async fn tokens_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(f): Query<Flash>,
) -> Response {
    tokens_view(&state, &auth, f.error, f.notice, None).await
}

async fn tokens_view(
    state: &AppState,
    auth: &crate::http::admin::auth::Auth,
    error: Option<String>,
    notice: Option<String>,
    new_token: Option<String>,
) -> Response {
    if let Err(e) = auth.require(Permission::ManageTokens) {
        return page_error(e);
    }
    let list = match tokens::list(&state.db, auth.shop.id).await {
        Ok(l) => l,
        Err(e) => return page_error(e.into()),
    };
    let cal = super::calendar(auth);
    let rows: Vec<_> = list
        .iter()
        .map(|t| {
            json!({"id": t.id, "label": t.label, "role": t.role.as_str(), "prefix": t.prefix,
                        "created": cal.date_time(t.created_at), "revoked": t.revoked_at.is_some()})
        })
        .collect();
    let unread = unread_total(state, auth).await;
    page(
        auth,
        "admin/tokens.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, tokens => rows, can => can(auth),
            roles => Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            new_token => new_token, error => error, notice => notice,
        },
    )
}

/// `POST /admin/tokens`: the new token is shown once, on this answer.
pub(super) async fn token_create(
    State(state): State<AppState>,
    Console(auth): Console,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(r) = refused(&auth, Permission::ManageTokens, "/admin/tokens") {
        return r;
    }
    let Some(role) = field(&form, "role").and_then(|r| Role::parse(&r)) else {
        return back_to("/admin/tokens", "error", "Pick a role");
    };
    let body = api_tokens::NewToken {
        label: field(&form, "label").unwrap_or_default(),
        role,
    };
    match api_tokens::create(State(state.clone()), auth.clone(), Json(body)).await {
        Ok((_, Json(v))) => {
            let token = v["token"].as_str().map(str::to_string);
            tokens_view(
                &state,
                &auth,
                None,
                Some("Token made: copy it now, it is not shown again".into()),
                token,
            )
            .await
        }
        Err(e) => back_to("/admin/tokens", "error", &e.message()),
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub(super) async fn token_revoke(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let back = "/admin/tokens";
    if let Some(r) = refused(&auth, Permission::ManageTokens, back) {
        return r;
    }
    if let Some(r) = super::unconfirmed(form.get("yes").map(String::as_str), back) {
        return r;
    }
    done(
        back,
        api_tokens::revoke(State(state), auth.clone(), Path(id)).await,
        "Token revoked",
    )
}

/// `POST /admin/language`: the reader's own console language, back on
/// the page they switched it from.
pub(super) async fn language_switch(
    State(state): State<AppState>,
    Console(auth): Console,
    headers: axum::http::HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    let back = same_console_page(&headers);
    let body = api_tokens::MyLanguage {
        language: field(&form, "language"),
    };
    done(
        &back,
        api_tokens::set_my_language(State(state), auth, Json(body)).await,
        "Language changed",
    )
}

/// The console page a form was sent from (its path only), else the
/// dashboard: never another site.
fn same_console_page(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .map(|path| path.split(['?', '#']).next().unwrap_or(path))
        .filter(|path| path.starts_with("/admin/") && !path.starts_with("/admin/language"))
        .filter(|path| path.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("/admin/dashboard")
        .to_string()
}
