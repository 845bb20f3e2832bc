//! Payment slips and payment QR codes: safe download, bounded decoding,
//! pre-checks (duplicates, the bank's verification QR) and QR bills.

use crate::server::AppState;
use axum::Router;
use tokio::task::JoinHandle;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub fn spawn_workers(_state: &AppState) -> Vec<JoinHandle<()>> {
    Vec::new()
}
