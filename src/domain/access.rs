//! Who may do what: the roles a token carries, the permissions a seller
//! action needs, and the one table between them.
//!
//! Seed 001 separates the links of the work: validating and fulfilling an
//! order, and handling its money ("the payment status is generally
//! confirmed by the financial staff … the link of order collection is an
//! independent link"). So besides the owner there is a manager who runs
//! the shop day to day, finance who handle the money, and staff who pack,
//! ship and chat. [`TABLE`] is the single source of truth: the API, the
//! console, the OpenAPI document and the README all read it.

use super::order::{Command, Order};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Manager,
    Finance,
    Staff,
}

impl Role {
    pub const ALL: &'static [Role] = &[Role::Owner, Role::Manager, Role::Finance, Role::Staff];

    /// The stored and wire name (`owner` and `staff` are the names tokens
    /// had before the other roles existed).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Finance => "finance",
            Role::Staff => "staff",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s)
    }
    pub fn describe(self) -> &'static str {
        match self {
            Role::Owner => "everything, including settings and API tokens",
            Role::Manager => {
                "runs the shop day to day: orders, payments, prices, products; not balances, settings or tokens"
            }
            Role::Finance => {
                "handles the money: payments, overpayments, refunds, balances; not shipping or the catalogue"
            }
            Role::Staff => "packs, ships and chats: fulfilment, stock, conversations; no money",
        }
    }
    pub fn may(self, p: Permission) -> bool {
        TABLE
            .iter()
            .any(|(q, roles)| *q == p && roles.contains(&self))
    }
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| self.may(*p))
            .collect()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read orders, customers, conversations, products, the dashboard; print.
    ViewOrders,
    /// Confirm, ship, complete, fail delivery, return to stock, edit the
    /// address, change a line's quantity, cancel an order nobody paid for.
    RunFulfilment,
    ChatWithCustomers,
    ConfirmPayments,
    RecordOverpayment,
    CancelWithRefund,
    DeleteOrders,
    MoveBalances,
    ChangePricesFeesDiscounts,
    EditProductsAndStock,
    ChangeSettings,
    ManageTokens,
    /// The reconciliation report and the CSV exports of orders, payments
    /// and balances: the whole shop's money at once.
    ViewMoneyReports,
}

use Permission as P;
use Role::{Finance, Manager, Owner, Staff};

/// Every permission and the roles that hold it.
pub const TABLE: &[(Permission, &[Role])] = &[
    (P::ViewOrders, &[Owner, Manager, Finance, Staff]),
    (P::RunFulfilment, &[Owner, Manager, Staff]),
    (P::ChatWithCustomers, &[Owner, Manager, Finance, Staff]),
    (P::ConfirmPayments, &[Owner, Manager, Finance]),
    (P::RecordOverpayment, &[Owner, Finance]),
    (P::CancelWithRefund, &[Owner, Manager, Finance]),
    (P::DeleteOrders, &[Owner, Manager]),
    (P::MoveBalances, &[Owner, Finance]),
    (P::ChangePricesFeesDiscounts, &[Owner, Manager]),
    (P::EditProductsAndStock, &[Owner, Manager, Staff]),
    (P::ChangeSettings, &[Owner]),
    (P::ManageTokens, &[Owner]),
    (P::ViewMoneyReports, &[Owner, Manager, Finance]),
];

