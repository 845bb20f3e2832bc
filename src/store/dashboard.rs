//! The dashboard's figures: orders, money paid and still owed per day of
//! the shop's calendar, slips to review, holds about to lapse.

use super::{Db, Result, col};
use crate::domain::calendar::Calendar;
use crate::domain::{ShopId, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DayFigures {
    /// When the local day starts (epoch ms); `date` is the same as `YYYY-MM-DD`.
    pub day: i64,
    pub date: String,
    pub orders: i64,
    /// Money paid on the day's orders (not cancelled): what came in.
    pub revenue: i64,
    /// What the day's open orders still owe, shown apart from revenue.
    pub unpaid: i64,
}

/// An unpaid order whose hold lapses soon.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Expiring {
    pub id: i64,
    pub code: String,
    pub remaining: i64,
    pub hold_until: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Dashboard {
    pub days: Vec<DayFigures>,
    pub pending_slips: i64,
    pub orders_total: i64,
    /// Unpaid orders whose hold lapses within `EXPIRING_WITHIN_HOURS`.
    pub expiring: Vec<Expiring>,
    /// Pushes that did not reach a customer and wait for the seller.
    pub undelivered: i64,
}

/// "Close to expiry": the hold lapses within this many hours.
pub const EXPIRING_WITHIN_HOURS: i64 = 6;

/// Figures per local day of the shop's calendar. Orders are counted in
/// quarter-hour buckets, which every time zone's midnight falls between,
/// and the buckets are summed into the shop's days (of 23, 24 or 25 hours).
pub async fn dashboard(
    db: &Db,
    shop: ShopId,
    days: i64,
    calendar: &Calendar,
    now: Timestamp,
) -> Result<Dashboard> {
    const QUARTER_MS: i64 = 900_000;
    let days = calendar.last_days(now, days.clamp(1, 90));
    let since = days.first().map_or(now.millis(), |d| d.1.millis());
    let rows = sqlx::query(
        "select created_at / 900000 as quarter, count(*) as n, \
         cast(sum(case when fulfilment = 'cancelled' then 0 else paid end) as bigint) as revenue, \
         cast(sum(case when fulfilment in ('cancelled', 'returned') or payment_status = 'void' then 0 else remaining end) as bigint) as unpaid \
         from orders where shop_id = $1 and created_at >= $2 and deleted_at is null group by 1 order by 1",
    )
    .bind(shop.get())
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    let mut out: Vec<DayFigures> = days
        .iter()
        .map(|(date, start, _)| DayFigures {
            day: start.millis(),
            date: date.to_string(),
            orders: 0,
            revenue: 0,
            unpaid: 0,
        })
        .collect();
    for r in &rows {
        let at = col::<i64>(r, "quarter")? * QUARTER_MS;
        if let Some(i) = days
            .iter()
            .position(|(_, s, e)| s.millis() <= at && at < e.millis())
        {
            out[i].orders += col::<i64>(r, "n")?;
            out[i].revenue += col::<Option<i64>>(r, "revenue")?.unwrap_or(0);
            out[i].unpaid += col::<Option<i64>>(r, "unpaid")?.unwrap_or(0);
        }
    }
    let r = sqlx::query(
        "select cast(coalesce(sum(n), 0) as bigint) as total, \
         cast(coalesce(sum(case when payment_status = 'pending_review' then n else 0 end), 0) as bigint) as pending \
         from order_status_counts where shop_id = $1",
    )
    .bind(shop.get())
    .fetch_one(&db.pool)
    .await?;
    let soon = sqlx::query(
        "select id, code, remaining, hold_until from orders where shop_id = $1 and hold_until is not null \
         and hold_until >= $2 and hold_until < $3 and deleted_at is null order by hold_until limit 20",
    )
    .bind(shop.get())
    .bind(now.millis())
    .bind(now.plus_secs(EXPIRING_WITHIN_HOURS * 3600).millis())
    .fetch_all(&db.pool)
    .await?;
    let expiring = soon
        .iter()
        .map(|r| {
            Ok(Expiring {
                id: col(r, "id")?,
                code: col(r, "code")?,
                remaining: col(r, "remaining")?,
                hold_until: col(r, "hold_until")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Dashboard {
        days: out,
        pending_slips: col(&r, "pending")?,
        orders_total: col(&r, "total")?,
        expiring,
        undelivered: super::undelivered::count(db, shop).await?,
    })
}
