//! The Messenger channel end to end: webhook intake, the engine, and the
//! outbox to a fake Graph API (a real HTTP server on 127.0.0.1).

use crate::common;

use chatbill::app::orders as app_orders;
use chatbill::channels::messenger::signature::sign;
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::Command;
use chatbill::store::catalog::{self, NewProduct, NewVariant};
use chatbill::store::orders::{self, NewOrder};
use chatbill::store::shops;
use chatbill_load::fake_graph::{FakeGraph, Reply};
use common::eventually;
use common::{APP_SECRET, TestApp, VERIFY_TOKEN, now};
use sqlx::Row;

pub(crate) const PAGE: &str = "431900112233445";
pub(crate) const PSID: &str = "7700112233445566";

pub(crate) async fn app_with_graph(extra: &[(&str, &str)]) -> (TestApp, FakeGraph) {
    let graph = FakeGraph::start().await;
    let mut vars = vec![("META_GRAPH_URL", graph.url.as_str())];
    vars.extend_from_slice(extra);
    let app = TestApp::spawn_with(&vars).await;
    shops::bind_channel(
        &app.db,
        app.shop.id,
        "messenger",
        PAGE,
        Some("page-token-1"),
        now(),
    )
    .await
    .unwrap();
    (app, graph)
}

async fn post(app: &TestApp, body: &[u8], signature: Option<String>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/webhooks/messenger"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    req.send().await.unwrap()
}

pub(crate) async fn post_signed(app: &TestApp, body: &str) -> reqwest::Response {
    post(
        app,
        body.as_bytes(),
        Some(sign(APP_SECRET.as_bytes(), body.as_bytes())),
    )
    .await
}

