//! Payment slips and payment QR codes: safe download, bounded decoding,
//! pre-checks (duplicates, the bank's verification QR) and QR bills.
//!
//! - [`fetch`]: the download policy (allow-list, SSRF checks, caps).
//! - [`analyze`]: sniff, decode under limits, orientation, hashes, QR scan.
//! - [`slip_qr`] / [`emvco`]: the Thai slip verification QR and the TLV/CRC
//!   grammar; [`payment_qr`]: PromptPay / VietQR payloads and PNGs.
//! - [`media`]: originals and thumbnails on disk (seller only), public QR PNGs.
//! - the worker claims `fetching` payments and records the outcome with the
//!   order change in one transaction.

pub mod analyze;
pub mod emvco;
pub mod fetch;
pub mod media;
pub mod payment_qr;
pub mod slip_qr;
mod worker;

pub use analyze::Problem;
pub use worker::{Outcome, finish_in_tx};

use crate::domain::{CustomerId, Order, OrderId, ShopId, Timestamp};
use crate::server::AppState;
use crate::store::orders::ApplyError;
use crate::store::shops::Shop;
use crate::store::{self, StoreError};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::LazyLock;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum SlipError {
    /// The picture could not be used. The payment row `payment_id` records
    /// it as failed and the customer's message is queued.
    #[error("payment {payment_id}: {problem}")]
    Image { payment_id: i64, problem: Problem },
    #[error("order not found")]
    OrderNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("order: {0}")]
    Apply(#[from] ApplyError),
    #[error("media store: {0}")]
    Media(#[from] std::io::Error),
    #[error(transparent)]
    PaymentQr(#[from] payment_qr::PaymentQrError),
    #[error("analysis task failed: {0}")]
    Task(String),
}

static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Nudges the slip worker (e.g. after the inbox queued a slip).
pub fn wake() {
    WAKE.notify_one();
}

/// One analysis at a time per process: memory stays bounded by one image.
static ANALYSIS: Semaphore = Semaphore::const_new(1);

/// Runs [`analyze::analyze`] on a blocking thread, one at a time.
pub async fn analyze_bounded(
    bytes: std::sync::Arc<Vec<u8>>,
    limits: analyze::Limits,
) -> Result<Result<analyze::Analysis, Problem>, SlipError> {
    let _permit = ANALYSIS
        .acquire()
        .await
        .map_err(|e| SlipError::Task(e.to_string()))?;
    tokio::task::spawn_blocking(move || analyze::analyze(&bytes, &limits))
        .await
        .map_err(|e| SlipError::Task(e.to_string()))
}

/// Records a slip to download for `order` (called by the inbox worker in its
/// transaction); the slip worker picks it up. Returns the payment id.
pub async fn enqueue_from_url(
    tx: &mut store::Tx,
    shop: ShopId,
    order: OrderId,
    customer: CustomerId,
    url: &str,
    now: Timestamp,
) -> store::Result<i64> {
    store::payments::insert_fetching(tx, shop, order, customer, Some(url), now).await
}

/// A web-chat upload: the same checks and analysis as a download, then the
/// same outcome as the worker. A picture that cannot be used still leaves a
/// `failed` payment and the customer's message, and returns
/// [`SlipError::Image`].
pub async fn accept_upload(
    state: &AppState,
    shop: ShopId,
    order: OrderId,
    customer: CustomerId,
    bytes: Vec<u8>,
    now: Timestamp,
) -> Result<i64, SlipError> {
    let shop = store::shops::get(&state.db, shop).await?;
    let limits = analyze::Limits::default();
    let bytes = std::sync::Arc::new(bytes);
    let outcome = if bytes.len() > limits.max_bytes {
        Err(Problem::TooLarge)
    } else {
        analyze_bounded(bytes.clone(), limits).await?
    };
    let outcome = worker::store_media(state, &bytes, outcome).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut tx = state.db.begin().await?;
        let id =
            match store::payments::insert_fetching(&mut tx, shop.id, order, customer, None, now)
                .await
            {
                Err(StoreError::NotFound) => return Err(SlipError::OrderNotFound),
                other => other?,
            };
        match finish_in_tx(&mut tx, &state.db, &shop, id, order, &outcome, now).await {
            Ok(()) => {
                tx.commit().await.map_err(StoreError::from)?;
                return match &outcome {
                    Outcome::Bad(problem) => Err(SlipError::Image {
                        payment_id: id,
                        problem: *problem,
                    }),
                    Outcome::Good { .. } => Ok(id),
                };
            }
            Err(e) if attempt < 5 && worker::retryable(&e) => {
                drop(tx);
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes (once) the payment QR PNG for what `order` still owes and returns
/// its public URL, `{public_url}/media/qr/{name}.png`, where `name` is an
/// HMAC of shop, order and payload under the secret key: unguessable, and
/// stable for the same bill.
pub async fn payment_qr_image_url(
    state: &AppState,
    shop: &Shop,
    order: &Order,
) -> Result<String, SlipError> {
    use hmac::{Hmac, Mac};
    let qr = shop
        .settings
        .payment_qr
        .as_ref()
        .ok_or(payment_qr::PaymentQrError::NotConfigured)?;
    let totals = order.totals();
    let amount = if totals.remaining.minor > 0 {
        totals.remaining
    } else {
        totals.total
    };
    let payload = payment_qr::payload_with_memo(qr, amount, Some(order.code.as_str()))?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(state.config.secret_key.as_bytes())
        .map_err(|e| SlipError::Task(e.to_string()))?;
    mac.update(
        format!(
            "payment-qr\0{}\0{}\0{}",
            shop.id.get(),
            order.id.get(),
            payload
        )
        .as_bytes(),
    );
    let name = crate::clock::hex(&mac.finalize().into_bytes()[..16]);
    let path = media::public_qr_path(&state.config.media_dir, &name)
        .ok_or_else(|| SlipError::Task("bad QR name".into()))?;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        let png = payment_qr::render_png(&payload)?;
        media::write_once(&path, &png).await?;
    }
    Ok(format!("{}/media/qr/{name}.png", state.config.public_url))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/media/qr/{file}", get(serve_qr))
}

async fn serve_qr(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found").into_response();
    let Some(name) = file.strip_suffix(".png") else {
        return not_found();
    };
    let Some(path) = media::public_qr_path(&state.config.media_dir, name) else {
        return not_found();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => not_found(),
    }
}

pub fn spawn_workers(state: &AppState) -> Vec<JoinHandle<()>> {
    vec![tokio::spawn(worker::run(state.clone()))]
}
