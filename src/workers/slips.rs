//! The slip worker: claim a slip to download, let the application
//! analyse and record it, or put it back for a later try; with no slip
//! waiting, a claim photo.

use super::{Next, Work};
use crate::app::{self, AppState};
use crate::clock;
use crate::slips::fetch::FetchPolicy;
use crate::store::{claims, payments};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub struct Slips {
    policy: FetchPolicy,
}

impl Slips {
    pub fn new(state: &AppState) -> Slips {
        Slips {
            policy: FetchPolicy::new(&state.config.attachment_hosts),
        }
    }
}

impl Slips {
    /// With no slip waiting: the next claim photo, downloaded the same
    /// safe way.
    async fn claim_photo(&self, state: &AppState) -> Result<Next, String> {
        let job = claims::next_photo(&state.db, clock::now(), app::claims::PHOTO_LEASE_MS)
            .await
            .map_err(|e| format!("claim photo lease failed: {e}"))?;
        let Some(job) = job else {
            return Ok(Next::Idle);
        };
        if let Err(e) = app::claims::process_photo(state, &self.policy, &job).await {
            tracing::warn!(photo = job.id, error = %e, "claim photo failed; will retry");
            let retry = clock::now().plus_secs(2 * job.attempts);
            let _ = claims::photo_retry_at(&state.db, job.id, retry).await;
        }
        Ok(Next::Busy)
    }
}

impl Work for Slips {
    const NAME: &'static str = "slips";
    const IDLE: Duration = Duration::from_millis(500);

    fn wake(&self, state: &AppState) -> Option<Arc<Notify>> {
        Some(state.slips_wake.clone())
    }

    async fn pass(&mut self, state: &AppState, _: &str) -> Result<Next, String> {
        let claim = payments::claim_next(&state.db, clock::now(), app::slips::LEASE_MS)
            .await
            .map_err(|e| format!("slip claim failed: {e}"))?;
        let Some(claim) = claim else {
            return self.claim_photo(state).await;
        };
        if let Err(e) = app::slips::process_claim(state, &self.policy, &claim).await {
            tracing::warn!(payment_id = claim.id, error = %e, "slip processing failed; will retry");
            let retry = clock::now().plus_secs(2 * claim.attempts);
            let _ = payments::release(&state.db, claim.id, retry).await;
        }
        Ok(Next::Busy)
    }
}
