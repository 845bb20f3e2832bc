//! Every seller action on an order as a POST that returns the new order or
//! a 409 naming its state; an `Idempotency-Key` makes a double submit one
//! action and one push.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::orders::order_view;
use crate::app::AppState;
use crate::app::orders as app_orders;
use crate::app::payments::{self as app_payments, Decision};
use crate::domain::order::{Command, Fee};
use crate::domain::{Address, OrderId};
use crate::store::listing;
use crate::store::orders;
use crate::store::{StoreError, idempotency};
use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Confirm,
    ConfirmPayment,
    RejectPayment,
    Ship,
    Complete,
    FailDelivery,
    ReturnToStock,
    CollectCod,
    Cancel,
    PayFromBalance,
    EditAddress,
    EditFees,
    EditLine,
    ResolvePayment,
    AddService,
    RemoveService,
    ServiceDone,
    Track,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Confirm,
        Action::ConfirmPayment,
        Action::RejectPayment,
        Action::Ship,
        Action::Complete,
        Action::FailDelivery,
        Action::ReturnToStock,
        Action::CollectCod,
        Action::Cancel,
        Action::PayFromBalance,
        Action::EditAddress,
        Action::EditFees,
        Action::EditLine,
        Action::ResolvePayment,
        Action::AddService,
        Action::RemoveService,
        Action::ServiceDone,
        Action::Track,
    ];
    pub fn slug(self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::ConfirmPayment => "confirm-payment",
            Action::RejectPayment => "reject-payment",
            Action::Ship => "ship",
            Action::Complete => "complete",
            Action::FailDelivery => "fail-delivery",
            Action::ReturnToStock => "return-to-stock",
            Action::CollectCod => "collect-cod",
            Action::Cancel => "cancel",
            Action::PayFromBalance => "pay-from-balance",
            Action::EditAddress => "edit-address",
            Action::EditFees => "edit-fees",
            Action::EditLine => "edit-line",
            Action::ResolvePayment => "resolve-payment",
            Action::AddService => "add-service",
            Action::RemoveService => "remove-service",
            Action::ServiceDone => "service-done",
            Action::Track => "track",
        }
    }
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.slug() == s)
    }
    pub fn summary(self) -> &'static str {
        match self {
            Action::Confirm => "Confirm the order (COD or manual validation)",
            Action::ConfirmPayment => {
                "Confirm a payment: body {payment_id?, amount?, credit_excess?}; amount is what the slip shows (default: what is owed); more than owed is refused unless an owner sets credit_excess (the excess goes to the customer's balance); without payment_id a manual confirmation"
            }
            Action::RejectPayment => "Reject the slip: body {reason, payment_id?}",
            Action::Ship => {
                "Ship: body {carrier, tracking?} or {ship_now: true, person} for a person delivering it"
            }
            Action::Complete => "Delivered (a COD order then awaits the carrier's remittance)",
            Action::FailDelivery => "The carrier could not deliver",
            Action::ReturnToStock => "The goods came back: restock",
            Action::CollectCod => {
                "Record the carrier's COD remittance: body {amount?}; a short or long remittance is kept as a `difference` payment to resolve"
            }
            Action::Cancel => {
                "Cancel: body {reason}; what was paid goes back once, to the customer's balance or as a refund due (the shop's excess_payment setting)"
            }
            Action::PayFromBalance => "Pay the order from the customer's shop balance",
            Action::EditAddress => "Edit the delivery address before shipping: body {address}",
            Action::EditFees => {
                "Edit extra services, shipping fee, discount before shipping: body {fees?, shipping_fee?, discount?}"
            }
            Action::EditLine => {
                "Change a line's price or quantity before shipping: body {line_id, unit_price, qty}; the customer confirms in chat"
            }
            Action::AddService => {
                "Add one of the shop's extra services (settings `services`) before shipping: body {service} (its id); one charged always is owed at once"
            }
            Action::RemoveService => {
                "Take an extra service off before shipping: body {service}; money paid for it goes back under the shop's excess_payment rule"
            }
            Action::ServiceDone => {
                "Mark an extra service done: body {service}; one charged when done is owed from now (the customer is told, with the amount due if they had paid)"
            }
            Action::Track => {
                "A tracking update from a shipping integration or the seller: body {status: in_transit|out_for_delivery|failed_attempt|delivered|returning, note?}; delivered completes the order (a COD order then awaits its carrier's remittance), returning marks the delivery failed, the others tell the customer where the parcel is"
            }
            Action::ResolvePayment => {
                "Resolve a COD difference or mark a refund due as paid back: body {payment_id, note?}; the amounts stay as recorded, the resolution is kept beside the payment and in the history, and a refund paid back is told to the customer"
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub payment_id: Option<i64>,
    pub amount: Option<i64>,
    /// Confirm-payment only, owner only: record an amount above what is
    /// owed, the excess credited to the customer's shop balance.
    pub credit_excess: Option<bool>,
    pub reason: Option<String>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub ship_now: Option<bool>,
    pub person: Option<String>,
    pub address: Option<Address>,
    pub fees: Option<Vec<Fee>>,
    pub shipping_fee: Option<i64>,
    pub discount: Option<i64>,
    pub line_id: Option<i64>,
    pub unit_price: Option<i64>,
    pub qty: Option<i64>,
    /// Resolve-payment: how it was settled; track: the carrier's words.
    pub note: Option<String>,
    /// Add-service, remove-service, service-done: the service's id.
    pub service: Option<String>,
    /// Track: where the parcel is.
    pub status: Option<crate::domain::order::TrackingStatus>,
}

/// An amount from the request: within what a shop can hold, else a 400
/// with the reason.
fn amount(v: Option<i64>) -> ApiResult<Option<i64>> {
    v.map(|a| {
        crate::domain::money::in_range(a, "amount").map_err(|e| ApiError::BadRequest(e.to_string()))
    })
    .transpose()
}

/// Every money amount of a body, range-checked before any rule runs.
fn check_amounts(b: &ActionBody) -> ApiResult<()> {
    let fees = b.fees.iter().flatten().map(|f| (f.amount, "a fee"));
    let named = [
        (b.shipping_fee, "shipping_fee"),
        (b.discount, "discount"),
        (b.unit_price, "unit_price"),
    ];
    for (v, what) in named
        .into_iter()
        .filter_map(|(v, w)| v.map(|v| (v, w)))
        .chain(fees)
    {
        crate::domain::money::in_range(v, what).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    Ok(())
}

/// Recording an overpayment as the customer's credit needs its own
/// permission, whatever the amount turns out to be.
fn may_credit_excess(auth: &Auth, body: &ActionBody) -> ApiResult<()> {
    if body.credit_excess == Some(true) {
        auth.require(crate::domain::access::Permission::RecordOverpayment)?;
    }
    Ok(())
}

fn required<T>(v: Option<T>, what: &str) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::Unprocessable(format!("{what} is required")))
}

