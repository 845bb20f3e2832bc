//! The console in headless Chromium, driven over the W3C WebDriver protocol
//! (chromedriver) with the HTTP client the crate already has: log in, open
//! the orders list (screenshot), open a pending order (screenshot), confirm
//! the payment, and see the badge turn green.
//!
//! `UPDATE_SCREENSHOTS=1 cargo test --test browser` refreshes the pictures
//! in docs/; otherwise they land in target/screenshots/.
//!
//! Needs `chromium` and `chromedriver` (Debian: chromium, chromium-driver;
//! .ci/run installs them). Where they are absent the test prints why and
//! passes without running.

use crate::common;

use chatbill::app::orders as app_orders;
use chatbill::domain::lifecycle::Actor;
use chatbill::domain::order::Command;
use chatbill::domain::{Address, PhoneNumber};
use chatbill::store::catalog::{self, NewProduct, NewVariant};
use chatbill::store::customers;
use chatbill::store::orders::{self, NewOrder};
use common::{TestApp, now};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};
use std::time::Duration;

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Driver {
    async fn start(chromium: &Path, chromedriver: &Path) -> Result<Driver, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Proc::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("chromedriver: {e}"))?;
        let profile = std::env::temp_dir().join(format!(
            "chatbill-chromium-{}",
            chatbill::clock::hex(&chatbill::clock::random_bytes::<6>())
        ));
        let mut d = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            http: reqwest::Client::new(),
            profile,
        };
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(r) = d.http.get(format!("{}/status", d.base)).send().await
                && r.status().is_success()
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !ready {
            return Err("chromedriver did not start".into());
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1100,900",
                    format!("--user-data-dir={}", d.profile.display()),
                ]
            }
        }}});
        let v = d.raw("POST", "/session", Some(caps)).await?;
        d.session = v["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {v}"))?
            .to_string();
        Ok(d)
    }

    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{}", self.base, path);
        let rb = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or(json!({}))),
        };
        let r = rb.send().await.map_err(|e| e.to_string())?;
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        if v["value"]["error"].is_string() {
            return Err(format!("webdriver {path}: {}", v["value"]));
        }
        Ok(if v.get("sessionId").is_some() {
            v
        } else {
            v["value"].clone()
        })
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.raw(method, &format!("/session/{}{}", self.session, path), body)
            .await
    }

    async fn goto(&self, url: &str) -> Result<(), String> {
        self.cmd("POST", "/url", Some(json!({"url": url})))
            .await
            .map(|_| ())
    }

    async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("no element {css}"))
    }

    async fn attr(&self, el: &str, name: &str) -> Result<Value, String> {
        self.cmd("GET", &format!("/element/{el}/attribute/{name}"), None)
            .await
    }

    async fn click(&self, css: &str) -> Result<(), String> {
        let el = self.find(css).await?;
        self.cmd("POST", &format!("/element/{el}/click"), None)
            .await
            .map(|_| ())
    }

    async fn type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let el = self.find(css).await?;
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await
        .map(|_| ())
    }

    /// Empties a field, then types into it.
    async fn retype(&self, css: &str, text: &str) -> Result<(), String> {
        let el = self.find(css).await?;
        self.cmd("POST", &format!("/element/{el}/clear"), None)
            .await?;
        self.type_into(css, text).await
    }

    async fn screenshot(&self, to: &Path) -> Result<(), String> {
        let v = self.cmd("GET", "/screenshot", None).await?;
        let b64 = v.as_str().ok_or("no screenshot")?;
        std::fs::write(to, base64_decode(b64)?).map_err(|e| e.to_string())
    }

    /// The window of a 390 px phone.
    async fn phone_sized(&self) -> Result<(), String> {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({"width": 390, "height": 844})),
        )
        .await
        .map(|_| ())
    }

    async fn quit(&self) {
        let _ = self.cmd("DELETE", "", None).await;
    }
}

/// Chromium and chromedriver from PATH, or `None` with the reason the
/// test `name` is skipped printed.
fn browser_tools(name: &str) -> Option<(PathBuf, PathBuf)> {
    match (
        find(&["chromium", "chromium-browser", "google-chrome"]),
        find(&["chromedriver"]),
    ) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            println!("SKIPPED {name}: chromium or chromedriver not on PATH");
            None
        }
    }
}

/// Signs in to the console with `token` and waits for the orders page.
async fn sign_in(driver: &Driver, app: &TestApp, token: &str) -> Result<(), String> {
    driver.goto(&app.url("/admin/login")).await?;
    driver.type_into("#token", token).await?;
    driver.click("#login").await?;
    wait_for_element(driver, "#tabs", 10).await
}

/// Where screenshots go: docs/ with UPDATE_SCREENSHOTS=1, else target/.
fn screenshots_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        root.join("docs")
    } else {
        root.join("target").join("screenshots")
    };
    let _ = std::fs::create_dir_all(&shots);
    shots
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let val = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("bad base64 byte {c}")),
        } as u32)
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    Ok(out)
}

