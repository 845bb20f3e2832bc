//! A seller moves a customer's shop balance and names the customer.

use super::orders::{Stale, transaction};
use crate::domain::{CustomerId, CustomerName, ShopId, Timestamp};
use crate::store::customers::{self, BalanceError, LedgerPost, LedgerRow};
use crate::store::outbox::{self, OutboundPayload};
use crate::store::{Db, StoreError, Tx};

impl Stale for BalanceError {
    fn is_stale(&self) -> bool {
        matches!(self, BalanceError::Store(s) if s.is_stale())
    }
}

/// One deposit or withdrawal, its own transaction; a concurrent move of the
/// same balance makes it read again, so two cannot spend the same money.
/// The customer is told in the same transaction.
pub async fn move_balance(
    db: &Db,
    post: &LedgerPost<'_>,
    now: Timestamp,
) -> Result<LedgerRow, BalanceError> {
    transaction(db, |mut tx| {
        Box::pin(async move {
            let r = post_and_tell(&mut tx, post, now).await;
            (tx, r)
        })
    })
    .await
}

async fn post_and_tell(
    tx: &mut Tx,
    post: &LedgerPost<'_>,
    now: Timestamp,
) -> Result<LedgerRow, BalanceError> {
    let row = customers::post(tx, post, now).await?;
    let push = OutboundPayload::Balance {
        movement: post.kind,
        amount: row.amount.abs(),
        balance: row.balance_after,
    };
    // One push per ledger row: a retried request posts no second row.
    let key = format!("ledger:{}", row.id);
    outbox::enqueue(tx, post.shop, post.customer, &key, &push, now).await?;
    Ok(row)
}

#[derive(Debug, thiserror::Error)]
pub enum RenameError {
    #[error("{0}")]
    Invalid(#[from] crate::domain::customer_name::NameError),
    #[error("no such customer")]
    NotFound,
    #[error(transparent)]
    Store(crate::store::StoreError),
}

/// The name the seller typed for a customer: it stays, whatever the
/// Messenger profile or a later address says.
pub async fn rename(
    db: &Db,
    shop: ShopId,
    id: CustomerId,
    raw: &str,
    now: Timestamp,
) -> Result<CustomerName, RenameError> {
    let name = CustomerName::parse(raw)?;
    let store = |e: StoreError| match e {
        StoreError::NotFound => RenameError::NotFound,
        e => RenameError::Store(e),
    };
    let mut tx = db.begin().await.map_err(store)?;
    customers::rename(&mut tx, shop, id, &name, now)
        .await
        .map_err(store)?;
    tx.commit().await.map_err(|e| store(e.into()))?;
    Ok(name)
}