pub fn command_for(action: Action, b: ActionBody) -> ApiResult<Command> {
    check_amounts(&b)?;
    if b.credit_excess.is_some() && action != Action::ConfirmPayment {
        return Err(ApiError::Unprocessable(
            "credit_excess only goes with confirm-payment".into(),
        ));
    }
    Ok(match action {
        Action::Confirm => Command::Confirm,
        Action::ConfirmPayment => Command::ConfirmPayment {
            amount: amount(b.amount)?,
            credit_excess: b.credit_excess.unwrap_or(false),
            slip: false,
        },
        Action::RejectPayment => Command::RejectPayment {
            reason: required(b.reason, "reason")?,
        },
        Action::Ship => {
            if b.ship_now == Some(true) {
                let person = required(b.person.or(b.carrier), "person")?;
                Command::Ship {
                    carrier: person,
                    tracking: None,
                }
            } else {
                Command::Ship {
                    carrier: required(b.carrier, "carrier")?,
                    tracking: b.tracking,
                }
            }
        }
        Action::Complete => Command::Complete,
        Action::FailDelivery => Command::FailDelivery,
        Action::ReturnToStock => Command::ReturnToStock,
        Action::CollectCod => Command::CollectCod {
            amount: amount(b.amount)?,
        },
        Action::Cancel => Command::Cancel {
            reason: b.reason.unwrap_or_default(),
        },
        Action::PayFromBalance => Command::PayFromBalance {
            available: 0,
            allow_negative: false,
        },
        Action::EditAddress => Command::EditAddress {
            address: required(b.address, "address")?,
            shipping_fee: None,
        },
        Action::EditFees => {
            if b.fees.is_none() && b.shipping_fee.is_none() && b.discount.is_none() {
                return Err(ApiError::Unprocessable(
                    "give fees, shipping_fee or discount".into(),
                ));
            }
            Command::EditFees {
                fees: b.fees.unwrap_or_default(),
                shipping_fee: b.shipping_fee,
                discount: b.discount,
            }
        }
        Action::ResolvePayment => Command::ResolvePayment {
            payment_id: required(b.payment_id, "payment_id")?,
            note: b.note.unwrap_or_default(),
            row: None,
        },
        Action::AddService => Command::AddService {
            service: required(b.service, "service")?,
            offer: None,
        },
        Action::RemoveService => Command::RemoveService {
            service: required(b.service, "service")?,
        },
        Action::ServiceDone => Command::ServiceDone {
            service: required(b.service, "service")?,
        },
        Action::Track => Command::Track {
            status: required(b.status, "status")?,
            note: b.note,
        },
        Action::EditLine => Command::ProposeLineChange {
            line_id: required(b.line_id, "line_id")?,
            unit_price: required(b.unit_price, "unit_price")?,
            qty: required(b.qty, "qty")?,
        },
    })
}

