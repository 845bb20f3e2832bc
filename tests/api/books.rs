//! The books an accountant takes away: the reconciliation report, the CSV
//! exports (API, console and CLI), resolving a COD difference or a refund
//! due, and the permission checked on the order the transaction holds.
//! SQLite by default, PostgreSQL with TEST_DATABASE_URL.

use crate::common::{TestApp, now, product};
use chatbill::app::customers::move_balance;
use chatbill::app::orders::{self as app_orders, Acted, Seller};
use chatbill::domain::access::{Permission, Role};
use chatbill::domain::ledger::LedgerKind;
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::{Command, ExcessPolicy, Notice};
use chatbill::domain::{Address, CustomerId, OrderId, PhoneNumber};
use chatbill::store::customers::{self, LedgerPost};
use chatbill::store::orders::{self, ApplyError, NewOrder};
use chatbill::store::{Db, payments, reconcile, shops, tokens};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A name a spreadsheet would run as a formula.
const EVIL: &str = "=HYPERLINK(\"http://x.example\")";

struct Books {
    app: TestApp,
    customer: CustomerId,
    /// Paid by bank transfer.
    paid: OrderId,
    /// Cash on delivery, remitted short by 49 THB.
    cod: OrderId,
    /// Paid, then cancelled: a refund due.
    refunded: OrderId,
}

async fn place(db: &Db, app: &TestApp, c: CustomerId, n: usize) -> OrderId {
    let v = product(db, &app.shop, &format!("Tee {n}"), 29_900, Some(10)).await;
    let new = NewOrder {
        customer: c,
        channel: "webchat".into(),
        items: vec![(v, 1)],
        address: Some(Address {
            full_name: "Somchai Jaidee".into(),
            phone: PhoneNumber::parse("081 234 5678", Some(66)).unwrap(),
            line: "99/1 Sukhumvit 11".into(),
            province: "Bangkok".into(),
            district: "Watthana".into(),
            postcode: Some("10110".into()),
        }),
        method: None,
        shipping_fee: Some(5_000),
    };
    orders::place(db, &app.shop, new, now()).await.unwrap().id
}

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let rb = match method {
        "GET" => app.client.get(app.url(path)),
        _ => app.client.post(app.url(path)).json(&body),
    };
    let r = rb.bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn act(app: &TestApp, order: OrderId, action: &str, body: Value) -> Value {
    let path = format!("/api/v1/orders/{order}/{action}");
    let (st, body) = call(app, &app.token, "POST", &path, body).await;
    assert_eq!(st, 200, "{action}: {body}");
    body
}

/// A shop in Bangkok with three orders that between them move money every
/// way an order can, and a deposit.
async fn books() -> Books {
    let mut app = TestApp::spawn().await;
    app.shop.settings.time_zone = Some("Asia/Bangkok".into());
    app.shop.settings.excess_payment = ExcessPolicy::RefundDue;
    shops::update_settings(&app.db, app.shop.id, &app.shop.settings)
        .await
        .unwrap();
    let db = app.db.clone();
    let mut tx = db.begin().await.unwrap();
    let c = customers::upsert(&mut tx, app.shop.id, "webchat", "u-books", now())
        .await
        .unwrap()
        .id;
    tx.commit().await.unwrap();
    chatbill::app::customers::rename(&db, app.shop.id, c, EVIL, now())
        .await
        .unwrap();

    let paid = place(&db, &app, c, 1).await;
    act(&app, paid, "confirm-payment", json!({})).await;

    let cod = place(&db, &app, c, 2).await;
    app_orders::apply(
        &db,
        &app.shop,
        cod,
        Command::ChooseCod,
        &Actor::Customer,
        now(),
    )
    .await
    .unwrap();
    act(&app, cod, "confirm", json!({})).await;
    act(
        &app,
        cod,
        "ship",
        json!({"carrier": "Kerry", "tracking": "TH1"}),
    )
    .await;
    act(&app, cod, "complete", json!({})).await;
    act(&app, cod, "collect-cod", json!({"amount": 30_000})).await;

    let refunded = place(&db, &app, c, 3).await;
    act(&app, refunded, "confirm-payment", json!({})).await;
    act(&app, refunded, "cancel", json!({"reason": "out of stock"})).await;

    let post = LedgerPost {
        shop: app.shop.id,
        customer: c,
        kind: LedgerKind::Deposit,
        amount: 10_000,
        order: None,
        note: Some("gift card"),
        actor: "owner",
        allow_negative: false,
    };
    move_balance(&db, &post, now()).await.unwrap();
    Books {
        app,
        customer: c,
        paid,
        cod,
        refunded,
    }
}

