//! Orders: the list with tab counts, the detail page, and every seller
//! action as a POST that returns the new order or a 409 naming its state.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::orders as app_orders;
use crate::app::payments::{self as app_payments, Decision};
use crate::domain::calendar::Calendar;
use crate::domain::lifecycle::{Fulfilment, PaymentStatus, Tab};
use crate::domain::order::{self, Command, Fee, Order};
use crate::domain::{Actor, Address, CustomerId, OrderId, Timestamp};
use crate::store::listing::{self, Cursor, OrderFilter, OrderMeta, Sort};
use crate::store::orders;
use crate::store::{StoreError, customers, idempotency, seller_inbox};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

// ---------- views ----------

#[derive(Clone, Debug, serde::Serialize)]
pub struct LineView {
    pub id: i64,
    pub product_id: i64,
    pub variant_id: i64,
    pub name: String,
    pub variant_name: String,
    pub unit_price: i64,
    pub qty: i64,
    pub amount: i64,
    pub status: String,
    pub proposed_unit_price: Option<i64>,
    pub proposed_qty: Option<i64>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct OrderView {
    pub id: i64,
    pub code: String,
    pub channel: String,
    pub customer_id: i64,
    pub currency: String,
    pub fulfilment: Fulfilment,
    pub payment_status: PaymentStatus,
    pub payment_method: Option<String>,
    /// `pending` (the exclamation mark), `review`, `confirmed` (the green
    /// check), `cod`, `closed`.
    pub badge: &'static str,
    pub lines: Vec<LineView>,
    pub fees: Vec<Fee>,
    pub subtotal: i64,
    pub shipping_fee: i64,
    pub service_fees: i64,
    pub discount: i64,
    pub total: i64,
    pub paid: i64,
    pub remaining: i64,
    pub address: Option<Address>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Actions the seller may take now (each a POST under the order).
    pub actions: Vec<&'static str>,
}

pub fn badge(p: PaymentStatus) -> &'static str {
    match p {
        PaymentStatus::Unpaid | PaymentStatus::Rejected | PaymentStatus::PartiallyPaid => "pending",
        PaymentStatus::PendingReview => "review",
        PaymentStatus::Paid | PaymentStatus::CodCollected => "confirmed",
        PaymentStatus::CodPending => "cod",
        PaymentStatus::Refunded | PaymentStatus::Void => "closed",
    }
}

/// What the seller can do now, found by asking the pure decision function.
pub fn available_actions(o: &Order) -> Vec<&'static str> {
    let seller = Actor::Seller("probe".into());
    let probes: [(&'static str, Command); 10] = [
        ("confirm", Command::Confirm),
        ("confirm-payment", Command::ConfirmPayment { amount: None }),
        (
            "reject-payment",
            Command::RejectPayment { reason: "x".into() },
        ),
        (
            "ship",
            Command::Ship {
                carrier: "x".into(),
                tracking: None,
            },
        ),
        ("complete", Command::Complete),
        ("fail-delivery", Command::FailDelivery),
        ("return-to-stock", Command::ReturnToStock),
        ("collect-cod", Command::CollectCod { amount: None }),
        ("cancel", Command::Cancel { reason: "x".into() }),
        (
            "pay-from-balance",
            Command::PayFromBalance {
                available: i64::MAX / 4,
                allow_negative: false,
            },
        ),
    ];
    let mut out: Vec<&'static str> = probes
        .into_iter()
        .filter(|(_, c)| order::decide(o, c.clone(), &seller).is_ok())
        .map(|(n, _)| n)
        .collect();
    if crate::domain::lifecycle::seller_may_edit(o.fulfilment) {
        out.extend(["edit-address", "edit-fees", "edit-line"]);
    }
    if matches!(o.fulfilment, Fulfilment::Cancelled | Fulfilment::Returned) {
        out.push("delete");
    }
    out
}

