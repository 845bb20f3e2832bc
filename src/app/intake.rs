//! Webhook intake: the group-commit writer that makes events durable
//! before the webhook answers 200.

use crate::channels::InboundEvent;
use crate::clock;
use crate::store::{Db, inbox};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

type Reply = oneshot::Sender<Result<u64, String>>;

/// Hands webhook events to one writer task that stores many requests'
/// events in one transaction (group commit): one fsync for many 200s.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<(Vec<InboundEvent>, Reply)>,
}

#[derive(Debug, thiserror::Error)]
#[error("the inbox could not store the events: {0}")]
pub struct IntakeError(pub String);

impl Intake {
    pub fn start(db: Db, wake: Arc<Notify>) -> (Intake, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4096);
        let handle = tokio::spawn(writer(db, rx, wake));
        (Intake { tx }, handle)
    }

    /// Returns once the events are durable; only then may the webhook say 200.
    pub async fn store(&self, events: Vec<InboundEvent>) -> Result<u64, IntakeError> {
        if events.is_empty() {
            return Ok(0);
        }
        let (reply, wait) = oneshot::channel();
        self.tx
            .send((events, reply))
            .await
            .map_err(|_| IntakeError("intake stopped".into()))?;
        wait.await
            .map_err(|_| IntakeError("intake stopped".into()))?
            .map_err(IntakeError)
    }
}

const MAX_BATCH_EVENTS: usize = 2000;

async fn writer(db: Db, mut rx: mpsc::Receiver<(Vec<InboundEvent>, Reply)>, wake: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let mut count = batch[0].0.len();
        while count < MAX_BATCH_EVENTS {
            match rx.try_recv() {
                Ok(more) => {
                    count += more.0.len();
                    batch.push(more);
                }
                Err(_) => break,
            }
        }
        let events: Vec<InboundEvent> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
        let result = inbox::insert_batch(&db, &events, clock::now())
            .await
            .map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, events = events.len(), "inbox write failed");
        }
        for (_, reply) in batch {
            let _ = reply.send(result.clone());
        }
        if result.is_ok() {
            wake.notify_one();
        }
    }
}
