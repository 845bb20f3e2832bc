//! The web chat's open event streams in this process: at most one per
//! visitor (a new one closes the old), at most a configured number in all,
//! and each woken only when a message to its own visitor was sent, by this
//! process's outbox or, through one shared look per second, another's.

use crate::domain::ShopId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// A shop and the visitor's id there (a web-chat customer's recipient).
pub type Visitor = (ShopId, String);
type Key = Visitor;

struct Slot {
    id: u64,
    wake: Arc<Notify>,
    replaced: Arc<AtomicBool>,
}

#[derive(Default)]
struct Open {
    by_visitor: HashMap<Key, Slot>,
}

pub struct ChatStreams {
    max: usize,
    next_id: AtomicU64,
    open: Mutex<Open>,
}

/// Why a stream was not opened.
#[derive(Debug, PartialEq, Eq)]
pub struct Full {
    pub max: usize,
}

/// One open stream; closing it (dropping this) frees its place.
pub struct StreamTicket {
    streams: Arc<ChatStreams>,
    key: Key,
    id: u64,
    pub wake: Arc<Notify>,
    replaced: Arc<AtomicBool>,
}

impl StreamTicket {
    /// Whether a newer stream of the same visitor took this one's place.
    pub fn replaced(&self) -> bool {
        self.replaced.load(Ordering::Acquire)
    }
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        if let Ok(mut open) = self.streams.open.lock()
            && open
                .by_visitor
                .get(&self.key)
                .is_some_and(|s| s.id == self.id)
        {
            open.by_visitor.remove(&self.key);
        }
    }
}

impl ChatStreams {
    pub fn new(max: usize) -> Arc<ChatStreams> {
        Arc::new(ChatStreams {
            max,
            next_id: AtomicU64::new(1),
            open: Mutex::new(Open::default()),
        })
    }

    /// Opens the visitor's stream, closing the one they had open.
    pub fn open(self: &Arc<Self>, shop: ShopId, visitor: &str) -> Result<StreamTicket, Full> {
        let key = (shop, visitor.to_string());
        let mut open = self.open.lock().map_err(|_| Full { max: self.max })?;
        let old = open.by_visitor.remove(&key);
        if let Some(old) = &old {
            old.replaced.store(true, Ordering::Release);
            old.wake.notify_one();
        }
        if old.is_none() && open.by_visitor.len() >= self.max {
            return Err(Full { max: self.max });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let wake = Arc::new(Notify::new());
        let replaced = Arc::new(AtomicBool::new(false));
        open.by_visitor.insert(
            key.clone(),
            Slot {
                id,
                wake: wake.clone(),
                replaced: replaced.clone(),
            },
        );
        Ok(StreamTicket {
            streams: self.clone(),
            key,
            id,
            wake,
            replaced,
        })
    }

    /// Wakes the streams of these visitors, if any are open here.
    pub fn wake(&self, visitors: &[Visitor]) {
        let Ok(open) = self.open.lock() else { return };
        for v in visitors {
            if let Some(slot) = open.by_visitor.get(v) {
                slot.wake.notify_one();
            }
        }
    }

    pub fn count(&self) -> usize {
        self.open.lock().map(|o| o.by_visitor.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stream_per_visitor_and_a_cap_for_all() {
        let streams = ChatStreams::new(2);
        let first = streams.open(ShopId(1), "v1").expect("opens");
        let second = streams.open(ShopId(1), "v1").expect("replaces");
        assert!(first.replaced() && !second.replaced());
        assert_eq!(streams.count(), 1);
        drop(first);
        assert_eq!(streams.count(), 1, "the old one's end frees nothing");
        let _other = streams.open(ShopId(1), "v2").expect("a second visitor");
        assert_eq!(streams.open(ShopId(1), "v3").err(), Some(Full { max: 2 }));
        let _again = streams
            .open(ShopId(1), "v2")
            .expect("a visitor at the cap may still reopen theirs");
        drop(second);
        assert_eq!(streams.count(), 1);
    }

    #[tokio::test]
    async fn only_the_visitor_concerned_is_woken() {
        let streams = ChatStreams::new(10);
        let a = streams.open(ShopId(1), "va").expect("a");
        let b = streams.open(ShopId(1), "vb").expect("b");
        streams.wake(&[(ShopId(1), "va".to_string()), (ShopId(2), "vb".to_string())]);
        let woke = |t: &StreamTicket| {
            let w = t.wake.clone();
            async move {
                tokio::time::timeout(std::time::Duration::from_millis(20), w.notified())
                    .await
                    .is_ok()
            }
        };
        assert!(woke(&a).await);
        assert!(!woke(&b).await);
    }
}
