//! A seller sets up their own shop: created with `chatbill shop create`,
//! configured only through the settings API (or `chatbill shop set`), and
//! a customer then pays by bank transfer and by PromptPay QR. Wrong
//! settings are refused with the field and the reason, and nothing of a
//! refused change is kept.

use crate::cli::chatbill;
use crate::common::{self, TestApp};
use crate::slips_support as fixtures;
use chatbill::domain::ShopId;
use chatbill::store::shops;
use serde_json::{Value, json};

/// `chatbill shop create` on a fresh database: the shop and its owner token.
fn create_shop_with_cli(url: &str, currency: &str) -> (ShopId, String) {
    let out = chatbill()
        .args([
            "shop",
            "create",
            "--name",
            "My shop",
            "--currency",
            currency,
        ])
        .env("DATABASE_URL", url)
        .output()
        .expect("run chatbill");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "shop create failed: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = text
        .split_whitespace()
        .skip_while(|w| *w != "shop")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("the shop id is printed");
    let token = text
        .lines()
        .find_map(|l| {
            l.split_once("keep it safe): ")
                .map(|(_, t)| t.trim().to_string())
        })
        .expect("the token is printed");
    (ShopId(id), token)
}

async fn shop_from_cli(currency: &str) -> TestApp {
    let test_db = common::fresh_db().await;
    let (id, token) = create_shop_with_cli(&test_db.url, currency);
    let shop = shops::get(&test_db.db, id).await.expect("the shop exists");
    TestApp::serve(test_db, shop, token, &[]).await
}

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app
        .client
        .request(m, app.url(&format!("/api/v1{path}")))
        .bearer_auth(&app.token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The shop's one product: a canvas tote at ฿250, five in stock.
async fn add_tote(app: &TestApp) {
    let (st, body) = call(
        app,
        "POST",
        "/products",
        Some(json!({"name": "Canvas tote", "price": 25000, "variants": [{"name": "Natural", "stock": 5}]})),
    )
    .await;
    assert_eq!(st, 201, "{body}");
}

/// An order's printed bill, as the seller opens it.
async fn bill(app: &TestApp, order: i64) -> String {
    app.client
        .get(app.url(&format!("/api/v1/orders/{order}/bill")))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("bill")
        .text()
        .await
        .expect("html")
}

async fn patch_settings(app: &TestApp, patch: Value) -> (u16, Value) {
    call(app, "PATCH", "/settings", Some(patch)).await
}

/// A web chat customer who reads what the shop sends and taps its buttons.
struct Customer<'a> {
    app: &'a TestApp,
    cookie: String,
    sent: u32,
    seen: i64,
    /// Everything the shop said since the last turn.
    said: Vec<Value>,
}

