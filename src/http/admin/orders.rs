//! Orders: the list with tab counts, the detail page and its views. The
//! seller's actions on an order are in `order_actions`.

pub use super::order_actions::{
    Action, ActionBody, act, command_for, idempotency_key, parse_body, perform, replay,
    request_hash,
};

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::domain::calendar::Calendar;
use crate::domain::lifecycle::{Fulfilment, PaymentStatus, Tab};
use crate::domain::order::{self, Command, Fee, Order};
use crate::domain::{Actor, Address, CustomerId, OrderId, Timestamp};
use crate::store::listing::{self, Cursor, OrderFilter, OrderMeta, Sort};
use crate::store::orders;
use crate::store::{StoreError, customers, seller_inbox};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

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
    /// The shop's extra services chosen on the order; `owed` is what each
    /// adds to the total now (0 for one charged when done, until done).
    pub services: Vec<ServiceView>,
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
    /// The carrier's last word on the parcel.
    pub tracking_status: Option<order::TrackingStatus>,
    pub version: i64,
    /// The person of the shop handling or delivering it.
    pub assigned_to: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Actions the seller may take now (each a POST under the order).
    pub actions: Vec<&'static str>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ServiceView {
    #[serde(flatten)]
    pub service: order::OrderService,
    pub owed: i64,
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
        (
            "confirm-payment",
            Command::ConfirmPayment {
                amount: None,
                credit_excess: false,
                slip: false,
            },
        ),
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
        out.extend(["edit-address", "edit-fees", "edit-line", "add-service"]);
        if !o.services.is_empty() {
            out.push("remove-service");
        }
    }
    if o.services.iter().any(|s| !s.done)
        && !matches!(o.fulfilment, Fulfilment::Cancelled | Fulfilment::Returned)
    {
        out.push("service-done");
    }
    if o.fulfilment == Fulfilment::Shipping {
        out.push("track");
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
        services: o
            .services
            .iter()
            .map(|s| ServiceView {
                service: s.clone(),
                owed: s.owed(),
            })
            .collect(),
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
        tracking_status: o.tracking_status,
        version: o.version,
        created_at: meta.created_at,
        assigned_to: meta.assigned_to.clone(),
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
    /// `me` (the token's label) or a person's name.
    pub assigned: Option<String>,
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

/// `me` is who `assigned=me` means: the name on the caller's token.
pub fn parse_filter(q: &ListQuery, cal: &Calendar, me: &str) -> ApiResult<OrderFilter> {
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
        assigned_to: match q.assigned.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("me") => Some(me.to_string()),
            Some(person) => Some(person.to_string()),
        },
        search: q.q.clone().filter(|s| !s.trim().is_empty()),
        sort,
        after,
        limit: match q.limit.unwrap_or(50) {
            n @ 1..=500 => n,
            _ => {
                return Err(ApiError::InvalidField {
                    field: "limit".into(),
                    reason: "1 to 500 orders a page".into(),
                });
            }
        },
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
    let filter = parse_filter(&q, &auth.shop.settings.calendar(), &auth.token.label)?;
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

/// How many items (quantities added up) are in each line status: what
/// the seller counts when some lines wait for the customer or were refused.
pub fn line_counts(o: &Order) -> Value {
    use crate::domain::order::LineStatus;
    let items = |s: LineStatus| -> i64 {
        o.lines
            .iter()
            .filter(|l| l.status == s)
            .map(|l| l.qty)
            .sum()
    };
    json!({
        "active": items(LineStatus::Active),
        "awaiting_customer": items(LineStatus::AwaitingCustomer),
        "refused": items(LineStatus::Refused),
    })
}

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
        "undelivered": super::undelivered::views(state, auth, Some(id)).await?,
        "claims": super::claims::for_order(state, shop, id).await?,
        "line_counts": line_counts(&order),
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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// A person of the shop, `me`, or null for nobody.
    pub person: Option<String>,
}

/// Assigns the order (`me` is the caller's token name) or clears it.
pub async fn assign_to(
    state: &AppState,
    auth: &Auth,
    id: OrderId,
    person: Option<&str>,
) -> ApiResult<Value> {
    let person = match person.map(str::trim).filter(|p| !p.is_empty()) {
        Some("me") => Some(auth.token.label.clone()),
        Some(p) if p.chars().count() > 60 || p.chars().any(char::is_control) => {
            return Err(ApiError::InvalidField {
                field: "person".into(),
                reason: "a name of at most 60 characters".into(),
            });
        }
        other => other.map(str::to_string),
    };
    let actor = auth.actor().to_db();
    crate::store::assignments::assign(
        &state.db,
        auth.shop.id,
        id,
        person.as_deref(),
        &actor,
        crate::clock::now(),
    )
    .await
    .map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("order"),
        e => e.into(),
    })?;
    detail_json(state, auth, id).await
}

/// `POST /api/v1/orders/{id}/assign`.
pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(body): Json<AssignBody>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        assign_to(&state, &auth, OrderId(id), body.person.as_deref()).await?,
    ))
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