async fn payment_of(db: &Db, b: &Books, order: OrderId, status: &str) -> i64 {
    payments::list_for_order(db, b.app.shop.id, order)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.status == status)
        .unwrap_or_else(|| panic!("no {status} payment on {order}"))
        .id
}

fn line(lines: &Value, item: &str) -> (i64, i64) {
    let l = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == item)
        .unwrap_or_else(|| panic!("no {item} in {lines}"));
    (l["count"].as_i64().unwrap(), l["amount"].as_i64().unwrap())
}

/// Today in Bangkok, as the exports write dates.
fn bangkok_today() -> String {
    let cal = chatbill::domain::calendar::Calendar::new(Some("Asia/Bangkok"), 0);
    cal.sortable(now())[..10].to_string()
}

#[tokio::test]
async fn the_report_explains_every_amount_and_resolving_a_refund_tells_the_customer() {
    let b = books().await;
    let (app, db) = (&b.app, &b.app.db);
    let (st, body) = call(
        app,
        &app.token,
        "GET",
        "/api/v1/reports/reconciliation",
        json!(null),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let r = &body["report"];
    assert_eq!(body["balances"], true, "{body}");
    assert_eq!(r["time_zone"], "Asia/Bangkok");
    assert_eq!(r["to"], bangkok_today());
    // Two manual confirmations of 349 THB, one short COD remittance.
    assert_eq!(line(&r["received"], "bank_transfer"), (2, 69_800));
    assert_eq!(line(&r["received"], "cod"), (1, 30_000));
    assert_eq!(line(&r["refunds"], "refund_due"), (1, 34_900));
    assert_eq!(line(&r["refunds"], "refund_paid_back"), (0, 0));
    assert_eq!(line(&r["balances"], "deposit"), (1, 10_000));
    let kerry = &r["cod"][0];
    assert_eq!(kerry["carrier"], "Kerry");
    assert_eq!(
        (kerry["orders"].as_i64(), kerry["expected"].as_i64()),
        (Some(1), Some(34_900))
    );
    assert_eq!(kerry["collected"], 30_000);
    assert_eq!(kerry["difference"], -4_900);
    let open = r["open"].as_array().unwrap();
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(
        open.iter()
            .any(|o| o["status"] == "difference" && o["difference"] == -4_900)
    );
    assert!(
        open.iter()
            .any(|o| o["status"] == "refund_due" && o["amount"] == 34_900)
    );
    assert_eq!(r["books"]["orders_paid"], 64_900);

    // The refund is paid back by hand: resolved once, the customer told.
    let due = payment_of(db, &b, b.refunded, "refund_due").await;
    let path = format!("/api/v1/orders/{}/resolve-payment", b.refunded);
    let (st, body) = call(app, &app.token, "POST", &path, json!({"note": "x"})).await;
    assert_eq!(st, 422, "which payment: {body}");
    let note = json!({"payment_id": due, "note": "transferred back, KBank ref 123"});
    let (st, body) = call(app, &app.token, "POST", &path, note.clone()).await;
    assert_eq!(st, 200, "{body}");
    let notices = orders::queued_notices(db, app.shop.id, b.refunded)
        .await
        .unwrap();
    assert!(
        notices.contains(&Notice::RefundPaidBack { amount: 34_900 }),
        "{notices:?}"
    );
    let (st, body) = call(app, &app.token, "POST", &path, note).await;
    assert_eq!(st, 409, "{body}");
    let pushes = notices.len();
    assert_eq!(
        orders::queued_notices(db, app.shop.id, b.refunded)
            .await
            .unwrap()
            .len(),
        pushes,
        "a refused resolve pushes nothing"
    );
    // A confirmed payment has nothing to resolve: a conflict with its state.
    let confirmed = payment_of(db, &b, b.paid, "confirmed").await;
    let path = format!("/api/v1/orders/{}/resolve-payment", b.paid);
    let body = json!({"payment_id": confirmed, "note": "x"});
    let (st, body) = call(app, &app.token, "POST", &path, body).await;
    assert_eq!(st, 409, "{body}");
    assert!(
        body.to_string()
            .contains("only a COD difference or a refund due"),
        "{body}"
    );
    // Another order's payment is not this order's.
    let body = json!({"payment_id": due, "note": "x"});
    assert_eq!(call(app, &app.token, "POST", &path, body).await.0, 422);

    let (_, body) = call(
        app,
        &app.token,
        "GET",
        "/api/v1/reports/reconciliation",
        json!(null),
    )
    .await;
    let r = &body["report"];
    assert_eq!(line(&r["refunds"], "refund_paid_back"), (1, 34_900));
    assert_eq!(r["open"].as_array().unwrap().len(), 1);
    assert_eq!(body["balances"], true);

    // A period with nothing in it.
    let (st, body) = call(
        app,
        &app.token,
        "GET",
        "/api/v1/reports/reconciliation?from=2020-01-01&to=2020-01-31",
        json!(null),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["report"]["received"], json!([]));
    assert_eq!(line(&body["report"]["refunds"], "refund_due"), (0, 0));
    // The whole shop's books still count everything.
    assert_eq!(body["report"]["books"]["orders_paid"], 64_900);
    b.app.stop().await;
}

/// Splits one CSV record the way the exports write them (quotes doubled).
fn fields(record: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = record.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    out.push(cur);
    out
}

async fn csv(
    app: &TestApp,
    token: &str,
    path: &str,
) -> (u16, String, Vec<HashMap<String, String>>) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    if status != 200 {
        return (status, text, Vec::new());
    }
    assert_eq!(kind, "text/csv; charset=utf-8");
    let mut records = text.split("\r\n").filter(|l| !l.is_empty());
    let header = fields(records.next().unwrap());
    let rows = records
        .map(|r| header.iter().cloned().zip(fields(r)).collect())
        .collect();
    (status, text, rows)
}

