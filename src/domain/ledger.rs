//! A customer's shop balance: an append-only ledger of signed entries.
//! The balance is the sum of the entries; it never goes negative unless the
//! shop allows credit.

use super::lifecycle::string_enum;
use std::fmt;

string_enum!(
    LedgerKind {
        Deposit = "deposit",
        Withdraw = "withdraw",
        PayOrder = "pay_order",
        Refund = "refund",
        Credit = "credit",
    }
);

impl LedgerKind {
    /// Credits add to the balance; debits take from it.
    pub fn is_credit(self) -> bool {
        matches!(
            self,
            LedgerKind::Deposit | LedgerKind::Refund | LedgerKind::Credit
        )
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LedgerError {
    #[error("amount must be positive")]
    NotPositive,
    #[error("balance {balance} is not enough for {amount}")]
    Insufficient { balance: i64, amount: i64 },
    #[error("amount out of range")]
    Overflow,
}

/// The signed entry for `amount` (always given positive) of `kind`, and the
/// balance after it.
pub fn post(
    balance: i64,
    kind: LedgerKind,
    amount: i64,
    allow_negative: bool,
) -> Result<(i64, i64), LedgerError> {
    if amount <= 0 {
        return Err(LedgerError::NotPositive);
    }
    if amount > super::money::MAX_MINOR {
        return Err(LedgerError::Overflow);
    }
    let signed = if kind.is_credit() { amount } else { -amount };
    let after = balance
        .checked_add(signed)
        .filter(|a| *a <= super::money::MAX_MINOR && *a >= -super::money::MAX_MINOR)
        .ok_or(LedgerError::Overflow)?;
    if after < 0 && !kind.is_credit() && !allow_negative {
        return Err(LedgerError::Insufficient { balance, amount });
    }
    Ok((signed, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn deposits_withdrawals_and_refusals() {
        assert_eq!(post(0, LedgerKind::Deposit, 500, false), Ok((500, 500)));
        assert_eq!(post(500, LedgerKind::PayOrder, 200, false), Ok((-200, 300)));
        assert_eq!(
            post(300, LedgerKind::Withdraw, 301, false),
            Err(LedgerError::Insufficient {
                balance: 300,
                amount: 301
            })
        );
        assert_eq!(post(300, LedgerKind::Withdraw, 301, true), Ok((-301, -1)));
        assert_eq!(
            post(0, LedgerKind::Refund, 0, false),
            Err(LedgerError::NotPositive)
        );
    }

    proptest! {
        #[test]
        fn balance_is_the_sum_and_never_negative(ops in proptest::collection::vec((0u8..5, 1i64..10_000), 0..60)) {
            let mut balance = 0i64;
            let mut entries = Vec::new();
            for (k, amount) in ops {
                let kind = LedgerKind::ALL[k as usize];
                if let Ok((signed, after)) = post(balance, kind, amount, false) {
                    entries.push(signed);
                    balance = after;
                }
                prop_assert!(balance >= 0);
                prop_assert_eq!(balance, entries.iter().sum::<i64>());
            }
        }
    }
}
