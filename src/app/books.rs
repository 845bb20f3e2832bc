//! The books an accountant takes away: the reconciliation report and the
//! CSV exports, produced a page at a time so the API can stream them and
//! the CLI can write them without holding a year in memory.

use crate::domain::books::{self, Csv, Period, Report};
use crate::store::books::{self as rows, MoneyCursor};
use crate::store::shops::Shop;
use crate::store::{Db, Result};

pub async fn report(db: &Db, shop: &Shop, period: &Period) -> Result<Report> {
    let cal = shop.settings.calendar();
    rows::report(db, shop.id, shop.currency, &cal, period).await
}

/// What an export lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// One row per order placed in the period.
    Orders,
    /// Every movement of orders' money: payments and balance entries.
    Payments,
    /// The customers' balance ledger.
    Balances,
}

impl ExportKind {
    pub const ALL: &'static [ExportKind] = &[
        ExportKind::Orders,
        ExportKind::Payments,
        ExportKind::Balances,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Orders => "orders",
            ExportKind::Payments => "payments",
            ExportKind::Balances => "balances",
        }
    }
    pub fn parse(s: &str) -> Option<ExportKind> {
        ExportKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// Where an export has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportCursor {
    Start,
    After(i64),
    Money(MoneyCursor),
}

/// One export, page by page: call [`Export::next`] until it gives `None`.
pub struct Export {
    pub kind: ExportKind,
    pub shop: Shop,
    pub period: Period,
    cursor: Option<ExportCursor>,
}

impl Export {
    pub fn new(kind: ExportKind, shop: Shop, period: Period) -> Export {
        Export {
            kind,
            shop,
            period,
            cursor: Some(ExportCursor::Start),
        }
    }

    /// `chatbill-orders-2026-12-01-2026-12-31.csv`.
    pub fn file_name(&self) -> String {
        format!(
            "chatbill-{}-{}-{}.csv",
            self.kind.as_str(),
            self.period.first_day,
            self.period.last_day
        )
    }

    /// The next chunk of CSV (the header comes with the first), or `None`
    /// when the export is complete.
    pub async fn next(&mut self, db: &Db) -> Result<Option<String>> {
        let Some(cursor) = self.cursor else {
            return Ok(None);
        };
        let cal = self.shop.settings.calendar();
        let (c, shop, p) = (self.shop.currency, self.shop.id, &self.period);
        let mut csv = Csv::new();
        if cursor == ExportCursor::Start {
            csv.row(match self.kind {
                ExportKind::Orders => books::ORDER_HEADER,
                ExportKind::Payments => books::MONEY_HEADER,
                ExportKind::Balances => books::BALANCE_HEADER,
            });
        }
        let after = match cursor {
            ExportCursor::After(id) => id,
            _ => 0,
        };
        let full = |n: usize| n as i64 == rows::PAGE;
        self.cursor = match self.kind {
            ExportKind::Orders => {
                let page = rows::orders_page(db, shop, p, after).await?;
                page.iter()
                    .for_each(|o| books::order_csv(&mut csv, &cal, c, o));
                page.last()
                    .filter(|_| full(page.len()))
                    .map(|o| ExportCursor::After(o.id.get()))
            }
            ExportKind::Balances => {
                let page = rows::balances_page(db, shop, p, after).await?;
                page.iter()
                    .for_each(|b| books::balance_csv(&mut csv, &cal, c, b));
                page.last()
                    .filter(|_| full(page.len()))
                    .map(|b| ExportCursor::After(b.id))
            }
            ExportKind::Payments => {
                let from = match cursor {
                    ExportCursor::Money(m) => m,
                    _ => MoneyCursor::default(),
                };
                let (page, next) = rows::money_page(db, shop, &cal, p, from).await?;
                page.iter()
                    .for_each(|m| books::money_csv(&mut csv, &cal, c, m));
                next.map(ExportCursor::Money)
            }
        };
        Ok(Some(csv.take()))
    }

    /// The whole export as one string (for tests and small periods).
    pub async fn collect(mut self, db: &Db) -> Result<String> {
        let mut out = String::new();
        while let Some(chunk) = self.next(db).await? {
            out.push_str(&chunk);
        }
        Ok(out)
    }
}