fn minor(major: &str) -> i64 {
    let (whole, frac) = major.split_once('.').unwrap_or((major, "00"));
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    let whole: i64 = whole.trim_start_matches('-').parse().unwrap();
    sign * (whole * 100 + frac.parse::<i64>().unwrap())
}

#[tokio::test]
async fn the_exports_add_up_to_what_the_orders_hold() {
    let b = books().await;
    let (app, db) = (&b.app, &b.app.db);
    let today = bangkok_today();

    let (st, text, rows) = csv(app, &app.token, "/api/v1/exports/payments.csv").await;
    assert_eq!(st, 200, "{text}");
    assert!(text.starts_with("date,reference,order,customer,method,kind,currency,amount,"));
    let mut per_order: HashMap<String, i64> = HashMap::new();
    for r in &rows {
        assert!(r["date"].starts_with(&today), "shop days: {r:?}");
        assert_eq!(r["currency"], "THB");
        *per_order.entry(r["order"].clone()).or_default() += minor(&r["amount"]);
    }
    for id in [b.paid, b.cod, b.refunded] {
        let o = orders::load(db, app.shop.id, id).await.unwrap();
        assert_eq!(
            per_order.get(o.code.as_str()).copied().unwrap_or(0),
            o.paid,
            "the movements of {} add up to what it holds",
            o.code
        );
    }
    let refund = rows.iter().find(|r| r["kind"] == "refund_due").unwrap();
    assert_eq!(refund["amount"], "-349.00");
    let short = rows.iter().find(|r| r["kind"] == "difference").unwrap();
    assert_eq!(
        (short["amount"].as_str(), short["difference"].as_str()),
        ("300.00", "-49.00")
    );
    // The customer's name cannot run as a formula in a spreadsheet.
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://x.example\"\")\""),
        "{text}"
    );
    assert!(rows.iter().all(|r| r["customer"].starts_with("'=")));

    let (st, _, orders_rows) = csv(app, &app.token, "/api/v1/exports/orders.csv").await;
    assert_eq!(st, 200);
    assert_eq!(orders_rows.len(), 3);
    let cod = orders_rows
        .iter()
        .find(|r| r["payment_method"] == "cod")
        .unwrap();
    assert_eq!(
        (
            cod["total"].as_str(),
            cod["paid"].as_str(),
            cod["remaining"].as_str()
        ),
        ("349.00", "300.00", "49.00")
    );
    assert_eq!(cod["carrier"], "Kerry");

    let (st, _, ledger) = csv(app, &app.token, "/api/v1/exports/balances.csv").await;
    assert_eq!(st, 200);
    let deposit = ledger.iter().find(|r| r["kind"] == "deposit").unwrap();
    assert_eq!(
        (deposit["amount"].as_str(), deposit["note"].as_str()),
        ("100.00", "gift card")
    );
    let balance = customers::get(db, app.shop.id, b.customer)
        .await
        .unwrap()
        .balance;
    assert_eq!(minor(&ledger.last().unwrap()["balance_after"]), balance);

    // A period before any of it: the header alone.
    let (_, text, rows) = csv(
        app,
        &app.token,
        "/api/v1/exports/orders.csv?from=2020-01-01&to=2020-01-02",
    )
    .await;
    assert!(rows.is_empty(), "{text}");
    // The report itself as CSV.
    let (st, text, rows) = csv(app, &app.token, "/api/v1/reports/reconciliation?format=csv").await;
    assert_eq!(st, 200, "{text}");
    assert!(
        rows.iter()
            .any(|r| r["section"] == "books" && r["item"] == "balances" && r["amount"] == "yes")
    );
    b.app.stop().await;
}

