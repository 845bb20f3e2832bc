//! The load tool and its consistency check, small enough for CI: a few
//! customers walk the whole journey against a real server (on SQLite or
//! PostgreSQL), then `bench::check` must find everything consistent, and
//! must notice when something is not.

use crate::common;

use chatbill::store::shops;
use chatbill_load::journey::{self as bench, JourneyOptions};
use common::{APP_SECRET, TestApp, now, product};
use std::time::Duration;

const PAGE: &str = "431900998877665";

/// A server with the demo-like settings the journey needs, and a free port
/// for the load tool's own fake Graph API.
async fn server_for_the_load_tool(extra: &[(&str, &str)]) -> (TestApp, u16, std::path::PathBuf) {
    let graph_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let graph_url = format!("http://127.0.0.1:{graph_port}/v25.0");
    let media = tempfile_dir();
    let mut vars = vec![
        ("META_GRAPH_URL", graph_url.as_str()),
        ("CHATBILL_ATTACHMENT_HOSTS", "127.0.0.1"),
        ("CHATBILL_MEDIA_DIR", media.to_str().unwrap()),
    ];
    vars.extend_from_slice(extra);
    let app = TestApp::spawn_with(&vars).await;
    shops::bind_channel(&app.db, app.shop.id, "messenger", PAGE, Some("t"), now())
        .await
        .unwrap();
    let mut shop = shops::get(&app.db, app.shop.id).await.unwrap();
    shop.settings
        .bank_accounts
        .push(chatbill::domain::shop::BankAccount {
            bank: "KBank".into(),
            account_name: "Test shop".into(),
            account_number: "123-4-56789-0".into(),
            default: true,
        });
    shops::update_settings(&app.db, shop.id, &shop.settings)
        .await
        .unwrap();
    app.state().shop_views.forget(shop.id);
    product(&app.db, &app.shop, "Tote bag", 25_000, None).await;
    (app, graph_port, media)
}

fn options(app: &TestApp, graph_port: u16, acked_file: &std::path::Path) -> JourneyOptions {
    JourneyOptions {
        urls: vec![app.base.clone()],
        app_secret: APP_SECRET.into(),
        page_id: PAGE.into(),
        token: app.token.clone(),
        customers: 6,
        concurrency: 3,
        graph_port,
        reply_timeout: Duration::from_secs(20),
        acked_file: Some(acked_file.to_path_buf()),
        duplicate_percent: 20,
        echo_percent: 30,
        graph_limit: None,
    }
}

fn read_acked(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn journeys_under_load_end_consistent_and_the_check_catches_a_lost_message() {
    let (app, graph_port, media) = server_for_the_load_tool(&[("CHATBILL_SEND_RATE", "off")]).await;
    let acked_file = media.join("acked.txt");
    let report = bench::journey(options(&app, graph_port, &acked_file))
        .await
        .unwrap();
    assert_eq!(report.journeys_completed, 6);
    assert_eq!(report.replies_missing, 0);
    assert!(report.events_acked >= 6 * 14, "{}", report.events_acked);
    assert!(
        report.sends >= 6 * 14,
        "every step answered: {}",
        report.sends
    );

    let acked = read_acked(&acked_file);
    let c = bench::check(&app.db, &acked, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(c.ok(), "{c:#?}");
    assert_eq!(c.orders, 6);
    assert_eq!(c.customer_events, 6 * 14);
    assert_eq!(c.outbox_not_sent, 0);

    // A message that never went out must make the check fail.
    let (db, _shop, _keep_db) = app.kill();
    sqlx::query(
        "update outbox_messages set status = 'failed' where id = (select max(id) from outbox_messages)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let c = bench::check(&db, &acked, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(!c.ok());
    assert_eq!(c.outbox_not_sent, 1);
    let _ = std::fs::remove_dir_all(&media);
}

#[tokio::test]
async fn paced_to_the_page_s_rate_no_call_is_refused_and_nothing_is_lost() {
    // The fake Graph API refuses beyond 30 calls a second, as Meta does
    // beyond 300; the server keeps to 20.
    let (app, graph_port, media) = server_for_the_load_tool(&[("CHATBILL_SEND_RATE", "20")]).await;
    let acked_file = media.join("acked.txt");
    let report = bench::journey(JourneyOptions {
        graph_limit: Some(30),
        customers: 8,
        concurrency: 8,
        ..options(&app, graph_port, &acked_file)
    })
    .await
    .unwrap();
    assert_eq!(report.journeys_completed, 8);
    assert_eq!(report.replies_missing, 0);
    assert_eq!(report.rate_limited, 0, "no call crossed the Page's limit");
    assert!(report.busiest_second <= 30, "{}", report.busiest_second);
    assert!(
        report.sends as f64 / report.elapsed.as_secs_f64() <= 24.0,
        "{} calls in {:?} is faster than 20/s",
        report.sends,
        report.elapsed
    );
    let c = bench::check(&app.db, &read_acked(&acked_file), Duration::from_secs(20))
        .await
        .unwrap();
    assert!(c.ok(), "{c:#?}");
    assert_eq!(c.orders, 8);
    app.stop().await;
    let _ = std::fs::remove_dir_all(&media);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chatbill-bench-test-{}",
        chatbill::clock::hex(&chatbill::clock::random_bytes::<6>())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
