//! Web-chat uploads waiting in the media folder: a slip's file is removed
//! once the slip is analysed; anything else (a picture sent with no unpaid
//! order, an event refused or never processed) is swept here once it is
//! old enough that no queued message can still need it, unless a
//! claim still downloading it keeps it.

use super::AppState;
use crate::store;
use std::time::{Duration, SystemTime};

/// How long an upload may wait for its message to be processed.
pub const KEEP: Duration = Duration::from_secs(6 * 3600);

/// Removes the uploads nothing needs; returns how many.
pub async fn sweep(state: &AppState) -> Result<usize, store::StoreError> {
    let dir = state.config.media_dir.join("uploads");
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
        return Ok(0);
    };
    let mut removed = 0;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".bin"))
            .map(str::to_string)
        else {
            continue;
        };
        let old = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age >= KEEP);
        if !old {
            continue;
        }
        let reference = format!("upload:{name}");
        if store::claims::references_picture(&state.db, &reference).await?
            || store::inbox::pending_mentions(&state.db, &reference).await?
        {
            continue;
        }
        if tokio::fs::remove_file(&path).await.is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "old web-chat uploads swept");
        state.metrics.incr("webchat_uploads_swept", removed as u64);
    }
    Ok(removed)
}
