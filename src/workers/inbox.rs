//! The inbox worker: lease customers with pending events, take their
//! events through the conversation, release the leases.

use super::{Next, Work};
use crate::app::{self, AppState};
use crate::clock;
use crate::store::inbox;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A pass takes well under a second; a crashed instance's customers wait
/// this long before another worker may take them.
const LEASE_SECS: i64 = 10;
/// Customers taken per pass, and events per customer. One pass is one
/// transaction, so these bound how long it holds SQLite's writer.
const BATCH_CUSTOMERS: i64 = 96;
const EVENTS_PER_CUSTOMER: i64 = 8;

pub struct Inbox;

impl Work for Inbox {
    const NAME: &'static str = "inbox";
    const IDLE: Duration = Duration::from_millis(500);

    fn wake(&self, state: &AppState) -> Option<Arc<Notify>> {
        Some(state.inbox_wake.clone())
    }

    async fn pass(&mut self, state: &AppState, owner: &str) -> Result<Next, String> {
        let done = run_once(state, owner).await.map_err(|e| e.to_string())?;
        Ok(if done > 0 { Next::Busy } else { Next::Idle })
    }
}

/// One pass: lease customers with pending events and take their events
/// through the engine together, in one transaction.
async fn run_once(state: &AppState, owner: &str) -> Result<usize, crate::store::StoreError> {
    let now = clock::now();
    let senders = inbox::pending_senders(&state.db, now, BATCH_CUSTOMERS).await?;
    let leased = inbox::lease_many(&state.db, &senders, owner, now, LEASE_SECS).await?;
    if leased.is_empty() {
        return Ok(0);
    }
    // Another worker may have finished some of them between the two reads:
    // the events are read only now that the leases are ours.
    let result = match inbox::pending_for_many(&state.db, &leased, EVENTS_PER_CUSTOMER).await {
        Ok(events) => app::conversation::process(state, events).await,
        Err(e) => Err(e),
    };
    inbox::release_many(&state.db, &leased, owner).await?;
    result
}
