//! Background work. Each worker is a pass — claim some work, hand it to
//! the application, acknowledge it — and one runner owns everything around
//! the pass: stopping, waking, the lease owner's name, and isolating a
//! panic so a bug fails one pass, not the worker.

pub mod chat_wakes;
pub mod inbox;
pub mod outbox;
pub mod profiles;
pub mod slips;
pub mod timers;

use crate::app::AppState;
use crate::clock;
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What the runner does after a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// There may be more: run again at once.
    Busy,
    /// Nothing to do: wait for a wake-up or the worker's idle time.
    Idle,
    /// Work is waiting but may not go yet (a Page out of its send budget):
    /// sleep this long, whatever wakes.
    Wait(Duration),
}

pub trait Work: Send + 'static {
    /// Names the worker in logs.
    const NAME: &'static str;
    /// The longest an idle worker sleeps before looking again (work can
    /// become due with nobody waking it: a retry's time, another instance).
    const IDLE: Duration;

    /// Rung when work arrives in this process.
    fn wake(&self, state: &AppState) -> Option<Arc<Notify>>;

    /// One pass. `owner` names this worker in the leases it takes.
    fn pass(
        &mut self,
        state: &AppState,
        owner: &str,
    ) -> impl Future<Output = Result<Next, String>> + Send;
}

/// Runs `work` until the process stops.
pub fn spawn<W: Work>(state: &AppState, mut work: W, index: usize) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let owner = format!("{}-{}-{index}", state.instance_id, W::NAME);
        let wake = work.wake(&state);
        let mut stopping = state.stopping.clone();
        while !*stopping.borrow() {
            let next = guarded_pass(&state, &mut work, &owner).await;
            match next {
                Next::Busy => continue,
                Next::Idle => {
                    let woken = async {
                        match &wake {
                            Some(w) => w.notified().await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = woken => {}
                        _ = tokio::time::sleep(W::IDLE) => {}
                        _ = stopping.changed() => {}
                    }
                }
                Next::Wait(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = stopping.changed() => {}
                    }
                }
            }
        }
    })
}

async fn guarded_pass<W: Work>(state: &AppState, work: &mut W, owner: &str) -> Next {
    state.passes_running.fetch_add(1, Ordering::SeqCst);
    let outcome = AssertUnwindSafe(work.pass(state, owner))
        .catch_unwind()
        .await;
    state.passes_running.fetch_sub(1, Ordering::SeqCst);
    match outcome {
        Ok(Ok(next)) => next,
        Ok(Err(e)) => {
            tracing::warn!(worker = W::NAME, error = %e, "worker pass failed");
            Next::Idle
        }
        Err(_) => {
            state.metrics.incr("worker_panics", 1);
            tracing::error!(worker = W::NAME, "worker pass panicked");
            Next::Idle
        }
    }
}

/// Every worker of a serving process.
pub fn spawn_all(state: &AppState) -> Vec<JoinHandle<()>> {
    vec![
        spawn(state, inbox::Inbox, 0),
        spawn(state, inbox::Inbox, 1),
        spawn(state, outbox::Outbox::default(), 0),
        spawn(state, timers::Timers::default(), 0),
        spawn(state, slips::Slips::new(state), 0),
        spawn(state, profiles::Profiles, 0),
    ]
}

#[derive(Debug, thiserror::Error)]
#[error("work still queued after {0:?}")]
pub struct DrainTimeout(pub Duration);

/// Runs the inbox, outbox, slip, timer and profile work of this process until none
/// is left that is due now, including work another worker holds a lease
/// on. Tests wait for the server's own work with this instead of polling
/// for its effects; a retry scheduled for later does not count as due.
pub async fn drain(state: &AppState, limit: Duration) -> Result<(), DrainTimeout> {
    let started = Instant::now();
    let mut inbox = inbox::Inbox;
    let mut outbox = outbox::Outbox::default();
    let mut timers = timers::Timers::default();
    let mut slips = slips::Slips::new(state);
    let mut profiles = profiles::Profiles;
    let owner = format!("{}-drain", state.instance_id);
    loop {
        let mut busy = false;
        busy |= guarded_pass(state, &mut inbox, &owner).await != Next::Idle;
        busy |= guarded_pass(state, &mut slips, &owner).await != Next::Idle;
        busy |= guarded_pass(state, &mut outbox, &owner).await != Next::Idle;
        busy |= guarded_pass(state, &mut timers, &owner).await != Next::Idle;
        busy |= guarded_pass(state, &mut profiles, &owner).await != Next::Idle;
        // Another worker of this process may be halfway through a pass
        // whose work no longer shows as due (a claimed slip).
        if !busy && state.passes_running.load(Ordering::SeqCst) == 0 {
            match crate::store::queues::due_now(&state.db, clock::now()).await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "drain could not count queued work"),
            }
        }
        if started.elapsed() > limit {
            return Err(DrainTimeout(limit));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