#[tokio::test]
async fn a_bad_period_or_a_role_without_the_permission_is_refused() {
    let b = books().await;
    let app = &b.app;
    for (q, why) in [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-12-05&to=2026-12-01", "before"),
        ("from=2020-01-01&to=2026-01-01", "longer"),
    ] {
        for path in [
            "/api/v1/reports/reconciliation",
            "/api/v1/exports/payments.csv",
        ] {
            let (st, body) =
                call(app, &app.token, "GET", &format!("{path}?{q}"), json!(null)).await;
            assert_eq!(st, 400, "{path}?{q}: {body}");
            assert!(
                body["error"].as_str().unwrap().contains(why),
                "{path}?{q}: {body}"
            );
        }
    }
    let (st, body) = call(
        app,
        &app.token,
        "GET",
        "/api/v1/reports/reconciliation?format=xlsx",
        json!(null),
    )
    .await;
    assert_eq!(st, 400, "{body}");

    let (staff, _) = tokens::create(&app.db, app.shop.id, "s", Role::Staff, now())
        .await
        .unwrap();
    for path in [
        "/api/v1/reports/reconciliation",
        "/api/v1/exports/orders.csv",
        "/api/v1/exports/payments.csv",
        "/api/v1/exports/balances.csv",
    ] {
        let (st, body) = call(app, &staff, "GET", path, json!(null)).await;
        assert_eq!(st, 403, "{path}: {body}");
        assert_eq!(body["permission"], Permission::ViewMoneyReports.as_str());
    }
    let (finance, _) = tokens::create(&app.db, app.shop.id, "f", Role::Finance, now())
        .await
        .unwrap();
    assert_eq!(
        csv(app, &finance, "/api/v1/exports/payments.csv").await.0,
        200
    );
    // Staff cannot mark a refund paid back either.
    let due = payment_of(&app.db, &b, b.refunded, "refund_due").await;
    let path = format!("/api/v1/orders/{}/resolve-payment", b.refunded);
    let (st, body) = call(
        app,
        &staff,
        "POST",
        &path,
        json!({"payment_id": due, "note": "x"}),
    )
    .await;
    assert_eq!(st, 403, "{body}");
    assert!(
        orders::queued_notices(&app.db, app.shop.id, b.refunded)
            .await
            .unwrap()
            .iter()
            .all(|n| !matches!(n, Notice::RefundPaidBack { .. }))
    );
    b.app.stop().await;
}

/// The permission is checked on the order as the transaction reads it: a
/// role that may cancel an unpaid order is refused once it has been paid,
/// whatever it saw before.
#[tokio::test]
async fn the_permission_is_checked_on_the_order_the_transaction_holds() {
    let b = books().await;
    let (app, db) = (&b.app, &b.app.db);
    let staff = Seller {
        actor: Actor::Seller("staff".into()),
        role: Role::Staff,
    };
    let cancel = Command::Cancel { reason: "x".into() };
    let r = app_orders::act(db, &app.shop, b.paid, cancel, &staff, None, |_, _| {
        Box::pin(async { Ok(((), String::new())) })
    })
    .await;
    match r {
        Err(ApplyError::Denied { permission, role }) => {
            assert_eq!(
                (permission, role),
                (Permission::CancelWithRefund, Role::Staff)
            );
        }
        Err(e) => panic!("expected a refusal, got {e}"),
        Ok(_) => panic!("staff cancelled a paid order"),
    }
    let o = orders::load(db, app.shop.id, b.paid).await.unwrap();
    assert_eq!((o.paid, o.fulfilment.as_str()), (34_900, "confirmed"));
    // The same role may cancel an order with nothing paid.
    let unpaid = place(db, app, b.customer, 9).await;
    let cancel = Command::Cancel { reason: "x".into() };
    let r = app_orders::act(db, &app.shop, unpaid, cancel, &staff, None, |_, _| {
        Box::pin(async { Ok(((), String::new())) })
    })
    .await;
    assert!(matches!(r, Ok(Acted::Done(()))));
    assert!(reconcile::check(db, app.shop.id).await.unwrap().balances());
    b.app.stop().await;
}

