//! Facebook Messenger (and the Instagram variant of its webhook).

pub mod parse;
pub mod signature;

use crate::server::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
