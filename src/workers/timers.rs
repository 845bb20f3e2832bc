//! Hold timers: every half minute, remind or cancel unpaid orders whose
//! hold is running out.

use super::{Next, Work};
use crate::app::{self, AppState};
use crate::clock;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often old web-chat uploads are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

#[derive(Default)]
pub struct Timers {
    last_sweep: Option<std::time::Instant>,
}

impl Work for Timers {
    const NAME: &'static str = "timers";
    const IDLE: Duration = Duration::from_secs(30);

    fn wake(&self, _: &AppState) -> Option<Arc<Notify>> {
        None
    }

    async fn pass(&mut self, state: &AppState, _: &str) -> Result<Next, String> {
        // Each order is reminded once and expired once: a second pass over
        // the same orders finds nothing to do, so one pass is all there is.
        app::holds::expire_holds(state, clock::now())
            .await
            .map_err(|e| e.to_string())?;
        if self.last_sweep.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
            self.last_sweep = Some(std::time::Instant::now());
            app::uploads::sweep(state)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(Next::Idle)
    }
}
