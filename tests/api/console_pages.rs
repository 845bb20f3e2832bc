//! The console as a seller uses it: words instead of stored names, the
//! Orders page's channel and date filters and its actions on many orders,
//! the order's edits before shipping, and "Yes" before money moves.

use crate::common::{self, TestApp, now};
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::{Command, PaymentMethod};
use chatbill::domain::{OrderId, PaymentStatus};
use chatbill::store::orders::{self, NewOrder};
use reqwest::StatusCode;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> String {
    let r = app
        .client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

/// Posts a console form; where it leads back to.
async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> String {
    let r = no_redirects()
        .post(app.url(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn placed(app: &TestApp, user: &str, channel: &str) -> chatbill::domain::Order {
    let customer = common::customer(&app.db, &app.shop, user).await;
    let v = common::product(&app.db, &app.shop, "Tee", 29_900, None).await;
    orders::place(
        &app.db,
        &app.shop,
        NewOrder {
            customer,
            channel: channel.into(),
            items: vec![(v, 1)],
            address: Some(common::address()),
            method: Some(PaymentMethod::BankTransfer),
            shipping_fee: Some(5_000),
        },
        now(),
    )
    .await
    .unwrap()
}

/// The page's text as a reader sees it: no tags, no attributes.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn pages_speak_in_words_not_stored_names() {
    let app = TestApp::spawn().await;
    let cookie = app.console_cookie(&app.token).await;
    let o = placed(&app, "u1", "messenger").await;
    chatbill::app::orders::apply(
        &app.db,
        &app.shop,
        o.id,
        Command::ConfirmPayment {
            amount: Some(10_000),
            credit_excess: false,
            slip: false,
        },
        &Actor::Seller("owner".into()),
        now(),
    )
    .await
    .unwrap();
    let stored = [
        "pending_review",
        "partially_paid",
        "bank_transfer",
        "qr_transfer",
        "cod_pending",
        "awaiting_cod",
        "amounts_changed",
        "record_payment",
        "messenger",
    ];
    for path in [
        "/admin/orders".to_string(),
        format!("/admin/orders/{}", o.id),
    ] {
        let text = visible(&get(&app, &cookie, &path).await);
        for name in stored {
            assert!(!text.contains(name), "{path} shows {name}: {text}");
        }
    }
    let text = visible(&get(&app, &cookie, &format!("/admin/orders/{}", o.id)).await);
    assert!(
        text.contains("Partly paid") && text.contains("Bank transfer"),
        "{text}"
    );
    assert!(text.contains("Messenger"), "{text}");
}

#[tokio::test]
async fn the_orders_page_filters_by_channel_and_day_and_acts_on_many_orders() {
    let app = TestApp::spawn().await;
    let cookie = app.console_cookie(&app.token).await;
    let a = placed(&app, "u1", "messenger").await;
    let b = placed(&app, "u2", "webchat").await;
    let c = placed(&app, "u3", "webchat").await;

    let web = get(&app, &cookie, "/admin/orders?channel=webchat").await;
    assert!(web.contains(b.code.as_str()) && web.contains(c.code.as_str()));
    assert!(!web.contains(a.code.as_str()), "another channel");
    assert!(web.contains("All channels"));
    let today = app.shop.settings.calendar().iso_date(now());
    let day = get(
        &app,
        &cookie,
        &format!("/admin/orders?from={today}&to={today}"),
    )
    .await;
    assert!(day.contains(a.code.as_str()), "{today}");
    let none = get(&app, &cookie, "/admin/orders?from=2001-01-01&to=2001-01-02").await;
    assert!(!none.contains(a.code.as_str()));

    let notes = get(
        &app,
        &cookie,
        &format!("/admin/orders/print?what=notes&id={}&id={}", a.id, b.id),
    )
    .await;
    assert!(notes.contains(a.code.as_str()) && notes.contains(b.code.as_str()));
    assert!(!notes.contains(c.code.as_str()));

    // Two confirmed orders ship; the unconfirmed one says why it did not.
    for o in [&a, &b] {
        chatbill::app::orders::apply(
            &app.db,
            &app.shop,
            o.id,
            Command::Confirm,
            &Actor::Seller("owner".into()),
            now(),
        )
        .await
        .unwrap();
    }
    let (ai, bi, ci) = (a.id.to_string(), b.id.to_string(), c.id.to_string());
    let back = post(
        &app,
        &cookie,
        "/admin/orders/ship-many",
        &[("id", &ai), ("id", &bi), ("id", &ci), ("carrier", "Kerry")],
    )
    .await;
    assert!(
        back.contains("error=2+shipped") || back.contains("error=2%20shipped"),
        "{back}"
    );
    for (id, shipped) in [(a.id, true), (b.id, true), (c.id, false)] {
        let o = orders::load(&app.db, app.shop.id, id).await.unwrap();
        assert_eq!(o.carrier.is_some(), shipped, "{id}");
    }
    let back = post(
        &app,
        &cookie,
        "/admin/orders/ship-many",
        &[("carrier", "Kerry")],
    )
    .await;
    assert!(back.contains("error="), "nothing ticked: {back}");
}

#[tokio::test]
async fn the_order_page_edits_before_shipping_and_asks_yes_before_money_moves() {
    let app = TestApp::spawn().await;
    let cookie = app.console_cookie(&app.token).await;
    let o = placed(&app, "u1", "messenger").await;
    let id = o.id.get();
    let page = get(&app, &cookie, &format!("/admin/orders/{id}")).await;
    for form in ["edit-address-form", "edit-fees-form", "edit-line-form"] {
        assert!(page.contains(form), "{form}");
    }
    let path = |a: &str| format!("/admin/orders/{id}/{a}");
    let back = post(
        &app,
        &cookie,
        &path("edit-address"),
        &[
            ("full_name", "Nok Srisuk"),
            ("phone", "089 765 4321"),
            ("line", "5 Soi 3"),
            ("district", "Bang Rak"),
            ("province", "Bangkok"),
        ],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let back = post(
        &app,
        &cookie,
        &path("edit-fees"),
        &[
            ("fees", "Gift box = 20"),
            ("shipping_fee", "70"),
            ("discount", "10.50"),
        ],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let line = o.lines[0].id.to_string();
    let back = post(
        &app,
        &cookie,
        &path("edit-line"),
        &[("line_id", &line), ("unit_price", "250"), ("qty", "2")],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let after = orders::load(&app.db, app.shop.id, o.id).await.unwrap();
    let address = after.address.clone().unwrap();
    assert_eq!(
        (address.full_name.as_str(), address.phone.as_str()),
        ("Nok Srisuk", "+66897654321")
    );
    assert_eq!(after.shipping_fee, 7_000);
    assert_eq!(after.discount, 1_050);
    assert_eq!(after.fees[0].amount, 2_000);
    assert_eq!(after.lines[0].proposed_unit_price, Some(25_000));
    let back = post(
        &app,
        &cookie,
        &path("edit-fees"),
        &[("fees", "Gift box twenty")],
    )
    .await;
    assert!(back.contains("error="), "{back}");

    // Money moves only with "Yes" ticked.
    let back = post(
        &app,
        &cookie,
        &path("confirm-payment"),
        &[("amount", "100")],
    )
    .await;
    assert!(back.contains("error="), "{back}");
    assert_eq!(
        orders::load(&app.db, app.shop.id, o.id).await.unwrap().paid,
        0
    );
    let back = post(
        &app,
        &cookie,
        &path("confirm-payment"),
        &[("amount", "100"), ("yes", "on")],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let paid = orders::load(&app.db, app.shop.id, OrderId(id))
        .await
        .unwrap();
    assert_eq!(paid.paid, 10_000, "typed in baht");
    assert_eq!(paid.payment, PaymentStatus::PartiallyPaid);
    let back = post(&app, &cookie, &path("cancel"), &[("reason", "test")]).await;
    assert!(back.contains("error="), "{back}");
    assert_eq!(
        orders::load(&app.db, app.shop.id, o.id)
            .await
            .unwrap()
            .fulfilment,
        chatbill::domain::Fulfilment::Placed
    );
}

#[tokio::test]
async fn a_customer_s_page_moves_their_balance_with_yes_and_pays_an_order_from_it() {
    let app = TestApp::spawn().await;
    let cookie = app.console_cookie(&app.token).await;
    let o = placed(&app, "walk-in", "webchat").await;
    let c = o.customer_id.get();
    let page = get(&app, &cookie, &format!("/admin/chats/{c}")).await;
    assert!(page.contains(o.code.as_str()), "their open order is listed");
    assert!(page.contains("deposit-form") && page.contains("No movements yet"));

    let path = format!("/admin/chats/{c}/balance/deposit");
    let back = post(&app, &cookie, &path, &[("amount", "500")]).await;
    assert!(back.contains("error="), "no Yes: {back}");
    let balance = || async {
        chatbill::store::customers::get(&app.db, app.shop.id, o.customer_id)
            .await
            .unwrap()
            .balance
    };
    assert_eq!(balance().await, 0);
    let back = post(
        &app,
        &cookie,
        &path,
        &[
            ("amount", "500"),
            ("note", "cash at the counter"),
            ("yes", "on"),
        ],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    assert_eq!(balance().await, 50_000);
    let back = post(
        &app,
        &cookie,
        &format!("/admin/chats/{c}/balance/withdraw"),
        &[("amount", "900"), ("yes", "on")],
    )
    .await;
    assert!(back.contains("error="), "more than they hold: {back}");
    assert_eq!(balance().await, 50_000);
    let page = get(&app, &cookie, &format!("/admin/chats/{c}")).await;
    assert!(page.contains("cash at the counter") && page.contains("Added by the shop"));
    assert!(page.contains(&format!("pay-from-balance-{}", o.id)));

    let back = post(
        &app,
        &cookie,
        &format!("/admin/orders/{}/pay-from-balance", o.id),
        &[("yes", "on")],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let after = orders::load(&app.db, app.shop.id, o.id).await.unwrap();
    assert_eq!(after.payment, PaymentStatus::Paid);
    assert_eq!(balance().await, 50_000 - after.totals().total.minor);

    // A staff member sees the balance but cannot move it.
    let (staff, _) = chatbill::store::tokens::create(
        &app.db,
        app.shop.id,
        "Somsak",
        chatbill::store::tokens::Role::Staff,
        now(),
    )
    .await
    .unwrap();
    let staff_cookie = app.console_cookie(&staff).await;
    let page = get(&app, &staff_cookie, &format!("/admin/chats/{c}")).await;
    assert!(!page.contains("deposit-form"));
    let back = post(
        &app,
        &staff_cookie,
        &path,
        &[("amount", "1"), ("yes", "on")],
    )
    .await;
    assert!(back.contains("error="), "{back}");
    assert_eq!(balance().await, 50_000 - after.totals().total.minor);
}

#[tokio::test]
async fn the_dashboard_draws_paid_and_unpaid_apart_over_the_range_picked() {
    let app = TestApp::spawn().await;
    let cookie = app.console_cookie(&app.token).await;
    let unpaid = placed(&app, "u1", "messenger").await;
    let paid = placed(&app, "u2", "messenger").await;
    common::pay_in_full(&app, paid.id).await;
    let money = |minor: i64| {
        chatbill::domain::Money::new(minor, chatbill::domain::Currency::THB).display("en")
    };
    let html = get(&app, &cookie, "/admin/dashboard").await;
    assert!(html.contains("id=\"orders-chart\"") && html.contains("id=\"revenue-chart\""));
    assert_eq!(html.matches("<g><title>").count(), 14, "7 days, two charts");
    let paid_words = money(paid.totals().total.minor);
    let unpaid_words = money(unpaid.totals().total.minor);
    assert!(
        html.contains(&format!("{paid_words} paid, {unpaid_words} still unpaid")),
        "{html}"
    );
    assert!(html.contains("<strong id=\"dash-orders\">2</strong>"));
    assert!(!html.contains("<script>"), "drawn on the server");
    let month = get(&app, &cookie, "/admin/dashboard?days=30").await;
    assert_eq!(month.matches("<g><title>").count(), 60);
    let odd = get(&app, &cookie, "/admin/dashboard?days=5000").await;
    assert_eq!(
        odd.matches("<g><title>").count(),
        14,
        "an unknown range is the week"
    );
}

#[tokio::test]
async fn pictures_in_a_chat_show_the_kept_copy_not_a_code() {
    let app = TestApp::spawn().await;
    let cookie = app.console_cookie(&app.token).await;
    let o = placed(&app, "u1", "webchat").await;
    let (shop, c) = (app.shop.id.get(), o.customer_id.get());
    let at = now().millis();
    for url in [
        "https://cdn.example/slip.jpg",
        "https://cdn.example/cat.jpg",
    ] {
        sqlx::query(
            "insert into conversation_messages (shop_id, customer_id, direction, author, body, attachment_url, created_at) \
             values ($1, $2, 'in', 'customer', '', $3, $4)",
        )
        .bind(shop)
        .bind(c)
        .bind(url)
        .bind(at)
        .execute(app.db.pool())
        .await
        .unwrap();
    }
    let payment: i64 = sqlx::query_scalar(
        "insert into payments (shop_id, order_id, method, amount, status, slip_sha256, slip_path, thumb_path, source_url, created_at) \
         values ($1, $2, 'bank_transfer', 0, 'pending', 'ab', 'ab.jpg', 'ab_t.jpg', 'https://cdn.example/slip.jpg', $3) returning id",
    )
    .bind(shop)
    .bind(o.id.get())
    .bind(at)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    for path in [
        format!("/admin/chats/{c}"),
        format!("/admin/orders/{}", o.id),
    ] {
        let html = get(&app, &cookie, &path).await.replace("&#x2f;", "/");
        assert!(
            html.contains(&format!("src=\"/admin/payments/{payment}/slip\"")),
            "{path}: {html}"
        );
        assert!(html.contains("A picture (not kept"), "{path}");
        assert!(!visible(&html).contains("[image]"), "{path}");
    }
}

#[tokio::test]
async fn products_customers_and_tokens_are_managed_from_the_console() {
    let app = TestApp::spawn().await;
    let cookie = app.console_cookie(&app.token).await;
    let o = placed(&app, "walk-in", "webchat").await;
    let product = o.lines[0].product_id.get();
    let variant = o.lines[0].variant_id.get();
    let back = post(
        &app,
        &cookie,
        &format!("/admin/products/{product}/edit"),
        &[
            ("name", "Striped tee"),
            ("price", "349"),
            ("category", "Shirts"),
            ("active", "on"),
        ],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let p = chatbill::store::catalog::get_product(&app.db, app.shop.id, o.lines[0].product_id)
        .await
        .unwrap();
    assert_eq!(
        (p.name.as_str(), p.price, p.category.as_str()),
        ("Striped tee", 34_900, "Shirts")
    );
    let back = post(
        &app,
        &cookie,
        &format!("/admin/products/{product}/variants"),
        &[("name", "XL"), ("price", "399"), ("stock", "3")],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let back = post(
        &app,
        &cookie,
        &format!("/admin/variants/{variant}/delete"),
        &[],
    )
    .await;
    assert!(back.contains("error="), "no Yes: {back}");
    let p = chatbill::store::catalog::get_product(&app.db, app.shop.id, o.lines[0].product_id)
        .await
        .unwrap();
    assert_eq!(p.variants.len(), 2);
    let page = get(&app, &cookie, "/admin/products").await;
    assert!(page.contains("Striped tee") && page.contains("XL"));

    let back = post(
        &app,
        &cookie,
        &format!("/admin/chats/{}/name", o.customer_id),
        &[("name", "Walk-in Nok")],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let found = get(&app, &cookie, "/admin/customers?q=nok")
        .await
        .replace("&#x2f;", "/");
    assert!(
        found.contains(&format!("/admin/chats/{}", o.customer_id)),
        "{found}"
    );
    let none = get(&app, &cookie, "/admin/customers?q=zzz").await;
    assert!(none.contains("No customers found"));

    let r = no_redirects()
        .post(app.url("/admin/tokens"))
        .header("cookie", &cookie)
        .form(&[("label", "Somsak"), ("role", "staff")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the token is shown on the answer"
    );
    let html = r.text().await.unwrap();
    let token = html
        .split("<code style=\"word-break:break-all\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let staff_cookie = app.console_cookie(&token).await;
    assert!(
        !get(&app, &staff_cookie, "/admin/orders")
            .await
            .contains("nav-tokens")
    );
    let list = chatbill::store::tokens::list(&app.db, app.shop.id)
        .await
        .unwrap();
    let somsak = list.iter().find(|t| t.label == "Somsak").unwrap().id;
    let back = post(
        &app,
        &cookie,
        &format!("/admin/tokens/{somsak}/revoke"),
        &[("yes", "on")],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    let r = app
        .client
        .get(app.url("/admin/orders"))
        .header("cookie", &staff_cookie)
        .send()
        .await
        .unwrap();
    assert!(
        r.url().path().starts_with("/admin/login") || r.status() != StatusCode::OK,
        "a revoked token signs in no more"
    );
}

#[tokio::test]
async fn a_printed_bill_carries_a_qr_for_what_is_still_owed() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .patch(app.url("/api/v1/settings"))
        .bearer_auth(&app.token)
        .json(
            &serde_json::json!({"payment_qr": {"scheme": "promptpay", "id": "0812345678"},
                                  "shop_address": "12 Charoen Krung Rd\nBang Rak, Bangkok 10500"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = app.console_cookie(&app.token).await;
    let o = placed(&app, "u1", "messenger").await;
    let bill = get(&app, &cookie, &format!("/admin/orders/{}/bill", o.id))
        .await
        .replace("&#x2f;", "/");
    let owed =
        chatbill::domain::Money::new(o.totals().remaining.minor, chatbill::domain::Currency::THB)
            .display("en");
    assert!(bill.contains(&format!("Scan to pay {owed}")), "{bill}");
    assert!(bill.contains("12 Charoen Krung Rd"), "the shop's address");
    let note = get(
        &app,
        &cookie,
        &format!("/admin/orders/{}/shipping-note", o.id),
    )
    .await;
    assert!(note.contains("Bang Rak, Bangkok 10500"), "{note}");
    let src = bill
        .split("<p class=\"qr\"><img src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let png = app.client.get(app.url(&src)).send().await.unwrap();
    assert_eq!(png.status(), StatusCode::OK, "{src}");
    common::pay_in_full(&app, o.id).await;
    let bill = get(&app, &cookie, &format!("/admin/orders/{}/bill", o.id)).await;
    assert!(!bill.contains("Scan to pay"), "paid: nothing to scan");
}

#[tokio::test]
async fn each_person_reads_the_console_and_the_bill_in_their_own_language() {
    let app = TestApp::spawn().await;
    let me = |body: Option<serde_json::Value>, token: String| {
        let app = &app;
        async move {
            let r = match body {
                Some(b) => app.client.patch(app.url("/api/v1/me")).json(&b),
                None => app.client.get(app.url("/api/v1/me")),
            };
            let r = r.bearer_auth(token).send().await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (st, got) = me(None, app.token.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (got["language"].clone(), got["reads_in"].as_str()),
        (serde_json::Value::Null, Some("en"))
    );
    let (st, got) = me(
        Some(serde_json::json!({"language": "thai"})),
        app.token.clone(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{got}");
    assert_eq!(got["field"], "language");
    let (st, got) = me(
        Some(serde_json::json!({"language": "th"})),
        app.token.clone(),
    )
    .await;
    assert_eq!(
        (st, got["reads_in"].as_str()),
        (StatusCode::OK, Some("th")),
        "{got}"
    );

    // The bill over the API prints in Thai for this person, English for
    // a colleague who chose nothing.
    let o = placed(&app, "u1", "messenger").await;
    let bill = |token: String| {
        let app = &app;
        let path = format!("/api/v1/orders/{}/bill", o.id);
        async move {
            let r = app
                .client
                .get(app.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    let th = bill(app.token.clone()).await;
    assert!(th.contains("ยอดรวม") && !th.contains(">Total<"), "{th}");
    let made: serde_json::Value = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&app.token)
        .json(&serde_json::json!({"label": "Nok", "role": "staff"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let colleague = made["token"].as_str().unwrap().to_string();
    let en = bill(colleague.clone()).await;
    assert!(en.contains("Total") && !en.contains("ยอดรวม"), "{en}");

    // The console follows the same choice; a refusal reads in it too.
    let cookie = app.console_cookie(&app.token).await;
    let back = post(
        &app,
        &cookie,
        &format!("/admin/orders/{}/ship", o.id),
        &[("carrier", "Kerry")],
    )
    .await;
    let page = get(&app, &cookie, &back).await;
    assert!(page.contains("<html lang=\"th\""), "{page}");
    assert!(
        page.contains("คำสั่งซื้อนี้เป็นคำสั่งซื้อใหม่ จึงจัดส่งไม่ได้"),
        "the refusal in Thai: {}",
        visible(&page)
    );
    // The switch in the header: back on the same page, in Vietnamese.
    let r = no_redirects()
        .post(app.url("/admin/language"))
        .header("cookie", &cookie)
        .header(
            "referer",
            app.url(&format!("/admin/orders/{}?error=x", o.id)),
        )
        .form(&[("language", "vi")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with(&format!("/admin/orders/{}?notice=", o.id)),
        "{back}"
    );
    let page = get(&app, &cookie, &back).await;
    assert!(
        page.contains("Đã đổi ngôn ngữ") && page.contains("<html lang=\"vi\""),
        "{}",
        visible(&page)
    );
    // A referer from elsewhere never leads off the console.
    let r = no_redirects()
        .post(app.url("/admin/language"))
        .header("cookie", &cookie)
        .header("referer", "https://evil.example/admin/x")
        .form(&[("language", "")])
        .send()
        .await
        .unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with("/admin/"), "{back}");
    let (_, got) = me(None, app.token.clone()).await;
    assert_eq!(got["reads_in"], "en", "empty: the shop's language again");
    app.stop().await;
}