#[tokio::test]
async fn the_console_shows_the_books_in_words_and_marks_a_difference_resolved() {
    let b = books().await;
    let (app, db) = (&b.app, &b.app.db);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let owner = app.console_cookie(&app.token).await;
    let get = |path: String, cookie: String| {
        let client = client.clone();
        async move {
            let r = client
                .get(path)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (st, html) = get(app.url("/admin/books"), owner.clone()).await;
    assert_eq!(st, 200, "{html}");
    for words in [
        "Bank transfer",
        "Cash on delivery",
        "The books balance",
        "Kerry",
        "Refunds owed back by hand",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert!(
        !html.contains("bank_transfer"),
        "internal names stay off the page"
    );
    let cod_code = orders::load(db, app.shop.id, b.cod).await.unwrap().code;
    assert!(
        html.contains(cod_code.as_str()),
        "the open difference is listed"
    );
    assert!(
        html.contains("href=\"/admin/books\""),
        "the nav links the page"
    );
    let (st, text) = get(app.url("/admin/books/payments.csv"), owner.clone()).await;
    assert_eq!(st, 200);
    assert!(text.starts_with("date,reference,"), "{text}");
    let (st, html) = get(app.url("/admin/books?from=2026-99-01"), owner.clone()).await;
    assert_eq!(st, 200);
    assert!(
        html.contains("from: expected"),
        "a bad date is explained: {html}"
    );

    let (staff, _) = tokens::create(db, app.shop.id, "s", Role::Staff, now())
        .await
        .unwrap();
    let staff = app.console_cookie(&staff).await;
    let (st, _) = get(app.url("/admin/books"), staff.clone()).await;
    assert_eq!(st, 403);
    let (st, _) = get(app.url("/admin/books/payments.csv"), staff.clone()).await;
    assert_eq!(st, 403);
    let order_page = app.url(&format!("/admin/orders/{}", b.cod));
    let (_, html) = get(order_page.clone(), staff).await;
    assert!(
        !html.contains("href=\"/admin/books\""),
        "no Books link for staff"
    );
    assert!(
        !html.contains("resolve-payment-"),
        "no resolve form for staff"
    );

    let diff = payment_of(db, &b, b.cod, "difference").await;
    let (_, html) = get(order_page.clone(), owner.clone()).await;
    assert!(
        html.contains(&format!("id=\"resolve-payment-{diff}\"")),
        "{html}"
    );
    let r = client
        .post(app.url(&format!("/admin/orders/{}/resolve-payment", b.cod)))
        .header("cookie", owner.clone())
        .form(&[
            ("payment_id", diff.to_string()),
            ("note", "Kerry paid the 49 THB next week".into()),
            ("idem", "resolve-1".into()),
        ])
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("notice=Done"), "{location}");
    let (_, html) = get(order_page, owner.clone()).await;
    assert!(
        !html.contains("resolve-payment-"),
        "resolved: the form is gone"
    );
    assert!(
        html.contains("Kerry paid the 49 THB next week"),
        "the note is shown"
    );
    let (_, html) = get(app.url("/admin/books"), owner).await;
    assert!(
        !html.contains(&format!(">{}<", cod_code.as_str())),
        "no longer open"
    );
    b.app.stop().await;
}

#[tokio::test]
async fn the_books_command_prints_the_report_and_writes_the_exports() {
    let b = books().await;
    let app = &b.app;
    let shop = app.shop.id.to_string();
    let cli = |args: &[&str]| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatbill"));
        c.args(args)
            .env("DATABASE_URL", app.database_url())
            .env("CHATBILL_LOG", "warn");
        c
    };
    let out = cli(&["books", "report", "--shop", &shop, "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["balances"], true);
    assert_eq!(line(&body["report"]["received"], "cod"), (1, 30_000));

    let out = cli(&["books", "report", "--shop", &shop])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("the books balance"), "{text}");
    assert!(
        text.contains("698.00 THB"),
        "two bank transfers of 349: {text}"
    );

    let file = std::env::temp_dir().join(format!("chatbill-books-{}.csv", std::process::id()));
    let path = file.to_string_lossy().to_string();
    let out = cli(&[
        "books", "export", "payments", "--shop", &shop, "--out", &path,
    ])
    .output()
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    let (_, api, _) = csv(app, &app.token, "/api/v1/exports/payments.csv").await;
    assert_eq!(written, api, "the CLI writes what the API serves");

    let out = cli(&["books", "report", "--shop", "999999"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shop: no shop 999999"));
    let out = cli(&["books", "report", "--shop", &shop, "--from", "2026-02-30"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("from: expected"));
    b.app.stop().await;
}