pub fn order_view(o: &Order, meta: &OrderMeta) -> OrderView {
    let t = o.totals();
    OrderView {
        id: o.id.get(),
        code: o.code.as_str().to_string(),
        channel: meta.channel.clone(),
        customer_id: o.customer_id.get(),
        currency: o.currency.code().to_string(),
        fulfilment: o.fulfilment,
        payment_status: o.payment,
        payment_method: o.method.map(|m| m.as_str().to_string()),
        badge: badge(o.payment),
        lines: o
            .lines
            .iter()
            .map(|l| LineView {
                id: l.id,
                product_id: l.product_id.get(),
                variant_id: l.variant_id.get(),
                name: l.name.clone(),
                variant_name: l.variant_name.clone(),
                unit_price: l.unit_price,
                qty: l.qty,
                amount: l.unit_price.saturating_mul(l.qty),
                status: l.status.as_str().to_string(),
                proposed_unit_price: l.proposed_unit_price,
                proposed_qty: l.proposed_qty,
            })
            .collect(),
        fees: o.fees.clone(),
        subtotal: t.subtotal.minor,
        shipping_fee: t.shipping_fee.minor,
        service_fees: t.service_fees.minor,
        discount: t.discount.minor,
        total: t.total.minor,
        paid: t.paid.minor,
        remaining: t.remaining.minor,
        address: o.address.clone(),
        carrier: o.carrier.clone(),
        tracking: o.tracking.clone(),
        version: o.version,
        created_at: meta.created_at,
        updated_at: meta.updated_at,
        actions: available_actions(o),
    }
}

// ---------- list ----------

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub tab: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
    pub payment_status: Option<String>,
    /// Epoch ms or `YYYY-MM-DD` (UTC).
    pub from: Option<String>,
    pub to: Option<String>,
    pub customer: Option<i64>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Epoch milliseconds, or a date in the shop's time zone: a seller's
/// "from 1 December" means their midnight, and "to 1 December" takes in
/// the whole of that day.
fn parse_instant(s: &str, what: &str, cal: &Calendar) -> ApiResult<Timestamp> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(Timestamp(ms));
    }
    let day = if what == "to" {
        cal.parse_day_end(s)
    } else {
        cal.parse_day(s)
    };
    day.ok_or_else(|| {
        ApiError::BadRequest(format!("{what}: expected epoch milliseconds or YYYY-MM-DD"))
    })
}

pub fn parse_filter(q: &ListQuery, cal: &Calendar) -> ApiResult<OrderFilter> {
    let tab = match q.tab.as_deref() {
        None | Some("") => None,
        Some(t) => Some(Tab::parse(t).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown tab {t:?}; one of {}",
                Tab::ALL
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?),
    };
    let fulfilment = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            Fulfilment::parse(s)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown status {s:?}")))
        })
        .transpose()?;
    let payment = q
        .payment_status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            PaymentStatus::parse(s)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown payment_status {s:?}")))
        })
        .transpose()?;
    let sort = match q.sort.as_deref() {
        None | Some("") | Some("created") => Sort::Created,
        Some("updated") => Sort::Updated,
        Some(s) => {
            return Err(ApiError::BadRequest(format!(
                "unknown sort {s:?}; created or updated"
            )));
        }
    };
    let after = q
        .cursor
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|c| Cursor::decode(c).ok_or_else(|| ApiError::BadRequest("bad cursor".into())))
        .transpose()?;
    Ok(OrderFilter {
        tab,
        channel: q.channel.clone().filter(|s| !s.is_empty()),
        fulfilment,
        payment,
        from: q
            .from
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_instant(s, "from", cal))
            .transpose()?,
        to: q
            .to
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_instant(s, "to", cal))
            .transpose()?,
        customer: q.customer.map(CustomerId),
        search: q.q.clone().filter(|s| !s.trim().is_empty()),
        sort,
        after,
        limit: q.limit.unwrap_or(50),
    })
}

pub async fn tab_counts_json(state: &AppState, auth: &Auth) -> ApiResult<Vec<Value>> {
    Ok(orders::tab_counts(&state.db, auth.shop.id)
        .await?
        .into_iter()
        .map(|(t, n)| json!({"tab": t.as_str(), "count": n}))
        .collect())
}

