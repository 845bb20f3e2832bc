//! `POST /api/v1/orders`: an order the shop makes for a customer who
//! phoned or walked in. Parsed here, made by `app::shop_orders`.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::shop_orders::{self, ForCustomer, ShopOrder, ShopOrderError};
use crate::domain::order::PaymentMethod;
use crate::domain::phone::calling_code_for;
use crate::domain::{Address, CustomerId, CustomerName, OrderId, PhoneNumber, VariantId};
use crate::store::orders::PlaceError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    pub name: String,
    pub phone: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub variant_id: i64,
    pub qty: i64,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrderBody {
    pub customer_id: Option<i64>,
    pub customer: Option<NewCustomer>,
    pub items: Vec<Item>,
    pub address: Option<Address>,
    pub method: Option<String>,
    pub shipping_fee: Option<i64>,
}

fn field(name: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidField {
        field: name.into(),
        reason: reason.into(),
    }
}

impl From<ShopOrderError> for ApiError {
    fn from(e: ShopOrderError) -> Self {
        match e {
            ShopOrderError::NoCustomer => ApiError::not_found("customer"),
            ShopOrderError::Place(PlaceError::OutOfStock { name, .. }) => {
                ApiError::conflict(format!("{name} is out of stock; nothing was reserved"))
            }
            ShopOrderError::Place(PlaceError::Store(e)) => e.into(),
            ShopOrderError::Place(e) => field("items", e.to_string()),
        }
    }
}

/// The request as the shop's order, every field checked.
pub fn parse(b: NewOrderBody, auth: &Auth) -> ApiResult<ShopOrder> {
    let customer = match (b.customer_id, b.customer) {
        (Some(id), None) => ForCustomer::Known(CustomerId(id)),
        (None, Some(c)) => ForCustomer::ByPhone {
            phone: PhoneNumber::parse(&c.phone, calling_code_for(auth.shop.currency))
                .map_err(|e| field("customer.phone", e.to_string()))?,
            name: CustomerName::parse(&c.name)
                .map_err(|e| field("customer.name", e.to_string()))?,
        },
        _ => {
            return Err(field(
                "customer",
                "give customer_id, or customer {name, phone} for someone who phoned or came in",
            ));
        }
    };
    let method = b
        .method
        .as_deref()
        .map(|m| {
            PaymentMethod::parse(m)
                .filter(|m| *m != PaymentMethod::Balance)
                .ok_or_else(|| field("method", "one of bank_transfer, qr_transfer, cod"))
        })
        .transpose()?;
    if b.shipping_fee
        .is_some_and(|f| !(0..=crate::domain::money::MAX_MINOR).contains(&f))
    {
        return Err(field(
            "shipping_fee",
            "an amount of 0 or more, in minor units",
        ));
    }
    Ok(ShopOrder {
        customer,
        items: b
            .items
            .iter()
            .map(|i| (VariantId(i.variant_id), i.qty))
            .collect(),
        address: b.address,
        method,
        shipping_fee: b.shipping_fee,
    })
}

/// `POST /api/v1/orders`: 201 with the order as `GET /orders/{id}` shows it.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<NewOrderBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let req = parse(body, &auth)?;
    let order = shop_orders::make(
        &state.db,
        &auth.shop,
        req,
        &auth.actor(),
        crate::clock::now(),
    )
    .await?;
    state.outbox_wake.notify_one();
    let detail = super::orders::detail_json(&state, &auth, OrderId(order.id.get())).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}
