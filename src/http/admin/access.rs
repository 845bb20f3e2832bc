//! The permissions of the seller's order actions, for the route table and
//! the OpenAPI document, and the exact check against the order itself
//! (`domain::access::needed_for`), which the API and the console share
//! through `order_actions::perform`.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::order_actions::Action;
use crate::app::AppState;
use crate::domain::OrderId;
use crate::domain::access::{self, Permission as P, Permission};
use crate::domain::order::Command;
use crate::store::{StoreError, orders};

impl Action {
    /// The role must hold one of these to use the action at all; which one
    /// the order needs is decided by [`check_command`].
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Action::Confirm
            | Action::Ship
            | Action::Complete
            | Action::FailDelivery
            | Action::ReturnToStock
            | Action::EditAddress
            | Action::AddService
            | Action::RemoveService
            | Action::ServiceDone
            | Action::Track => &[P::RunFulfilment],
            Action::ConfirmPayment
            | Action::RejectPayment
            | Action::CollectCod
            | Action::PayFromBalance
            | Action::ResolvePayment => &[P::ConfirmPayments],
            Action::Cancel => &[P::RunFulfilment, P::CancelWithRefund],
            Action::EditFees => &[P::ChangePricesFeesDiscounts],
            Action::EditLine => &[P::ChangePricesFeesDiscounts, P::RunFulfilment],
        }
    }

    /// When the exact permission depends on the body or the order.
    pub fn permission_rule(self) -> Option<&'static str> {
        match self {
            Action::ConfirmPayment | Action::CollectCod => {
                Some("An amount above what the order still owes also needs record_overpayment.")
            }
            Action::Cancel => Some(
                "An order with money paid needs cancel_with_refund (the money goes to the customer's balance); an unpaid one needs run_fulfilment.",
            ),
            Action::EditLine => Some(
                "A new unit price needs change_prices_fees_discounts; the same price with a new quantity needs run_fulfilment.",
            ),
            _ => None,
        }
    }
}

/// Refuses the command unless the role holds every permission it needs on
/// this order as it is now. Used for a decision on one slip; every other
/// action checks inside its own transaction (`app::orders::act`).
pub async fn check_command(
    state: &AppState,
    auth: &Auth,
    id: OrderId,
    command: &Command,
) -> ApiResult<()> {
    let order = orders::load(&state.db, auth.shop.id, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("order"),
            o => o.into(),
        })?;
    auth.require_all(&access::needed_for(command, &order))
}
