//! The built-in web chat: a channel that needs no Facebook Page.

use crate::server::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
