//! `chatbill books report | export`: the accountant's figures from the
//! command line, the same as the admin API gives.

use crate::app::books::{self, Export, ExportKind};
use crate::config::{Config, Secrets};
use crate::domain::ShopId;
use crate::domain::books::{Period, Report, major, report_csv};
use crate::store::shops;
use std::io::Write;

#[derive(clap::Subcommand)]
pub enum Command {
    /// The reconciliation report for a period (the shop's days).
    Report {
        #[arg(long)]
        shop: i64,
        /// First day, YYYY-MM-DD (default: 30 days up to --to).
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD, inclusive (default: today).
        #[arg(long)]
        to: Option<String>,
        /// Print CSV instead of text.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write a CSV export: orders, payments or balances.
    Export {
        #[arg(value_parser = ["orders", "payments", "balances"])]
        kind: String,
        #[arg(long)]
        shop: i64,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// File to write (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

pub async fn run(command: Command) -> Result<(), String> {
    let config = Config::from_env(Secrets::Optional).map_err(|e| e.to_string())?;
    let db = super::connect(&config).await?;
    let (shop, from, to) = match &command {
        Command::Report { shop, from, to, .. } | Command::Export { shop, from, to, .. } => {
            (*shop, from.as_deref(), to.as_deref())
        }
    };
    let shop = shops::get(&db, ShopId(shop))
        .await
        .map_err(|_| format!("--shop: no shop {shop}"))?;
    let period = Period::parse(&shop.settings.calendar(), from, to, crate::clock::now())
        .map_err(|e| e.to_string())?;
    match command {
        Command::Report { csv, json, .. } => {
            let report = books::report(&db, &shop, &period)
                .await
                .map_err(|e| e.to_string())?;
            if csv {
                print!("{}", report_csv(&report));
            } else if json {
                let body = serde_json::json!({"report": report, "balances": report.balances()});
                println!("{body:#}");
            } else {
                print!("{}", text(&report));
            }
        }
        Command::Export { kind, out, .. } => {
            let kind = ExportKind::parse(&kind).ok_or_else(|| format!("unknown export {kind}"))?;
            let mut export = Export::new(kind, shop, period);
            let mut sink: Box<dyn Write> = match &out {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .map_err(|e| format!("--out: cannot create {}: {e}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            while let Some(chunk) = export.next(&db).await.map_err(|e| e.to_string())? {
                sink.write_all(chunk.as_bytes())
                    .map_err(|e| format!("writing the export: {e}"))?;
            }
            sink.flush()
                .map_err(|e| format!("writing the export: {e}"))?;
            if let Some(path) = out {
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(())
}

/// The report as a person reads it.
fn text(r: &Report) -> String {
    let c = r.currency;
    let m = |minor: i64| format!("{} {}", major(minor, c), c.code());
    let mut out = format!("Books {} to {} ({})\n", r.from, r.to, r.time_zone);
    out.push_str("Received\n");
    for l in r.received.iter().chain([&r.paid_from_balance]) {
        out.push_str(&format!(
            "  {:<24}{:>6}  {}\n",
            l.item,
            l.count,
            m(l.amount)
        ));
    }
    out.push_str("Given back\n");
    for l in &r.refunds {
        out.push_str(&format!(
            "  {:<24}{:>6}  {}\n",
            l.item,
            l.count,
            m(l.amount)
        ));
    }
    out.push_str("Customer balances\n");
    for l in &r.balances {
        out.push_str(&format!(
            "  {:<24}{:>6}  {}\n",
            l.item,
            l.count,
            m(l.amount)
        ));
    }
    for k in &r.cod {
        out.push_str(&format!(
            "Cash on delivery, {}: {} orders, expected {}, collected {}, difference {}, awaiting {}\n",
            k.carrier,
            k.orders,
            m(k.expected),
            m(k.collected),
            m(k.difference),
            m(k.awaiting)
        ));
    }
    for o in &r.open {
        out.push_str(&format!(
            "Open: order {} {} (payment {}): {}\n",
            o.order_code,
            o.status,
            o.payment_id,
            m(if o.status == "refund_due" {
                o.amount
            } else {
                o.difference
            })
        ));
    }
    let verdict = if r.balances() {
        "the books balance"
    } else {
        "the books DO NOT balance"
    };
    out.push_str(&format!(
        "Paid on orders {}: payments {} + from balances {} - given back {}; {verdict}\n",
        m(r.books.orders_paid),
        m(r.books.payments),
        m(r.books.balance_spent),
        m(r.books.given_back),
    ));
    for (order, why) in r.books.bad_orders.iter().take(20) {
        out.push_str(&format!("  order {}: {why}\n", order.get()));
    }
    for (customer, cached, ledger) in r.books.bad_balances.iter().take(20) {
        out.push_str(&format!(
            "  customer {}: balance {} but ledger {}\n",
            customer.get(),
            m(*cached),
            m(*ledger)
        ));
    }
    out
}
