//! The slip worker: claims `fetching` payments (safe across instances, with
//! a lease so a crashed worker's row is retried), downloads under the
//! policy, analyses, stores the media and records the outcome together with
//! the order change and the customer's message in one transaction.

use super::analyze::{self, Analysis, Problem};
use super::fetch::{self, FetchError, FetchPolicy};
use super::slip_qr::{self, SlipQr};
use super::{SlipError, WAKE, analyze_bounded, media};
use crate::domain::lifecycle::Actor;
use crate::domain::order::{Command, Notice};
use crate::domain::{Currency, OrderId, Timestamp};
use crate::server::AppState;
use crate::store::orders::{self, ApplyError};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::payments::{self, PaymentRef, SlipRecord};
use crate::store::shops::Shop;
use crate::store::{Db, StoreError, Tx};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How long a claimed row is left to its worker before another may retry.
const LEASE_MS: i64 = 120_000;
/// Claims of one row before giving up with `fetch_failed`.
const MAX_CLAIMS: i64 = 5;
const POLL: Duration = Duration::from_millis(500);
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

pub(super) async fn store_media(
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

/// Errors after which the whole transaction is worth running again.
pub(super) fn retryable(e: &ApplyError) -> bool {
    match e {
        ApplyError::Store(s) => matches!(s, StoreError::Stale) || s.is_unique_violation(),
        _ => false,
    }
}

fn refs(v: &[PaymentRef]) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
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
    let order = orders::load_in(tx, shop.id, order_id, "").await?;
    let (analysis, slip_path, thumb_path) = match outcome {
        Outcome::Bad(problem) => {
            payments::record_failure(
                tx,
                shop.id,
                payment_id,
                problem.as_str(),
                &json!({ "problem": problem.as_str(), "suspicious": false, "flags": [] }),
                now,
            )
            .await?;
            outbox::enqueue(
                tx,
                shop.id,
                order.customer_id,
                &format!("slip:{payment_id}:problem"),
                &OutboundPayload::Notice {
                    order_id,
                    order_code: order.code.clone(),
                    notice: Notice::SlipProblem {
                        problem: problem.as_str().to_string(),
                    },
                },
                now,
            )
            .await?;
            return Ok(());
        }
        Outcome::Good {
            analysis,
            slip_path,
            thumb_path,
        } => (analysis, slip_path, thumb_path),
    };

    let mut flags: Vec<&str> = Vec::new();
    let duplicates = payments::same_sha256(tx, shop.id, &analysis.sha256, payment_id).await?;
    if !duplicates.is_empty() {
        flags.push("exact_duplicate");
    }
    let qr_status = analysis.qr.as_ref().map_or("missing", |f| f.qr.status());
    let mut reused: Option<PaymentRef> = None;
    let mut holds: Option<(&str, &str)> = None;
    let mut qr_json = json!({ "status": qr_status });
    match analysis.qr.as_ref().map(|f| &f.qr) {
        Some(SlipQr::Slip { bank, trans_ref }) => {
            qr_json = json!({
                "status": "ok",
                "checksum_ok": true,
                "bank": bank,
                "bank_name": slip_qr::bank_name(bank),
                "trans_ref": trans_ref,
            });
            reused = payments::holding_slip_ref(tx, shop.id, bank, trans_ref, payment_id).await?;
            if reused.is_some() {
                flags.push("reused_slip");
            } else {
                holds = Some((bank, trans_ref));
            }
        }
        Some(SlipQr::BadChecksum) => {
            flags.push("qr_bad_checksum");
            qr_json["checksum_ok"] = json!(false);
        }
        Some(SlipQr::PaymentQr) => flags.push("payment_qr_not_slip"),
        Some(SlipQr::Malformed) => flags.push("qr_malformed"),
        None => flags.push("no_qr"),
    }
    if let Some(f) = &analysis.qr
        && !matches!(f.qr, SlipQr::Slip { .. })
        && !f.text.is_empty()
    {
        qr_json["text"] = json!(f.text);
    }
    // Thai slips carry the verification QR; elsewhere a missing QR is normal.
    let missing_matters = shop.currency == Currency::THB;
    let mut suspicious = reused.is_some()
        || !duplicates.is_empty()
        || matches!(qr_status, "bad_checksum" | "malformed" | "payment_qr")
        || (qr_status == "missing" && missing_matters);

    let customer_warned = reused.is_some()
        || !duplicates.is_empty()
        || matches!(qr_status, "bad_checksum" | "payment_qr");

    // A hint for the seller, read outside the write lock's critical work.
    let mut closest: Vec<(u32, i64)> = payments::recent_hashes(db, shop.id, payment_id, 500)
        .await?
        .into_iter()
        .filter_map(|(id, h)| {
            let d = analyze::hash_distance(&analysis.phash, &h)?;
            (d <= SIMILAR_DISTANCE).then_some((d, id))
        })
        .collect();
    closest.sort();
    closest.truncate(5);
    let ids: Vec<i64> = closest.iter().map(|(_, id)| *id).collect();
    let similar: Vec<serde_json::Value> = payments::refs(tx, shop.id, &ids)
        .await?
        .into_iter()
        .map(|r| {
            let distance = closest.iter().find(|(_, id)| *id == r.payment_id);
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            v["distance"] = json!(distance.map(|(d, _)| *d));
            v
        })
        .collect();

    let applied = orders::apply_in_tx(
        tx,
        db,
        shop,
        order_id,
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
        Ok(_) => {}
        Err(ApplyError::Rejected(why)) => {
            // The order is not waiting for a payment (paid, cancelled, …):
            // keep the slip for the seller, tell the customer the shop will look.
            flags.push("order_not_awaiting_payment");
            suspicious = true;
            tracing::info!(payment_id, reason = %why, "slip for an order not awaiting payment");
            outbox::enqueue(
                tx,
                shop.id,
                order.customer_id,
                &format!("slip:{payment_id}:check"),
                &OutboundPayload::Notice {
                    order_id,
                    order_code: order.code.clone(),
                    notice: Notice::SlipNeedsShopCheck,
                },
                now,
            )
            .await?;
        }
        Err(e) => return Err(e),
    }

    let prechecks = json!({
        "suspicious": suspicious,
        "flags": flags,
        "image": {
            "format": analysis.format,
            "width": analysis.width,
            "height": analysis.height,
            "bytes": analysis.bytes,
            "orientation_applied": analysis.orientation_applied,
        },
        "exact_duplicate_of": refs(&duplicates),
        "slip_qr": qr_json,
        "reused_from": reused,
        "similar_images": similar,
        "similar_is_hint_only": true,
    });
    payments::record_slip(
        tx,
        shop.id,
        payment_id,
        &SlipRecord {
            status: if suspicious { "flagged" } else { "pending" },
            sha256: &analysis.sha256,
            slip_path,
            thumb_path,
            slip_bank: holds.map(|h| h.0),
            slip_ref: holds.map(|h| h.1),
            phash: &analysis.phash,
            prechecks: &prechecks,
        },
    )
    .await?;
    Ok(())
}

