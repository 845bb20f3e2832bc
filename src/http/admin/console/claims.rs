//! The console's Claims: tabs with counts, one claim with its photos and
//! history, and the seller's steps (start handling, resolve). The same
//! rules and permissions as `POST /api/v1/claims/…`.

use super::{Console, back_to, can, money, page, page_error, refused, unread_total};
use crate::app::AppState;
use crate::domain::access::Permission;
use crate::domain::claim::{ClaimOutcome, ClaimStatus, ClaimStep, status_words};
use crate::domain::{Money, Timestamp};
use crate::http::admin::auth::Auth;
use crate::http::admin::claims::{detail_json, outcome_words, parse_status, photo_file, take};
use crate::store::claims;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde_json::{Value, json};
use std::collections::HashMap;

/// A status as the tabs call it.
fn tab_words(s: ClaimStatus) -> &'static str {
    match s {
        ClaimStatus::Open => "To handle",
        ClaimStatus::InProgress => "In progress",
        ClaimStatus::Resolved => "Resolved",
    }
}

/// The API's claim with the console's words and dates.
fn in_words(auth: &Auth, mut c: Value) -> Value {
    let cal = super::calendar(auth);
    let at = |v: &Value| cal.date_time(Timestamp(v.as_i64().unwrap_or(0)));
    c["created"] = json!(at(&c["created_at"]));
    let text = c["text"].as_str().unwrap_or("");
    c["text_short"] = json!(if text.chars().count() > 80 {
        format!("{}…", text.chars().take(79).collect::<String>())
    } else {
        text.to_string()
    });
    if let Some(s) = c["status"].as_str().and_then(ClaimStatus::parse) {
        c["status_label"] = json!(tab_words(s));
    }
    if let Some(a) = c["refund_amount"].as_i64() {
        c["refund_words"] = json!(money(auth, a));
    }
    if let Some(history) = c["history"].as_array_mut() {
        for h in history {
            h["when"] = json!(at(&h["at"]));
            h["to_words"] = json!(
                h["to"]
                    .as_str()
                    .and_then(ClaimStatus::parse)
                    .map(status_words)
            );
            let who = match h["actor"].as_str().unwrap_or("") {
                "customer" => "the customer".to_string(),
                a => a.strip_prefix("seller:").unwrap_or(a).to_string(),
            };
            h["actor"] = json!(who);
        }
    }
    c
}

pub(super) async fn claims_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = match parse_status(q.get("status").map(String::as_str)) {
        Ok(s) => s,
        Err(e) => return page_error(e),
    };
    let shop = auth.shop.id;
    let (found, counts) = match (
        claims::list(&state.db, shop, status, None, 100).await,
        claims::counts(&state.db, shop).await,
    ) {
        (Ok(f), Ok(c)) => (f, c),
        (Err(e), _) | (_, Err(e)) => return page_error(e.into()),
    };
    let tabs: Vec<Value> = counts
        .iter()
        .map(|(s, n)| json!({"status": s.as_str(), "label": tab_words(*s), "count": n}))
        .chain(std::iter::once(json!({"status": "all", "label": "All", "count": counts.iter().map(|c| c.1).sum::<i64>()})))
        .collect();
    let list: Vec<Value> = found
        .iter()
        .map(|c| in_words(&auth, crate::http::admin::claims::view(c)))
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/claims.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, can => can(&auth),
            tabs => tabs, tab => status.map_or("all", ClaimStatus::as_str), claims => list,
            error => q.get("error"), notice => q.get("notice"),
        },
    )
}

pub(super) async fn claim_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let claim = match detail_json(&state, auth.shop.id, id).await {
        Ok(c) => in_words(&auth, c),
        Err(e) => return page_error(e),
    };
    let outcomes: Vec<Value> = ClaimOutcome::ALL
        .iter()
        .map(|o| json!({"value": o.as_str(), "label": outcome_words(*o)}))
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/claim.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, can => can(&auth),
            claim => claim, outcomes => outcomes, currency => auth.shop.currency.code(),
            error => q.get("error"), notice => q.get("notice"),
        },
    )
}

pub(super) async fn claim_photo(
    State(state): State<AppState>,
    Console(auth): Console,
    Path((id, photo)): Path<(i64, i64)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let thumb = q.get("thumbnail").is_some_and(|t| t == "true");
    photo_file(&state, &auth, id, photo, thumb)
        .await
        .unwrap_or_else(|e| e.into_response())
}

pub(super) async fn claim_start(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
) -> Response {
    let back = format!("/admin/claims/{id}");
    if let Some(r) = refused(&auth, Permission::RunFulfilment, &back) {
        return r;
    }
    match take(&state, &auth, id, &ClaimStep::Start).await {
        Ok(_) => back_to(
            &back,
            "notice",
            "Taken up: the customer is told you are looking into it",
        ),
        Err(e) => back_to(&back, "error", &e.message()),
    }
}

pub(super) async fn claim_resolve(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = format!("/admin/claims/{id}");
    if let Some(r) = refused(&auth, Permission::RunFulfilment, &back) {
        return r;
    }
    let field = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let Some(outcome) = field("outcome").and_then(ClaimOutcome::parse) else {
        return back_to(&back, "error", "Choose how the claim ends.");
    };
    let amount = match (outcome, field("amount")) {
        (ClaimOutcome::Refund, Some(text)) => match Money::parse_major(text, auth.shop.currency) {
            Ok(m) => Some(m.minor),
            Err(e) => return back_to(&back, "error", &format!("Amount: {e}")),
        },
        _ => None,
    };
    // Money going back is asked about first.
    if outcome == ClaimOutcome::Refund && field("confirm") != Some("yes") {
        return back_to(
            &back,
            "error",
            "Tick “Yes, give this money back” to refund.",
        );
    }
    let step = ClaimStep::Resolve {
        outcome,
        amount,
        note: field("note").map(str::to_string),
    };
    match take(&state, &auth, id, &step).await {
        Ok(_) => back_to(&back, "notice", "Resolved: the customer is told"),
        Err(e) => back_to(&back, "error", &e.message()),
    }
}
