//! Claims over the API: the list with counts per status, one claim with
//! its photos and history, and the seller's moves (start, resolve).

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::claims::{self as app, ClaimActError};
use crate::domain::access::Permission;
use crate::domain::claim::{ClaimOutcome, ClaimStatus, ClaimStep, status_words};
use crate::domain::{OrderId, ShopId};
use crate::store::StoreError;
use crate::store::claims::{self, Claim};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{Value, json};

impl From<ClaimActError> for ApiError {
    fn from(e: ClaimActError) -> Self {
        match e {
            ClaimActError::NotFound => ApiError::not_found("claim"),
            ClaimActError::Refused(crate::domain::claim::ClaimError::BadInput(m)) => {
                match m.split_once(": ") {
                    Some((field, reason)) => ApiError::InvalidField {
                        field: field.to_string(),
                        reason: reason.to_string(),
                    },
                    None => ApiError::Unprocessable(m),
                }
            }
            ClaimActError::Refused(e) => ApiError::conflict(e.to_string()),
            ClaimActError::Order(e) => e.into(),
            ClaimActError::Store(e) => e.into(),
        }
    }
}

/// A reason as a seller reads it.
pub fn reason_words(r: crate::domain::claim::ClaimReason) -> &'static str {
    use crate::domain::claim::ClaimReason::*;
    match r {
        Damaged => "Damaged",
        MissingItem => "Missing item",
        WrongItem => "Wrong item",
        Late => "Late",
        Other => "Something else",
    }
}

pub fn outcome_words(o: ClaimOutcome) -> &'static str {
    match o {
        ClaimOutcome::Refund => "Refunded to the shop balance",
        ClaimOutcome::Reship => "Sent again",
        ClaimOutcome::Rejected => "Rejected",
    }
}

pub fn view(c: &Claim) -> Value {
    json!({
        "id": c.id,
        "order": {"id": c.order_id, "code": c.order_code},
        "customer": {"id": c.customer_id, "name": c.customer_name},
        "reason": c.reason,
        "reason_words": reason_words(c.reason),
        "text": c.body,
        "status": c.status,
        "status_words": status_words(c.status),
        "outcome": c.outcome,
        "outcome_words": c.outcome.map(outcome_words),
        "note": c.outcome_note,
        "refund_amount": c.refund_amount,
        "photos": c.photos,
        "created_at": c.created_at.millis(),
        "updated_at": c.updated_at.millis(),
    })
}

/// One claim with its photos (links to the stored pictures) and history.
pub async fn detail_json(state: &AppState, shop: ShopId, id: i64) -> ApiResult<Value> {
    let page = app::page(&state.db, shop, id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("claim"),
        e => e.into(),
    })?;
    let photos: Vec<Value> = page
        .photos
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "status": p.status,
                "problem": p.problem,
                "url": p.sha256.as_ref().map(|_| format!("/api/v1/claims/{id}/photos/{}", p.id)),
                "thumbnail_url": p.sha256.as_ref().map(|_| format!("/api/v1/claims/{id}/photos/{}?thumbnail=true", p.id)),
            })
        })
        .collect();
    let mut v = view(&page.claim);
    v["photo_list"] = json!(photos);
    v["history"] = json!(page.history);
    Ok(v)
}

/// A shop's claims about one order, for the order's page.
pub async fn for_order(state: &AppState, shop: ShopId, order: OrderId) -> ApiResult<Vec<Value>> {
    Ok(claims::for_order(&state.db, shop, order)
        .await?
        .iter()
        .map(view)
        .collect())
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

pub fn parse_status(raw: Option<&str>) -> ApiResult<Option<ClaimStatus>> {
    match raw.filter(|s| !s.is_empty() && *s != "all") {
        None => Ok(None),
        Some(s) => ClaimStatus::parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::InvalidField {
                field: "status".into(),
                reason: "one of open, in_progress, resolved, all".into(),
            }),
    }
}

/// `GET /api/v1/claims`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let status = parse_status(q.status.as_deref())?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidField {
            field: "limit".into(),
            reason: "between 1 and 200".into(),
        });
    }
    let found = claims::list(&state.db, auth.shop.id, status, q.before, limit).await?;
    let counts: serde_json::Map<String, Value> = claims::counts(&state.db, auth.shop.id)
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    let next = (found.len() as i64 == limit).then(|| found.last().map(|c| c.id));
    Ok(Json(json!({
        "counts": counts,
        "claims": found.iter().map(view).collect::<Vec<_>>(),
        "next_before": next.flatten(),
    })))
}

/// `GET /api/v1/claims/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(detail_json(&state, auth.shop.id, id).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    pub outcome: String,
    pub amount: Option<i64>,
    pub note: Option<String>,
}

impl ResolveBody {
    pub fn step(&self) -> ApiResult<ClaimStep> {
        let outcome = ClaimOutcome::parse(&self.outcome).ok_or_else(|| ApiError::InvalidField {
            field: "outcome".into(),
            reason: "one of refund, reship, rejected".into(),
        })?;
        Ok(ClaimStep::Resolve {
            outcome,
            amount: self.amount,
            note: self.note.clone(),
        })
    }
}

/// Takes a step for the seller: a refund also needs the permission that
/// gives paid money back.
pub async fn take(state: &AppState, auth: &Auth, id: i64, step: &ClaimStep) -> ApiResult<Value> {
    if matches!(
        step,
        ClaimStep::Resolve {
            outcome: ClaimOutcome::Refund,
            ..
        }
    ) {
        auth.require(Permission::CancelWithRefund)?;
    }
    let now = crate::clock::now();
    app::act(&state.db, &auth.shop, id, step, &auth.actor(), now).await?;
    state.outbox_wake.notify_one();
    detail_json(state, auth.shop.id, id).await
}

/// `POST /api/v1/claims/{id}/start`.
pub async fn start(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(take(&state, &auth, id, &ClaimStep::Start).await?))
}

/// `POST /api/v1/claims/{id}/resolve`.
pub async fn resolve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(body): Json<ResolveBody>,
) -> ApiResult<Json<Value>> {
    let step = body.step()?;
    Ok(Json(take(&state, &auth, id, &step).await?))
}

#[derive(serde::Deserialize)]
pub struct PhotoQuery {
    #[serde(default)]
    thumbnail: bool,
}

/// `GET /api/v1/claims/{id}/photos/{photo}`: the stored picture, after
/// checking the claim is the shop's.
pub async fn photo(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, photo)): Path<(i64, i64)>,
    Query(q): Query<PhotoQuery>,
) -> ApiResult<Response> {
    photo_file(&state, &auth, id, photo, q.thumbnail).await
}

pub async fn photo_file(
    state: &AppState,
    auth: &Auth,
    id: i64,
    photo: i64,
    thumbnail: bool,
) -> ApiResult<Response> {
    claims::get(&state.db, auth.shop.id, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("claim"),
            e => e.into(),
        })?;
    let sha = claims::photos(&state.db, id)
        .await?
        .into_iter()
        .find(|p| p.id == photo)
        .and_then(|p| p.sha256)
        .ok_or_else(|| ApiError::not_found("photo"))?;
    let kind = if thumbnail {
        crate::slips::media::MediaKind::Thumbnail
    } else {
        crate::slips::media::MediaKind::Original
    };
    super::printing::picture_file(state, &sha, kind, &format!("claim-{id}-{photo}")).await
}
