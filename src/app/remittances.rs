//! A carrier's COD remittance: one amount for many orders (seed 002,
//! "collect COD … reduce the debt of the shipping partner"). Every order it
//! names is collected through the order's own command (a parcel still on
//! its way is delivered first: the carrier paid for it), the remittance and
//! its shares are written, and each customer's push is queued, all in one
//! transaction: a remittance that cannot be applied whole changes nothing.

use super::orders::{ApplyError, Stale, apply_loaded, transaction};
use crate::domain::lifecycle::{Actor, Fulfilment, PaymentStatus};
use crate::domain::money::in_range;
use crate::domain::order::Command;
use crate::domain::{OrderId, Timestamp};
use crate::store::carriers::{self, NewRemittance};
use crate::store::shops::Shop;
use crate::store::{Db, StoreError, Tx, orders};

/// At most this many orders in one remittance.
pub const MAX_ORDERS: usize = 500;

/// What the seller (or a carrier integration) reports.
#[derive(Clone, Debug)]
pub struct Remit {
    pub carrier: String,
    /// The carrier's own reference for the transfer (one per remittance).
    pub reference: String,
    pub amount: i64,
    /// Order codes, each with what the carrier says it collected (default:
    /// what the order owes).
    pub orders: Vec<(String, Option<i64>)>,
    pub note: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Recorded {
    pub id: i64,
    pub allocated: i64,
    pub difference: i64,
    pub orders: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RemitError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0} is not one of the shop's carriers")]
    UnknownCarrier(String),
    #[error("{0} does not collect cash on delivery for the shop (settings: carriers)")]
    NotCod(String),
    #[error("remittance {reference} from {carrier} is recorded already")]
    Duplicate { carrier: String, reference: String },
    #[error("no order {0}")]
    NoOrder(String),
    #[error("order {code}: {reason}")]
    Order { code: String, reason: String },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RemitError {
    fn from(e: StoreError) -> Self {
        RemitError::Store(e)
    }
}

impl Stale for RemitError {
    fn is_stale(&self) -> bool {
        matches!(self, RemitError::Store(s) if s.is_stale())
    }
}

fn checked(r: &Remit) -> Result<(), RemitError> {
    let bad = |m: &str| Err(RemitError::BadInput(m.to_string()));
    let reference = r.reference.trim();
    if reference.is_empty() || reference.chars().count() > 80 {
        return bad("reference: the carrier's reference is 1 to 80 characters");
    }
    if r.orders.is_empty() || r.orders.len() > MAX_ORDERS {
        return bad("orders: name 1 to 500 orders the remittance pays");
    }
    in_range(r.amount, "amount").map_err(|e| RemitError::BadInput(e.to_string()))?;
    for (i, (code, amount)) in r.orders.iter().enumerate() {
        if r.orders[..i]
            .iter()
            .any(|(c, _)| c.eq_ignore_ascii_case(code))
        {
            return Err(RemitError::BadInput(format!(
                "orders: {code} is named twice"
            )));
        }
        if let Some(a) = amount {
            in_range(*a, "an order's amount").map_err(|e| RemitError::BadInput(e.to_string()))?;
        }
    }
    Ok(())
}

pub async fn record(
    db: &Db,
    shop: &Shop,
    r: &Remit,
    actor: &Actor,
    now: Timestamp,
) -> Result<Recorded, RemitError> {
    checked(r)?;
    let (carrier, settings) = shop
        .settings
        .carrier(&r.carrier)
        .ok_or_else(|| RemitError::UnknownCarrier(r.carrier.trim().to_string()))?;
    if !settings.collects_cod {
        return Err(RemitError::NotCod(carrier.to_string()));
    }
    transaction(db, |mut tx| {
        Box::pin(async move {
            let out = record_in(&mut tx, shop, carrier, r, actor, now).await;
            (tx, out)
        })
    })
    .await
}

async fn record_in(
    tx: &mut Tx,
    shop: &Shop,
    carrier: &str,
    r: &Remit,
    actor: &Actor,
    now: Timestamp,
) -> Result<Recorded, RemitError> {
    let reference = r.reference.trim();
    if carriers::seen(tx, shop.id, carrier, reference).await? {
        return Err(RemitError::Duplicate {
            carrier: carrier.to_string(),
            reference: reference.to_string(),
        });
    }
    let mut shares: Vec<(OrderId, i64)> = Vec::new();
    let mut codes = Vec::new();
    for (code, amount) in &r.orders {
        let code = code.trim().to_uppercase();
        let id = carriers::order_by_code(tx, shop.id, &code)
            .await?
            .ok_or_else(|| RemitError::NoOrder(code.clone()))?;
        let at = Collecting {
            shop,
            carrier,
            actor,
            now,
        };
        let share = collect(tx, &at, id, &code, *amount).await?;
        shares.push((id, share));
        codes.push(code);
    }
    let allocated: i64 = shares.iter().map(|(_, a)| a).sum();
    let id = carriers::insert(
        tx,
        &NewRemittance {
            shop: shop.id,
            carrier,
            reference,
            amount: r.amount,
            allocated,
            note: r.note.as_deref().map(str::trim).filter(|n| !n.is_empty()),
            by: &actor.to_db(),
            orders: &shares,
        },
        now,
    )
    .await?;
    Ok(Recorded {
        id,
        allocated,
        difference: r.amount - allocated,
        orders: codes,
    })
}

/// Who collects, from whom, when.
struct Collecting<'a> {
    shop: &'a Shop,
    carrier: &'a str,
    actor: &'a Actor,
    now: Timestamp,
}

/// One order's share: the order must be this carrier's and wait for its
/// cash. Returns what the carrier paid for it.
async fn collect(
    tx: &mut Tx,
    at: &Collecting<'_>,
    id: OrderId,
    code: &str,
    amount: Option<i64>,
) -> Result<i64, RemitError> {
    let Collecting {
        shop,
        carrier,
        actor,
        now,
    } = *at;
    let refused = |reason: String| RemitError::Order {
        code: code.to_string(),
        reason,
    };
    let order = orders::load_locked(tx, shop.id, id).await?;
    if order.carrier.as_deref() != Some(carrier) {
        return Err(refused(format!(
            "it was shipped with {}, not {carrier}",
            order.carrier.as_deref().unwrap_or("nobody yet")
        )));
    }
    if order.payment != PaymentStatus::CodPending {
        return Err(refused(format!(
            "its payment is {}; only cash still to collect can be remitted",
            order.payment
        )));
    }
    let share = amount.unwrap_or(order.totals().remaining.minor);
    // One read of the order for both steps: each plan starts from the
    // order the previous one wrote.
    let order = if order.fulfilment == Fulfilment::Shipping {
        apply_loaded(tx, shop, order, Command::Complete, actor, now)
            .await
            .map_err(|e| order_refused(code, e))?
            .order
    } else {
        order
    };
    apply_loaded(
        tx,
        shop,
        order,
        Command::CollectCod {
            amount: Some(share),
        },
        actor,
        now,
    )
    .await
    .map_err(|e| order_refused(code, e))?;
    Ok(share)
}

fn order_refused(code: &str, e: ApplyError) -> RemitError {
    match e {
        ApplyError::Store(s) => RemitError::Store(s),
        other => RemitError::Order {
            code: code.to_string(),
            reason: other.to_string(),
        },
    }
}
