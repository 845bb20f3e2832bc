//! The seller's orders list with tab counts on a shop with 1,000,000 orders,
//! end to end over HTTP (token check, list page, counts of all ten tabs).
//!
//! SQLite (default; the database file is kept under target/ and reused):
//!     cargo bench --bench orders_list
//! PostgreSQL (database `chatbill_bench` is created and reused):
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench orders_list
//! Options: BENCH_ORDERS (default 1000000), BENCH_REQUESTS per query (default 300).

use chatbill::config::{Config, Secrets};
use chatbill::domain::{Currency, Timestamp};
use chatbill::store::shops::{self, ShopSettings};
use chatbill::store::tokens::{self, Role};
use chatbill::store::{Backend, Db};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const CUSTOMERS: i64 = 20_000;

async fn scalar(db: &Db, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .unwrap_or(0)
}

/// Fills shop 1 with `n` orders in a realistic mix of states, in bulk SQL.
async fn generate(db: &Db, n: i64) {
    let started = Instant::now();
    let t0: i64 = 1_760_000_000_000;
    let shop = shops::create(
        db,
        "Bench shop",
        Currency::THB,
        "en",
        &ShopSettings::default(),
        Timestamp(t0),
    )
    .await
    .expect("shop");
    assert_eq!(shop.id.get(), 1, "the bench database must start empty");
    let series = |upto: i64| match db.backend {
        Backend::Sqlite => format!(
            "with recursive s(i) as (select 1 union all select i + 1 from s where i < {upto}) select i from s"
        ),
        Backend::Postgres => format!("select i from generate_series(1::bigint, {upto}) as g(i)"),
    };
    let pad = match db.backend {
        Backend::Sqlite => "substr('00000000' || i, -8)",
        Backend::Postgres => "lpad(i::text, 8, '0')",
    };
    let names = match db.backend {
        Backend::Sqlite => "'Customer ' || i",
        Backend::Postgres => "'Customer ' || i::text",
    };
    sqlx::query(&format!(
        "insert into customers (shop_id, channel, channel_user_id, display_name, phone, balance, created_at, updated_at) \
         select 1, 'messenger', 'psid' || {pad}, {names}, '+66810' || {pad}, 0, {t0}, {t0} from ({}) q",
        series(CUSTOMERS)
    ))
    .execute(db.pool())
    .await
    .expect("customers");
    // States by i % 100: mostly completed, a realistic tail of the rest.
    let state = "case \
        when i % 100 < 55 then 'completed' when i % 100 < 60 then 'completed' \
        when i % 100 < 68 then 'cancelled' when i % 100 < 76 then 'shipping' \
        when i % 100 < 82 then 'placed' when i % 100 < 86 then 'placed' \
        when i % 100 < 89 then 'awaiting_cod' when i % 100 < 94 then 'confirmed' \
        when i % 100 < 96 then 'failed' when i % 100 < 97 then 'returned' else 'placed' end";
    let pay = "case \
        when i % 100 < 55 then 'paid' when i % 100 < 60 then 'cod_collected' \
        when i % 100 < 68 then 'void' when i % 100 < 76 then 'paid' \
        when i % 100 < 82 then 'unpaid' when i % 100 < 86 then 'pending_review' \
        when i % 100 < 89 then 'cod_pending' when i % 100 < 94 then 'paid' \
        when i % 100 < 96 then 'paid' when i % 100 < 97 then 'refunded' else 'rejected' end";
    let chunk = 100_000;
    let mut done = 0;
    while done < n {
        let upto = chunk.min(n - done);
        sqlx::query(&format!(
            "insert into orders (shop_id, customer_id, code, channel, currency, fulfilment, payment_status, payment_method, \
             subtotal, shipping_fee, service_fees, discount, total, paid, remaining, version, created_at, updated_at) \
             select 1, 1 + (i * 7919) % {CUSTOMERS}, 'CB-' || {pad}, case when i % 3 = 0 then 'webchat' else 'messenger' end, 'THB', \
             {state}, {pay}, 'bank_transfer', 29900, 5000, 0, 0, 34900, \
             case when {pay} in ('paid', 'cod_collected') then 34900 else 0 end, \
             case when {pay} in ('paid', 'cod_collected') then 0 else 34900 end, \
             1, {t0} + i * 30000, {t0} + i * 30000 + (i % 7) * 3600000 \
             from (select i + {done} as i from ({}) q) q2",
            series(upto)
        ))
        .execute(db.pool())
        .await
        .expect("orders");
        done += upto;
        eprintln!("  {done} orders ({:.1} s)", started.elapsed().as_secs_f64());
    }
    sqlx::query(
        "insert into order_status_counts (shop_id, fulfilment, payment_status, n) \
         select shop_id, fulfilment, payment_status, count(*) from orders group by shop_id, fulfilment, payment_status",
    )
    .execute(db.pool())
    .await
    .expect("counts");
    sqlx::query("analyze")
        .execute(db.pool())
        .await
        .expect("analyze");
    eprintln!(
        "generated {n} orders in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let n: i64 = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let reqs: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let url = match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            let a = Db::connect(&admin).await.expect("postgres reachable");
            let exists = scalar(
                &a,
                "select count(*) from pg_database where datname = 'chatbill_bench'",
            )
            .await;
            if exists == 0 {
                sqlx::query("create database chatbill_bench")
                    .execute(a.pool())
                    .await
                    .expect("create db");
            }
            a.pool().close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/chatbill_bench")
        }
        _ => {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target")
                .join("bench");
            std::fs::create_dir_all(&dir).expect("bench dir");
            format!("sqlite://{}/orders-{n}.db", dir.display())
        }
    };
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let have = scalar(&db, "select count(*) from orders where shop_id = 1").await;
    if have != n {
        if have != 0 {
            panic!(
                "{url} holds {have} orders, not {n}: remove it (or drop database chatbill_bench) and run again"
            );
        }
        eprintln!("generating {n} orders in {url} ...");
        generate(&db, n).await;
    } else {
        eprintln!("reusing {n} orders in {url}");
    }
    let shop = shops::get(&db, chatbill::domain::ShopId(1))
        .await
        .expect("shop 1");
    let (token, _) = tokens::create(&db, shop.id, "bench", Role::Owner, chatbill::clock::now())
        .await
        .expect("token");
    let vars: HashMap<&str, String> = [
        ("CHATBILL_BIND", "127.0.0.1:0".to_string()),
        ("DATABASE_URL", url.clone()),
        ("META_APP_SECRET", "bench-app-secret-0123456789".into()),
        ("META_VERIFY_TOKEN", "bench-verify".into()),
        (
            "CHATBILL_SECRET_KEY",
            "bench-secret-key-0123456789abcdef0123456789".into(),
        ),
        ("CHATBILL_WORKERS", "off".into()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_lookup(|k| vars.get(k).cloned(), Secrets::Required).expect("config");
    let running = chatbill::startup::start(config, db.clone())
        .await
        .expect("server");
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let some_code = "CB-00123457";
    let queries = [
        (
            "all tabs, first page (default)",
            "/api/v1/orders".to_string(),
        ),
        (
            "tab=pending_review",
            "/api/v1/orders?tab=pending_review".into(),
        ),
        (
            "tab=pending_payment",
            "/api/v1/orders?tab=pending_payment".into(),
        ),
        ("tab=paid", "/api/v1/orders?tab=paid".into()),
        ("tab=shipping", "/api/v1/orders?tab=shipping".into()),
        ("tab=awaiting_cod", "/api/v1/orders?tab=awaiting_cod".into()),
        ("tab=returned", "/api/v1/orders?tab=returned".into()),
        ("tab=cancelled", "/api/v1/orders?tab=cancelled".into()),
        ("sort=updated", "/api/v1/orders?sort=updated".into()),
        ("page 2 (cursor)", String::new()),
        (
            "search by order code",
            format!("/api/v1/orders?q={some_code}"),
        ),
        ("filter by customer", "/api/v1/orders?customer=4242".into()),
    ];
    println!("| query | p50 ms | p99 ms | max ms | rows |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let mut cursor_path = String::new();
    let mut worst_p99: f64 = 0.0;
    for (label, path) in queries {
        let path = if path.is_empty() {
            cursor_path.clone()
        } else {
            path
        };
        let mut times = Vec::with_capacity(reqs);
        let mut rows = 0;
        for i in 0..reqs + 20 {
            let t = Instant::now();
            let r = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("request");
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let body: serde_json::Value = r.json().await.expect("json");
            let el = t.elapsed();
            if i >= 20 {
                times.push(el);
            }
            rows = body["orders"].as_array().map(|a| a.len()).unwrap_or(0);
            if cursor_path.is_empty()
                && let Some(c) = body["next_cursor"].as_str()
            {
                cursor_path = format!("/api/v1/orders?cursor={c}");
            }
            assert_eq!(body["tabs"].as_array().map(|a| a.len()), Some(10));
        }
        times.sort();
        let p99 = percentile(&times, 0.99);
        worst_p99 = worst_p99.max(p99);
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} | {rows} |",
            percentile(&times, 0.5),
            p99,
            times
                .last()
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        );
    }
    println!(
        "\nbackend: {:?}, orders: {n}, requests per query: {reqs}, worst p99: {worst_p99:.2} ms",
        db.backend
    );
    sqlx::query("delete from api_tokens where label = 'bench'")
        .execute(db.pool())
        .await
        .ok();
    running.shutdown().await;
}