pub fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| ApiError::BadRequest("Idempotency-Key must be text".into()))?
                .trim();
            if k.is_empty() || k.len() > 200 {
                return Err(ApiError::BadRequest(
                    "Idempotency-Key must be 1 to 200 characters".into(),
                ));
            }
            Ok(Some(k.to_string()))
        }
    }
}

pub fn request_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    crate::clock::hex(&h.finalize())
}

/// Replays the stored answer for a used key.
pub async fn replay(state: &AppState, auth: &Auth, key: &str, hash: &str) -> ApiResult<Response> {
    let stored = idempotency::find(&state.db, auth.shop.id, key)
        .await?
        .ok_or_else(|| ApiError::conflict("the Idempotency-Key is in use; retry"))?;
    if stored.request_hash != hash {
        return Err(ApiError::Unprocessable(
            "this Idempotency-Key was used for a different request".into(),
        ));
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let body: Value = serde_json::from_str(&stored.response).unwrap_or(Value::Null);
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(resp)
}

/// Runs one seller action. The idempotency key is claimed and answered in
/// the action's own transaction, so a double submit changes the order once
/// and queues one push.
pub async fn perform(
    state: &AppState,
    auth: &Auth,
    id: OrderId,
    action: Action,
    body: ActionBody,
    key: Option<String>,
    hash: String,
) -> ApiResult<Response> {
    // A payment id names the slip a confirmation or rejection is about;
    // a resolution carries it in its command.
    let slip = body.payment_id.filter(|_| action != Action::ResolvePayment);
    may_credit_excess(auth, &body)?;
    let command = command_for(action, body)?;
    let shop = &auth.shop;
    if let Some(pid) = slip {
        super::access::check_command(state, auth, id, &command).await?;
        return decide_payment(state, auth, id, pid, command, key, hash).await;
    }
    let seller = app_orders::Seller {
        actor: auth.actor(),
        role: auth.token.role,
    };
    let shop_id = shop.id;
    let idempotency = key.map(|key| app_orders::Idempotency {
        key,
        request_hash: hash.clone(),
    });
    let acted = app_orders::act(
        &state.db,
        shop,
        id,
        command,
        &seller,
        idempotency.as_ref(),
        move |tx, applied| {
            Box::pin(async move {
                let meta = listing::order_meta_in(tx, shop_id, applied.order.id).await?;
                let view = order_view(&applied.order, &meta);
                let body = json!({ "order": view, "notices": applied.plan.notices.len() });
                let stored = body.to_string();
                Ok((body, stored))
            })
        },
    )
    .await;
    match acted {
        Ok(app_orders::Acted::Done(body)) => Ok((StatusCode::OK, Json(body)).into_response()),
        Ok(app_orders::Acted::Replay) => match &idempotency {
            Some(k) => replay(state, auth, &k.key, &hash).await,
            None => Err(ApiError::conflict(
                "the request was already made".to_string(),
            )),
        },
        Err(e) => Err(conflict_with_order(state, auth, id, e).await),
    }
}

/// A 409 names the order's current state, so the caller sees why.
async fn conflict_with_order(
    state: &AppState,
    auth: &Auth,
    id: OrderId,
    e: app_orders::ApplyError,
) -> ApiError {
    let err = ApiError::from(e);
    if let ApiError::Conflict { message, .. } = &err
        && let Ok(o) = orders::load(&state.db, auth.shop.id, id).await
    {
        return ApiError::order_conflict(message.clone(), &o);
    }
    err
}

/// A decision on one slip moves the payment row and the order in one
/// transaction. The key is checked before and recorded after; a concurrent
/// double submit is stopped by the payment's own state.
async fn decide_payment(
    state: &AppState,
    auth: &Auth,
    id: OrderId,
    payment_id: i64,
    command: Command,
    key: Option<String>,
    hash: String,
) -> ApiResult<Response> {
    use crate::store::payments;
    let shop = &auth.shop;
    if let Some(k) = &key
        && idempotency::find(&state.db, shop.id, k).await?.is_some()
    {
        return replay(state, auth, k, &hash).await;
    }
    let p = payments::get(&state.db, shop.id, payment_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("payment"),
            o => o.into(),
        })?;
    if p.order_id != id {
        return Err(ApiError::not_found("payment"));
    }
    let now = crate::clock::now();
    let actor = auth.actor();
    let decision = match command {
        Command::ConfirmPayment {
            amount,
            credit_excess,
            ..
        } => Decision::Confirm {
            amount,
            credit_excess,
        },
        Command::RejectPayment { reason } => Decision::Reject(reason),
        _ => {
            return Err(ApiError::Unprocessable(
                "payment_id only goes with confirm-payment or reject-payment".into(),
            ));
        }
    };
    match app_payments::decide(&state.db, shop, payment_id, &decision, &actor, now).await {
        Ok(applied) => {
            let meta = listing::order_meta(&state.db, shop.id, id).await?;
            let body = json!({ "order": order_view(&applied.order, &meta), "notices": applied.plan.notices.len() });
            if let Some(k) = &key {
                idempotency::remember(&state.db, shop.id, k, &hash, &body.to_string(), now).await?;
            }
            Ok((StatusCode::OK, Json(body)).into_response())
        }
        Err(e) => Err(conflict_with_order(state, auth, id, e).await),
    }
}

pub fn parse_body(headers: &HeaderMap, bytes: &Bytes) -> ApiResult<ActionBody> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(ActionBody::default());
    }
    // Only JSON is read as JSON: the edge's text checks (no NUL) know
    // which bodies are text by their type.
    if !crate::http::is_json(headers) {
        return Err(ApiError::UnsupportedMediaType(
            "send the action's body as Content-Type: application/json".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadRequest(format!("the body is not valid JSON for this action: {e}"))
    })
}

/// `POST /api/v1/orders/{id}/{action}`.
pub async fn act(
    state: AppState,
    auth: Auth,
    id: i64,
    action: Action,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = parse_body(&headers, &bytes)?;
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&[
        b"order-action",
        id.to_string().as_bytes(),
        action.slug().as_bytes(),
        &bytes,
    ]);
    perform(&state, &auth, OrderId(id), action, body, key, hash).await
}