#[test]
fn base64_round_trip() {
    assert_eq!(base64_decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
    assert_eq!(base64_decode("YQ==").unwrap(), b"a");
}

#[tokio::test]
async fn console_confirms_a_payment_in_chromium() {
    let Some(chromium) = find(&["chromium", "chromium-browser", "google-chrome"]) else {
        println!(
            "SKIPPED console_confirms_a_payment_in_chromium: no chromium on PATH (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let Some(chromedriver) = find(&["chromedriver"]) else {
        println!(
            "SKIPPED console_confirms_a_payment_in_chromium: no chromedriver on PATH (apt-get install chromium-driver)"
        );
        return;
    };
    let media = std::env::temp_dir().join(format!(
        "chatbill-media-{}",
        chatbill::clock::hex(&chatbill::clock::random_bytes::<6>())
    ));
    let media_s = media.to_string_lossy().to_string();
    let app = TestApp::spawn_with(&[("CHATBILL_MEDIA_DIR", media_s.as_str())]).await;
    let (db, shop) = (&app.db, &app.shop);
    // A small shop: a few orders in different states, one waiting for review.
    let mut variants = Vec::new();
    for (name, price) in [
        ("Linen shirt", 59_000),
        ("Canvas tote", 25_000),
        ("Cap", 19_900),
    ] {
        let p = catalog::create_product(
            db,
            shop.id,
            &NewProduct {
                name: name.into(),
                description: String::new(),
                category: "Shop".into(),
                image_url: None,
                price,
                variants: vec![NewVariant {
                    name: String::new(),
                    price: None,
                    stock: Some(50),
                }],
            },
            now(),
        )
        .await
        .unwrap();
        variants.push(p.variants[0].id);
    }
    let mut pending = None;
    for (i, who) in ["Nok Srisuk", "Anan Chai", "Mai Tran", "Ploy K."]
        .iter()
        .enumerate()
    {
        let mut tx = db.begin().await.unwrap();
        let c = customers::upsert(&mut tx, shop.id, "messenger", &format!("psid{i}"), now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        chatbill::app::customers::rename(db, shop.id, c.id, who, now())
            .await
            .unwrap();
        let o = orders::place(
            db,
            shop,
            NewOrder {
                customer: c.id,
                channel: "messenger".into(),
                items: vec![(variants[i % 3], 1 + i as i64 % 2)],
                address: Some(Address {
                    full_name: who.to_string(),
                    phone: PhoneNumber::parse("081 234 5678", Some(66)).unwrap(),
                    line: "99/1 Sukhumvit 11".into(),
                    province: "Bangkok".into(),
                    district: "Watthana".into(),
                    postcode: Some("10110".into()),
                }),
                method: None,
                shipping_fee: Some(5_000),
            },
            now(),
        )
        .await
        .unwrap();
        let seller = Actor::Seller("owner".into());
        match i {
            0 => {
                app_orders::apply(
                    db,
                    shop,
                    o.id,
                    Command::SubmitSlip { suspicious: false },
                    &Actor::Customer,
                    now(),
                )
                .await
                .unwrap();
                let (png, jpeg) = mock_slip();
                let sha = chatbill::clock::hex(&<sha2::Sha256 as sha2::Digest>::digest(&png));
                let (orig, thumb) =
                    chatbill::slips::media::store_slip(&app_config(&media_s), &sha, &png, &jpeg)
                        .await
                        .unwrap();
                sqlx::query(
                    "insert into payments (shop_id, order_id, method, amount, status, prechecks, slip_sha256, slip_path, thumb_path, created_at) \
                     values ($1, $2, 'bank_transfer', 64000, 'pending', $7, $3, $4, $5, $6)",
                )
                .bind(shop.id.get())
                .bind(o.id.get())
                .bind(sha)
                .bind(orig)
                .bind(thumb)
                .bind(now().millis())
                .bind(json!({"suspicious": false, "flags": [], "slip_qr": {"status": "ok", "checksum_ok": true, "bank": "004", "bank_name": "KASIKORNBANK", "trans_ref": "015321140318BPM04822"}, "similar_images": []}).to_string())
                .execute(db.pool())
                .await
                .unwrap();
                pending = Some(o.clone());
            }
            1 => {
                app_orders::apply(
                    db,
                    shop,
                    o.id,
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
            }
            2 => {
                app_orders::apply(db, shop, o.id, Command::ChooseCod, &Actor::Customer, now())
                    .await
                    .unwrap();
                app_orders::apply(db, shop, o.id, Command::Confirm, &seller, now())
                    .await
                    .unwrap();
                app_orders::apply(
                    db,
                    shop,
                    o.id,
                    Command::Ship {
                        carrier: "Kerry".into(),
                        tracking: Some("KER123".into()),
                    },
                    &seller,
                    now(),
                )
                .await
                .unwrap();
            }
            _ => {}
        }
    }
    let pending = pending.unwrap();

    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!(
                "SKIPPED console_confirms_a_payment_in_chromium: the browser did not start: {e}"
            );
            app.stop().await;
            return;
        }
    };
    // Screenshots go to target/ unless asked for docs/ (UPDATE_SCREENSHOTS=1).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        root.join("docs")
    } else {
        root.join("target").join("screenshots")
    };
    let _ = std::fs::create_dir_all(&docs);
    let run = async {
        sign_in(&driver, &app, &app.token).await?;
        let row = driver
            .find(&format!("tr[data-order='{}'] .badge", pending.code))
            .await?;
        let cls = driver.attr(&row, "class").await?;
        if !cls.as_str().unwrap_or("").contains("review") {
            return Err(format!("the list badge is {cls}, not review"));
        }
        driver.screenshot(&docs.join("console-orders.png")).await?;
        driver
            .click(&format!("tr[data-order='{}'] a", pending.code))
            .await?;
        wait_for_element(&driver, "#payment-badge", 10).await?;
        let badge = driver.find("#payment-badge").await?;
        let first = driver.attr(&badge, "data-badge").await?;
        if first != json!("review") {
            return Err(format!("the order badge is {first}, not review"));
        }
        driver.screenshot(&docs.join("console-order.png")).await?;
        // The same page on a phone-sized screen.
        driver.phone_sized().await?;
        driver
            .screenshot(&docs.join("console-order-phone.png"))
            .await?;
        driver
            .cmd(
                "POST",
                "/window/rect",
                Some(json!({"width": 1100, "height": 900})),
            )
            .await?;
        driver.click("#confirm-payment-yes").await?;
        driver.click("#confirm-payment").await?;
        // Wait for the redirect back to the order page.
        let mut badge_now = Value::Null;
        for _ in 0..50 {
            if let Ok(b) = driver.find("#payment-badge").await
                && let Ok(v) = driver.attr(&b, "data-badge").await
            {
                badge_now = v;
                if badge_now == json!("confirmed") {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if badge_now != json!("confirmed") {
            let err = match driver.find("#flash-error").await {
                Ok(e) => {
                    driver
                        .cmd("GET", &format!("/element/{e}/text"), None)
                        .await?
                }
                Err(_) => Value::Null,
            };
            return Err(format!(
                "the badge is {badge_now}, not confirmed; error: {err}"
            ));
        }
        driver
            .find("#flash-ok")
            .await
            .map_err(|_| "no confirmation notice".to_string())?;
        driver
            .screenshot(&docs.join("console-order-confirmed.png"))
            .await?;
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    drop(driver);
    result.unwrap();
    let o = orders::load(db, shop.id, pending.id).await.unwrap();
    assert_eq!(o.payment, chatbill::domain::PaymentStatus::Paid);
    app.stop().await;
    let _ = std::fs::remove_dir_all(&media);
}

fn app_config(media: &str) -> chatbill::config::Config {
    common::test_config(&[("CHATBILL_MEDIA_DIR", media)])
}

/// A bank-slip-like picture: header band, amount box, lines of "text".
fn mock_slip() -> (Vec<u8>, Vec<u8>) {
    use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
    let (w, h) = (480u32, 800u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([250, 250, 247]));
    let mut rect = |x0: u32, y0: u32, x1: u32, y1: u32, c: [u8; 3]| {
        for y in y0..y1.min(h) {
            for x in x0..x1.min(w) {
                img.put_pixel(x, y, Rgb(c));
            }
        }
    };
    rect(0, 0, 480, 110, [16, 122, 62]);
    rect(30, 35, 110, 85, [255, 255, 255]);
    rect(140, 45, 380, 65, [220, 240, 228]);
    rect(40, 150, 200, 165, [60, 60, 60]);
    rect(230, 190, 450, 250, [16, 122, 62]);
    for (i, len) in [300u32, 260, 340, 220, 280, 180].iter().enumerate() {
        let y = 300 + i as u32 * 45;
        rect(40, y, 40 + len, y + 14, [120, 120, 120]);
    }
    for qy in 0..10u32 {
        for qx in 0..10u32 {
            if (qx * 7 + qy * 3) % 5 < 2 || qx == 0 || qy == 0 || qx == 9 || qy == 9 {
                rect(
                    170 + qx * 14,
                    600 + qy * 14,
                    184 + qx * 14,
                    614 + qy * 14,
                    [20, 20, 20],
                );
            }
        }
    }
    let dynimg = DynamicImage::ImageRgb8(img);
    let mut png = std::io::Cursor::new(Vec::new());
    dynimg.write_to(&mut png, ImageFormat::Png).unwrap();
    let mut jpeg = std::io::Cursor::new(Vec::new());
    dynimg
        .thumbnail(160, 260)
        .write_to(&mut jpeg, ImageFormat::Jpeg)
        .unwrap();
    (png.into_inner(), jpeg.into_inner())
}

/// Text the page shows, for waiting on a message.
async fn page_text(driver: &Driver) -> String {
    driver
        .cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": "return document.body.innerText", "args": []})),
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

async fn wait_for_element(driver: &Driver, css: &str, secs: u64) -> Result<(), String> {
    for _ in 0..secs * 10 {
        if driver.find(css).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "no {css} after {secs} s; the page shows:\n{}",
        page_text(driver).await
    ))
}

async fn wait_for_text(driver: &Driver, needle: &str, secs: u64) -> Result<(), String> {
    for _ in 0..secs * 10 {
        if page_text(driver).await.contains(needle) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "the page never showed {needle:?}; it shows:\n{}",
        page_text(driver).await
    ))
}

/// The customer chats in one tab; the seller confirms the slip in the
/// console in another; the chat shows "Payment confirmed" without a reload.
#[tokio::test]
async fn the_web_chat_receives_the_payment_confirmation_live() {
    let (Some(chromium), Some(chromedriver)) = (
        find(&["chromium", "chromium-browser", "google-chrome"]),
        find(&["chromedriver"]),
    ) else {
        println!(
            "SKIPPED the_web_chat_receives_the_payment_confirmation_live: chromium or chromedriver not on PATH"
        );
        return;
    };
    let app = TestApp::spawn().await;
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!(
                "SKIPPED the_web_chat_receives_the_payment_confirmation_live: the browser did not start: {e}"
            );
            app.stop().await;
            return;
        }
    };
    let shots = screenshots_dir();
    let (db, shop) = (&app.db, &app.shop);
    let run = async {
        // The customer opens the chat; the page greets them by itself.
        driver.goto(&app.url(&format!("/chat/{}", shop.id))).await?;
        let chat_tab = driver.cmd("GET", "/window", None).await?;
        wait_for_text(&driver, "Welcome to Test shop", 10).await?;
        // They have an order with a slip under review.
        let customer: i64 = {
            use sqlx::Row;
            sqlx::query("select id from customers where channel = 'webchat'")
                .fetch_one(db.pool())
                .await
                .map_err(|e| e.to_string())?
                .try_get(0)
                .map_err(|e| e.to_string())?
        };
        let variant = common::product(db, shop, "Canvas tote", 25_000, None).await;
        let order = orders::place(
            db,
            shop,
            NewOrder {
                customer: chatbill::domain::CustomerId(customer),
                channel: "webchat".into(),
                items: vec![(variant, 1)],
                address: None,
                method: None,
                shipping_fee: Some(5_000),
            },
            now(),
        )
        .await
        .map_err(|e| e.to_string())?;
        app_orders::apply(
            db,
            shop,
            order.id,
            Command::SubmitSlip { suspicious: false },
            &Actor::Customer,
            now(),
        )
        .await
        .map_err(|e| e.to_string())?;
        wait_for_text(&driver, "Payment confirmation: pending", 10).await?;
        // The seller, in another tab, confirms it in the console.
        let console = driver
            .cmd("POST", "/window/new", Some(json!({"type": "tab"})))
            .await?;
        driver
            .cmd(
                "POST",
                "/window",
                Some(json!({"handle": console["handle"]})),
            )
            .await?;
        driver.goto(&app.url("/admin/login")).await?;
        driver.type_into("#token", &app.token).await?;
        driver.click("#login").await?;
        // Signed in once the orders page is there (the cookie is set by then).
        wait_for_element(&driver, "#tabs", 10).await?;
        driver
            .goto(&app.url(&format!("/admin/orders/{}", order.id)))
            .await?;
        wait_for_element(&driver, "#confirm-payment", 10).await?;
        driver.click("#confirm-payment-yes").await?;
        driver.click("#confirm-payment").await?;
        let mut confirmed = false;
        for _ in 0..50 {
            // The page reloads after the POST: a stale element just means "look again".
            if let Ok(b) = driver.find("#payment-badge").await
                && let Ok(v) = driver.attr(&b, "data-badge").await
                && v == json!("confirmed")
            {
                confirmed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !confirmed {
            return Err("the console badge did not turn green".to_string());
        }
        // Back in the customer's tab, untouched since: the push is there.
        driver
            .cmd("POST", "/window", Some(json!({"handle": chat_tab})))
            .await?;
        wait_for_text(&driver, "Payment confirmed", 10).await?;
        driver
            .screenshot(&shots.join("webchat-payment-confirmed.png"))
            .await?;
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    drop(driver);
    result.unwrap();
    app.stop().await;
}

/// The owner sets up payments in the settings page on a phone-sized
/// screen: a wrong PromptPay id is refused in words, the fixed one saves,
/// and the bill's bank-transfer warning goes away.
#[tokio::test]
async fn the_owner_sets_up_payments_in_the_console_settings_page() {
    let name = "the_owner_sets_up_payments_in_the_console_settings_page";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    let app = TestApp::spawn().await;
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let shots = screenshots_dir();
    let run = async {
        driver.phone_sized().await?;
        sign_in(&driver, &app, &app.token).await?;
        driver.click("header a[href='/admin/settings']").await?;
        wait_for_element(&driver, "#settings-form", 10).await?;
        wait_for_text(&driver, "there is no bank account", 5).await?;
        driver.type_into("#bank_0", "Kasikornbank").await?;
        driver.type_into("#name_0", "Test shop Co.").await?;
        driver.type_into("#number_0", "111-2-33333-4").await?;
        driver.click("#qr_promptpay").await?;
        driver.type_into("#promptpay_id", "12345").await?;
        driver.retype("#shipping_fee", "40").await?;
        driver
            .type_into("#template_shipped", "order_shipped")
            .await?;
        driver.click("#save-settings").await?;
        wait_for_element(&driver, "#flash-error", 10).await?;
        wait_for_text(&driver, "PromptPay id:", 5).await?;
        let number = driver.find("#number_0").await?;
        let kept = driver
            .cmd("GET", &format!("/element/{number}/property/value"), None)
            .await?;
        if kept != json!("111-2-33333-4") {
            return Err(format!("the typed account number was lost: {kept}"));
        }
        driver.retype("#promptpay_id", "0812345678").await?;
        driver
            .screenshot(&shots.join("console-settings.png"))
            .await?;
        driver.click("#save-settings").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "Saved:", 5).await?;
        if page_text(&driver)
            .await
            .contains("there is no bank account")
        {
            return Err("the warning stayed after the account was saved".into());
        }
        let s = chatbill::store::shops::get(&app.db, app.shop.id)
            .await
            .map_err(|e| e.to_string())?
            .settings;
        if s.shipping_flat_fee != 4000 || s.bank_accounts.len() != 1 || s.payment_qr.is_none() {
            return Err(format!("not what was typed: {s:?}"));
        }
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    app.stop().await;
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[tokio::test]
async fn the_seller_sees_a_held_push_on_the_order_and_marks_it_handled() {
    let name = "the_seller_sees_a_held_push_on_the_order_and_marks_it_handled";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    let (app, graph, order) = crate::undelivered::customer_out_of_the_window().await;
    chatbill::app::customers::rename(&app.db, app.shop.id, order.customer_id, "Nok Srisuk", now())
        .await
        .unwrap();
    let (status, body) = crate::undelivered::owner(
        &app,
        "POST",
        &format!("/orders/{}/confirm-payment", order.id),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let shots = screenshots_dir();
    let run = async {
        driver.phone_sized().await?;
        sign_in(&driver, &app, &app.token).await?;
        // The menu counts it.
        wait_for_text(&driver, "Not delivered 1", 5).await?;
        driver
            .goto(&app.url(&format!("/admin/orders/{}", order.id)))
            .await?;
        wait_for_element(&driver, "#order-undelivered .undelivered", 10).await?;
        wait_for_text(&driver, "Order update: payment confirmed", 5).await?;
        wait_for_text(&driver, "has not written in the last 24 hours", 5).await?;
        driver
            .screenshot(&shots.join("console-held-push.png"))
            .await?;
        driver
            .click("#order-undelivered button[id^='handled-']")
            .await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "Marked handled", 5).await?;
        if page_text(&driver)
            .await
            .contains("Order update: payment confirmed")
        {
            return Err("the handled push is still shown on the order".into());
        }
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    let sent = graph.sends_to(crate::messenger::PSID).len();
    let left = crate::undelivered::owner(&app, "GET", "/undelivered", None)
        .await
        .1;
    app.stop().await;
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(left["count"], 0, "{left}");
    assert_eq!(sent, 1, "only the welcome went out");
}

#[tokio::test]
async fn the_seller_names_a_customer_on_their_chat_page_and_the_orders_show_it() {
    let name = "the_seller_names_a_customer_on_their_chat_page_and_the_orders_show_it";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    // Meta refuses the profile and no address was given: no name yet.
    let (app, _graph, order) = crate::undelivered::customer_out_of_the_window().await;
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let run = async {
        driver.phone_sized().await?;
        sign_in(&driver, &app, &app.token).await?;
        driver
            .goto(&app.url(&format!("/admin/chats/{}", order.customer_id.get())))
            .await?;
        wait_for_element(&driver, "#name-input", 10).await?;
        wait_for_text(&driver, "no name yet", 5).await?;
        driver.type_into("#name-input", "Nok Srisuk").await?;
        driver.click("#save-name").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "this customer is now Nok Srisuk", 5).await?;
        wait_for_text(&driver, "typed by your shop", 5).await?;
        driver.goto(&app.url("/admin/orders?q=srisuk")).await?;
        wait_for_text(&driver, "Nok Srisuk", 10).await?;
        if !page_text(&driver).await.contains(order.code.as_str()) {
            return Err("the search by the new name does not find the order".into());
        }
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    app.stop().await;
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[tokio::test]
async fn the_seller_uploads_a_product_picture_from_the_phone_and_a_wrong_file_is_refused_in_words()
{
    let name =
        "the_seller_uploads_a_product_picture_from_the_phone_and_a_wrong_file_is_refused_in_words";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    let media = std::env::temp_dir().join(format!(
        "chatbill-media-{}",
        chatbill::clock::hex(&chatbill::clock::random_bytes::<6>())
    ));
    let media_s = media.display().to_string();
    let app = TestApp::spawn_with(&[("CHATBILL_MEDIA_DIR", &media_s)]).await;
    crate::common::product(&app.db, &app.shop, "Canvas tote", 25_000, Some(5)).await;
    // The files the seller picks on the phone.
    let picked = media.join("picked");
    std::fs::create_dir_all(&picked).unwrap();
    let photo = picked.join("tote.png");
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(1600, 1200, |x, y| {
        image::Rgb([(x % 200) as u8, (y % 180) as u8, 120])
    }));
    img.save(&photo).unwrap();
    let wrong = picked.join("order-list.txt");
    std::fs::write(&wrong, "not a picture").unwrap();
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let run = async {
        driver.phone_sized().await?;
        sign_in(&driver, &app, &app.token).await?;
        driver.goto(&app.url("/admin/products")).await?;
        wait_for_text(&driver, "No picture yet", 10).await?;
        driver
            .type_into("input[type=file]", &wrong.display().to_string())
            .await?;
        driver.click("button[id^='upload-']").await?;
        wait_for_element(&driver, "#flash-error", 10).await?;
        wait_for_text(&driver, "not a picture", 5).await?;
        driver
            .type_into("input[type=file]", &photo.display().to_string())
            .await?;
        driver.click("button[id^='upload-']").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "Picture added", 5).await?;
        wait_for_text(&driver, "on the card", 5).await?;
        wait_for_element(&driver, "img[src^='/media/products/']", 5).await?;
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let shots = if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            root.join("docs")
        } else {
            root.join("target").join("screenshots")
        };
        let _ = std::fs::create_dir_all(&shots);
        driver
            .screenshot(&shots.join("console-product-pictures.png"))
            .await?;
        // Delete asks "Yes / No" first (the console's script, allowed by
        // its content policy); No keeps the picture.
        driver.click("button[id^='delete-picture-']").await?;
        let asked = driver.cmd("GET", "/alert/text", None).await?;
        if !asked.to_string().contains("Delete this picture?") {
            return Err(format!("no question before deleting: {asked}"));
        }
        driver
            .cmd("POST", "/alert/dismiss", Some(json!({})))
            .await?;
        wait_for_text(&driver, "on the card", 5).await?;
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    let (_, body) = crate::undelivered::owner(&app, "GET", "/products", None).await;
    app.stop().await;
    let _ = std::fs::remove_dir_all(&media);
    if let Err(e) = result {
        panic!("{e}");
    }
    let card = body["products"][0]["image_url"].as_str().unwrap_or("");
    assert!(card.starts_with("/media/products/"), "{body}");
}

#[tokio::test]
async fn the_seller_handles_a_claim_with_its_photos_and_refunds_it_on_a_phone() {
    let name = "the_seller_handles_a_claim_with_its_photos_and_refunds_it_on_a_phone";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    let (app, graph, order) = crate::claims::claim_filed_in_chat().await;
    crate::common::pay_in_full(&app, order.id).await;
    app.drain().await;
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let shots = screenshots_dir();
    let run = async {
        driver.phone_sized().await?;
        sign_in(&driver, &app, &app.token).await?;
        wait_for_text(&driver, "Claims 1", 5).await?;
        driver.click("#nav-claims").await?;
        wait_for_element(&driver, "#claim-tabs", 10).await?;
        wait_for_element(&driver, "#claim-tabs a[data-status=open]", 5).await?;
        wait_for_text(&driver, "To handle", 5).await?;
        wait_for_text(&driver, "Damaged", 5).await?;
        driver.click("#claims a").await?;
        wait_for_element(&driver, "#claim-photos img", 10).await?;
        wait_for_text(&driver, "The handle came off in the box", 5).await?;
        let shown = driver
            .cmd(
                "POST",
                "/execute/sync",
                Some(json!({"script": "return Array.from(document.querySelectorAll('#claim-photos img')).filter(i => i.complete && i.naturalWidth > 0).length;", "args": []})),
            )
            .await?;
        if shown != json!(3) {
            return Err(format!("expected 3 photos shown, got {shown}"));
        }
        driver.screenshot(&shots.join("console-claim.png")).await?;
        driver.click("#claim-start").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "In progress", 5).await?;
        // Without "Yes", no money moves.
        driver
            .type_into("#claim-resolve input[name=amount]", "50")
            .await?;
        driver.click("#claim-resolve button").await?;
        wait_for_element(&driver, "#flash-error", 10).await?;
        wait_for_text(&driver, "Yes, give this money back", 5).await?;
        driver
            .type_into("#claim-resolve input[name=amount]", "50")
            .await?;
        driver.click("#claim-resolve input[name=confirm]").await?;
        driver.click("#claim-resolve button").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "Refunded to the shop balance ฿50.00", 5).await?;
        if page_text(&driver).await.contains("Start handling") {
            return Err("a resolved claim still offers its actions".into());
        }
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    app.drain().await;
    let balance = chatbill::store::customers::get(&app.db, app.shop.id, order.customer_id)
        .await
        .unwrap()
        .balance;
    let told: Vec<String> = graph
        .sends_to(crate::messenger::PSID)
        .iter()
        .filter_map(|r| r.body["message"]["text"].as_str().map(str::to_string))
        .collect();
    app.stop().await;
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(balance, 5_000, "refunded once, to the balance");
    assert!(
        told.iter()
            .any(|t| t.contains("฿50.00 goes back to your shop balance")),
        "{told:?}"
    );
}

#[tokio::test]
async fn staff_make_an_order_for_a_walk_in_customer_on_a_phone() {
    let name = "staff_make_an_order_for_a_walk_in_customer_on_a_phone";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    let app = TestApp::spawn().await;
    let tee = common::product(&app.db, &app.shop, "Tee", 29_900, Some(5)).await;
    let (staff, _) = chatbill::store::tokens::create(
        &app.db,
        app.shop.id,
        "Somsak",
        chatbill::store::tokens::Role::Staff,
        now(),
    )
    .await
    .unwrap();
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let run = async {
        driver.phone_sized().await?;
        sign_in(&driver, &app, &staff).await?;
        driver.click("#new-order-link").await?;
        wait_for_element(&driver, "#new-order", 10).await?;
        driver.type_into("#no-name", "Nok Srisuk").await?;
        driver.type_into("#no-phone", "not a phone").await?;
        driver
            .click(&format!("#no-variant-1 option[value='{}']", tee.get()))
            .await?;
        driver.click("#no-submit").await?;
        wait_for_element(&driver, "#flash-error", 10).await?;
        wait_for_text(&driver, "Phone:", 5).await?;
        driver.type_into("#no-name", "Nok Srisuk").await?;
        driver.type_into("#no-phone", "089 765 4321").await?;
        driver
            .click(&format!("#no-variant-1 option[value='{}']", tee.get()))
            .await?;
        driver.retype("#no-qty-1", "2").await?;
        driver.type_into("#no-line", "5 Soi 3").await?;
        driver.type_into("#no-district", "Bang Rak").await?;
        driver.type_into("#no-province", "Bangkok").await?;
        driver.click("#no-method option[value='cod']").await?;
        driver.click("#no-submit").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "Order made", 5).await?;
        wait_for_text(&driver, "Nok Srisuk", 5).await?;
        // Assigned to the person who made it, and found under "Assigned to me".
        driver.click("#assign-me").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "Assigned to: Somsak", 5).await?;
        driver.goto(&app.url("/admin/orders")).await?;
        driver.click("#assigned-to-me").await?;
        wait_for_element(&driver, "#orders tr[data-order]", 10).await?;
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    let made = chatbill::store::listing::list_orders(&app.db, app.shop.id, &Default::default())
        .await
        .unwrap();
    app.stop().await;
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(
        made.orders.len(),
        1,
        "one order, the refused form made none"
    );
    assert_eq!(made.orders[0].customer_name, "Nok Srisuk");
}

#[tokio::test]
async fn the_seller_marks_an_extra_done_and_records_a_carrier_s_remittance_on_a_phone() {
    use chatbill::domain::lifecycle::Actor;
    use chatbill::domain::order::Command;
    let name = "the_seller_marks_an_extra_done_and_records_a_carrier_s_remittance_on_a_phone";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    let app = TestApp::spawn().await;
    let patch = serde_json::json!({
        "services": [{"id": "inspection", "name": "Inspection", "price": 1_500, "charged": "when_done"}],
        "carriers": {"Kerry": {"collects_cod": true}}
    });
    let r = app
        .client
        .patch(app.url("/api/v1/settings"))
        .bearer_auth(&app.token)
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let shop = chatbill::store::shops::get(&app.db, app.shop.id)
        .await
        .unwrap();
    let customer = common::customer(&app.db, &shop, "walk-in").await;
    let tee = common::product(&app.db, &shop, "Tee", 29_900, Some(5)).await;
    let seller = Actor::Seller("owner".into());
    let mut codes = Vec::new();
    for _ in 0..2 {
        let placed = chatbill::store::orders::place(
            &app.db,
            &shop,
            chatbill::store::orders::NewOrder {
                customer,
                channel: "messenger".into(),
                items: vec![(tee, 1)],
                address: Some(common::address()),
                method: None,
                shipping_fee: Some(0),
            },
            now(),
        )
        .await
        .unwrap();
        for (command, actor) in [
            (
                Command::AddService {
                    service: "inspection".into(),
                    offer: None,
                },
                &Actor::Customer,
            ),
            (Command::ChooseCod, &Actor::Customer),
            (Command::Confirm, &seller),
            (
                Command::Ship {
                    carrier: "kerry".into(),
                    tracking: Some("K1".into()),
                },
                &seller,
            ),
            (Command::Complete, &seller),
        ] {
            chatbill::app::orders::apply(&app.db, &shop, placed.id, command, actor, now())
                .await
                .unwrap();
        }
        codes.push((placed.id, placed.code.as_str().to_string()));
    }
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let (first, first_code) = codes[0].clone();
    let run = async {
        driver.phone_sized().await?;
        sign_in(&driver, &app, &app.token).await?;
        driver
            .goto(&app.url(&format!("/admin/orders/{}", first.get())))
            .await?;
        wait_for_text(&driver, "To do, then charged", 10).await?;
        driver.click("#service-done-inspection").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "Done", 5).await?;
        driver.click("#nav-carriers").await?;
        wait_for_element(&driver, "#carriers tr[data-carrier='Kerry']", 10).await?;
        wait_for_text(&driver, "2 orders", 5).await?;
        driver.click("#carriers a").await?;
        wait_for_element(&driver, "#remit-form", 10).await?;
        driver.type_into("#remit-reference", "KR-77").await?;
        driver.type_into("#remit-amount", "600").await?;
        driver.click("#remit-yes").await?;
        driver.click("#remit").await?;
        wait_for_element(&driver, "#flash-ok", 10).await?;
        wait_for_text(&driver, "2 orders collected", 5).await?;
        wait_for_text(&driver, "short of what they owed", 5).await?;
        wait_for_text(&driver, "owes you nothing now", 5).await?;
        driver
            .screenshot(&screenshots_dir().join("console-carrier.png"))
            .await?;
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    let order = chatbill::store::orders::load(&app.db, app.shop.id, first)
        .await
        .unwrap();
    app.stop().await;
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(order.services[0].done, "{first_code}: marked done");
    assert_eq!(
        order.payment,
        chatbill::domain::lifecycle::PaymentStatus::CodCollected
    );
}

/// What a page breaks of the phone rules: sideways scrolling at 390 px,
/// a control without a label, a button smaller than a finger.
const PHONE_CHECK: &str = r#"
const out = [];
if (document.documentElement.scrollWidth > window.innerWidth + 1) {
  out.push("scrolls sideways: " + document.documentElement.scrollWidth + " > " + window.innerWidth);
}
for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
  const labelled = el.getAttribute("aria-label") || (el.id && document.querySelector(`label[for="${el.id}"]`))
    || el.closest("label") || el.getAttribute("placeholder");
  if (!labelled) out.push("no label: " + el.outerHTML.slice(0, 80));
}
for (const el of document.querySelectorAll("button, .btn")) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.height < 43) out.push("small button: " + el.outerHTML.slice(0, 80) + " " + r.height);
}
// The owner's menu is the same on every page.
for (const href of ["/admin/settings", "/admin/books", "/admin/tokens"]) {
  if (!document.querySelector(`header a[href="${href}"]`)) out.push("the menu lacks " + href);
}
for (const s of document.querySelectorAll("script[src]")) {
  if (new URL(s.src).host !== location.host) out.push("script from another host: " + s.src);
}
return out;
"#;

#[tokio::test]
async fn every_console_page_fits_a_phone_with_labels_and_finger_sized_buttons() {
    use chatbill::domain::lifecycle::Actor;
    use chatbill::domain::order::Command;
    let name = "every_console_page_fits_a_phone_with_labels_and_finger_sized_buttons";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    let app = TestApp::spawn().await;
    let customer = common::customer(&app.db, &app.shop, "visitor").await;
    let tee = common::product(
        &app.db,
        &app.shop,
        "A tee with a rather long name for a phone",
        29_900,
        Some(5),
    )
    .await;
    let placed = chatbill::store::orders::place(
        &app.db,
        &app.shop,
        chatbill::store::orders::NewOrder {
            customer,
            channel: "webchat".into(),
            items: vec![(tee, 1)],
            address: Some(common::address()),
            method: None,
            shipping_fee: Some(0),
        },
        now(),
    )
    .await
    .unwrap();
    chatbill::app::orders::apply(
        &app.db,
        &app.shop,
        placed.id,
        Command::Confirm,
        &Actor::Seller("owner".into()),
        now(),
    )
    .await
    .unwrap();
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let pages = [
        "/admin/dashboard".to_string(),
        "/admin/orders".into(),
        format!("/admin/orders/{}", placed.id),
        "/admin/orders/new".into(),
        "/admin/customers".into(),
        format!("/admin/chats/{}", customer.get()),
        "/admin/chats".into(),
        "/admin/carriers".into(),
        "/admin/claims".into(),
        "/admin/products".into(),
        "/admin/undelivered".into(),
        "/admin/books".into(),
        "/admin/settings".into(),
        "/admin/tokens".into(),
    ];
    let run = async {
        driver.phone_sized().await?;
        sign_in(&driver, &app, &app.token).await?;
        let mut problems = Vec::new();
        for path in &pages {
            driver.goto(&app.url(path)).await?;
            wait_for_element(&driver, "main", 10).await?;
            let found = driver
                .cmd(
                    "POST",
                    "/execute/sync",
                    Some(json!({"script": PHONE_CHECK, "args": []})),
                )
                .await?;
            for p in found.as_array().cloned().unwrap_or_default() {
                problems.push(format!("{path}: {}", p.as_str().unwrap_or("")));
            }
            let slug: String = path
                .trim_start_matches("/admin/")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            driver
                .screenshot(&screenshots_dir().join(format!("phone-{slug}.png")))
                .await?;
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    };
    let result = run.await;
    driver.quit().await;
    app.stop().await;
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// What the whole-day test reads on the way, per language.
struct DayWords {
    lang: &'static str,
    nav_orders: &'static str,
    tracking_label: &'static str,
    dashboard_heading: &'static str,
}

const DAY_IN: &[DayWords] = &[
    DayWords {
        lang: "en",
        nav_orders: "Orders",
        tracking_label: "Tracking:",
        dashboard_heading: "Dashboard",
    },
    DayWords {
        lang: "th",
        nav_orders: "คำสั่งซื้อ",
        tracking_label: "เลขพัสดุ:",
        dashboard_heading: "ภาพรวม",
    },
];

/// A seller's whole day, at desktop and phone width, in English and Thai:
/// sign in, see the pending slip's badge, open it, confirm with Yes, the
/// customer's chat shows the push, ship with tracking (the chat shows that
/// too), print the shipping note, look at the dashboard.
#[tokio::test]
async fn a_seller_s_whole_day_at_desktop_and_phone_width_in_english_and_thai() {
    let name = "a_seller_s_whole_day_at_desktop_and_phone_width_in_english_and_thai";
    let Some((chromium, chromedriver)) = browser_tools(name) else {
        return;
    };
    let app = TestApp::spawn().await;
    let driver = match Driver::start(&chromium, &chromedriver).await {
        Ok(d) => d,
        Err(e) => {
            println!("SKIPPED {name}: the browser did not start: {e}");
            app.stop().await;
            return;
        }
    };
    let shots = screenshots_dir();
    let variant = common::product(&app.db, &app.shop, "Canvas tote", 25_000, Some(50)).await;
    let mut run_days = Vec::new();
    for words in DAY_IN {
        for phone in [false, true] {
            run_days.push((words, phone));
        }
    }
    let run = async {
        for (round, (words, phone)) in run_days.iter().enumerate() {
            let at = format!(
                "{} {}",
                words.lang,
                if *phone { "phone" } else { "desktop" }
            );
            let r = app
                .client
                .patch(app.url("/api/v1/me"))
                .bearer_auth(&app.token)
                .json(&json!({"language": words.lang}))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                return Err(format!("{at}: PATCH /me {}", r.status()));
            }
            // A new visitor each round, in a tab of its own: no cookie
            // and no saved chat from the round before.
            driver.cmd("DELETE", "/cookie", None).await?;
            if round > 0 {
                let fresh = driver
                    .cmd("POST", "/window/new", Some(json!({"type": "tab"})))
                    .await?;
                driver.cmd("DELETE", "/window", None).await?;
                driver
                    .cmd("POST", "/window", Some(json!({"handle": fresh["handle"]})))
                    .await?;
            }
            if *phone {
                driver.phone_sized().await?;
            } else {
                driver
                    .cmd(
                        "POST",
                        "/window/rect",
                        Some(json!({"width": 1200, "height": 900})),
                    )
                    .await?;
            }
            // The customer, in the web chat, has sent a slip.
            driver
                .goto(&app.url(&format!("/chat/{}", app.shop.id)))
                .await?;
            let chat_tab = driver.cmd("GET", "/window", None).await?;
            wait_for_text(&driver, "Welcome to Test shop", 10).await?;
            let customer: i64 = {
                use sqlx::Row;
                sqlx::query("select id from customers where channel = 'webchat' order by id desc")
                    .fetch_one(app.db.pool())
                    .await
                    .map_err(|e| e.to_string())?
                    .try_get(0)
                    .map_err(|e| e.to_string())?
            };
            let order = orders::place(
                &app.db,
                &app.shop,
                NewOrder {
                    customer: chatbill::domain::CustomerId(customer),
                    channel: "webchat".into(),
                    items: vec![(variant, 1)],
                    address: Some(common::address()),
                    method: None,
                    shipping_fee: Some(5_000),
                },
                now(),
            )
            .await
            .map_err(|e| e.to_string())?;
            app_orders::apply(
                &app.db,
                &app.shop,
                order.id,
                Command::SubmitSlip { suspicious: false },
                &Actor::Customer,
                now(),
            )
            .await
            .map_err(|e| e.to_string())?;
            wait_for_text(&driver, "Payment confirmation: pending", 10).await?;

            // The seller, in another tab.
            let console = driver
                .cmd("POST", "/window/new", Some(json!({"type": "tab"})))
                .await?;
            driver
                .cmd(
                    "POST",
                    "/window",
                    Some(json!({"handle": console["handle"]})),
                )
                .await?;
            sign_in(&driver, &app, &app.token).await?;
            wait_for_text(&driver, words.nav_orders, 5).await?;
            let row = format!("tr[data-order='{}']", order.code);
            let badge = driver.find(&format!("{row} .badge")).await?;
            let cls = driver.attr(&badge, "class").await?;
            if !cls.as_str().unwrap_or("").contains("review") {
                return Err(format!("{at}: the list badge is {cls}, not review"));
            }
            let shot = |step: &str| {
                shots.join(format!(
                    "day-{}-{}-{step}.png",
                    words.lang,
                    if *phone { "phone" } else { "desktop" }
                ))
            };
            driver.screenshot(&shot("1-orders")).await?;
            driver.click(&format!("{row} a")).await?;
            wait_for_element(&driver, "#confirm-payment", 10).await?;
            // Without Yes nothing happens; the browser itself holds the form.
            driver.click("#confirm-payment-yes").await?;
            driver.click("#confirm-payment").await?;
            wait_for_badge(&driver, "confirmed")
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            driver.screenshot(&shot("2-confirmed")).await?;
            // The customer's tab, untouched since: the push is there.
            driver
                .cmd("POST", "/window", Some(json!({"handle": chat_tab})))
                .await?;
            wait_for_text(&driver, "Payment confirmed", 10)
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            driver
                .cmd(
                    "POST",
                    "/window",
                    Some(json!({"handle": console["handle"]})),
                )
                .await?;
            if driver.find("#confirm").await.is_ok() {
                driver.click("#confirm").await?;
                wait_for_element(&driver, "#ship-carrier", 10).await?;
            }
            let tracking = format!("KER{round}00{}", order.id);
            driver.type_into("#ship-carrier", "Kerry").await?;
            driver
                .type_into("#ship-carrier ~ input[name=tracking]", &tracking)
                .await?;
            driver.click("#ship-carrier ~ button").await?;
            wait_for_element(&driver, "#flash-ok", 10)
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            driver
                .cmd("POST", "/window", Some(json!({"handle": chat_tab})))
                .await?;
            wait_for_text(&driver, &format!("Tracking number: {tracking}"), 10)
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            driver
                .cmd(
                    "POST",
                    "/window",
                    Some(json!({"handle": console["handle"]})),
                )
                .await?;
            driver
                .goto(&app.url(&format!("/admin/orders/{}/shipping-note", order.id)))
                .await?;
            wait_for_text(&driver, words.tracking_label, 10)
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            wait_for_text(&driver, &tracking, 2).await?;
            driver.screenshot(&shot("3-shipping-note")).await?;
            driver.goto(&app.url("/admin/dashboard")).await?;
            wait_for_element(&driver, "#dash-paid", 10).await?;
            wait_for_text(&driver, words.dashboard_heading, 2)
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            driver.screenshot(&shot("4-dashboard")).await?;
            // Close the console tab and go on from the chat's.
            driver.cmd("DELETE", "/window", None).await?;
            driver
                .cmd("POST", "/window", Some(json!({"handle": chat_tab})))
                .await?;
        }
        Ok::<(), String>(())
    };
    let result = run.await;
    driver.quit().await;
    app.stop().await;
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Waits for the order page's payment badge to read `want` (the page
/// reloads after a POST: a stale element just means "look again").
async fn wait_for_badge(driver: &Driver, want: &str) -> Result<(), String> {
    for _ in 0..50 {
        if let Ok(b) = driver.find("#payment-badge").await
            && let Ok(v) = driver.attr(&b, "data-badge").await
            && v == json!(want)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let err = match driver.find("#flash-error").await {
        Ok(e) => {
            driver
                .cmd("GET", &format!("/element/{e}/text"), None)
                .await?
        }
        Err(_) => Value::Null,
    };
    Err(format!("the badge never read {want}; error: {err}"))
}