impl<'a> Customer<'a> {
    async fn open(app: &'a TestApp) -> Customer<'a> {
        let r = app
            .client
            .get(app.url(&format!("/chat/{}", app.shop.id)))
            .send()
            .await
            .expect("chat page");
        assert_eq!(r.status(), 200);
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        Customer {
            app,
            cookie,
            sent: 0,
            seen: 0,
            said: Vec::new(),
        }
    }

    async fn post(&mut self, path: &str, body: reqwest::Body, json: bool) {
        self.sent += 1;
        let mut url = self.app.url(&format!("/chat/{}/{path}", self.app.shop.id));
        if !json {
            url = format!("{url}?client_id=c{}", self.sent);
        }
        let mut req = self
            .app
            .client
            .post(url)
            .header("cookie", &self.cookie)
            .body(body);
        if json {
            req = req.header("content-type", "application/json");
        }
        let r = req.send().await.expect("send");
        assert_eq!(r.status(), 202, "{path}: {:?}", r.text().await);
        self.app.drain().await;
        self.read().await;
    }

    async fn say(&mut self, text: &str) {
        let body = json!({"text": text, "client_id": format!("c{}", self.sent + 1)});
        self.post("send", body.to_string().into(), true).await;
    }

    async fn tap(&mut self, payload: &str) {
        let body = json!({"payload": payload, "client_id": format!("c{}", self.sent + 1)});
        self.post("send", body.to_string().into(), true).await;
    }

    async fn send_photo(&mut self, bytes: Vec<u8>) {
        self.post("upload", bytes.into(), false).await;
    }

    /// The messages sent since the last turn (the stream is read until it
    /// has been quiet for a moment: the drain already sent everything).
    async fn read(&mut self) {
        let mut r = self
            .app
            .client
            .get(self.app.url(&format!(
                "/chat/{}/events?after={}",
                self.app.shop.id, self.seen
            )))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("events");
        let mut text = String::new();
        while let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(std::time::Duration::from_millis(500), r.chunk()).await
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        self.said.clear();
        for line in text.lines() {
            if let Some(id) = line
                .strip_prefix("id: ")
                .and_then(|i| i.trim().parse().ok())
            {
                self.seen = self.seen.max(id);
            }
            if let Some(m) = line
                .strip_prefix("data: ")
                .and_then(|d| serde_json::from_str(d).ok())
            {
                self.said.push(m);
            }
        }
    }

    fn text(&self) -> String {
        self.said
            .iter()
            .filter_map(|m| m["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every button and quick reply payload offered in the last turn.
    fn offered(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in &self.said {
            let lists = [&m["quick_replies"], &m["buttons"]];
            let cards = m["cards"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| &c["buttons"]);
            for list in lists.into_iter().chain(cards) {
                for b in list.as_array().into_iter().flatten() {
                    if let Some(p) = b["payload"].as_str() {
                        out.push(p.to_string());
                    }
                }
            }
        }
        out
    }

    fn offer(&self, prefix: &str) -> String {
        self.offered()
            .into_iter()
            .find(|p| p.starts_with(prefix))
            .unwrap_or_else(|| panic!("nothing starting {prefix} offered in {:#?}", self.said))
    }

    /// From the menu to a placed order of one of the first product, with a
    /// new delivery address; the shop then asks how to pay.
    async fn order_one(&mut self) {
        self.tap("MENU_PRODUCTS").await;
        let add = self.offer("ADD:");
        self.tap(&add).await;
        if let Some(pick) = self
            .offered()
            .into_iter()
            .find(|p| p.starts_with("VARIANT:"))
        {
            self.tap(&pick).await;
        }
        if let Some(qty) = self.offered().into_iter().find(|p| p.starts_with("QTY:")) {
            self.tap(&qty).await;
        }
        self.tap(&self.offer("CHECKOUT")).await;
        if self.offered().iter().any(|p| p == "ADDR_SAVED") {
            self.tap("ADDR_SAVED").await;
        } else {
            for line in [
                "Somchai Jaidee",
                "081-234-5678",
                "99/1 Sukhumvit 11",
                "Bangkok",
                "Watthana",
            ] {
                self.say(line).await;
            }
        }
        self.tap(&self.offer("PLACE")).await;
        if !self.offered().iter().any(|p| p.starts_with("PAY:")) {
            self.tap(&self.offer("PAYMENU:")).await;
        }
    }
}

/// The bank account and PromptPay id a seller really types.
fn thai_shop_settings() -> Value {
    json!({
        "bank_accounts": [
            {"bank": "Bangkok Bank", "account_name": "My shop Co.", "account_number": "987-6-54321-0"},
            {"bank": "Kasikornbank", "account_name": "My shop Co.", "account_number": "111-2-33333-4", "default": true},
        ],
        "payment_qr": {"scheme": "promptpay", "id": "0891234567"},
        "payment_methods": ["bank_transfer", "qr_transfer", "cod"],
        "shipping_flat_fee": 4000,
        "time_zone": "Asia/Bangkok",
        "utility_templates": {"shipped": "order_shipped_v1"},
    })
}

#[tokio::test]
async fn a_shop_made_with_shop_create_and_the_api_takes_bank_transfers_and_promptpay() {
    let app = shop_from_cli("THB").await;
    // Out of the box the shop cannot take a transfer, and says so.
    let (st, got) = call(&app, "GET", "/settings", None).await;
    assert_eq!(st, 200);
    assert!(
        got["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("no bank account"),
        "{got}"
    );
    add_tote(&app).await;
    let (st, changed) = patch_settings(&app, thai_shop_settings()).await;
    assert_eq!(st, 200, "{changed}");
    assert_eq!(changed["warnings"], json!([]));
    assert_eq!(changed["settings"]["payment_qr"]["id"], "0891234567");

    // Bank transfer: the configured accounts, the default first, and the slip.
    let mut c = Customer::open(&app).await;
    c.tap("GET_STARTED").await;
    assert!(c.text().contains("Welcome to My shop"), "{}", c.text());
    c.order_one().await;
    // The web chat's customer is named by the recipient they typed.
    let (st, found) = call(&app, "GET", "/customers?q=somchai", None).await;
    assert_eq!(st, 200);
    assert_eq!(
        found["customers"][0]["display_name"], "Somchai Jaidee",
        "{found}"
    );
    assert!(
        c.text().contains("฿290.00"),
        "250 + 40 shipping: {}",
        c.text()
    );
    let bank = c.offer("PAY:bank:");
    c.offer("PAY:qr:");
    c.tap(&bank).await;
    let text = c.text();
    let (default, other) = (text.find("111-2-33333-4"), text.find("987-6-54321-0"));
    assert!(
        default.is_some() && other.is_some(),
        "both accounts: {text}"
    );
    assert!(default < other, "the default account comes first: {text}");
    assert!(text.contains("Kasikornbank"), "{text}");
    c.send_photo(fixtures::photo_jpeg(900, 1600, 7)).await;
    assert!(
        c.text().contains("Payment confirmation: pending"),
        "{}",
        c.text()
    );

    // PromptPay: a QR that decodes to the configured id and the exact amount.
    c.order_one().await;
    let qr = c.offer("PAY:qr:");
    c.tap(&qr).await;
    let image = c
        .said
        .iter()
        .find_map(|m| m["url"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("a QR image in {:#?}", c.said));
    // The image's address is the configured public URL; fetch its path here.
    let path = image
        .find("/media/")
        .map(|i| &image[i..])
        .expect("a media address");
    let url = app.url(path);
    let png = app
        .client
        .get(&url)
        .send()
        .await
        .expect("qr")
        .bytes()
        .await
        .expect("qr bytes");
    let gray = image::load_from_memory(&png).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(gray);
    let grids = prepared.detect_grids();
    let (_, payload) = grids.first().expect("a QR code").decode().expect("decodes");
    // Tag 29 (PromptPay) carries the phone as 0066 + 9 digits; tag 54 the amount.
    assert!(payload.contains("01130066891234567"), "{payload}");
    assert!(payload.contains("5406290.00"), "{payload}");
    c.send_photo(fixtures::photo_jpeg(900, 1600, 8)).await;
    assert!(
        c.text().contains("Payment confirmation: pending"),
        "{}",
        c.text()
    );

    // The seller sees both orders waiting for review.
    let (_, list) = call(&app, "GET", "/orders?payment_status=pending_review", None).await;
    assert_eq!(list["orders"].as_array().map(Vec::len), Some(2), "{list}");
    app.stop().await;
}

#[tokio::test]
async fn wrong_settings_are_refused_by_field_and_nothing_of_them_is_kept() {
    let app = shop_from_cli("THB").await;
    let (st, _) = patch_settings(&app, thai_shop_settings()).await;
    assert_eq!(st, 200);
    let (_, before) = call(&app, "GET", "/settings", None).await;
    let account = |n: &str| json!([{"bank": "KBank", "account_name": "Me", "account_number": n}]);
    let cases = [
        (
            json!({"payment_qr": {"scheme": "promptpay", "id": "12345"}}),
            "payment_qr.id",
        ),
        (
            json!({"payment_qr": {"scheme": "promptpay", "id": "3101700230705"}}),
            "payment_qr.id",
        ),
        (
            json!({"payment_qr": {"scheme": "vietqr", "bank_bin": "970436", "account": "0011"}}),
            "payment_qr.scheme",
        ),
        (
            json!({"bank_accounts": account("12A-3456789")}),
            "bank_accounts[0].account_number",
        ),
        (json!({"shipping_flat_fee": -100}), "shipping_flat_fee"),
        (json!({"hold_hours": 0}), "hold_hours"),
        (
            json!({"utility_templates": {"shipped": "order shipped"}}),
            "utility_templates.shipped",
        ),
        (
            json!({"utility_templates": {"birthday": "hello"}}),
            "utility_templates.birthday",
        ),
        (json!({"time_zone": "GMT+7"}), "time_zone"),
        (json!({"payment_methods": []}), "payment_methods"),
        (json!({"colour": "red"}), "colour"),
        // A good change beside a bad one: neither is kept.
        (
            json!({"hold_hours": 48, "shipping_flat_fee": -1}),
            "shipping_flat_fee",
        ),
    ];
    for (patch, field) in cases {
        let (st, body) = patch_settings(&app, patch.clone()).await;
        assert_eq!(st, 400, "{patch} → {body}");
        assert_eq!(body["field"], field, "{patch} → {body}");
        assert!(
            body["reason"].as_str().is_some_and(|r| r.len() > 10),
            "a reason: {body}"
        );
    }
    let (_, after) = call(&app, "GET", "/settings", None).await;
    assert_eq!(before, after, "no refused change was kept");
    let (_, history) = call(&app, "GET", "/settings/history", None).await;
    assert_eq!(
        history["changes"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    app.stop().await;
}

#[tokio::test]
async fn vietqr_settings_need_a_real_bank_bin_in_a_vnd_shop() {
    let app = shop_from_cli("VND").await;
    let qr = |bin: &str| json!({"payment_qr": {"scheme": "vietqr", "bank_bin": bin, "account": "0011000123456"}});
    let (st, body) = patch_settings(&app, qr("123456")).await;
    assert_eq!(
        (st, body["field"].as_str()),
        (400, Some("payment_qr.bank_bin")),
        "{body}"
    );
    let (st, body) = patch_settings(
        &app,
        json!({"payment_qr": {"scheme": "promptpay", "id": "0891234567"}}),
    )
    .await;
    assert_eq!(
        (st, body["field"].as_str()),
        (400, Some("payment_qr.scheme")),
        "{body}"
    );
    let (st, body) = patch_settings(&app, qr("970436")).await;
    assert_eq!(st, 200, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn every_change_is_in_the_history_with_who_and_when_and_applies_at_once() {
    let app = shop_from_cli("THB").await;
    let (st, _) = patch_settings(&app, json!({"hold_hours": 48})).await;
    assert_eq!(st, 200);
    // The same value again changes nothing and records nothing.
    let (st, same) = patch_settings(&app, json!({"hold_hours": 48})).await;
    assert_eq!((st, same["changed"].clone()), (200, json!([])));
    let (st, _) = patch_settings(
        &app,
        json!({"utility_templates": {"shipped": "shipped_v2"}, "shipping_flat_fee": 3000}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, h) = call(&app, "GET", "/settings/history", None).await;
    assert_eq!(st, 200);
    let changes = h["changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 2, "{h}");
    assert_eq!(
        changes[0]["fields"],
        json!(["shipping_flat_fee", "utility_templates"])
    );
    assert_eq!(changes[1]["fields"], json!(["hold_hours"]));
    assert_eq!(changes[1]["before"]["hold_hours"], 24);
    assert_eq!(changes[1]["after"]["hold_hours"], 48);
    assert_eq!(
        changes[0]["actor"], "seller:owner",
        "the token's label: {h}"
    );
    let at = changes[0]["at"].as_i64().unwrap_or_default();
    assert!((common::now().millis() - at).abs() < 60_000, "when: {at}");
    // Paging back from the newest.
    let (_, page) = call(
        &app,
        "GET",
        &format!("/settings/history?limit=1&before={}", changes[0]["id"]),
        None,
    )
    .await;
    assert_eq!(page["changes"][0]["id"], changes[1]["id"]);
    // The server's own view of the shop has the change without a restart.
    let view = app
        .state()
        .shop_views
        .get(&app.db, app.shop.id)
        .await
        .expect("view")
        .expect("shop");
    assert_eq!(view.shop.settings.shipping_flat_fee, 3000);
    // Only the owner changes settings; anyone may read them.
    let (_, made) = call(
        &app,
        "POST",
        "/tokens",
        Some(json!({"label": "Nok", "role": "manager"})),
    )
    .await;
    let manager = made["token"].as_str().expect("token").to_string();
    let r = app
        .client
        .patch(app.url("/api/v1/settings"))
        .bearer_auth(&manager)
        .json(&json!({"hold_hours": 1}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .get(app.url("/api/v1/settings/history"))
        .bearer_auth(&manager)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn operators_set_and_show_settings_from_the_command_line() {
    let test_db = common::fresh_db().await;
    let url = test_db.url.clone();
    let (id, _) = create_shop_with_cli(&url, "THB");
    let run = |args: &[&str]| {
        let out = chatbill()
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .expect("run");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let shop = id.get().to_string();
    let (ok, out, err) = run(&[
        "shop",
        "set",
        "--shop",
        &shop,
        "hold_hours=36",
        "payment_qr.scheme=promptpay",
        "payment_qr.id=3101700230704",
        "utility_templates.shipped=order_shipped",
        "time_zone=Asia/Bangkok",
    ]);
    assert!(ok, "{out} {err}");
    assert!(
        out.contains("hold_hours") && out.contains("payment_qr"),
        "{out}"
    );
    let (ok, _, err) = run(&[
        "shop",
        "set",
        "--shop",
        &shop,
        "payment_qr.id=3101700230705",
    ]);
    assert!(!ok);
    assert!(
        err.contains("payment_qr.id") && err.contains("check digit"),
        "{err}"
    );
    let (ok, shown, _) = run(&["shop", "show", "--shop", &shop]);
    assert!(ok);
    let shown: Value = serde_json::from_str(&shown).expect("JSON");
    assert_eq!(shown["hold_hours"], 36);
    assert_eq!(
        shown["payment_qr"],
        json!({"scheme": "promptpay", "id": "3101700230704"})
    );
    assert_eq!(shown["utility_templates"]["shipped"], "order_shipped");
    let (ok, history, _) = run(&["shop", "history", "--shop", &shop]);
    assert!(
        ok && history.contains("operator (command line)"),
        "{history}"
    );
    drop(test_db);
}

#[tokio::test]
async fn the_console_settings_page_saves_refuses_in_words_and_keeps_what_was_typed() {
    let app = shop_from_cli("THB").await;
    let cookie = app.console_cookie(&app.token).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = app
        .client
        .get(app.url("/admin/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Bank accounts for transfers") && html.contains("Shipped (with tracking)")
    );
    assert!(
        html.contains("there is no bank account"),
        "the warning shows"
    );
    let form_with = |promptpay: &str, provinces: &str| {
        vec![
            ("province_fees", provinces.to_string()),
            ("cancel_rule", "until_shipped".to_string()),
            (
                "cancel_policy_th",
                "ยกเลิกได้จนกว่าร้านจะส่งของ\r\nเงินคืนเข้ายอดคงเหลือ".to_string(),
            ),
            ("cancel_policy_en", String::new()),
            ("msg_th_btn_products", "ดูสินค้า".to_string()),
            ("cod_fee", "25".to_string()),
            ("method_bank_transfer", "on".to_string()),
            ("method_qr_transfer", "on".to_string()),
            ("bank_0", "Kasikornbank".to_string()),
            ("name_0", "My shop Co.".to_string()),
            ("number_0", "111-2-33333-4".to_string()),
            ("default_account", "0".to_string()),
            ("bank_1", String::new()),
            ("name_1", String::new()),
            ("number_1", String::new()),
            ("qr_scheme", "promptpay".to_string()),
            ("promptpay_id", promptpay.to_string()),
            ("shipping_fee", "40".to_string()),
            ("free_over", "1,000".to_string()),
            ("hold_hours", "24".to_string()),
            ("expiry_cancels", "on".to_string()),
            ("reminder_hours", "2".to_string()),
            ("time_zone", "Asia/Bangkok".to_string()),
            ("template_shipped", "order_shipped".to_string()),
            ("amount_unit", "code".to_string()),
            (
                "services",
                "Gift wrap | 30 | always\nเปิดกล่องตรวจ | 15.50 | when done".to_string(),
            ),
            (
                "carriers",
                "Kerry = https://th.kerryexpress.com/en/track/?track={tracking}\nFlash | https://flashexpress.com/fle/tracking?se={tracking} | COD\nOwn rider".to_string(),
            ),
        ]
    };
    let form =
        |promptpay: &str| form_with(promptpay, "Chiang Mai / เชียงใหม่ = 90\n\nPhuket = 120.50");
    let r = no_redirects
        .post(app.url("/admin/settings"))
        .header("cookie", &cookie)
        .form(&form("12345"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("PromptPay id: "),
        "the setting is named in words"
    );
    assert!(
        html.contains("value=\"111-2-33333-4\""),
        "what was typed is still there"
    );
    assert_eq!(
        shops::get(&app.db, app.shop.id)
            .await
            .expect("shop")
            .settings,
        Default::default(),
        "nothing was saved"
    );
    let r = no_redirects
        .post(app.url("/admin/settings"))
        .header("cookie", &cookie)
        .form(&form("0891234567"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let s = shops::get(&app.db, app.shop.id)
        .await
        .expect("shop")
        .settings;
    assert_eq!(s.shipping_flat_fee, 4000);
    assert_eq!(s.free_shipping_over, Some(100_000));
    assert_eq!(
        s.shipping_by_province,
        [
            ("Chiang Mai / เชียงใหม่".to_string(), 9000),
            ("Phuket".to_string(), 12050)
        ]
        .into()
    );
    assert_eq!(s.bank_accounts.len(), 1);
    assert!(s.bank_accounts[0].default);
    assert_eq!(
        s.currency_display.unit,
        chatbill::domain::money::CurrencyUnit::Code
    );
    assert!(!s.currency_display.whole_without_decimals);
    assert_eq!(
        s.utility_templates.get("shipped").map(String::as_str),
        Some("order_shipped")
    );
    assert_eq!(
        s.tracking_url("kerry", "KEX1").as_deref(),
        Some("https://th.kerryexpress.com/en/track/?track=KEX1"),
        "the tracking page typed in the console"
    );
    let services: Vec<(String, i64)> = s.services.iter().map(|o| (o.id.clone(), o.price)).collect();
    assert_eq!(
        services,
        vec![
            ("gift_wrap".to_string(), 3_000),
            ("service_2".to_string(), 1_550)
        ],
        "ids made from the names, prices in baht"
    );
    assert_eq!(
        s.services[1].charged,
        chatbill::domain::order::Charging::WhenDone
    );
    let flash = s.carrier("FLASH").map(|(_, c)| c.clone()).expect("flash");
    assert!(flash.collects_cod, "COD typed after the link");
    let rider = s
        .carrier("own rider")
        .map(|(_, c)| c.clone())
        .expect("rider");
    assert!(!rider.collects_cod && rider.tracking_url.is_none());
    let html = app
        .client
        .get(app.url("/admin/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("PromptPay id") && html.contains("Shipping fee"),
        "the change is listed"
    );
    assert!(!html.contains("there is no bank account"));
    assert!(
        html.contains("<option value=\"code\" selected>1,250.50 THB</option>"),
        "the way amounts are written is shown with an example"
    );
    assert!(
        html.contains("Phuket = 120.50"),
        "the fees are shown as typed"
    );
    // A line without an amount is refused in words and keeps the rest; a
    // line taken out is removed.
    let r = no_redirects
        .post(app.url("/admin/settings"))
        .header("cookie", &cookie)
        .form(&form_with("0891234567", "Phuket = 120.50\nKrabi"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let html = r.text().await.expect("html");
    assert!(html.contains("Shipping fee per province: line 2"), "{html}");
    let r = no_redirects
        .post(app.url("/admin/settings"))
        .header("cookie", &cookie)
        .form(&form_with("0891234567", "Phuket = 120.50"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let s = shops::get(&app.db, app.shop.id)
        .await
        .expect("shop")
        .settings;
    assert_eq!(
        s.shipping_by_province,
        [("Phuket".to_string(), 12050)].into()
    );
    // A manager sees no settings page and cannot post one.
    let (_, made) = call(
        &app,
        "POST",
        "/tokens",
        Some(json!({"label": "Nok", "role": "manager"})),
    )
    .await;
    let manager = app
        .console_cookie(made["token"].as_str().expect("token"))
        .await;
    let r = app
        .client
        .get(app.url("/admin/settings"))
        .header("cookie", &manager)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 403);
    let r = no_redirects
        .post(app.url("/admin/settings"))
        .header("cookie", &manager)
        .form(&form("0891234567"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    app.stop().await;
}

const PAGE: &str = "431900112233445";

#[tokio::test]
async fn the_owner_binds_the_page_with_a_token_meta_accepts_and_never_sees_it_again() {
    use chatbill::config::ExposeSecret;
    use chatbill_load::fake_graph::{FakeGraph, Reply};
    let graph = FakeGraph::start().await;
    let app = TestApp::spawn_with(&[("META_GRAPH_URL", graph.url.as_str())]).await;
    let token = format!("page-token-{PAGE}-first-0123456789");
    let bind = |page: &str, token: &str| json!({"page_id": page, "access_token": token});

    // Bad input, a token of another Page, a token Meta refuses: nothing is bound.
    let (st, body) = call(
        &app,
        "PUT",
        "/channels/messenger",
        Some(bind("my-page", &token)),
    )
    .await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = call(
        &app,
        "PUT",
        "/channels/messenger",
        Some(bind(PAGE, "page-token-999-0123456789abcdef")),
    )
    .await;
    assert_eq!(st, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("Fake Page 999"),
        "{body}"
    );
    graph.script(vec![Reply::Error {
        status: 400,
        code: 190,
        subcode: None,
    }]);
    let (st, body) = call(&app, "PUT", "/channels/messenger", Some(bind(PAGE, &token))).await;
    assert_eq!(st, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("did not accept"),
        "{body}"
    );
    assert!(
        shops::channels_of(&app.db, app.shop.id)
            .await
            .expect("channels")
            .is_empty()
    );

    // A good token: checked with GET /me carrying it, then bound.
    let (st, body) = call(&app, "PUT", "/channels/messenger", Some(bind(PAGE, &token))).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["page"]["name"], format!("Fake Page {PAGE}"));
    let me = graph
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.ends_with("/me"))
        .expect("GET /me");
    assert_eq!(me.auth.as_deref(), Some(format!("Bearer {token}").as_str()));
    // Rotated: the new token replaces the old one.
    let rotated = format!("page-token-{PAGE}-second-0123456789");
    let (st, _) = call(
        &app,
        "PUT",
        "/channels/messenger",
        Some(bind(PAGE, &rotated)),
    )
    .await;
    assert_eq!(st, 200);
    let stored = shops::channels_of(&app.db, app.shop.id)
        .await
        .expect("channels");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0]
            .access_token
            .as_ref()
            .map(|t| t.expose_secret().to_string()),
        Some(rotated.clone())
    );
    // No route shows the token.
    for path in ["/channels", "/settings", "/openapi.json"] {
        let r = app
            .client
            .get(app.url(&format!("/api/v1{path}")))
            .bearer_auth(&app.token)
            .send()
            .await
            .expect("get");
        let text = r.text().await.expect("text");
        assert!(!text.contains("page-token-"), "{path} shows a token");
    }
    let (_, list) = call(&app, "GET", "/channels", None).await;
    assert_eq!(
        list["channels"],
        json!([{"channel": "messenger", "id": PAGE, "has_token": true}])
    );
    let settings_page = app
        .client
        .get(app.url("/admin/settings"))
        .header("cookie", app.console_cookie(&app.token).await)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(settings_page.contains(PAGE) && !settings_page.contains("page-token-"));

    // The menu, from the API as from `chatbill messenger setup`.
    let (st, _) = call(
        &app,
        "POST",
        &format!("/channels/messenger/{PAGE}/setup"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, 200);
    let profile = graph
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/me/messenger_profile"))
        .expect("profile call");
    assert_eq!(
        profile.auth.as_deref(),
        Some(format!("Bearer {rotated}").as_str())
    );
    assert!(
        profile.body["persistent_menu"].is_array(),
        "{}",
        profile.body
    );

    // Another shop cannot take the Page, even with its token.
    let (other, other_token) =
        common::make_shop(&app.db, "Other shop", chatbill::domain::Currency::THB).await;
    let r = app
        .client
        .put(app.url("/api/v1/channels/messenger"))
        .bearer_auth(&other_token)
        .json(&bind(PAGE, &rotated))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 409);
    assert!(
        shops::channels_of(&app.db, other.id)
            .await
            .expect("channels")
            .is_empty()
    );

    // Only the owner binds.
    let (_, made) = call(
        &app,
        "POST",
        "/tokens",
        Some(json!({"label": "Nok", "role": "manager"})),
    )
    .await;
    let manager = made["token"].as_str().expect("token").to_string();
    let r = app
        .client
        .put(app.url("/api/v1/channels/messenger"))
        .bearer_auth(&manager)
        .json(&bind(PAGE, &rotated))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 403);

    // Unbound: the Page's messages no longer reach this shop.
    let (st, _) = call(&app, "DELETE", &format!("/channels/messenger/{PAGE}"), None).await;
    assert_eq!(st, 200);
    let (st, _) = call(&app, "DELETE", &format!("/channels/messenger/{PAGE}"), None).await;
    assert_eq!(st, 404);
    let owner = app
        .state()
        .accounts
        .shop_for(&app.db, chatbill::channels::Channel::Messenger, PAGE)
        .await
        .expect("lookup");
    assert_eq!(owner, None);

    // The console's form binds it again, checked the same way.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = no_redirects
        .post(app.url("/admin/channels/messenger"))
        .header("cookie", app.console_cookie(&app.token).await)
        .form(&[("page_id", PAGE), ("access_token", token.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(to.contains("notice=Token%20checked"), "{to}");
    assert_eq!(
        shops::channels_of(&app.db, app.shop.id)
            .await
            .expect("channels")
            .len(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn a_province_with_its_own_fee_is_charged_it_and_the_seller_can_take_it_off() {
    let app = shop_from_cli("THB").await;
    add_tote(&app).await;
    let mut settings = thai_shop_settings();
    settings["shipping_by_province"] = json!({"Bangkok / กรุงเทพ": 6000, "Chiang Mai": 9000});
    let (st, got) = patch_settings(&app, settings).await;
    assert_eq!(st, 200, "{got}");
    // Two names for one place twice is refused, and nothing changes.
    let (st, got) = patch_settings(&app, json!({"shipping_by_province": {"กรุงเทพ": 1}})).await;
    assert_eq!(st, 400, "{got}");
    assert_eq!(got["field"], "shipping_by_province.กรุงเทพ", "{got}");

    let mut c = Customer::open(&app).await;
    c.tap("GET_STARTED").await;
    c.order_one().await;
    assert!(
        c.text().contains("฿310.00"),
        "250 + 60 to Bangkok, not the flat 40: {}",
        c.text()
    );
    // The printed bill says which rule the fee came from.
    let (_, list) = call(&app, "GET", "/orders", None).await;
    let id = list["orders"][0]["id"].as_i64().expect("an order");
    let bill = bill(&app, id).await;
    assert!(bill.contains("Shipping to Bangkok"), "{bill}");

    // Taken off again with a merge patch: Bangkok pays the flat fee.
    let (st, got) = patch_settings(
        &app,
        json!({"shipping_by_province": {"Bangkok / กรุงเทพ": null}}),
    )
    .await;
    assert_eq!(st, 200, "{got}");
    assert_eq!(
        got["settings"]["shipping_by_province"],
        json!({"Chiang Mai": 9000})
    );
    c.order_one().await;
    assert!(c.text().contains("฿290.00"), "250 + 40: {}", c.text());
    app.stop().await;
}

#[tokio::test]
async fn the_shop_s_own_greeting_menu_labels_and_messages_reach_the_customer() {
    let app = shop_from_cli("THB").await;
    let (st, got) = patch_settings(
        &app,
        json!({"messages": {"en": {
            "welcome": "Sawasdee {name}! {shop} sells handmade totes.",
            "welcome_anonymous": "Sawasdee! {shop} sells handmade totes.",
            "btn_products": "Our totes",
        }}}),
    )
    .await;
    assert_eq!(st, 200, "{got}");
    assert_eq!(
        got["settings"]["messages"]["en"]["btn_products"], "Our totes",
        "{got}"
    );
    // A placeholder the message does not fill, or one it needs left out,
    // is refused by its field; nothing of that patch is kept.
    for (bad, field) in [
        (
            json!({"messages": {"en": {"welcome": "Hi {customer}"}}}),
            "messages.en.welcome",
        ),
        (
            json!({"messages": {"en": {"notice_shipped": "It's on the way!"}}}),
            "messages.en.notice_shipped",
        ),
        (
            json!({"messages": {"xx": {"welcome": "Hi"}}}),
            "messages.xx",
        ),
    ] {
        let (st, got) = patch_settings(&app, bad).await;
        assert_eq!(st, 400, "{got}");
        assert_eq!(got["field"], field, "{got}");
    }
    let mut c = Customer::open(&app).await;
    c.tap("GET_STARTED").await;
    assert!(
        c.text().contains("Sawasdee") && c.text().contains("My shop sells handmade totes."),
        "{}",
        c.text()
    );
    let titles: Vec<String> = c
        .said
        .iter()
        .flat_map(|m| m["quick_replies"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["title"].as_str().map(str::to_string))
        .collect();
    assert!(titles.iter().any(|t| t == "Our totes"), "{titles:?}");
    // Back to chatbill's wording with null.
    let (st, _) = patch_settings(
        &app,
        json!({"messages": {"en": {"welcome": null, "welcome_anonymous": null}}}),
    )
    .await;
    assert_eq!(st, 200);
    c.tap("GET_STARTED").await;
    assert!(c.text().contains("Welcome to My shop"), "{}", c.text());
    app.stop().await;
}

#[tokio::test]
async fn the_shop_s_language_can_change_and_new_customers_are_greeted_in_it() {
    let app = shop_from_cli("THB").await;
    let mut c = Customer::open(&app).await;
    c.tap("GET_STARTED").await;
    assert!(c.text().contains("Welcome to My shop"), "{}", c.text());
    let (st, got) = patch_settings(&app, json!({"language": "th"})).await;
    assert_eq!(st, 200, "{got}");
    let (st, got) = patch_settings(&app, json!({"language": "fr"})).await;
    assert_eq!(st, 400, "{got}");
    assert_eq!(got["field"], "language");
    let mut other = Customer::open(&app).await;
    other.tap("GET_STARTED").await;
    assert!(
        other.text().contains("ยินดีต้อนรับ"),
        "a new customer hears the shop's language at once: {}",
        other.text()
    );
    let (_, history) = call(&app, "GET", "/settings/history", None).await;
    assert!(history.to_string().contains("language"), "{history}");
    app.stop().await;
}

#[tokio::test]
async fn amounts_are_written_the_shop_s_way_in_chat_on_the_bill_and_in_the_console() {
    let app = shop_from_cli("THB").await;
    add_tote(&app).await;
    let (st, got) = patch_settings(&app, thai_shop_settings()).await;
    assert_eq!(st, 200, "{got}");
    let (st, got) = patch_settings(
        &app,
        json!({"currency_display": {"unit": "word", "whole_without_decimals": true}}),
    )
    .await;
    assert_eq!(st, 200, "{got}");
    for bad in [
        json!({"currency_display": {"unit": "emoji"}}),
        json!({"currency_display": {"decimals": 3}}),
    ] {
        let (st, got) = patch_settings(&app, bad).await;
        assert_eq!(st, 400, "{got}");
        assert_eq!(got["field"], "currency_display", "{got}");
    }

    let mut c = Customer::open(&app).await;
    c.tap("GET_STARTED").await;
    c.order_one().await;
    assert!(
        c.text().contains("290 baht") && !c.text().contains("฿"),
        "250 + 40 written in words without .00: {}",
        c.text()
    );
    let (_, list) = call(&app, "GET", "/orders", None).await;
    let id = list["orders"][0]["id"].as_i64().expect("an order");
    let printed = bill(&app, id).await;
    assert!(printed.contains("290 baht"), "{printed}");
    let cookie = app.console_cookie(&app.token).await;
    let console = app
        .client
        .get(app.url("/admin/orders"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("console")
        .text()
        .await
        .expect("html");
    assert!(console.contains("290 baht"), "{console}");

    // Back to the default with null: the symbol and the satang again.
    let (st, _) = patch_settings(&app, json!({"currency_display": null})).await;
    assert_eq!(st, 200);
    let printed = bill(&app, id).await;
    assert!(printed.contains("฿290.00"), "{printed}");
    app.stop().await;
}

#[tokio::test]
async fn the_page_s_instagram_account_is_bound_with_it_and_its_messages_are_answered() {
    use chatbill_load::fake_graph::FakeGraph;
    const IG: &str = "17841400000000001";
    let graph = FakeGraph::start().await;
    graph.link_instagram(PAGE, IG, "totes.bkk");
    let app = TestApp::spawn_with(&[("META_GRAPH_URL", graph.url.as_str())]).await;
    let token = format!("page-token-{PAGE}-first-0123456789");
    let (st, body) = call(
        &app,
        "PUT",
        "/channels/messenger",
        Some(json!({"page_id": PAGE, "access_token": token})),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["page"]["instagram"]["username"], "totes.bkk", "{body}");
    let (_, list) = call(&app, "GET", "/channels", None).await;
    assert!(
        list["channels"].as_array().is_some_and(|c| c
            .iter()
            .any(|c| c["channel"] == "instagram" && c["id"] == IG)),
        "{list}"
    );
    assert!(
        !list.to_string().contains(&token),
        "no token is ever returned"
    );

    // A customer writes on Instagram: answered through the Page.
    let ts = common::now().millis();
    let event = json!({"object": "instagram", "entry": [{"id": IG, "time": ts, "messaging": [
        {"sender": {"id": "igsid-1"}, "recipient": {"id": IG}, "timestamp": ts, "message": {"mid": "m_ig_1", "text": "hi"}}]}]});
    let r = crate::messenger::post_signed(&app, &event.to_string()).await;
    assert_eq!(r.status(), 200);
    app.drain().await;
    let sent = graph.sends_to("igsid-1");
    assert!(!sent.is_empty(), "the Instagram customer was answered");
    assert!(
        sent[0].path.ends_with(&format!("/{PAGE}/messages")),
        "{}",
        sent[0].path
    );

    // Unbinding the Page unbinds its Instagram account too.
    let (st, _) = call(&app, "DELETE", &format!("/channels/messenger/{PAGE}"), None).await;
    assert_eq!(st, 200);
    assert!(
        shops::channels_of(&app.db, app.shop.id)
            .await
            .expect("channels")
            .is_empty()
    );
    app.stop().await;
}
