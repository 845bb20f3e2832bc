//! A claim: what a customer reports wrong with an order, and how the shop
//! deals with it. Open → in progress → resolved, with an outcome; every
//! move is one row of history and one push to the customer.

use super::lifecycle::string_enum;
use std::fmt;

string_enum!(
    /// What went wrong, as the customer picks it.
    ClaimReason {
        Damaged = "damaged",
        MissingItem = "missing_item",
        WrongItem = "wrong_item",
        Late = "late",
        Other = "other",
    }
);

string_enum!(
    ClaimStatus {
        Open = "open",
        InProgress = "in_progress",
        Resolved = "resolved",
    }
);

string_enum!(
    /// How a resolved claim ended: money back to the customer's shop
    /// balance (the order's total goes down by it, so the books still add
    /// up), the goods sent again, or not accepted with the reason the
    /// customer is told.
    ClaimOutcome {
        Refund = "refund",
        Reship = "reship",
        Rejected = "rejected",
    }
);

/// A seller's step on a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimStep {
    /// Someone is looking at it.
    Start,
    Resolve {
        outcome: ClaimOutcome,
        /// The refund, for [`ClaimOutcome::Refund`].
        amount: Option<i64>,
        /// Words for the customer: required for a rejection.
        note: Option<String>,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimError {
    #[error("the claim is already {0}")]
    Illegal(&'static str),
    #[error("{0}")]
    BadInput(String),
}

/// What a step leads to: the new status, and the outcome when resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimMove {
    pub from: ClaimStatus,
    pub to: ClaimStatus,
    pub outcome: Option<ClaimOutcome>,
    pub refund: Option<i64>,
    pub note: Option<String>,
}

/// The most a note may say.
pub const MAX_NOTE_CHARS: usize = 500;

/// Decides a step on a claim in `status`; `refundable` is what a refund
/// may give back at most (what the order holds of the customer's money).
pub fn decide(
    status: ClaimStatus,
    step: &ClaimStep,
    refundable: i64,
) -> Result<ClaimMove, ClaimError> {
    let illegal = || ClaimError::Illegal(status_words(status));
    match step {
        ClaimStep::Start if status == ClaimStatus::Open => Ok(ClaimMove {
            from: status,
            to: ClaimStatus::InProgress,
            outcome: None,
            refund: None,
            note: None,
        }),
        ClaimStep::Start => Err(illegal()),
        ClaimStep::Resolve { .. } if status == ClaimStatus::Resolved => Err(illegal()),
        ClaimStep::Resolve {
            outcome,
            amount,
            note,
        } => {
            let note = note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            if note.as_ref().is_some_and(|n| {
                n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control)
            }) {
                return Err(ClaimError::BadInput(format!(
                    "note: at most {MAX_NOTE_CHARS} characters, no control characters"
                )));
            }
            let refund = match (outcome, amount) {
                (ClaimOutcome::Refund, Some(a)) if *a > 0 && *a <= refundable => Some(*a),
                (ClaimOutcome::Refund, Some(a)) if *a > 0 => {
                    return Err(ClaimError::BadInput(format!(
                        "amount: at most {refundable} can be refunded on this order (what the customer paid for it)"
                    )));
                }
                (ClaimOutcome::Refund, _) => {
                    return Err(ClaimError::BadInput(
                        "amount: a refund needs an amount above 0".into(),
                    ));
                }
                (_, Some(_)) => {
                    return Err(ClaimError::BadInput(
                        "amount: only a refund has an amount".into(),
                    ));
                }
                (_, None) => None,
            };
            if *outcome == ClaimOutcome::Rejected && note.is_none() {
                return Err(ClaimError::BadInput(
                    "note: say why the claim is rejected; the customer is told".into(),
                ));
            }
            Ok(ClaimMove {
                from: status,
                to: ClaimStatus::Resolved,
                outcome: Some(*outcome),
                refund,
                note,
            })
        }
    }
}

/// A status in words, for a seller.
pub fn status_words(s: ClaimStatus) -> &'static str {
    match s {
        ClaimStatus::Open => "open",
        ClaimStatus::InProgress => "in progress",
        ClaimStatus::Resolved => "resolved",
    }
}

impl fmt::Display for ClaimStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimStep::Start => f.write_str("start"),
            ClaimStep::Resolve { outcome, .. } => write!(f, "resolve ({outcome})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClaimOutcome::*;
    use ClaimStatus::*;

    fn resolve(outcome: ClaimOutcome, amount: Option<i64>, note: Option<&str>) -> ClaimStep {
        ClaimStep::Resolve {
            outcome,
            amount,
            note: note.map(str::to_string),
        }
    }

    #[test]
    fn open_then_in_progress_then_resolved_once() {
        assert_eq!(decide(Open, &ClaimStep::Start, 0).unwrap().to, InProgress);
        assert_eq!(
            decide(InProgress, &ClaimStep::Start, 0),
            Err(ClaimError::Illegal("in progress"))
        );
        let m = decide(Open, &resolve(Reship, None, None), 0).unwrap();
        assert_eq!((m.to, m.outcome), (Resolved, Some(Reship)));
        assert_eq!(
            decide(Resolved, &resolve(Reship, None, None), 0),
            Err(ClaimError::Illegal("resolved"))
        );
        assert_eq!(
            decide(Resolved, &ClaimStep::Start, 0),
            Err(ClaimError::Illegal("resolved"))
        );
    }

    #[test]
    fn a_refund_is_within_what_was_paid_and_a_rejection_says_why() {
        assert_eq!(
            decide(InProgress, &resolve(Refund, Some(5_000), None), 29_900)
                .unwrap()
                .refund,
            Some(5_000)
        );
        for bad in [None, Some(0), Some(-1), Some(29_901)] {
            assert!(matches!(
                decide(InProgress, &resolve(Refund, bad, None), 29_900),
                Err(ClaimError::BadInput(m)) if m.starts_with("amount")
            ));
        }
        assert!(decide(Open, &resolve(Reship, Some(1), None), 100).is_err());
        assert!(decide(Open, &resolve(Rejected, None, Some("  ")), 0).is_err());
        let m = decide(Open, &resolve(Rejected, None, Some(" worn after use ")), 0).unwrap();
        assert_eq!(m.note.as_deref(), Some("worn after use"));
        assert!(decide(Open, &resolve(Rejected, None, Some(&"x".repeat(501))), 0).is_err());
    }
}