pub(super) async fn run(state: AppState) {
    let mut stopping = state.stopping.clone();
    let policy = FetchPolicy::new(&state.config.attachment_hosts);
    loop {
        if *stopping.borrow() {
            break;
        }
        let now = crate::clock::now();
        match payments::claim_next(&state.db, now, LEASE_MS).await {
            Ok(Some(claim)) => {
                if let Err(e) = process(&state, &policy, &claim).await {
                    tracing::warn!(payment_id = claim.id, error = %e, "slip processing failed; will retry");
                    let retry = crate::clock::now().plus_secs(2 * claim.attempts);
                    let _ = payments::release(&state.db, claim.id, retry).await;
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "slip claim failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = WAKE.notified() => {}
            _ = stopping.changed() => {}
        }
    }
}

async fn process(
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
    let mut attempt = 0;
    loop {
        attempt += 1;
        let now = crate::clock::now();
        let mut tx = state.db.begin().await?;
        match finish_in_tx(
            &mut tx,
            &state.db,
            shop,
            claim.id,
            claim.order_id,
            &outcome,
            now,
        )
        .await
        {
            Ok(()) => {
                tx.commit().await.map_err(StoreError::from)?;
                state.metrics.incr("slips_processed", 1);
                return Ok(());
            }
            Err(e) if attempt < 3 && retryable(&e) => {
                drop(tx);
                continue;
            }
            Err(ApplyError::NotFound) => {
                // The order is gone: close the payment, nobody to tell.
                drop(tx);
                let mut tx = state.db.begin().await?;
                payments::record_failure(
                    &mut tx,
                    claim.shop_id,
                    claim.id,
                    "order_not_found",
                    &json!({ "problem": "order_not_found", "suspicious": false, "flags": [] }),
                    now,
                )
                .await?;
                tx.commit().await.map_err(StoreError::from)?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
    }
}
