//! Printable bill and shipping note, one order or a batch (HTML to print
//! from the browser).

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::templates::render;
use crate::app::AppState;
use crate::domain::{Money, Order, OrderId};
use crate::store::listing;
use crate::store::{StoreError, customers, orders};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value, json};

pub const MAX_BATCH: usize = 200;

async fn order_context(state: &AppState, auth: &Auth, id: OrderId) -> ApiResult<Value> {
    let o: Order = orders::load(&state.db, auth.shop.id, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("order"),
            other => other.into(),
        })?;
    let meta = listing::order_meta(&state.db, auth.shop.id, id).await?;
    let customer = customers::get(&state.db, auth.shop.id, o.customer_id).await?;
    let loc = super::lang::of(auth);
    let m = |minor: i64| {
        Money::new(minor, o.currency).display_as(loc, auth.shop.settings.currency_display)
    };
    let t = o.totals();
    let cal = auth.shop.settings.calendar().in_language(loc);
    let shipping_label = {
        use crate::domain::shop::ShippingRule;
        let province = o
            .address
            .as_ref()
            .map(|a| a.province.as_str())
            .unwrap_or("");
        match auth
            .shop
            .settings
            .shipping_rule(t.subtotal.minor, province, t.shipping_fee.minor)
        {
            ShippingRule::FreeFrom(from) => format!("Shipping (free from {})", m(from)),
            ShippingRule::Province(place) => format!("Shipping to {place}"),
            ShippingRule::Flat => "Shipping".to_string(),
        }
    };
    // What is still owed, as a QR the customer scans from the paper bill.
    let qr = if t.remaining.minor > 0
        && o.payment != crate::domain::PaymentStatus::CodPending
        && crate::domain::lifecycle::holds_stock(o.fulfilment)
    {
        crate::app::slips::payment_qr_image_url(state, &auth.shop, &o)
            .await
            .ok()
            .map(|url| {
                url.strip_prefix(state.config.public_url.as_str())
                    .map(str::to_string)
                    .unwrap_or(url)
            })
    } else {
        None
    };
    Ok(json!({
        "qr": qr,
        "code": o.code.as_str(),
        "date": cal.date_time(meta.created_at),
        "customer": customer.display_name,
        "address": o.address.as_ref().map(|a| a.one_line()),
        "address_name": o.address.as_ref().map(|a| a.full_name.clone()),
        "address_phone": o.address.as_ref().map(|a| a.phone.as_str().to_string()),
        "lines": o.lines.iter().map(|l| json!({
            "name": l.name, "variant": l.variant_name, "qty": l.qty, "status": line_words(l.status),
            "price": m(l.unit_price), "amount": m(l.unit_price.saturating_mul(l.qty)),
        })).collect::<Vec<_>>(),
        "fees": o.fees.iter().map(|f| json!({"label": f.label, "amount": m(f.amount)}))
            .chain(o.services.iter().filter(|s| s.owed() > 0).map(|s| json!({"label": s.name, "amount": m(s.owed())})))
            .collect::<Vec<_>>(),
        "subtotal": m(t.subtotal.minor),
        "shipping_fee": m(t.shipping_fee.minor),
        "shipping_label": shipping_label,
        "has_discount": t.discount.minor != 0,
        "discount": m(t.discount.minor),
        "total": m(t.total.minor),
        "paid": m(t.paid.minor),
        "remaining": m(t.remaining.minor),
        "collect": o.payment == crate::domain::PaymentStatus::CodPending && t.remaining.minor > 0,
        "payment": o.payment.as_str(),
        "method": o.method.map(|x| x.as_str()),
        "fulfilment": o.fulfilment.as_str(),
        "carrier": o.carrier,
        "tracking": o.tracking,
    }))
}

/// A line that is not simply on the bill, in words (`None` when it is).
fn line_words(s: crate::domain::order::LineStatus) -> Option<&'static str> {
    use crate::domain::order::LineStatus;
    match s {
        LineStatus::Active => None,
        LineStatus::AwaitingCustomer => Some("Waiting for the customer's answer"),
        LineStatus::Refused => Some("Refused by the customer"),
    }
}

