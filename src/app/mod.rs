//! The application: the only code that opens write transactions. Each
//! function turns one request, customer event or timer into one
//! transaction over the store, with the decisions taken by the pure
//! `domain` and `engine`. Edges (http, channels, cli) and workers call in;
//! nothing here knows HTTP.

pub mod books;
pub mod channels;
pub mod chat_streams;
pub mod claims;
pub mod conversation;
pub mod customers;
pub mod demo;
pub mod holds;
pub mod intake;
pub mod orders;
pub mod outbound;
pub mod payments;
pub mod pictures;
pub mod remittances;
pub mod settings;
pub mod shop_orders;
pub mod shop_views;
pub mod slips;
pub mod undelivered;
pub mod uploads;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Db;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// Everything a handler or worker needs; one pointer, cheap to clone per
/// request (fields are reached through `Deref`).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

pub struct AppInner {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub http: reqwest::Client,
    /// Flips to `true` when the process is asked to stop.
    pub stopping: watch::Receiver<bool>,
    /// Names this process in leases.
    pub instance_id: String,
    pub texts: Arc<crate::engine::Texts>,
    pub intake: intake::Intake,
    pub accounts: Arc<shop_views::Accounts>,
    pub shop_views: shop_views::ShopViews,
    pub inbox_wake: Arc<Notify>,
    pub outbox_wake: Arc<Notify>,
    /// The web chat's open event streams here, woken per customer.
    pub chat_streams: Arc<chat_streams::ChatStreams>,
    pub slips_wake: Arc<Notify>,
    /// Worker passes running now in this process (a drain waits for them).
    pub passes_running: std::sync::atomic::AtomicUsize,
}
