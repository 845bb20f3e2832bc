//! Slip decisions: what a downloaded or uploaded picture means for its
//! order (pre-checks, the order's `SubmitSlip`, the customer's notice),
//! and the payment QR a customer is sent.

mod prechecks;

use super::AppState;
use super::orders::{ApplyError, transaction};
use crate::config::ExposeSecret;
use crate::domain::lifecycle::Actor;
use crate::domain::order::{Command, Notice};
use crate::domain::{CustomerId, Order, OrderId, ShopId, Timestamp};
use crate::slips::analyze::{self, Analysis, Problem};
use crate::slips::fetch::{self, FetchError, FetchPolicy};
use crate::slips::{media, payment_qr};
use crate::store::orders;
use crate::store::outbox::{self, OutboundPayload};
use crate::store::payments::{self, SlipRecord};
use crate::store::shops::Shop;
use crate::store::{self, Db, StoreError, Tx};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Semaphore;

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

/// One analysis at a time per process: memory stays bounded by one image.
static ANALYSIS: Semaphore = Semaphore::const_new(1);

/// Runs [`analyze::analyze`] on a blocking thread, one at a time.
pub async fn analyze_bounded(
    bytes: Arc<Vec<u8>>,
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

/// How long a claimed row is left to its worker before another may retry.
pub const LEASE_MS: i64 = 120_000;
/// Claims of one row before giving up with `fetch_failed`.
const MAX_CLAIMS: i64 = 5;
/// Hamming distance (of 64 bits) under which two slips "look alike".
const SIMILAR_DISTANCE: u32 = 6;

/// The analysed picture, its media stored; or why it cannot be used.
#[derive(Debug, Clone)]
pub enum Outcome {
    Good {
        analysis: Box<Analysis>,
        slip_path: String,
        thumb_path: String,
    },
    Bad(Problem),
}

async fn store_media(
    state: &AppState,
    bytes: &[u8],
    analysed: Result<Analysis, Problem>,
) -> Result<Outcome, SlipError> {
    match analysed {
        Err(p) => Ok(Outcome::Bad(p)),
        Ok(a) => {
            let (slip_path, thumb_path) =
                media::store_slip(&state.config, &a.sha256, bytes, &a.thumb_jpeg).await?;
            Ok(Outcome::Good {
                analysis: Box::new(a),
                slip_path,
                thumb_path,
            })
        }
    }
}

/// Records the outcome on payment `payment_id` (status `fetching`) inside
/// the caller's transaction: pre-checks, status, and — for a usable slip —
/// `SubmitSlip` on the order with the customer's notice; for a bad picture,
/// `failed` and a `SlipProblem` notice, the order untouched.
pub async fn finish_in_tx(
    tx: &mut Tx,
    db: &Db,
    shop: &Shop,
    payment_id: i64,
    order_id: OrderId,
    outcome: &Outcome,
    now: Timestamp,
) -> Result<(), ApplyError> {
    let order = orders::load_in(tx, shop.id, order_id).await?;
    let (analysis, slip_path, thumb_path) = match outcome {
        Outcome::Bad(problem) => {
            return record_unusable(tx, shop.id, payment_id, &order, *problem, now).await;
        }
        Outcome::Good {
            analysis,
            slip_path,
            thumb_path,
        } => (analysis, slip_path, thumb_path),
    };
    let duplicates = payments::same_sha256(tx, shop.id, &analysis.sha256, payment_id).await?;
    let reused = match prechecks::slip_ref(analysis) {
        Some((bank, trans_ref)) => {
            payments::holding_slip_ref(tx, shop.id, bank, trans_ref, payment_id).await?
        }
        None => None,
    };
    let mut checks = prechecks::assess(
        analysis,
        shop.currency,
        !duplicates.is_empty(),
        reused.is_some(),
    );
    let similar = similar_images(tx, db, shop.id, payment_id, &analysis.phash).await?;
    if !submit_slip(tx, shop, &order, payment_id, checks.customer_warned, now).await? {
        checks.order_not_awaiting_payment();
    }
    let report = checks.report(analysis, &duplicates, reused.as_ref(), similar);
    payments::record_slip(
        tx,
        shop.id,
        payment_id,
        &SlipRecord {
            status: if checks.suspicious {
                "flagged"
            } else {
                "pending"
            },
            sha256: &analysis.sha256,
            slip_path,
            thumb_path,
            slip_bank: checks.holds.map(|h| h.0),
            slip_ref: checks.holds.map(|h| h.1),
            phash: &analysis.phash,
            prechecks: &report,
        },
    )
    .await?;
    Ok(())
}

/// A picture that cannot be used: the payment fails and the customer hears
/// why; the order is untouched.
async fn record_unusable(
    tx: &mut Tx,
    shop: ShopId,
    payment_id: i64,
    order: &Order,
    problem: Problem,
    now: Timestamp,
) -> Result<(), ApplyError> {
    payments::record_failure(
        tx,
        shop,
        payment_id,
        problem.as_str(),
        &json!({ "problem": problem.as_str(), "suspicious": false, "flags": [] }),
        now,
    )
    .await?;
    outbox::enqueue(
        tx,
        shop,
        order.customer_id,
        &format!("slip:{payment_id}:problem"),
        &OutboundPayload::Notice {
            order_id: order.id,
            order_code: order.code.clone(),
            notice: Notice::SlipProblem {
                problem: problem.as_str().to_string(),
            },
        },
        now,
    )
    .await?;
    Ok(())
}

/// Earlier slips that look like this one (perceptual hash), closest first.
async fn similar_images(
    tx: &mut Tx,
    db: &Db,
    shop: ShopId,
    payment_id: i64,
    phash: &str,
) -> Result<Vec<serde_json::Value>, ApplyError> {
    // A hint for the seller, read outside the write lock's critical work.
    let mut closest: Vec<(u32, i64)> = payments::recent_hashes(db, shop, payment_id, 500)
        .await?
        .into_iter()
        .filter_map(|(id, h)| {
            let d = analyze::hash_distance(phash, &h)?;
            (d <= SIMILAR_DISTANCE).then_some((d, id))
        })
        .collect();
    closest.sort();
    closest.truncate(5);
    let ids: Vec<i64> = closest.iter().map(|(_, id)| *id).collect();
    Ok(payments::refs(tx, shop, &ids)
        .await?
        .into_iter()
        .map(|r| {
            let distance = closest.iter().find(|(_, id)| *id == r.payment_id);
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            v["distance"] = json!(distance.map(|(d, _)| *d));
            v
        })
        .collect())
}

/// The order's `SubmitSlip`. `false` when the order is not waiting for a
/// payment (paid, cancelled, …): the slip is kept for the seller and the
/// customer told the shop will look.
async fn submit_slip(
    tx: &mut Tx,
    shop: &Shop,
    order: &Order,
    payment_id: i64,
    customer_warned: bool,
    now: Timestamp,
) -> Result<bool, ApplyError> {
    let applied = super::orders::apply_in_tx(
        tx,
        shop,
        order.id,
        // The customer hears "pending" unless the slip looks re-used or
        // doctored; a merely missing QR is the seller's flag, not theirs.
        Command::SubmitSlip {
            suspicious: customer_warned,
        },
        &Actor::Customer,
        now,
    )
    .await;
    match applied {
        Ok(_) => Ok(true),
        Err(ApplyError::Rejected(why)) => {
            tracing::info!(payment_id, reason = %why, "slip for an order not awaiting payment");
            outbox::enqueue(
                tx,
                shop.id,
                order.customer_id,
                &format!("slip:{payment_id}:check"),
                &OutboundPayload::Notice {
                    order_id: order.id,
                    order_code: order.code.clone(),
                    notice: Notice::SlipNeedsShopCheck,
                },
                now,
            )
            .await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
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
    let outcome = store_media(state, &bytes, outcome).await?;
    let outcome = &outcome;
    let shop = &shop;
    let id = transaction(&state.db, |mut tx| {
        Box::pin(async move {
            let r = async {
                let id =
                    payments::insert_fetching(&mut tx, shop.id, order, customer, None, now).await?;
                finish_in_tx(&mut tx, &state.db, shop, id, order, outcome, now).await?;
                Ok::<_, ApplyError>(id)
            }
            .await;
            (tx, r)
        })
    })
    .await
    .map_err(|e| match e {
        ApplyError::NotFound => SlipError::OrderNotFound,
        other => other.into(),
    })?;
    match outcome {
        Outcome::Bad(problem) => Err(SlipError::Image {
            payment_id: id,
            problem: *problem,
        }),
        Outcome::Good { .. } => Ok(id),
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
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(state.config.secret_key.expose_secret().as_bytes())
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

/// Downloads, analyses and records one claimed slip.
pub async fn process_claim(
    state: &AppState,
    policy: &FetchPolicy,
    claim: &payments::Claim,
) -> Result<(), SlipError> {
    let view = state
        .shop_views
        .get(&state.db, claim.shop_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let shop = &view.shop;
    let url = claim.source_url.clone().unwrap_or_default();
    let host = fetch::host_of(&url);
    let fetched = if claim.attempts > MAX_CLAIMS {
        Err(FetchError::Failed("too many attempts".into()))
    } else {
        fetch::fetch(policy, &url).await
    };
    let (bytes, analysed) = match fetched {
        Ok(bytes) => {
            let bytes = Arc::new(bytes);
            let a = analyze_bounded(bytes.clone(), analyze::Limits::default()).await?;
            (bytes, a)
        }
        Err(FetchError::Transient(why)) if claim.attempts < 3 => {
            tracing::info!(payment_id = claim.id, %host, reason = %why, "slip download will be retried");
            let retry = crate::clock::now().plus_secs(20 * claim.attempts);
            payments::release(&state.db, claim.id, retry).await?;
            return Ok(());
        }
        Err(e) => {
            tracing::info!(payment_id = claim.id, %host, error = %e, "slip download refused or failed");
            let p = match e {
                FetchError::Expired(_) => Problem::Expired,
                FetchError::TooLarge(_) => Problem::TooLarge,
                _ => Problem::FetchFailed,
            };
            (Arc::new(Vec::new()), Err(p))
        }
    };
    let outcome = store_media(state, &bytes, analysed).await?;
    drop(bytes);
    let outcome = &outcome;
    let finished = transaction(&state.db, |mut tx| {
        Box::pin(async move {
            let now = crate::clock::now();
            let r = finish_in_tx(
                &mut tx,
                &state.db,
                shop,
                claim.id,
                claim.order_id,
                outcome,
                now,
            )
            .await;
            (tx, r)
        })
    })
    .await;
    match finished {
        Ok(()) => {
            state.metrics.incr("slips_processed", 1);
            Ok(())
        }
        Err(ApplyError::NotFound) => {
            // The order is gone: close the payment, nobody to tell.
            let mut tx = state.db.begin().await?;
            payments::record_failure(
                &mut tx,
                claim.shop_id,
                claim.id,
                "order_not_found",
                &json!({ "problem": "order_not_found", "suspicious": false, "flags": [] }),
                crate::clock::now(),
            )
            .await?;
            store::commit(tx).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