/// `GET /api/v1/orders`: one page plus the count of every tab.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let filter = parse_filter(&q, &auth.shop.settings.calendar())?;
    let (page, tabs) = tokio::try_join!(
        async {
            listing::list_orders(&state.db, auth.shop.id, &filter)
                .await
                .map_err(ApiError::from)
        },
        tab_counts_json(&state, &auth)
    )?;
    Ok(Json(json!({
        "tab": filter.tab.unwrap_or(Tab::All).as_str(),
        "tabs": tabs,
        "orders": page.orders.iter().map(|o| {
            let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
            v["badge"] = json!(badge(o.payment_status));
            v
        }).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

// ---------- detail ----------

pub async fn detail_json(state: &AppState, auth: &Auth, id: OrderId) -> ApiResult<Value> {
    let shop = auth.shop.id;
    let order = orders::load(&state.db, shop, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("order"),
            o => o.into(),
        })?;
    let meta = listing::order_meta(&state.db, shop, id).await?;
    let customer = customers::get(&state.db, shop, order.customer_id).await?;
    let payments = crate::store::payments::list_for_order(&state.db, shop, id).await?;
    let history = orders::history(&state.db, shop, id).await?;
    let conversation = seller_inbox::get(&state.db, shop, order.customer_id)
        .await
        .ok();
    let messages = seller_inbox::messages(&state.db, shop, order.customer_id, 50).await?;
    let payments: Vec<Value> = payments
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            if p.thumbnail_media.is_some() {
                v["thumbnail_url"] = json!(format!("/api/v1/payments/{}/thumbnail", p.id));
            }
            if p.original_media.is_some() {
                v["slip_url"] = json!(format!("/api/v1/payments/{}/slip", p.id));
            }
            v
        })
        .collect();
    Ok(json!({
        "order": order_view(&order, &meta),
        "customer": {
            "id": customer.id,
            "name": customer.display_name,
            "channel": customer.channel,
            "phone": customer.phone,
            "balance": customer.balance,
        },
        "payments": payments,
        "history": history,
        "conversation": conversation.map(|c| json!({"unread": c.unread, "total": c.total, "bot_paused": c.bot_paused})),
        "messages": messages,
    }))
}

/// `GET /api/v1/orders/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(detail_json(&state, &auth, OrderId(id)).await?))
}

/// `DELETE /api/v1/orders/{id}`: only a cancelled or returned order.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let id = OrderId(id);
    match listing::delete_order(&state.db, auth.shop.id, id, crate::clock::now()).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found("order")),
        Err(StoreError::Conflict(m)) => {
            let o = orders::load(&state.db, auth.shop.id, id).await?;
            Err(ApiError::order_conflict(m, &o))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- actions ----------

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
        }
    }
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.slug() == s)
    }
    pub fn summary(self) -> &'static str {
        match self {
            Action::Confirm => "Confirm the order (COD or manual validation)",
            Action::ConfirmPayment => {
                "Confirm a payment: body {payment_id?, amount?}; without payment_id a manual confirmation"
            }
            Action::RejectPayment => "Reject the slip: body {reason, payment_id?}",
            Action::Ship => {
                "Ship: body {carrier, tracking?} or {ship_now: true, person} for a person delivering it"
            }
            Action::Complete => "Delivered (a COD order then awaits the carrier's remittance)",
            Action::FailDelivery => "The carrier could not deliver",
            Action::ReturnToStock => "The goods came back: restock",
            Action::CollectCod => "Record the carrier's COD remittance: body {amount?}",
            Action::Cancel => "Cancel: body {reason}; paid money goes to the customer's balance",
            Action::PayFromBalance => "Pay the order from the customer's shop balance",
            Action::EditAddress => "Edit the delivery address before shipping: body {address}",
            Action::EditFees => {
                "Edit extra services, shipping fee, discount before shipping: body {fees?, shipping_fee?, discount?}"
            }
            Action::EditLine => {
                "Change a line's price or quantity before shipping: body {line_id, unit_price, qty}; the customer confirms in chat"
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub payment_id: Option<i64>,
    pub amount: Option<i64>,
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
}

fn required<T>(v: Option<T>, what: &str) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::Unprocessable(format!("{what} is required")))
}

pub fn command_for(action: Action, b: ActionBody) -> ApiResult<Command> {
    Ok(match action {
        Action::Confirm => Command::Confirm,
        Action::ConfirmPayment => Command::ConfirmPayment { amount: b.amount },
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
        Action::CollectCod => Command::CollectCod { amount: b.amount },
        Action::Cancel => Command::Cancel {
            reason: b.reason.unwrap_or_default(),
        },
        Action::PayFromBalance => Command::PayFromBalance {
            available: 0,
            allow_negative: false,
        },
        Action::EditAddress => Command::EditAddress {
            address: required(b.address, "address")?,
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
    let payment_id = body.payment_id;
    let command = command_for(action, body)?;
    let shop = &auth.shop;
    let actor = auth.actor();
    if let Some(pid) = payment_id {
        return decide_payment(state, auth, id, pid, command, key, hash).await;
    }
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
        &actor,
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
        Command::ConfirmPayment { amount } => Decision::Confirm(amount),
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

pub fn parse_body(bytes: &Bytes) -> ApiResult<ActionBody> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(ActionBody::default());
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
    let body = parse_body(&bytes)?;
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&[
        b"order-action",
        id.to_string().as_bytes(),
        action.slug().as_bytes(),
        &bytes,
    ]);
    perform(&state, &auth, OrderId(id), action, body, key, hash).await
}
