//! The console's Facebook Page card (on the settings page): bind or
//! replace the token, unbind, set the Page's menu. The answers come back
//! as a message on the settings page.

use super::{Console, back_to, page_error};
use crate::app::AppState;
use crate::app::channels::{self, ChannelError};
use crate::domain::access::Permission;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use std::collections::HashMap;

const BACK: &str = "/admin/settings";

fn answer(r: Result<String, ChannelError>) -> Response {
    match r {
        Ok(notice) => back_to(BACK, "notice", &notice),
        Err(ChannelError::Store(e)) => page_error(e.into()),
        Err(e) => back_to(BACK, "error", &e.to_string()),
    }
}

pub(super) async fn bind(
    State(state): State<AppState>,
    Console(auth): Console,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.require(Permission::ChangeSettings) {
        return page_error(e);
    }
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let now = crate::clock::now();
    let r = channels::bind_messenger(
        &state,
        &auth.shop,
        field("page_id"),
        field("access_token"),
        now,
    )
    .await;
    answer(r.map(|p| {
        let instagram = match (&p.instagram, &p.instagram_note) {
            (Some(ig), _) => format!(
                " Its Instagram account @{} is bound with it: Instagram messages are answered too.",
                ig.username
            ),
            (None, Some(note)) => format!(" Instagram: {note}."),
            (None, None) => String::new(),
        };
        format!(
            "Token checked with Meta: the Page “{}” ({}) is bound.{instagram} Next: set its menu.",
            p.name, p.id
        )
    }))
}

pub(super) async fn unbind(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(page): Path<String>,
) -> Response {
    if let Err(e) = auth.require(Permission::ChangeSettings) {
        return page_error(e);
    }
    let r = channels::unbind_messenger(&state, &auth.shop, &page).await;
    answer(r.map(|_| format!("The Page {page} is unbound: the shop no longer answers there.")))
}

pub(super) async fn setup(
    State(state): State<AppState>,
    Console(auth): Console,
    Path(page): Path<String>,
) -> Response {
    if let Err(e) = auth.require(Permission::ChangeSettings) {
        return page_error(e);
    }
    let r = channels::messenger_setup(&state, &auth.shop, &page).await;
    answer(r.map(|_| {
        format!("The Page {page} now has Get Started, the greeting and the menu in English, Thai and Vietnamese.")
    }))
}
