//! The load tool and its consistency check, small enough for CI: a few
//! customers walk the whole journey against a real server (on SQLite or
//! PostgreSQL), then `bench::check` must find everything consistent, and
//! must notice when something is not.

mod common;

use chatbill::bench::{self, JourneyOptions};
use chatbill::store::shops;
use common::{APP_SECRET, TestApp, now, product};
use std::time::Duration;

const PAGE: &str = "431900998877665";

#[tokio::test]
async fn journeys_under_load_end_consistent_and_the_check_catches_a_lost_message() {
    // The load tool runs its own fake Graph API; find it a free port.
    let graph_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let graph_url = format!("http://127.0.0.1:{graph_port}/v25.0");
    let media = tempfile_dir();
    let app = TestApp::spawn_with(&[
        ("META_GRAPH_URL", graph_url.as_str()),
        ("CHATBILL_ATTACHMENT_HOSTS", "127.0.0.1"),
        ("CHATBILL_MEDIA_DIR", media.to_str().unwrap()),
    ])
    .await;
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
        });
    shops::update_settings(&app.db, shop.id, &shop.settings)
        .await
        .unwrap();
    app.state().shop_views.forget(shop.id);
    product(&app.db, &app.shop, "Tote bag", 25_000, None).await;

    let acked_file = media.join("acked.txt");
    let report = bench::journey(JourneyOptions {
        urls: vec![app.base.clone()],
        app_secret: APP_SECRET.into(),
        page_id: PAGE.into(),
        token: app.token.clone(),
        customers: 6,
        concurrency: 3,
        graph_port,
        reply_timeout: Duration::from_secs(20),
        acked_file: Some(acked_file.clone()),
        duplicate_percent: 20,
        echo_percent: 30,
    })
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

    let acked: Vec<String> = std::fs::read_to_string(&acked_file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
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
    .execute(&db.pool)
    .await
    .unwrap();
    let c = bench::check(&db, &acked, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(!c.ok());
    assert_eq!(c.outbox_not_sent, 1);
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
