//! The console's list of messages that did not reach the customer (also
//! shown on each order's page), and its three buttons: try again, send as
//! the shop's utility template, mark handled.

use super::{Console, back_to, can, page, page_error, refused, unread_total};
use crate::app::AppState;
use crate::app::undelivered::{self as app, Resolution, UndeliveredError};
use crate::domain::Timestamp;
use crate::domain::access::Permission;
use crate::http::admin::auth::Auth;
use crate::http::admin::undelivered::views;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use minijinja::context;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The API's view with the words the console shows: what the message is,
/// why it did not go, and when it was written.
pub(super) fn in_words(auth: &Auth, views: Vec<Value>) -> Vec<Value> {
    let cal = super::calendar(auth);
    views
        .into_iter()
        .map(|mut m| {
            let what = match (m["kind"].as_str(), m["notice"].as_str()) {
                (_, Some(kind)) => format!("Order update: {}", super::settings::notice_label(kind).to_lowercase()),
                (Some("seller"), _) => "Your reply".to_string(),
                _ => "The bot's reply".to_string(),
            };
            let reason = m["reason"].as_str().unwrap_or("").to_string();
            let why = match (m["status"].as_str(), m["can_send_as_template"].as_bool()) {
                (Some("held"), Some(true)) => "Waiting: the customer has not written in the last 24 hours. The shop has an approved utility template for it, so it can go now as that template.".to_string(),
                (Some("held"), _) => format!(
                    "Waiting: the customer has not written in the last 24 hours, so Messenger does not take it now ({reason}). It goes out by itself when they write again{}.",
                    m["notice"].as_str().map(|k| format!("; an approved utility template for “{}” in Settings would let it go now", super::settings::notice_label(k))).unwrap_or_default()
                ),
                _ => format!("Failed: {reason}"),
            };
            m["what"] = json!(what);
            m["why"] = json!(why);
            m["at"] = json!(cal.date_time(Timestamp(m["created_at"].as_i64().unwrap_or(0))));
            m
        })
        .collect()
}

pub(super) async fn undelivered_page(
    State(state): State<AppState>,
    Console(auth): Console,
    axum::extract::Query(f): axum::extract::Query<super::Flash>,
) -> Response {
    let list = match views(&state, &auth, None).await {
        Ok(v) => in_words(&auth, v),
        Err(e) => return page_error(e),
    };
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/undelivered.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, undelivered => list,
            back => "/admin/undelivered", can => can(&auth), error => f.error, notice => f.notice,
        },
    )
}

pub(super) async fn undelivered_resolve(
    State(state): State<AppState>,
    Console(auth): Console,
    Path((id, how)): Path<(i64, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    // Only back to a console page of ours.
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/admin/") && !b.contains("//"))
        .map_or("/admin/undelivered", String::as_str);
    if let Some(r) = refused(&auth, Permission::ChatWithCustomers, back) {
        return r;
    }
    let Some(how) = Resolution::parse(&how) else {
        return page_error(crate::http::admin::error::ApiError::not_found("action"));
    };
    let r = app::resolve(
        &state,
        &auth.shop,
        id,
        how,
        &auth.actor(),
        crate::clock::now(),
    )
    .await;
    match r {
        Ok(()) => back_to(
            back,
            "notice",
            match how {
                Resolution::Retry => "Sending it again",
                Resolution::SendAsTemplate => "Sending it as the utility template",
                Resolution::Handled => "Marked handled: it will not be sent",
            },
        ),
        Err(UndeliveredError::Store(e)) => page_error(e.into()),
        Err(e) => back_to(back, "error", &e.to_string()),
    }
}
