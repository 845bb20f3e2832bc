//! The seller side: admin JSON API under `/api/v1` and the web console at `/admin`.

use crate::server::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
