//! A seller moves a customer's shop balance.

use super::orders::{Stale, transaction};
use crate::domain::Timestamp;
use crate::store::Db;
use crate::store::customers::{self, BalanceError, LedgerPost, LedgerRow};

impl Stale for BalanceError {
    fn is_stale(&self) -> bool {
        matches!(self, BalanceError::Store(s) if s.is_stale())
    }
}

/// One deposit or withdrawal, its own transaction; a concurrent move of the
/// same balance makes it read again, so two cannot spend the same money.
pub async fn move_balance(
    db: &Db,
    post: &LedgerPost<'_>,
    now: Timestamp,
) -> Result<LedgerRow, BalanceError> {
    transaction(db, |mut tx| {
        Box::pin(async move {
            let r = customers::post(&mut tx, post, now).await;
            (tx, r)
        })
    })
    .await
}
