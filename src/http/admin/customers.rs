//! Customers: profile with balance and orders, the balance ledger, and the
//! seller's deposit / withdraw (seed 003 "Balance management").

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::domain::ledger::LedgerKind;
use crate::domain::{CustomerId, ShopId};
use crate::store::customers::{self, BalanceError};
use crate::store::listing::{self, OrderFilter};
use crate::store::{StoreError, seller_inbox};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

async fn customer_or_404(
    state: &AppState,
    shop: ShopId,
    id: i64,
) -> ApiResult<customers::Customer> {
    customers::get(&state.db, shop, CustomerId(id))
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("customer"),
            o => o.into(),
        })
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/customers?q=`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let rows = listing::search_customers(
        &state.db,
        auth.shop.id,
        q.q.as_deref(),
        q.limit.unwrap_or(50),
    )
    .await?;
    Ok(Json(json!({ "customers": rows })))
}

/// `GET /api/v1/customers/{id}`: profile, balance, active orders, messages.
pub async fn profile(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let c = customer_or_404(&state, auth.shop.id, id).await?;
    let orders = listing::list_orders(
        &state.db,
        auth.shop.id,
        &OrderFilter {
            customer: Some(c.id),
            limit: 20,
            ..Default::default()
        },
    )
    .await?;
    let conv = seller_inbox::get(&state.db, auth.shop.id, c.id).await.ok();
    Ok(Json(json!({
        "customer": c,
        "recent_orders": orders.orders,
        "conversation": conv,
    })))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/customers/{id}/orders`.
pub async fn orders(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    let c = customer_or_404(&state, auth.shop.id, id).await?;
    let after = q
        .cursor
        .as_deref()
        .map(|s| {
            listing::Cursor::decode(s).ok_or_else(|| ApiError::BadRequest("bad cursor".into()))
        })
        .transpose()?;
    let page = listing::list_orders(
        &state.db,
        auth.shop.id,
        &OrderFilter {
            customer: Some(c.id),
            after,
            limit: q.limit.unwrap_or(50),
            ..Default::default()
        },
    )
    .await?;
    Ok(Json(json!(page)))
}

/// `GET /api/v1/customers/{id}/ledger`.
pub async fn ledger(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let c = customer_or_404(&state, auth.shop.id, id).await?;
    let rows = customers::ledger(&state.db, auth.shop.id, c.id).await?;
    Ok(Json(json!({ "balance": c.balance, "entries": rows })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceBody {
    pub amount: i64,
    pub note: Option<String>,
}

pub async fn move_balance(
    state: &AppState,
    auth: &Auth,
    id: i64,
    kind: LedgerKind,
    body: BalanceBody,
) -> ApiResult<Json<Value>> {
    if body.amount <= 0 {
        return Err(ApiError::Unprocessable(
            "amount must be greater than zero".into(),
        ));
    }
    crate::domain::money::in_range(body.amount, "amount")
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let c = customer_or_404(state, auth.shop.id, id).await?;
    let note = body
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let post = customers::LedgerPost {
        shop: auth.shop.id,
        customer: c.id,
        kind,
        amount: body.amount,
        order: None,
        note,
        actor: &auth.actor().to_db(),
        allow_negative: auth.shop.settings.allow_negative_balance,
    };
    let row = crate::app::customers::move_balance(&state.db, &post, crate::clock::now())
        .await
        .map_err(|e| match e {
            BalanceError::Ledger(l) => ApiError::conflict(l.to_string()),
            BalanceError::Store(s) => s.into(),
        })?;
    Ok(Json(json!({ "entry": row, "balance": row.balance_after })))
}

/// `POST /api/v1/customers/{id}/deposit` (move_balances).
pub async fn deposit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(body): Json<BalanceBody>,
) -> ApiResult<Json<Value>> {
    move_balance(&state, &auth, id, LedgerKind::Deposit, body).await
}

/// `POST /api/v1/customers/{id}/withdraw` (move_balances).
pub async fn withdraw(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(body): Json<BalanceBody>,
) -> ApiResult<Json<Value>> {
    move_balance(&state, &auth, id, LedgerKind::Withdraw, body).await
}

#[derive(Debug, Deserialize)]
pub struct RenameBody {
    pub name: String,
}

/// `PATCH /api/v1/customers/{id}` `{name}`: the name the seller typed; it
/// wins over the Messenger profile and the address from then on.
pub async fn rename(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(body): Json<RenameBody>,
) -> ApiResult<Json<Value>> {
    use crate::app::customers::{RenameError, rename};
    match rename(
        &state.db,
        auth.shop.id,
        CustomerId(id),
        &body.name,
        crate::clock::now(),
    )
    .await
    {
        Ok(_) => {}
        Err(RenameError::Invalid(e)) => {
            return Err(ApiError::InvalidField {
                field: "name".into(),
                reason: e.to_string(),
            });
        }
        Err(RenameError::NotFound) => return Err(ApiError::not_found("customer")),
        Err(RenameError::Store(e)) => return Err(e.into()),
    }
    let c = customer_or_404(&state, auth.shop.id, id).await?;
    Ok(Json(json!({ "customer": c })))
}
