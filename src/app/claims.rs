//! A seller moves a claim; the claim photos are fetched into the media
//! folder. A move, its refund (through the order's own command, so the
//! books still add up) and the customer's push share one transaction.

use super::AppState;
use super::orders::{self as app_orders, ApplyError, Stale, transaction};
use crate::domain::claim::{self, ClaimError, ClaimOutcome, ClaimStep};
use crate::domain::lifecycle::Actor;
use crate::domain::order::{Command, Notice};
use crate::domain::{ShopId, Timestamp};
use crate::slips::fetch::{self, FetchError, FetchPolicy};
use crate::slips::{analyze, media};
use crate::store::claims::{self, Claim, PhotoJob};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::shops::Shop;
use crate::store::{Db, StoreError, orders};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ClaimActError {
    #[error("no such claim")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] ClaimError),
    /// The order's own rules refused the refund.
    #[error("{0}")]
    Order(ApplyError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ClaimActError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ClaimActError::NotFound,
            e => ClaimActError::Store(e),
        }
    }
}

impl Stale for ClaimActError {
    fn is_stale(&self) -> bool {
        match self {
            ClaimActError::Store(s) => s.is_stale(),
            ClaimActError::Order(o) => o.is_stale(),
            _ => false,
        }
    }
}

/// Takes `step` on claim `id`: decides it on the claim as the transaction
/// reads it, gives a refund back through the order, records the move and
/// queues the customer's push.
pub async fn act(
    db: &Db,
    shop: &Shop,
    id: i64,
    step: &ClaimStep,
    actor: &Actor,
    now: Timestamp,
) -> Result<Claim, ClaimActError> {
    transaction(db, |mut tx| {
        Box::pin(async move {
            let r = async {
                let before = claims::get_in(&mut tx, shop.id, id).await?;
                let order = orders::load_locked(&mut tx, shop.id, before.order_id).await?;
                let m = claim::decide(before.status, step, order.paid)?;
                if let (Some(ClaimOutcome::Refund), Some(amount)) = (m.outcome, m.refund) {
                    let refund = Command::RefundClaim {
                        claim_id: id,
                        amount,
                    };
                    app_orders::apply_in_tx(&mut tx, shop, order.id, refund, actor, now)
                        .await
                        .map_err(|e| match e {
                            ApplyError::NotFound => ClaimActError::NotFound,
                            e => ClaimActError::Order(e),
                        })?;
                }
                claims::write_move(&mut tx, &before, &m, &actor.to_db(), now).await?;
                let push = OutboundPayload::Notice {
                    order_id: order.id,
                    order_code: order.code.clone(),
                    notice: Notice::ClaimUpdate {
                        claim_id: id,
                        reason: before.reason,
                        status: m.to,
                        outcome: m.outcome,
                        refund: m.refund,
                        note: m.note.clone(),
                    },
                };
                let key = format!("claim:{id}:v{}", before.version + 1);
                outbox::enqueue(&mut tx, shop.id, before.customer_id, &key, &push, now).await?;
                claims::get_in(&mut tx, shop.id, id)
                    .await
                    .map_err(ClaimActError::from)
            }
            .await;
            (tx, r)
        })
    })
    .await
}

/// How long a leased photo is left to its worker before another retries.
pub const PHOTO_LEASE_MS: i64 = 120_000;

/// Downloads (or reads, for a web-chat upload) one claim photo, checks it
/// is a picture within the limits slips have, and keeps it in the media
/// folder; a picture that cannot be used is marked failed with the reason.
pub async fn process_photo(
    state: &AppState,
    policy: &FetchPolicy,
    job: &PhotoJob,
) -> Result<(), StoreError> {
    let upload = job
        .source
        .strip_prefix("upload:")
        .map(|name| media::upload_path(&state.config.media_dir, name));
    let fetched = match &upload {
        Some(path) => tokio::fs::read(path)
            .await
            .map_err(|e| FetchError::Failed(e.to_string())),
        None if job.attempts > 5 => Err(FetchError::Failed("too many attempts".into())),
        None => fetch::fetch(policy, &job.source).await,
    };
    let bytes = match fetched {
        Ok(b) => Arc::new(b),
        Err(FetchError::Transient(why)) if job.attempts < 3 => {
            tracing::info!(photo = job.id, reason = %why, "claim photo download will be retried");
            let at = crate::clock::now().plus_secs(20 * job.attempts);
            return claims::photo_retry_at(&state.db, job.id, at).await;
        }
        Err(e) => {
            tracing::info!(photo = job.id, error = %e, "claim photo refused or failed");
            return claims::photo_done(&state.db, job.id, None, Some(&e.to_string())).await;
        }
    };
    let analysed = super::slips::analyze_bounded(bytes.clone(), analyze::Limits::default())
        .await
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    match analysed {
        Ok(a) => {
            media::store_slip(&state.config, &a.sha256, &bytes, &a.thumb_jpeg)
                .await
                .map_err(|e| StoreError::Corrupt(format!("claim photo not stored: {e}")))?;
            claims::photo_done(&state.db, job.id, Some(&a.sha256), None).await?;
        }
        Err(p) => {
            let why = photo_problem(p);
            claims::photo_done(&state.db, job.id, None, Some(&why)).await?;
        }
    }
    if let Some(path) = upload {
        let _ = tokio::fs::remove_file(path).await;
    }
    Ok(())
}

/// Why a photo could not be kept, as the seller reads it.
fn photo_problem(p: crate::slips::Problem) -> String {
    use crate::slips::Problem;
    match p {
        Problem::TooLarge => "the file is over the size limit",
        Problem::TooManyPixels => "the picture has too many pixels",
        Problem::Sticker => "a sticker, not a photo",
        Problem::Pdf => "a PDF, not a photo",
        Problem::UnsupportedFormat => "not a JPEG, PNG or WebP",
        Problem::Truncated => "the file is cut off",
        _ => "not a picture",
    }
    .to_string()
}

/// A claim with what its page shows.
pub struct ClaimPage {
    pub claim: Claim,
    pub photos: Vec<claims::Photo>,
    pub history: Vec<claims::HistoryRow>,
}

pub async fn page(db: &Db, shop: ShopId, id: i64) -> Result<ClaimPage, StoreError> {
    let claim = claims::get(db, shop, id).await?;
    Ok(ClaimPage {
        photos: claims::photos(db, id).await?,
        history: claims::history_of(db, id).await?,
        claim,
    })
}
