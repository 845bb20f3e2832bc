//! The books an accountant reads: for a period of the shop's days, the
//! money received by method, refunds, balance movements, COD per carrier,
//! what the seller must still resolve, and the check that everything adds
//! up; and the CSV rows an accounting program imports (dates in the shop's
//! time zone, amounts in major units beside the currency).

use super::calendar::Calendar;
use super::{Currency, CustomerId, Money, OrderId, Timestamp};
use jiff::civil::Date;

/// A period of whole local days, `from` to `to` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub first_day: Date,
    pub last_day: Date,
    /// The instant the first day starts.
    pub from: Timestamp,
    /// The instant after the last day ends.
    pub to: Timestamp,
}

/// The longest period one report or export covers (a leap year and a day).
pub const MAX_DAYS: i32 = 367;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("{0}: expected a date YYYY-MM-DD between 1970 and 9999")]
    BadDate(&'static str),
    #[error("to ({to}) is before from ({from})")]
    Backwards { from: Date, to: Date },
    #[error("the period is longer than {MAX_DAYS} days; export it a year at a time")]
    TooLong,
}

impl Period {
    /// `from` and `to` as the seller gives them (`YYYY-MM-DD`, the shop's
    /// days); without them, the 30 days up to today.
    pub fn parse(
        cal: &Calendar,
        from: Option<&str>,
        to: Option<&str>,
        now: Timestamp,
    ) -> Result<Period, PeriodError> {
        let day = |s: Option<&str>, what| -> Result<Option<Date>, PeriodError> {
            match s.map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => s
                    .parse::<Date>()
                    .ok()
                    .filter(|d| d.year() >= 1970)
                    .map(Some)
                    .ok_or(PeriodError::BadDate(what)),
            }
        };
        let today = cal.day_of(now).ok_or(PeriodError::BadDate("today"))?;
        let last_day = day(to, "to")?.unwrap_or(today);
        let first_day = match day(from, "from")? {
            Some(d) => d,
            None => last_day
                .checked_sub(jiff::Span::new().days(29))
                .map_err(|_| PeriodError::BadDate("from"))?,
        };
        if last_day < first_day {
            return Err(PeriodError::Backwards {
                from: first_day,
                to: last_day,
            });
        }
        let days = first_day
            .until(last_day)
            .map(|s| s.get_days())
            .map_err(|_| PeriodError::TooLong)?;
        if days >= MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        let start = cal
            .start_of(first_day)
            .ok_or(PeriodError::BadDate("from"))?;
        let end = last_day
            .tomorrow()
            .ok()
            .and_then(|d| cal.start_of(d))
            .ok_or(PeriodError::BadDate("to"))?;
        Ok(Period {
            first_day,
            last_day,
            from: start,
            to: end,
        })
    }
}

/// Every amount an order holds explained by payment rows and ledger
/// entries (`store::reconcile::check` fills it in).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciliation {
    /// Σ orders.paid.
    pub orders_paid: i64,
    /// Σ payment rows that moved money: confirmed, COD differences (what the
    /// order took) and refunds due (negative).
    pub payments: i64,
    /// Σ spent from balances on orders.
    pub balance_spent: i64,
    /// Σ given back to balances from orders (refunds and credited excess).
    pub given_back: i64,
    /// Customers whose cached balance is not the sum of their ledger, or is
    /// below zero: (customer, balance, Σ ledger).
    pub bad_balances: Vec<(CustomerId, i64, i64)>,
    /// Orders whose amounts or state disagree: (order, why).
    pub bad_orders: Vec<(OrderId, String)>,
}

impl Reconciliation {
    /// Σ order payments = Σ payments + balance spends − refunds, and no
    /// balance or order out of line.
    pub fn balances(&self) -> bool {
        self.orders_paid == self.payments + self.balance_spent - self.given_back
            && self.bad_balances.is_empty()
            && self.bad_orders.is_empty()
    }
}

/// A count and a sum (minor units) under a name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    pub item: String,
    pub count: i64,
    pub amount: i64,
}

