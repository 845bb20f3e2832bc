//! The books over the API: the reconciliation report for a period (JSON,
//! or CSV with `format=csv`) and the CSV exports of orders, payments and
//! balances, streamed a page at a time.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use crate::app::AppState;
use crate::app::books::{self, Export, ExportKind};
use crate::domain::books::{Period, report_csv};
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    /// `YYYY-MM-DD`, the shop's days; default: 30 days up to `to`.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive; default: today.
    pub to: Option<String>,
    /// `json` (default) or `csv`, for the report.
    pub format: Option<String>,
}

pub fn period(auth: &Auth, q: &PeriodQuery) -> ApiResult<Period> {
    Period::parse(
        &auth.shop.settings.calendar(),
        q.from.as_deref(),
        q.to.as_deref(),
        crate::clock::now(),
    )
    .map_err(|e| ApiError::BadRequest(e.to_string()))
}

pub fn csv_response(file_name: &str, body: Body) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /api/v1/reports/reconciliation?from&to&format`.
pub async fn reconciliation(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Response> {
    let p = period(&auth, &q)?;
    let report = books::report(&state.db, &auth.shop, &p).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(json!({
            "report": report,
            "balances": report.balances(),
        }))
        .into_response()),
        Some("csv") => Ok(csv_response(
            &format!("chatbill-reconciliation-{}-{}.csv", p.first_day, p.last_day),
            Body::from(report_csv(&report)),
        )),
        Some(other) => Err(ApiError::BadRequest(format!(
            "format: {other:?} is not json or csv"
        ))),
    }
}

/// The export as a streamed body: each page is read when the client is
/// ready for it.
pub fn stream(state: AppState, export: Export) -> Response {
    let name = export.file_name();
    let pages = futures_util::stream::unfold(Some(export), move |export| {
        let db = state.db.clone();
        async move {
            let mut export = export?;
            match export.next(&db).await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(export))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "export failed part way");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        }
    });
    csv_response(&name, Body::from_stream(pages))
}

/// `GET /api/v1/exports/{orders|payments|balances}.csv?from&to`.
pub async fn export(
    state: AppState,
    auth: Auth,
    kind: ExportKind,
    q: PeriodQuery,
) -> ApiResult<Response> {
    let p = period(&auth, &q)?;
    Ok(stream(state, Export::new(kind, auth.shop, p)))
}
