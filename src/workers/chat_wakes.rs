//! Wakes this instance's web-chat streams for messages another instance
//! sent: one look a second at who was just written to, and only while a
//! stream is open here. (This instance's own sends wake their streams
//! directly.)

use super::{Next, Work};
use crate::app::AppState;
use crate::clock;
use crate::domain::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Sends are stamped by the instance that made them: a little overlap
/// covers clocks a moment apart and a commit that lands after its stamp.
const OVERLAP_MS: i64 = 3_000;

#[derive(Default)]
pub struct ChatWakes {
    last_look: Option<Timestamp>,
}

impl Work for ChatWakes {
    const NAME: &'static str = "chat-wakes";
    const IDLE: Duration = Duration::from_secs(1);

    fn wake(&self, _: &AppState) -> Option<Arc<Notify>> {
        None
    }

    async fn pass(&mut self, state: &AppState, _: &str) -> Result<Next, String> {
        let now = clock::now();
        if state.chat_streams.count() == 0 {
            self.last_look = Some(now);
            return Ok(Next::Idle);
        }
        let since = Timestamp(self.last_look.unwrap_or(now).millis() - OVERLAP_MS);
        let visitors = crate::store::outbox::webchat_sent_since(&state.db, since, 1000)
            .await
            .map_err(|e| e.to_string())?;
        state.chat_streams.wake(&visitors);
        self.last_look = Some(now);
        Ok(Next::Idle)
    }
}