/// What one carrier owes for cash on delivery, over the COD orders it was
/// given in the period.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CarrierCod {
    pub carrier: String,
    /// COD orders handed to the carrier.
    pub orders: i64,
    /// Σ the totals of those delivered: what the carrier should remit.
    pub expected: i64,
    /// Σ what the carrier remitted (a long remittance counted in full).
    pub collected: i64,
    /// Σ remitted − owed over remittances that did not match.
    pub difference: i64,
    /// Delivered, the remittance not in yet.
    pub awaiting: i64,
    /// Still on the way.
    pub in_transit: i64,
    /// Orders that failed or came back (nothing to remit).
    pub not_delivered: i64,
}

/// A payment row the seller still has to deal with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OpenItem {
    pub payment_id: i64,
    pub order_id: OrderId,
    pub order_code: String,
    /// `difference` (a COD remittance that did not match) or `refund_due`.
    pub status: String,
    /// What the order took (a refund due: what the shop owes, as a positive amount).
    pub amount: i64,
    /// For a COD remittance: remitted − owed.
    pub difference: i64,
    pub created_at: Timestamp,
}

/// The report for a period.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub currency: Currency,
    pub time_zone: String,
    pub from: String,
    pub to: String,
    /// Money received on orders in the period, by payment method (slips
    /// confirmed, manual confirmations, COD remittances).
    pub received: Vec<Line>,
    /// Orders paid from customers' balances in the period.
    pub paid_from_balance: Line,
    /// Money given back in the period: `to_balance` (refunds to balances),
    /// `credited_excess` (overpayments credited), `refund_due` (owed back
    /// by hand), `refund_paid_back` (of those, marked paid back).
    pub refunds: Vec<Line>,
    /// Balance movements in the period by kind: deposit, withdraw,
    /// pay_order (spends), refund, credit.
    pub balances: Vec<Line>,
    pub cod: Vec<CarrierCod>,
    /// Unresolved COD differences and refunds due, whenever they arose.
    pub open: Vec<OpenItem>,
    /// The orders placed in the period: their paid amounts explained.
    pub period_books: Reconciliation,
    /// The whole shop, as of now.
    pub books: Reconciliation,
}

impl Report {
    pub fn balances(&self) -> bool {
        self.books.balances() && self.period_books.balances()
    }
}

/// `1234.50` for 123450 minor units of THB; `-20000` for VND.
pub fn major(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).to_decimal_string()
}

/// CSV one row at a time (RFC 4180: CRLF, quotes doubled). Text that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at the
/// start) is prefixed with `'`, since names and notes come from customers.
#[derive(Default)]
pub struct Csv {
    out: String,
}

impl Csv {
    pub fn new() -> Csv {
        Csv::default()
    }
    /// A row of text cells.
    pub fn row(&mut self, cells: &[&str]) -> &mut Csv {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.cell(cell);
        }
        self.out.push_str("\r\n");
        self
    }
    fn cell(&mut self, text: &str) {
        let guarded = text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(text);
        let quote = guarded || text.contains([',', '"', '\n', '\r']);
        if quote {
            self.out.push('"');
        }
        if guarded {
            self.out.push('\'');
        }
        for c in text.chars() {
            if c == '"' {
                self.out.push('"');
            }
            self.out.push(c);
        }
        if quote {
            self.out.push('"');
        }
    }
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}

/// Amounts such as `-20.00` are numbers, not formulas.
fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
}

