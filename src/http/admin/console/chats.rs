//! The console's chats: read, reply, pause or resume the bot.

use super::{Console, Flash, back_to, can, page, page_error, refused, unread_total};
use crate::app::AppState;
use crate::app::customers::{RenameError, rename};
use crate::domain::CustomerId;
use crate::domain::NameSource;
use crate::domain::access::Permission;
use crate::http::admin::auth::Auth;
use crate::http::admin::error::ApiError;
use crate::store::{StoreError, customers, seller_inbox};
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use minijinja::context;
use serde_json::{Value, json};
use std::collections::HashMap;

pub(super) async fn chats_page(State(state): State<AppState>, Console(auth): Console) -> Response {
    match seller_inbox::list(&state.db, auth.shop.id, false, 100).await {
        Ok(list) => {
            let unread = super::badges(&state, &auth, list.iter().map(|c| c.unread).sum()).await;
            page(
                &auth,
                "admin/chat.html",
                context! { shop => auth.shop.name.clone(), unread => unread, conversations => list, can => can(&auth) },
            )
        }
        Err(e) => page_error(e.into()),
    }
}

pub(super) async fn chat_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(customer): Path<i64>,
    Query(f): Query<Flash>,
) -> Response {
    let c = CustomerId(customer);
    // A customer who never chatted (made by the shop) still has a page.
    let conv = match seller_inbox::get(&state.db, auth.shop.id, c).await {
        Ok(conv) => json!(conv),
        Err(StoreError::NotFound) => match customers::get(&state.db, auth.shop.id, c).await {
            Ok(p) => {
                json!({"customer_id": c.get(), "channel": p.channel, "bot_paused": false, "no_chat": true})
            }
            Err(StoreError::NotFound) => return page_error(ApiError::not_found("customer")),
            Err(e) => return page_error(e.into()),
        },
        Err(e) => return page_error(e.into()),
    };
    let cal = super::calendar(&auth);
    let messages: Vec<Value> = match seller_inbox::messages(&state.db, auth.shop.id, c, 200).await {
        Ok(ms) => ms
            .iter()
            .map(|m| json!({"direction": m.direction, "author": m.author, "body": m.body, "at": cal.date_time(m.created_at), "attachment_url": m.attachment_url}))
            .collect(),
        Err(e) => return page_error(e.into()),
    };
    let mut messages = messages;
    with_pictures(&state, &auth, &mut messages).await;
    let _ = seller_inbox::mark_read(&state.db, auth.shop.id, c, crate::clock::now()).await;
    let unread = unread_total(&state, &auth).await;
    let person = match customers::get(&state.db, auth.shop.id, c).await {
        Ok(p) => json!({
            "name": p.display_name,
            "picture": p.picture_url,
            "from": name_from(&p.name_source),
        }),
        Err(e) => return page_error(e.into()),
    };
    let profile = match super::customer::profile(&state, &auth, c).await {
        Ok(p) => p,
        Err(e) => return page_error(e.into()),
    };
    page(
        &auth,
        "admin/chat.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, conv => conv, messages => messages,
            customer => profile,
            idem => crate::clock::hex(&crate::clock::random_bytes::<8>()),
            error => f.error, notice => f.notice, can => can(&auth), person => person,
        },
    )
}

/// Each message with a picture gets the console's link to the copy chatbill
/// kept (a slip or a claim photo), so it still shows after the chat app's
/// link expired; one it did not keep is said in words, never "[image]".
pub(super) async fn with_pictures(
    state: &AppState,
    auth: &crate::http::admin::auth::Auth,
    messages: &mut [Value],
) {
    let urls: Vec<String> = messages
        .iter()
        .filter_map(|m| m["attachment_url"].as_str().map(str::to_string))
        .collect();
    let kept = seller_inbox::kept_pictures(&state.db, auth.shop.id, &urls)
        .await
        .unwrap_or_default();
    for m in messages.iter_mut() {
        let Some(url) = m["attachment_url"].as_str().map(str::to_string) else {
            continue;
        };
        match kept.iter().find(|(u, _)| *u == url) {
            Some((_, path)) => m["picture"] = json!(path),
            None => m["picture_missing"] = json!(true),
        }
        if m["body"].as_str().is_some_and(|b| b.starts_with("[image]")) {
            m["body"] = json!("");
        }
    }
}

/// Where a customer's name came from, as the seller would say it.
fn name_from(source: &str) -> &'static str {
    match NameSource::parse(source) {
        NameSource::Seller => "typed by your shop",
        NameSource::Messenger => "from their Messenger profile",
        NameSource::Address => "from their first delivery address",
        NameSource::None => {
            "no name yet: Messenger did not give one and they have not given an address"
        }
    }
}

/// `POST /admin/chats/{customer}/name`: the seller names the customer.
pub(super) async fn chat_rename(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(customer): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = format!("/admin/chats/{customer}");
    if let Some(r) = refused(&auth, Permission::ChatWithCustomers, &back) {
        return r;
    }
    let raw = form.get("name").map(String::as_str).unwrap_or("");
    match rename(
        &state.db,
        auth.shop.id,
        CustomerId(customer),
        raw,
        crate::clock::now(),
    )
    .await
    {
        Ok(name) => back_to(
            &back,
            "notice",
            &format!("Saved: this customer is now {name}"),
        ),
        Err(RenameError::Invalid(e)) => {
            back_to(&back, "error", &format!("The name was not saved: {e}"))
        }
        Err(RenameError::NotFound) => {
            back_to(&back, "error", "There is no such customer in this shop")
        }
        Err(RenameError::Store(e)) => back_to(&back, "error", &ApiError::from(e).message()),
    }
}

pub(super) async fn chat_reply(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(customer): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/admin/") && !b.contains("//"))
        .cloned()
        .unwrap_or_else(|| format!("/admin/chats/{customer}"));
    if let Some(r) = refused(&auth, Permission::ChatWithCustomers, &back) {
        return r;
    }
    let text = form.get("text").map(|t| t.trim()).unwrap_or("");
    if text.is_empty() || text.chars().count() > 2000 {
        return back_to(&back, "error", "A message is 1 to 2000 characters");
    }
    let key = form.get("idem").map(|k| format!("console:{k}"));
    match seller_inbox::reply(
        &state.db,
        auth.shop.id,
        CustomerId(customer),
        text,
        key.as_deref(),
        crate::clock::now(),
    )
    .await
    {
        Ok(_) => back_to(&back, "notice", "Sent"),
        Err(StoreError::Conflict(_)) => back_to(&back, "notice", "Sent"),
        Err(e) => back_to(&back, "error", &ApiError::from(e).message()),
    }
}

pub(super) async fn set_paused(
    state: &AppState,
    auth: &Auth,
    customer: i64,
    paused: bool,
) -> Response {
    let back = format!("/admin/chats/{customer}");
    if let Some(r) = refused(auth, Permission::ChatWithCustomers, &back) {
        return r;
    }
    match seller_inbox::set_bot_paused(
        &state.db,
        auth.shop.id,
        CustomerId(customer),
        paused,
        crate::clock::now(),
    )
    .await
    {
        Ok(()) => back_to(
            &back,
            "notice",
            if paused { "Bot paused" } else { "Bot resumed" },
        ),
        Err(e) => back_to(&back, "error", &ApiError::from(e).message()),
    }
}

pub(super) async fn chat_pause(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(c): Path<i64>,
) -> Response {
    set_paused(&state, &auth, c, true).await
}

pub(super) async fn chat_resume(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(c): Path<i64>,
) -> Response {
    set_paused(&state, &auth, c, false).await
}
