//! The console's dashboard (seed 003): orders and revenue per day as
//! charts drawn on the server (SVG, no script, no CDN), pending slips,
//! unpaid orders close to expiry, pushes that did not arrive. Revenue is
//! money paid; what open orders still owe is drawn apart. Days are the
//! shop's days.

use super::{Console, money, page, page_error, unread_total};
use crate::app::AppState;
use crate::domain::Timestamp;
use crate::http::admin::auth::Auth;
use crate::http::admin::lang;
use crate::store::listing::{self, DayFigures};
use axum::extract::{Query, State};
use axum::response::Response;
use minijinja::context;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The ranges a seller picks from.
const RANGES: &[i64] = &[7, 30, 90];

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 140.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Bars per day: `low` drawn solid from the bottom, `high` lighter on top
/// of it. Each bar carries its day and values as a tooltip (and for a
/// screen reader).
fn bars(id: &str, title: &str, days: &[(String, i64, i64, String)]) -> String {
    let max = days
        .iter()
        .map(|(_, low, high, _)| low.saturating_add(*high))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = WIDTH / days.len().max(1) as f64;
    let gap = if step > 6.0 { 1.5 } else { 0.3 };
    let mut svg = format!(
        "<svg id=\"{id}\" viewBox=\"0 0 {WIDTH} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"none\">",
        HEIGHT + 16.0,
        escape(title)
    );
    svg.push_str(&format!(
        "<line x1=\"0\" y1=\"{HEIGHT}\" x2=\"{WIDTH}\" y2=\"{HEIGHT}\" stroke=\"#c9ced6\"/>"
    ));
    for (i, (label, low, high, words)) in days.iter().enumerate() {
        let x = i as f64 * step + gap;
        let w = (step - 2.0 * gap).max(0.5);
        let h_low = *low as f64 / max * HEIGHT;
        let h_high = *high as f64 / max * HEIGHT;
        svg.push_str(&format!(
            "<g><title>{}: {}</title><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h_low:.1}\" fill=\"#1f3a5f\"/>",
            escape(label),
            escape(words),
            HEIGHT - h_low
        ));
        if *high > 0 {
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h_high:.1}\" fill=\"#9fb3d1\"/>",
                HEIGHT - h_low - h_high
            ));
        }
        svg.push_str("</g>");
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"10\" fill=\"#555\">{}</text><text x=\"{WIDTH}\" y=\"{}\" font-size=\"10\" fill=\"#555\" text-anchor=\"end\">{}</text>",
            HEIGHT + 12.0,
            escape(&first.0),
            HEIGHT + 12.0,
            escape(&last.0)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn charts(auth: &Auth, days: &[DayFigures]) -> (String, String) {
    let lang = lang::of(auth);
    let orders: Vec<(String, i64, i64, String)> = days
        .iter()
        .map(|d| {
            let words = lang::with_places(lang, "{count} orders", |_| Some(d.orders.to_string()));
            (d.date.clone(), d.orders, 0, words)
        })
        .collect();
    let revenue: Vec<(String, i64, i64, String)> = days
        .iter()
        .map(|d| {
            let words = lang::with_places(lang, "{paid} paid, {unpaid} still unpaid", |n| {
                Some(money(auth, if n == "paid" { d.revenue } else { d.unpaid }))
            });
            (d.date.clone(), d.revenue, d.unpaid, words)
        })
        .collect();
    (
        bars("orders-chart", &lang::text(lang, "Orders per day"), &orders),
        bars(
            "revenue-chart",
            &lang::text(lang, "Money paid per day, and what is still unpaid"),
            &revenue,
        ),
    )
}

pub(super) async fn dashboard_page(
    State(state): State<AppState>,
    Console(auth): Console,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let days = q
        .get("days")
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| RANGES.contains(d))
        .unwrap_or(7);
    let cal = super::calendar(&auth);
    let d = match listing::dashboard(&state.db, auth.shop.id, days, &cal, crate::clock::now()).await
    {
        Ok(d) => d,
        Err(e) => return page_error(e.into()),
    };
    let (orders_chart, revenue_chart) = charts(&auth, &d.days);
    let paid: i64 = d.days.iter().map(|x| x.revenue).sum();
    let unpaid: i64 = d.days.iter().map(|x| x.unpaid).sum();
    let orders: i64 = d.days.iter().map(|x| x.orders).sum();
    let expiring: Vec<Value> = d
        .expiring
        .iter()
        .map(|e| {
            json!({"id": e.id, "code": e.code, "remaining": money(&auth, e.remaining),
                   "until": cal.date_time(Timestamp(e.hold_until))})
        })
        .collect();
    let unread = unread_total(&state, &auth).await;
    page(
        &auth,
        "admin/dashboard.html",
        context! {
            shop => auth.shop.name.clone(), unread => unread, can => super::can(&auth), days => days,
            ranges => RANGES, orders_chart => orders_chart, revenue_chart => revenue_chart,
            paid => money(&auth, paid), unpaid => money(&auth, unpaid), orders => orders,
            pending_slips => d.pending_slips, expiring => expiring, undelivered => d.undelivered,
            zone => cal.zone_name(),
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chart_has_a_bar_and_a_readable_title_per_day_and_escapes_its_words() {
        let days = vec![
            ("2026-12-01".to_string(), 2, 1, "2 <b>".to_string()),
            ("2026-12-02".to_string(), 0, 0, "none".to_string()),
        ];
        let svg = super::bars("c", "Orders & more", &days);
        assert_eq!(svg.matches("<title>").count(), 2);
        assert!(svg.contains("2026-12-01: 2 &lt;b&gt;"), "{svg}");
        assert!(svg.contains("aria-label=\"Orders &amp; more\""));
        assert_eq!(
            svg.matches("<rect").count(),
            3,
            "a lighter bar only where there is one"
        );
    }
}