/// The report as CSV: `section,item,count,amount,currency`.
pub fn report_csv(r: &Report) -> String {
    let c = r.currency;
    let mut csv = Csv::new();
    csv.row(&["section", "item", "count", "amount", "currency"]);
    let line = |csv: &mut Csv, section: &str, l: &Line| {
        csv.row(&[
            section,
            &l.item,
            &l.count.to_string(),
            &major(l.amount, c),
            c.code(),
        ]);
    };
    csv.row(&["period", "from", "", &r.from, ""]);
    csv.row(&["period", "to", "", &r.to, ""]);
    csv.row(&["period", "time_zone", "", &r.time_zone, ""]);
    for l in &r.received {
        line(&mut csv, "received", l);
    }
    line(&mut csv, "received", &r.paid_from_balance);
    for l in &r.refunds {
        line(&mut csv, "refunds", l);
    }
    for l in &r.balances {
        line(&mut csv, "balances", l);
    }
    for k in &r.cod {
        let name = &k.carrier;
        for (item, count, amount) in [
            ("expected", k.orders, k.expected),
            ("collected", k.orders, k.collected),
            ("difference", k.orders, k.difference),
            ("awaiting", k.orders, k.awaiting),
            ("in_transit", k.orders, k.in_transit),
        ] {
            let l = Line {
                item: format!("{name}: {item}"),
                count,
                amount,
            };
            line(&mut csv, "cod", &l);
        }
    }
    for o in &r.open {
        let l = Line {
            item: format!("{} {} #{}", o.order_code, o.status, o.payment_id),
            count: 1,
            amount: if o.status == "refund_due" {
                o.amount
            } else {
                o.difference
            },
        };
        line(&mut csv, "open", &l);
    }
    for (name, b) in [("books_period", &r.period_books), ("books", &r.books)] {
        for (item, amount) in [
            ("orders_paid", b.orders_paid),
            ("payments", b.payments),
            ("balance_spent", b.balance_spent),
            ("given_back", b.given_back),
        ] {
            csv.row(&[name, item, "", &major(amount, c), c.code()]);
        }
        let ok = if b.balances() { "yes" } else { "no" };
        csv.row(&[name, "balances", "", ok, ""]);
    }
    csv.take()
}

/// One order as an accounting program imports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRow {
    pub id: OrderId,
    pub code: String,
    pub created_at: Timestamp,
    pub customer: String,
    pub phone: String,
    pub channel: String,
    pub fulfilment: String,
    pub payment_status: String,
    pub payment_method: String,
    pub subtotal: i64,
    pub shipping_fee: i64,
    pub service_fees: i64,
    pub discount: i64,
    pub total: i64,
    pub paid: i64,
    pub remaining: i64,
    pub carrier: String,
    pub tracking: String,
}

pub const ORDER_HEADER: &[&str] = &[
    "date",
    "order",
    "customer",
    "phone",
    "channel",
    "status",
    "payment_status",
    "payment_method",
    "currency",
    "subtotal",
    "shipping_fee",
    "service_fees",
    "discount",
    "total",
    "paid",
    "remaining",
    "carrier",
    "tracking",
];

pub fn order_csv(csv: &mut Csv, cal: &Calendar, c: Currency, o: &OrderRow) {
    csv.row(&[
        cal.sortable(o.created_at).as_str(),
        &o.code,
        &o.customer,
        &o.phone,
        &o.channel,
        &o.fulfilment,
        &o.payment_status,
        &o.payment_method,
        c.code(),
        &major(o.subtotal, c),
        &major(o.shipping_fee, c),
        &major(o.service_fees, c),
        &major(o.discount, c),
        &major(o.total, c),
        &major(o.paid, c),
        &major(o.remaining, c),
        &o.carrier,
        &o.tracking,
    ]);
}

/// One movement of an order's money: a payment row, or a balance entry
/// that paid an order or gave money back from one. Summed per order, the
/// amounts are what the order holds as paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoneyRow {
    /// `payment:<id>` or `ledger:<id>`: a key no two rows share.
    pub reference: String,
    pub at: Timestamp,
    pub order_code: String,
    pub customer: String,
    /// `bank_transfer`, `qr_transfer`, `cod`, `balance`.
    pub method: String,
    /// A payment row's status (`confirmed`, `difference`, `refund_due`) or
    /// a ledger kind (`pay_order`, `refund`, `credit`).
    pub kind: String,
    /// Signed: what the order's paid amount moved by.
    pub amount: i64,
    /// For a COD remittance: remitted − owed.
    pub difference: i64,
    /// The slip's bank and transaction reference, when read.
    pub bank_reference: String,
    pub by: String,
    /// For a COD difference or a refund due: when the seller resolved it.
    pub resolved: String,
}