impl Permission {
    pub const ALL: &'static [Permission] = &[
        P::ViewOrders,
        P::RunFulfilment,
        P::ChatWithCustomers,
        P::ConfirmPayments,
        P::RecordOverpayment,
        P::CancelWithRefund,
        P::DeleteOrders,
        P::MoveBalances,
        P::ChangePricesFeesDiscounts,
        P::EditProductsAndStock,
        P::ChangeSettings,
        P::ManageTokens,
        P::ViewMoneyReports,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            P::ViewOrders => "view_orders",
            P::RunFulfilment => "run_fulfilment",
            P::ChatWithCustomers => "chat_with_customers",
            P::ConfirmPayments => "confirm_payments",
            P::RecordOverpayment => "record_overpayment",
            P::CancelWithRefund => "cancel_with_refund",
            P::DeleteOrders => "delete_orders",
            P::MoveBalances => "move_balances",
            P::ChangePricesFeesDiscounts => "change_prices_fees_discounts",
            P::EditProductsAndStock => "edit_products_and_stock",
            P::ChangeSettings => "change_settings",
            P::ManageTokens => "manage_tokens",
            P::ViewMoneyReports => "view_money_reports",
        }
    }

    /// What the permission allows, in words a seller reads.
    pub fn describe(self) -> &'static str {
        match self {
            P::ViewOrders => "see orders, customers, conversations, products and print",
            P::RunFulfilment => {
                "confirm, ship, complete, fail or return orders, edit addresses and quantities, cancel unpaid orders"
            }
            P::ChatWithCustomers => "reply to customers and pause or resume the bot",
            P::ConfirmPayments => {
                "confirm or reject payments, record COD remittances, pay from a balance, mark differences and refunds due resolved"
            }
            P::RecordOverpayment => "record a payment larger than what the order still owes",
            P::CancelWithRefund => {
                "cancel an order that has money paid (refunded the shop's way: to the customer's balance, or as a refund due)"
            }
            P::DeleteOrders => "delete cancelled or returned orders",
            P::MoveBalances => "deposit into and withdraw from customers' balances",
            P::ChangePricesFeesDiscounts => "change prices, fees and discounts",
            P::EditProductsAndStock => "add and edit products, variants and stock",
            P::ChangeSettings => "change the shop's settings",
            P::ManageTokens => "create, list and revoke API tokens",
            P::ViewMoneyReports => {
                "see the reconciliation report and export orders, payments and balances as CSV"
            }
        }
    }

    pub fn roles(self) -> Vec<Role> {
        Role::ALL.iter().copied().filter(|r| r.may(self)).collect()
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The permissions a seller's command on this order needs, all of them.
///
/// - Confirming a payment or a COD remittance needs `confirm_payments`;
///   a confirmation above what the order still owes (which credits the
///   excess to the customer's balance) also needs `record_overpayment`.
/// - Cancelling needs `cancel_with_refund` when money was paid (it goes
///   back to the customer's balance), else `run_fulfilment`.
/// - Changing a line's unit price, or fees, shipping and discounts, needs
///   `change_prices_fees_discounts`; a quantity alone is fulfilment.
pub fn needed_for(command: &Command, order: &Order) -> Vec<Permission> {
    let remaining = order.totals().remaining.minor;
    let money_in = |amount: &Option<i64>| {
        let mut v = vec![P::ConfirmPayments];
        if amount.is_some_and(|a| a > remaining) {
            v.push(P::RecordOverpayment);
        }
        v
    };
    match command {
        Command::ConfirmPayment {
            amount,
            credit_excess,
            ..
        } => {
            let mut v = money_in(amount);
            if *credit_excess && !v.contains(&P::RecordOverpayment) {
                v.push(P::RecordOverpayment);
            }
            v
        }
        // What the courier remitted is recorded as it is; a difference is
        // for the seller to resolve, not a credit to the customer.
        Command::CollectCod { .. } => vec![P::ConfirmPayments],
        Command::RejectPayment { .. }
        | Command::PayFromBalance { .. }
        | Command::ResolvePayment { .. } => vec![P::ConfirmPayments],
        Command::Cancel { .. } if order.paid > 0 => vec![P::CancelWithRefund],
        Command::RefundClaim { .. } => vec![P::CancelWithRefund],
        Command::Cancel { .. }
        | Command::Confirm
        | Command::Ship { .. }
        | Command::Complete
        | Command::FailDelivery
        | Command::ReturnToStock
        | Command::EditAddress { .. }
        // A service's price is the shop's list, not typed by the seller.
        | Command::AddService { .. }
        | Command::RemoveService { .. }
        | Command::ServiceDone { .. }
        | Command::Track { .. } => vec![P::RunFulfilment],
        Command::ProposeLineChange {
            line_id,
            unit_price,
            ..
        } => {
            let same_price = order
                .lines
                .iter()
                .any(|l| l.id == *line_id && l.unit_price == *unit_price);
            if same_price {
                vec![P::RunFulfilment]
            } else {
                vec![P::ChangePricesFeesDiscounts]
            }
        }
        Command::EditFees { .. } => vec![P::ChangePricesFeesDiscounts],
        // The customer's and the system's commands: a seller's token never
        // sends these, so only the owner could.
        Command::SubmitSlip { .. }
        | Command::ChooseCod
        | Command::Expire
        | Command::OrderMore { .. }
        | Command::AnswerLineChange { .. } => vec![P::ManageTokens],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_in_the_table_once_and_the_owner_holds_all() {
        for p in Permission::ALL {
            assert_eq!(TABLE.iter().filter(|(q, _)| q == p).count(), 1, "{p}");
            assert!(Role::Owner.may(*p), "{p}");
        }
        assert_eq!(TABLE.len(), Permission::ALL.len());
    }

    #[test]
    fn stored_names_round_trip_and_the_old_ones_still_parse() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Role::parse("owner"), Some(Role::Owner));
        assert_eq!(Role::parse("staff"), Some(Role::Staff));
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn staff_may_not_touch_money_and_finance_may_not_ship() {
        assert!(!Role::Staff.may(P::ConfirmPayments));
        assert!(!Role::Staff.may(P::MoveBalances));
        assert!(Role::Staff.may(P::RunFulfilment));
        assert!(!Role::Finance.may(P::RunFulfilment));
        assert!(Role::Finance.may(P::ConfirmPayments));
        assert!(!Role::Manager.may(P::ManageTokens));
    }
}