pub async fn render_batch(
    state: &AppState,
    auth: &Auth,
    template: &str,
    ids: &[OrderId],
) -> ApiResult<Response> {
    let mut orders = Vec::with_capacity(ids.len());
    for id in ids {
        orders.push(order_context(state, auth, *id).await?);
    }
    let html = render(
        template,
        context! {
            shop => auth.shop.name.clone(), lang => super::lang::of(auth), orders => orders,
            shop_address => auth.shop.settings.shop_address.clone(),
        },
    )?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// `GET /api/v1/orders/{id}/bill`.
pub async fn bill(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    render_batch(&state, &auth, "bill.html", &[OrderId(id)]).await
}

/// `GET /api/v1/orders/{id}/shipping-note`.
pub async fn shipping_note(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    render_batch(&state, &auth, "shipping_note.html", &[OrderId(id)]).await
}

#[derive(Debug, Deserialize)]
pub struct BatchQuery {
    /// Comma-separated order ids.
    pub ids: String,
}

pub fn parse_ids(s: &str) -> ApiResult<Vec<OrderId>> {
    let ids: Vec<OrderId> = s
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<i64>()
                .map(OrderId)
                .map_err(|_| ApiError::BadRequest(format!("not an order id: {x:?}")))
        })
        .collect::<ApiResult<_>>()?;
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(ApiError::BadRequest(format!(
            "give 1 to {MAX_BATCH} order ids as ids=1,2,3"
        )));
    }
    Ok(ids)
}

/// `GET /api/v1/print/bills?ids=1,2,3`.
pub async fn bills(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<BatchQuery>,
) -> ApiResult<Response> {
    render_batch(&state, &auth, "bill.html", &parse_ids(&q.ids)?).await
}

/// `GET /api/v1/print/shipping-notes?ids=1,2,3`.
pub async fn shipping_notes(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<BatchQuery>,
) -> ApiResult<Response> {
    render_batch(&state, &auth, "shipping_note.html", &parse_ids(&q.ids)?).await
}

/// Streams a payment's slip or thumbnail after the shop check.
pub async fn slip_file(
    state: &AppState,
    auth: &Auth,
    payment: i64,
    kind: crate::slips::media::MediaKind,
) -> ApiResult<Response> {
    let p = crate::store::payments::get(&state.db, auth.shop.id, payment)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("payment"),
            o => o.into(),
        })?;
    let sha = match kind {
        crate::slips::media::MediaKind::Original => p.original_media,
        crate::slips::media::MediaKind::Thumbnail => p.thumbnail_media,
    }
    .ok_or_else(|| ApiError::not_found("slip"))?;
    picture_file(state, &sha, kind, &format!("slip-{payment}")).await
}

/// Streams a stored picture (a slip, a claim photo) the caller has checked
/// belongs to the shop, named `stem` when saved.
pub async fn picture_file(
    state: &AppState,
    sha: &str,
    kind: crate::slips::media::MediaKind,
    stem: &str,
) -> ApiResult<Response> {
    let file = crate::slips::media::open(&state.config, sha, kind)
        .ok_or_else(|| ApiError::not_found("picture file"))?;
    let bytes = tokio::fs::read(&file.path)
        .await
        .map_err(|_| ApiError::not_found("picture file"))?;
    // Shown as a picture, never run as a page: a file that is not one of
    // the image kinds is a download, and nothing in it may load or run.
    let disposition = match file.content_type {
        "image/jpeg" => format!("inline; filename=\"{stem}.jpg\""),
        "image/png" => format!("inline; filename=\"{stem}.png\""),
        "image/webp" => format!("inline; filename=\"{stem}.webp\""),
        _ => format!("attachment; filename=\"{stem}.bin\""),
    };
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.to_string()),
            (header::CACHE_CONTROL, "private, max-age=3600".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /api/v1/payments/{id}/slip`.
pub async fn slip(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    slip_file(&state, &auth, id, crate::slips::media::MediaKind::Original).await
}

/// `GET /api/v1/payments/{id}/thumbnail`.
pub async fn thumbnail(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    slip_file(&state, &auth, id, crate::slips::media::MediaKind::Thumbnail).await
}