pub const MONEY_HEADER: &[&str] = &[
    "date",
    "reference",
    "order",
    "customer",
    "method",
    "kind",
    "currency",
    "amount",
    "difference",
    "bank_reference",
    "by",
    "resolved",
];

pub fn money_csv(csv: &mut Csv, cal: &Calendar, c: Currency, m: &MoneyRow) {
    csv.row(&[
        cal.sortable(m.at).as_str(),
        &m.reference,
        &m.order_code,
        &m.customer,
        &m.method,
        &m.kind,
        c.code(),
        &major(m.amount, c),
        &major(m.difference, c),
        &m.bank_reference,
        &m.by,
        &m.resolved,
    ]);
}

/// One entry of a customer's balance ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceRow {
    pub id: i64,
    pub at: Timestamp,
    pub customer: String,
    pub kind: String,
    /// Signed.
    pub amount: i64,
    pub balance_after: i64,
    pub order_code: String,
    pub note: String,
    pub by: String,
}

pub const BALANCE_HEADER: &[&str] = &[
    "date",
    "entry",
    "customer",
    "kind",
    "currency",
    "amount",
    "balance_after",
    "order",
    "note",
    "by",
];

pub fn balance_csv(csv: &mut Csv, cal: &Calendar, c: Currency, b: &BalanceRow) {
    csv.row(&[
        cal.sortable(b.at).as_str(),
        &b.id.to_string(),
        &b.customer,
        &b.kind,
        c.code(),
        &major(b.amount, c),
        &major(b.balance_after, c),
        &b.order_code,
        &b.note,
        &b.by,
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bangkok() -> Calendar {
        Calendar::new(Some("Asia/Bangkok"), 0)
    }

    #[test]
    fn a_period_is_whole_local_days() {
        let cal = bangkok();
        let now = cal.parse_day("2026-12-06").unwrap().plus_secs(3600);
        let p = Period::parse(&cal, Some("2026-12-01"), Some("2026-12-01"), now).unwrap();
        assert_eq!(p.to.millis() - p.from.millis(), 86_400_000);
        assert_eq!(p.from, cal.parse_day("2026-12-01").unwrap());
        let default = Period::parse(&cal, None, None, now).unwrap();
        assert_eq!(default.last_day.to_string(), "2026-12-06");
        assert_eq!(default.first_day.to_string(), "2026-11-07");
    }

    #[test]
    fn bad_periods_are_refused_with_the_reason() {
        let cal = bangkok();
        let now = Timestamp(1_796_126_400_000);
        let e = |f, t| Period::parse(&cal, f, t, now).unwrap_err().to_string();
        assert!(e(Some("1000000000-01-01"), None).starts_with("from: expected"));
        assert!(e(None, Some("2026-02-30")).starts_with("to: expected"));
        assert!(e(Some("1969-12-31"), None).starts_with("from"));
        assert!(e(Some("2026-12-02"), Some("2026-12-01")).contains("before"));
        assert!(e(Some("2024-01-01"), Some("2026-01-01")).contains("longer"));
    }

    #[test]
    fn csv_quotes_what_needs_it_and_disarms_formulas() {
        let mut csv = Csv::new();
        csv.row(&[
            "a,b",
            "say \"hi\"",
            "=HYPERLINK(\"x\")",
            "-20.00",
            "-1+1",
            "plain",
        ]);
        assert_eq!(
            csv.take(),
            "\"a,b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",-20.00,\"'-1+1\",plain\r\n"
        );
        let mut csv = Csv::new();
        csv.row(&["@SUM(A1)", "+1", "line\nbreak"]);
        assert_eq!(csv.take(), "\"'@SUM(A1)\",\"'+1\",\"line\nbreak\"\r\n");
    }

    #[test]
    fn amounts_are_major_units_of_the_currency() {
        assert_eq!(major(34_900, Currency::THB), "349.00");
        assert_eq!(major(-5, Currency::THB), "-0.05");
        assert_eq!(major(250_000, Currency::VND), "250000");
    }
}
