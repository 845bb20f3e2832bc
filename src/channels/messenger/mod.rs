//! Facebook Messenger (and the Instagram variant of its webhook).

pub mod parse;
pub mod profile;
pub mod render;
pub mod send;
pub mod signature;
pub mod webhook;

use crate::server::AppState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/webhooks/messenger",
        get(webhook::handshake).post(webhook::receive),
    )
}