/// Signed, to another server of the same deployment.
async fn post_signed_to(app: &TestApp, webhook_url: &str, body: &str) -> reqwest::Response {
    app.client
        .post(webhook_url)
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            sign(APP_SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

pub(crate) async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

pub(crate) fn text_event(mid: &str, psid: &str, ts: i64, text: &str) -> String {
    serde_json::json!({"object": "page", "entry": [{"id": PAGE, "time": ts, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": ts, "message": {"mid": mid, "text": text}}]}]})
    .to_string()
}

pub(crate) fn postback(mid: &str, psid: &str, ts: i64, payload: &str) -> String {
    serde_json::json!({"object": "page", "entry": [{"id": PAGE, "time": ts, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": ts, "postback": {"mid": mid, "title": "t", "payload": payload}}]}]})
    .to_string()
}

/// A sample file with its timestamps moved to now (the samples were
/// recorded long ago; the 24-hour window is measured from them).
fn sample(name: &str) -> String {
    let raw = std::fs::read_to_string(format!(
        "{}/webhooks/messenger/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    fn shift(v: &mut serde_json::Value, by: i64) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    if matches!(k.as_str(), "timestamp" | "time" | "watermark") && val.is_i64() {
                        *val = serde_json::json!(val.as_i64().unwrap() + by);
                    } else {
                        shift(val, by);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| shift(x, by)),
            _ => {}
        }
    }
    shift(&mut v, now().millis() - 1_763_761_200_000);
    v.to_string()
}

#[tokio::test]
async fn subscription_handshake() {
    let (app, _g) = app_with_graph(&[]).await;
    let ok = app
        .client
        .get(app.url(&format!("/webhooks/messenger?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444")))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad =
        app.client
            .get(app.url(
                "/webhooks/messenger?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            ))
            .send()
            .await
            .unwrap();
    assert_eq!(bad.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn signatures_are_checked_over_the_raw_body_and_bad_ones_store_nothing() {
    let (app, _g) = app_with_graph(&[]).await;
    let body = text_event("m_sig_1", PSID, now().millis(), "สวัสดี");
    assert_eq!(post(&app, body.as_bytes(), None).await.status(), 403);
    assert_eq!(
        post(
            &app,
            body.as_bytes(),
            Some(sign(b"wrong-secret", body.as_bytes()))
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        post(&app, body.as_bytes(), Some("sha256=00".into()))
            .await
            .status(),
        403
    );
    // A replay with a body changed by one byte fails too.
    let tampered = body.replace("สวัสดี", "สวัสดา");
    assert_eq!(
        post(
            &app,
            tampered.as_bytes(),
            Some(sign(APP_SECRET.as_bytes(), body.as_bytes()))
        )
        .await
        .status(),
        403
    );
    assert_eq!(count(&app, "select count(*) from inbox_events").await, 0);
    assert_eq!(post_signed(&app, &body).await.status(), 200);
    assert_eq!(count(&app, "select count(*) from inbox_events").await, 1);
    // Valid signature, not JSON.
    assert_eq!(post_signed(&app, "not json").await.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_page_is_acknowledged_and_ignored() {
    let (app, _g) = app_with_graph(&[]).await;
    let body = text_event("m_x", PSID, now().millis(), "hi").replace(PAGE, "999999");
    assert_eq!(post_signed(&app, &body).await.status(), 200);
    assert_eq!(count(&app, "select count(*) from inbox_events").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn every_sample_payload_is_accepted_and_handled() {
    let (app, graph) = app_with_graph(&[]).await;
    shops::bind_channel(
        &app.db,
        app.shop.id,
        "instagram",
        "17841400000000000",
        Some("ig-token"),
        now(),
    )
    .await
    .unwrap();
    let mut files: Vec<_> =
        std::fs::read_dir(format!("{}/webhooks/messenger", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|f| f.ends_with(".json"))
            .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    for f in &files {
        let r = post_signed(&app, &sample(f)).await;
        let status = r.status();
        assert_eq!(status, 200, "{f}: {}", r.text().await.unwrap_or_default());
    }
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from inbox_events where status = 'pending'",
        )
        .await
            == 0,
        "all stored events processed"
    );
    // Reads and deliveries are never stored; everything else is, once.
    assert_eq!(
        count(
            &app,
            "select count(*) from inbox_events where kind in ('read', 'delivery')"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from inbox_events where status = 'failed'"
        )
        .await,
        0
    );
    // The person answering from the Page inbox paused the bot for that customer.
    assert_eq!(count(&app, "select bot_paused from conversations c join customers u on u.id = c.customer_id where u.channel_user_id = '7700112233445566'").await, 1);
    // Instagram events reach the same pipeline.
    assert_eq!(
        count(
            &app,
            "select count(*) from customers where channel = 'instagram'"
        )
        .await,
        1
    );
    // Each of the 10 batch customers was answered.
    app.drain().await;
    assert!(
        {
            let psids: std::collections::HashSet<String> = graph
                .requests()
                .iter()
                .filter_map(|r| r.body["recipient"]["id"].as_str().map(str::to_string))
                .collect();
            (0..10).all(|c| psids.contains(&format!("77001122334{c:05}")))
        },
        "batch customers answered"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_message_is_processed_once() {
    let (app, graph) = app_with_graph(&[]).await;
    let body = postback("m_dup_1", PSID, now().millis(), "GET_STARTED");
    for _ in 0..3 {
        assert_eq!(post_signed(&app, &body).await.status(), 200);
    }
    app.drain().await;
    assert!({ !graph.sends_to(PSID).is_empty() }, "the reply");
    assert_eq!(count(&app, "select count(*) from inbox_events").await, 1);
    assert_eq!(graph.sends_to(PSID).len(), 1, "one welcome, not three");
    let sent = &graph.sends_to(PSID)[0];
    assert_eq!(sent.path, format!("/v25.0/{PAGE}/messages"));
    assert_eq!(sent.auth.as_deref(), Some("Bearer page-token-1"));
    assert_eq!(sent.body["messaging_type"], "RESPONSE");
    assert!(
        sent.body["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Welcome")
    );
    assert!(
        sent.body["message"]["metadata"]
            .as_str()
            .unwrap()
            .starts_with("in:")
    );
    app.stop().await;
}

#[tokio::test]
async fn echoes_are_never_answered_and_ours_confirm_delivery() {
    let (app, graph) = app_with_graph(&[]).await;
    post_signed(
        &app,
        &postback("m_hello", PSID, now().millis(), "GET_STARTED"),
    )
    .await;
    app.drain().await;
    assert!({ graph.sends_to(PSID).len() == 1 }, "the welcome");
    let key = graph.sends_to(PSID)[0].body["message"]["metadata"]
        .as_str()
        .unwrap()
        .to_string();
    let echo = serde_json::json!({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [
        {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": now().millis(),
         "message": {"mid": "m_echo_ours", "is_echo": true, "app_id": 1520000123456789_i64, "metadata": key, "text": "Hi!"}}]}]})
    .to_string();
    post_signed(&app, &echo).await;
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from outbox_messages where delivered_at is not null",
        )
        .await
            == 1,
        "delivery confirmed"
    );
    assert_eq!(graph.sends_to(PSID).len(), 1, "the echo got no answer");
    assert_eq!(
        count(&app, "select bot_paused from conversations").await,
        0,
        "our own echo is not a handover"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_person_answering_from_the_page_inbox_pauses_the_bot() {
    let (app, graph) = app_with_graph(&[]).await;
    post_signed(&app, &sample("echo_page_inbox.json")).await;
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from conversations where bot_paused = 1",
        )
        .await
            == 1,
        "the handover"
    );
    post_signed(&app, &text_event("m_after", PSID, now().millis(), "hello?")).await;
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from inbox_events where status = 'done'",
        )
        .await
            == 2,
        "the message processed"
    );
    assert!(
        graph.sends_to(PSID).is_empty(),
        "the bot stays silent while paused"
    );
    assert_eq!(
        count(&app, "select unread from conversations").await,
        1,
        "the seller sees it as new"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_batch_of_50_from_10_customers_is_processed_in_each_customers_order() {
    let (app, _graph) = app_with_graph(&[]).await;
    assert_eq!(post_signed(&app, &sample("batch.json")).await.status(), 200);
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from inbox_events where status = 'done'",
        )
        .await
            == 50,
        "the batch processed"
    );
    for c in 0..10 {
        let psid = format!("77001122334{c:05}");
        let rows = sqlx::query(
            "select m.body from conversation_messages m join customers u on u.id = m.customer_id \
             where u.channel_user_id = $1 and m.author = 'customer' order by m.id",
        )
        .bind(&psid)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        let bodies: Vec<String> = rows.iter().map(|r| r.try_get("body").unwrap()).collect();
        let expected: Vec<String> = (0..5)
            .map(|k| format!("message {k} from customer {c}"))
            .collect();
        assert_eq!(bodies, expected, "customer {c}");
    }
    app.stop().await;
}

/// Events are processed many customers to a transaction. One event that
/// cannot be processed (here a database trigger refuses its message) must
/// not hold back the others in its batch; it is retried, then parked as
/// failed, and only its own customer's later events wait for that.
#[tokio::test]
async fn a_failing_event_is_parked_alone_and_the_rest_of_its_batch_goes_through() {
    let (app, graph) = app_with_graph(&[]).await;
    let statements: &[&str] = match common::backend_name() {
        "postgres" => &[
            "create function refuse_poison() returns trigger language plpgsql as $$ \
             begin if new.body = 'poison' then raise exception 'injected failure'; end if; return new; end $$",
            "create trigger refuse_poison before insert on conversation_messages for each row execute function refuse_poison()",
        ],
        _ => &[
            "create trigger refuse_poison before insert on conversation_messages when new.body = 'poison' \
             begin select raise(abort, 'injected failure'); end",
        ],
    };
    for sql in statements {
        sqlx::query(sql).execute(app.db.pool()).await.unwrap();
    }
    let (a, b, c) = ("7700000000000001", "7700000000000002", "7700000000000003");
    let ts = now().millis();
    let item = |mid: &str, psid: &str, at: i64, text: &str| {
        serde_json::json!({"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": at,
            "message": {"mid": mid, "text": text}})
    };
    let body =
        serde_json::json!({"object": "page", "entry": [{"id": PAGE, "time": ts, "messaging": [
            item("m.a1", a, ts, "poison"),
            item("m.b1", b, ts + 1, "hello"),
            item("m.c1", c, ts + 2, "hello"),
            item("m.a2", a, ts + 3, "hello again"),
        ]}]})
        .to_string();
    assert_eq!(post_signed(&app, &body).await.status(), 200);

    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from inbox_events where status = 'failed' and message_id = 'm.a1'",
        )
        .await
            == 1
            && count(
                &app,
                "select count(*) from inbox_events where status = 'done'",
            )
            .await
                == 3,
        "the poisonous event parked and the rest done"
    );
    let row = sqlx::query("select attempts, error from inbox_events where message_id = 'm.a1'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        row.try_get::<i64, _>("attempts").unwrap(),
        5,
        "retried, then parked"
    );
    let error: String = row.try_get("error").unwrap();
    assert!(error.contains("injected failure"), "{error}");
    // The other customers were answered; A's later message waited for the
    // parked one, then went through.
    for psid in [b, c, a] {
        app.drain().await;
        assert!({ !graph.sends_to(psid).is_empty() }, "a reply");
    }
    let order: Vec<String> = sqlx::query(
        "select message_id from inbox_events where sender_id = $1 order by processed_at, id",
    )
    .bind(a)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get("message_id").unwrap())
    .collect();
    assert_eq!(order, ["m.a1", "m.a2"]);
    let recorded = count(
        &app,
        "select count(*) from conversation_messages where body in ('poison', 'hello again')",
    )
    .await;
    assert_eq!(
        recorded, 1,
        "only A's second message is in the seller's inbox"
    );
    app.stop().await;
}

#[tokio::test]
async fn transient_errors_are_retried_then_succeed_and_permanent_ones_are_surfaced() {
    let (app, graph) = app_with_graph(&[]).await;
    graph.script(vec![Reply::Error {
        status: 500,
        code: 1200,
        subcode: None,
    }]);
    post_signed(&app, &postback("m_r1", PSID, now().millis(), "GET_STARTED")).await;
    eventually(20, "retried and sent", || async {
        count(
            &app,
            "select count(*) from outbox_messages where status = 'sent'",
        )
        .await
            == 1
    })
    .await;
    let sends = graph.sends_to(PSID);
    assert_eq!(sends.len(), 2, "one failure, one success");
    assert_eq!(sends[0].body, sends[1].body);

    // A customer who blocked the Page: no retry, the seller is told.
    let other = "7700000000000002";
    graph.script(vec![Reply::Error {
        status: 400,
        code: 551,
        subcode: Some(1545041),
    }]);
    post_signed(
        &app,
        &postback("m_r2", other, now().millis(), "GET_STARTED"),
    )
    .await;
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from outbox_messages where status = 'failed'",
        )
        .await
            == 1,
        "marked failed"
    );
    assert_eq!(
        graph.sends_to(other).len(),
        1,
        "permanent errors are not retried"
    );
    let note: String =
        sqlx::query("select body from conversation_messages where body like '%not delivered%'")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
    assert!(note.contains("1545041"), "{note}");
    app.stop().await;
}

/// Places an order for the Messenger customer directly (as if they had
/// checked out in chat).
pub(crate) async fn order_for_customer(app: &TestApp) -> chatbill::domain::Order {
    let product = catalog::create_product(
        &app.db,
        app.shop.id,
        &NewProduct {
            name: "Tee".into(),
            description: String::new(),
            category: String::new(),
            image_url: None,
            price: 29_900,
            variants: vec![NewVariant {
                name: String::new(),
                price: None,
                stock: None,
            }],
        },
        now(),
    )
    .await
    .unwrap();
    let customer: i64 = sqlx::query("select id from customers where channel_user_id = $1")
        .bind(PSID)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    orders::place(
        &app.db,
        &app.shop,
        NewOrder {
            customer: chatbill::domain::CustomerId(customer),
            channel: "messenger".into(),
            items: vec![(product.variants[0].id, 1)],
            address: None,
            method: None,
            shipping_fee: Some(0),
        },
        now(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn pushes_outside_the_window_use_a_utility_template_or_wait_for_the_customer() {
    let (app, graph) = app_with_graph(&[]).await;
    post_signed(&app, &postback("m_w1", PSID, now().millis(), "GET_STARTED")).await;
    app.drain().await;
    assert!({ graph.sends_to(PSID).len() == 1 }, "welcome");
    let order = order_for_customer(&app).await;
    // The customer's last message was two days ago.
    sqlx::query("update conversations set last_inbound_at = $1")
        .bind(now().millis() - 48 * 3_600_000)
        .execute(app.db.pool())
        .await
        .unwrap();

    let seller = Actor::Seller("owner".into());
    app_orders::apply(
        &app.db,
        &app.shop,
        order.id,
        Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        &seller,
        now(),
    )
    .await
    .unwrap();
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from outbox_messages where status = 'held'",
        )
        .await
            == 1,
        "held"
    );
    assert_eq!(
        graph.sends_to(PSID).len(),
        1,
        "nothing sent outside the window without a template"
    );

    // With an approved utility template, the shipping push goes out as UTILITY.
    let mut shop = shops::get(&app.db, app.shop.id).await.unwrap();
    shop.settings
        .utility_templates
        .insert("shipped".into(), "order_shipped_v1".into());
    shops::update_settings(&app.db, shop.id, &shop.settings)
        .await
        .unwrap();
    // Settings reach a running instance within a second; this one at once.
    app.state().shop_views.forget(shop.id);
    app_orders::apply(
        &app.db,
        &shop,
        order.id,
        Command::Ship {
            carrier: "Kerry".into(),
            tracking: Some("KEX1".into()),
        },
        &seller,
        now(),
    )
    .await
    .unwrap();
    app.drain().await;
    assert!({ graph.sends_to(PSID).len() == 2 }, "utility push");
    let utility = &graph.sends_to(PSID)[1];
    assert_eq!(utility.body["messaging_type"], "UTILITY");
    assert_eq!(
        utility.body["message"]["template"]["name"],
        "order_shipped_v1"
    );
    assert!(
        utility.body.get("tag").is_none(),
        "never a tag for bot messages"
    );
    assert_eq!(
        utility.body["message"]["template"]["components"][0]["parameters"][1]["text"],
        "Kerry KEX1"
    );

    // The customer writes: the held push goes out, before the reply.
    post_signed(
        &app,
        &text_event("m_w2", PSID, now().millis(), "hello again"),
    )
    .await;
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from outbox_messages where status = 'held'",
        )
        .await
            == 0,
        "held push delivered"
    );
    app.drain().await;
    assert!({ graph.sends_to(PSID).len() >= 4 }, "reply too");
    let sends = graph.sends_to(PSID);
    assert!(
        sends[2].body["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Payment confirmed"),
        "{:?}",
        sends[2].body
    );
    app.stop().await;
}

#[tokio::test]
async fn an_event_acknowledged_before_a_crash_is_processed_once_after_restart() {
    let graph = FakeGraph::start().await;
    let app = TestApp::spawn_with(&[
        ("META_GRAPH_URL", graph.url.as_str()),
        ("CHATBILL_WORKERS", "off"),
    ])
    .await;
    shops::bind_channel(
        &app.db,
        app.shop.id,
        "messenger",
        PAGE,
        Some("page-token-1"),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        post_signed(
            &app,
            &postback("m_crash", PSID, now().millis(), "GET_STARTED")
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from inbox_events where status = 'pending'"
        )
        .await,
        1
    );
    // Killed before any worker touched it; a new process takes over.
    let app = app.restart(&[("META_GRAPH_URL", graph.url.as_str())]).await;
    app.drain().await;
    assert!(
        { graph.sends_to(PSID).len() == 1 },
        "processed after restart"
    );
    // Meta redelivers the same event after the crash: still once.
    post_signed(
        &app,
        &postback("m_crash", PSID, now().millis(), "GET_STARTED"),
    )
    .await;
    app.drain().await;
    assert_eq!(graph.sends_to(PSID).len(), 1);
    assert_eq!(
        count(
            &app,
            "select count(*) from inbox_events where status = 'done'"
        )
        .await,
        1
    );
    app.stop().await;
}

/// `chatbill messenger setup` and `chatbill webhook send`, as an operator
/// runs them against a server and the (fake) Graph API.
#[tokio::test]
async fn the_setup_and_webhook_send_commands_talk_to_the_right_places() {
    let (app, graph) = app_with_graph(&[]).await;
    let cli = |args: &[&str]| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatbill"));
        c.args(args)
            .env("DATABASE_URL", app.database_url())
            .env("META_GRAPH_URL", &graph.url)
            .env("META_APP_SECRET", APP_SECRET)
            .env("META_VERIFY_TOKEN", VERIFY_TOKEN)
            .env("CHATBILL_LOG", "warn");
        c
    };
    let out = cli(&["messenger", "setup", "--shop", &app.shop.id.to_string()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let profile = graph
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/me/messenger_profile"))
        .expect("profile call");
    assert_eq!(profile.auth.as_deref(), Some("Bearer page-token-1"));
    assert_eq!(profile.body["get_started"]["payload"], "GET_STARTED");
    let menu = &profile.body["persistent_menu"][0]["call_to_actions"];
    let payloads: Vec<&str> = menu
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["payload"].as_str().unwrap())
        .collect();
    assert_eq!(payloads, ["MENU_PRODUCTS", "CART", "ORDERS", "MENU_TALK"]);

    // A shop without a Page is told so, in one line.
    let (other, _) = common::make_shop(&app.db, "No page", chatbill::domain::Currency::THB).await;
    let out = cli(&["messenger", "setup", "--shop", &other.id.to_string()])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Facebook Page bound"));

    // webhook send signs a sample and posts it; --fresh makes it new each time.
    let file = format!(
        "{}/webhooks/messenger/postback_get_started.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let url = app.url("/webhooks/messenger");
    for _ in 0..2 {
        let out = cli(&["webhook", "send", &file, "--url", &url, "--fresh"])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(count(&app, "select count(*) from inbox_events").await, 2);
    app.drain().await;
    assert!({ graph.sends_to(PSID).len() == 2 }, "both answered");
    app.stop().await;
}

/// Stock runs out between the review and the tap on "Place order": the
/// store refuses, and a refused two-line order gives back the line it had
/// already reserved, while others in the same batch still get their orders.
#[tokio::test]
async fn an_order_refused_for_stock_at_placing_reserves_nothing_and_the_batch_goes_on() {
    use chatbill::domain::{Address, CustomerId, PhoneNumber, VariantId};
    use chatbill::store::{cart, customers};
    let (app, graph) = app_with_graph(&[]).await;
    let make = |name: &str, stock: i64| NewProduct {
        name: name.into(),
        description: String::new(),
        category: String::new(),
        image_url: None,
        price: 10_000,
        variants: vec![NewVariant {
            name: String::new(),
            price: None,
            stock: Some(stock),
        }],
    };
    let cap = catalog::create_product(&app.db, app.shop.id, &make("Cap", 5), now())
        .await
        .unwrap()
        .variants[0]
        .id;
    let last = catalog::create_product(&app.db, app.shop.id, &make("Last one", 1), now())
        .await
        .unwrap()
        .variants[0]
        .id;
    // Three customers with a saved address: X wants a cap and the last one,
    // Z only the last one, W only a cap.
    let people: [(&str, Option<VariantId>, VariantId); 3] = [
        ("7700000000000001", Some(cap), last),
        ("7700000000000002", None, last),
        ("7700000000000003", None, cap),
    ];
    let mut tx = app.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for (psid, extra, _) in &people {
        let c = customers::upsert(&mut tx, app.shop.id, "messenger", psid, now())
            .await
            .unwrap();
        let address = Address {
            full_name: "Somchai Jaidee".into(),
            phone: PhoneNumber::parse("081 234 5678", Some(66)).unwrap(),
            line: "99/1 Sukhumvit 11".into(),
            province: "Bangkok".into(),
            district: "Watthana".into(),
            postcode: None,
        };
        customers::save_address(&mut tx, c.id, &address, now())
            .await
            .unwrap();
        if let Some(v) = extra {
            cart::add(&mut tx, app.shop.id, c.id, *v, 2, now())
                .await
                .unwrap();
        }
        ids.push(c.id);
    }
    tx.commit().await.unwrap();
    let ts = now().millis();
    for (i, (psid, _, buy)) in people.iter().enumerate() {
        post_signed(
            &app,
            &postback(&format!("m_q{i}"), psid, ts, &format!("QTY:{buy}:1:1")),
        )
        .await;
        post_signed(
            &app,
            &postback(&format!("m_a{i}"), psid, ts + 1, "ADDR_SAVED"),
        )
        .await;
    }
    app.drain().await;
    assert!(
        people.iter().all(|(psid, _, _)| {
            graph
                .sends_to(psid)
                .iter()
                .any(|r| r.body.to_string().contains("\"PLACE\""))
        }),
        "every review offers Place order"
    );
    // The last one is sold elsewhere before anyone taps "Place order".
    sqlx::query("update variants set stock = 0 where id = $1")
        .bind(last.get())
        .execute(app.db.pool())
        .await
        .unwrap();
    let before: Vec<usize> = people
        .iter()
        .map(|(psid, _, _)| graph.sends_to(psid).len())
        .collect();
    for (i, (psid, _, _)) in people.iter().enumerate() {
        post_signed(&app, &postback(&format!("m_p{i}"), psid, ts + 2, "PLACE")).await;
    }
    app.drain().await;
    assert!(
        count(
            &app,
            "select count(*) from inbox_events where status <> 'done'",
        )
        .await
            == 0,
        "every event processed"
    );
    let orders_of = |c: CustomerId| {
        let app = &app;
        async move {
            count(
                app,
                &format!(
                    "select count(*) from orders where customer_id = {}",
                    c.get()
                ),
            )
            .await
        }
    };
    assert_eq!(orders_of(ids[0]).await, 0);
    assert_eq!(orders_of(ids[1]).await, 0);
    assert_eq!(orders_of(ids[2]).await, 1);
    let stock = |v: VariantId| {
        let app = &app;
        async move {
            count(
                app,
                &format!("select stock from variants where id = {}", v.get()),
            )
            .await
        }
    };
    // X's two caps were reserved before the last one failed, then given back.
    assert_eq!(stock(cap).await, 4);
    assert_eq!(stock(last).await, 0);
    // The answers to "Place order": a refusal naming the item, a receipt.
    let after = |i: usize| {
        graph.sends_to(people[i].0)[before[i]..]
            .iter()
            .map(|r| r.body.to_string())
            .collect::<String>()
    };
    for i in 0..2 {
        app.drain().await;
        assert!(
            { after(i).contains("Last one") },
            "the refusal names the item"
        );
    }
    app.drain().await;
    assert!(
        { after(2).contains("Cap") && !after(2).contains("Last one") },
        "a receipt for W"
    );
    app.stop().await;
}

/// Calls that arrived within any one second, at most.
fn busiest_second(times: &[std::time::Instant]) -> usize {
    let mut times = times.to_vec();
    times.sort();
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| t.duration_since(times[i]) < std::time::Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_page_s_sends_keep_to_its_rate_across_two_instances() {
    // 10 calls a second for the Page, shared by both servers.
    let (app, graph) = app_with_graph(&[("CHATBILL_SEND_RATE", "10")]).await;
    let second = chatbill::startup::start(
        common::test_config(&[
            ("META_GRAPH_URL", graph.url.as_str()),
            ("CHATBILL_SEND_RATE", "10"),
        ]),
        app.db.clone(),
    )
    .await
    .unwrap();
    let second_url = format!("http://{}/webhooks/messenger", second.addr);
    let customers: Vec<String> = (0..24).map(|i| format!("77001000000{i:05}")).collect();
    let started = std::time::Instant::now();
    for (i, psid) in customers.iter().enumerate() {
        let body = postback(&format!("m_rate_{i}"), psid, now().millis(), "GET_STARTED");
        let r = if i % 2 == 0 {
            post_signed(&app, &body).await
        } else {
            post_signed_to(&app, &second_url, &body).await
        };
        assert_eq!(r.status(), 200);
    }
    eventually(60, "every customer answered", || async {
        count(
            &app,
            "select count(*) from outbox_messages where status <> 'sent'",
        )
        .await
            == 0
            && customers.iter().all(|p| !graph.sends_to(p).is_empty())
    })
    .await;
    // Every call counts: the customers' profile lookups draw from the
    // same budget as the sends.
    let times: Vec<_> = graph.requests().iter().map(|r| r.at).collect();
    let calls = times.len();
    assert!(calls >= 24, "{calls} calls");
    // 10/s, a burst of 1, and up to two more for a message in parts; one
    // spare for arrival jitter on the loopback.
    let busiest = busiest_second(&times);
    assert!(busiest <= 14, "{busiest} calls in one second at 10/s");
    let took = started.elapsed().as_secs_f64();
    assert!(
        took >= (calls as f64 - 3.0) / 10.0,
        "{calls} calls in {took:.1} s is faster than 10/s"
    );
    // Waiting for room is not a failed attempt.
    assert_eq!(
        count(
            &app,
            "select count(*) from outbox_messages where attempts <> 1"
        )
        .await,
        0
    );
    second.shutdown().await;
    app.stop().await;
}

#[tokio::test]
async fn a_rate_limit_answer_pauses_the_whole_page_and_spends_no_attempts() {
    let (app, graph) = app_with_graph(&[]).await;
    graph.script(vec![Reply::RateLimited {
        regain_minutes: None,
    }]);
    let (a, b, c) = ("7700200000000001", "7700200000000002", "7700200000000003");
    post_signed(&app, &postback("m_t1", a, now().millis(), "GET_STARTED")).await;
    // Profile lookups share the Page's budget but are not sends.
    let sends = || {
        graph
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/messages"))
            .collect::<Vec<_>>()
    };
    eventually(10, "the first send is refused", || async {
        !sends().is_empty()
    })
    .await;
    eventually(5, "the message waits and says why", || async {
        count(
            &app,
            "select count(*) from outbox_messages where status = 'pending' and last_error like '%613%' and attempts = 0",
        )
        .await
            == 1
    })
    .await;
    // Other customers write while the Page is paused.
    post_signed(&app, &postback("m_t2", b, now().millis(), "GET_STARTED")).await;
    post_signed(&app, &postback("m_t3", c, now().millis(), "GET_STARTED")).await;
    eventually(30, "all three answered", || async {
        [a, b, c]
            .iter()
            // The first customer's reply went twice: refused, then sent.
            .all(|p| graph.sends_to(p).len() == if *p == a { 2 } else { 1 })
    })
    .await;
    let requests = sends();
    let refused = requests[0].at;
    assert_eq!(requests[0].body["recipient"]["id"], a);
    for r in &requests[1..] {
        let after = r.at.duration_since(refused);
        assert!(
            after >= std::time::Duration::from_millis(1900),
            "a call {after:?} after the rate-limit answer: the Page was not paused"
        );
    }
    let first = graph.sends_to(a);
    assert_eq!(
        first[0].body, first[1].body,
        "the refused message went again"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("chatbill_outbox_page_throttled_total 1"),
        "the operator can see the Page was throttled: {metrics}"
    );
    let row = sqlx::query(
        "select attempts, status from outbox_messages o join customers c on c.id = o.customer_id \
         where c.channel_user_id = $1 order by o.id limit 1",
    )
    .bind(a)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        row.get::<i64, _>("attempts"),
        1,
        "the refusal spent no attempt"
    );
    assert_eq!(row.get::<String, _>("status"), "sent");

    // Meta names a wait in its usage header: the Page waits that long.
    let d = "7700200000000004";
    graph.script(vec![Reply::RateLimited {
        regain_minutes: Some(3),
    }]);
    let before = now().millis();
    post_signed(&app, &postback("m_t4", d, now().millis(), "GET_STARTED")).await;
    eventually(10, "the send is refused", || async {
        graph.sends_to(d).len() == 1
    })
    .await;
    eventually(10, "the message waits for Meta's estimate", || async {
        count(
            &app,
            &format!(
                "select count(*) from outbox_messages where status = 'pending' and lease_until is null \
                 and next_attempt_at >= {} and attempts = 0",
                before + 3 * 60_000
            ),
        )
        .await
            == 1
    })
    .await;
    let paused: i64 = sqlx::query("select paused_until from send_budgets")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .get(0);
    assert!(paused >= before + 3 * 60_000 && paused <= now().millis() + 3 * 60_000);
    app.stop().await;
}
