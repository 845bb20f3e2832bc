//! Test harness: a fresh database per test (SQLite file by default, a fresh
//! PostgreSQL database when TEST_DATABASE_URL is set) and the real server on
//! a random port.

use chatbill::clock::{hex, random_bytes};
use chatbill::config::{Config, Secrets};
use chatbill::domain::{Currency, Timestamp};
use chatbill::startup::{self as server, Running};
use chatbill::store::Db;
use chatbill::store::shops::{self, Shop, ShopSettings};
use chatbill::store::tokens::{self, Role};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

pub const APP_SECRET: &str = "test-app-secret-0123456789";
pub const VERIFY_TOKEN: &str = "test-verify-token";
/// The operator's token for `/metrics` in every test server.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";
pub const SECRET_KEY: &str = "test-secret-key-0123456789abcdef0123456789";

pub struct TestDb {
    pub db: Db,
    pub url: String,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

pub fn backend_name() -> &'static str {
    if std::env::var("TEST_DATABASE_URL")
        .map(|u| u.starts_with("postgres"))
        .unwrap_or(false)
    {
        "postgres"
    } else {
        "sqlite"
    }
}

pub async fn fresh_db() -> TestDb {
    let tag = hex(&random_bytes::<6>());
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("chatbill_t_{tag}");
            let admin = Db::connect(&admin_url)
                .await
                .expect("TEST_DATABASE_URL reachable");
            sqlx::query(&format!("create database {name}"))
                .execute(admin.pool())
                .await
                .expect("create test database");
            admin.pool().close().await;
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            let url = format!("{base}/{name}");
            let db = Db::connect(&url).await.expect("connect test database");
            db.migrate().await.expect("migrate");
            TestDb {
                db,
                url,
                dir: None,
                pg: Some((admin_url, name)),
            }
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("chatbill-test-{tag}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}/test.db", dir.display());
            let db = Db::connect(&url).await.expect("open sqlite");
            db.migrate().await.expect("migrate");
            TestDb {
                db,
                url,
                dir: Some(dir),
                pg: None,
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin_url, name)) = self.pg.take() {
            // Drop runs inside the test's runtime; use a thread with its own.
            // `with (force)` ends this test's connections, whatever state
            // a failed test left them in.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async move {
                    let admin = Db::connect(&admin_url).await.ok()?;
                    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(admin.pool())
                        .await;
                    admin.pool().close().await;
                    Some(())
                })
            })
            .join();
        }
    }
}

pub fn now() -> Timestamp {
    chatbill::clock::now()
}

pub fn test_config(extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = [
        ("CHATBILL_BIND", "127.0.0.1:0"),
        ("META_APP_SECRET", APP_SECRET),
        ("META_VERIFY_TOKEN", VERIFY_TOKEN),
        ("CHATBILL_SECRET_KEY", SECRET_KEY),
        ("CHATBILL_METRICS_TOKEN", METRICS_TOKEN),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| vars.get(k).cloned(), Secrets::Required).expect("test config")
}

/// The cookie a response sets, as the browser sends it back (`name=value`).
pub fn set_cookie(r: &reqwest::Response) -> String {
    r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("cookie value")
        .to_string()
}

/// The address every test customer ships to.
pub fn address() -> chatbill::domain::Address {
    chatbill::domain::Address {
        full_name: "Somchai Jaidee".into(),
        phone: chatbill::domain::PhoneNumber::parse("081 234 5678", Some(66)).expect("phone"),
        line: "99/1 Sukhumvit 11".into(),
        province: "Bangkok".into(),
        district: "Watthana".into(),
        postcode: Some("10110".into()),
    }
}

/// A web-chat customer `user` of `shop`, as their first message makes one.
pub async fn customer(db: &Db, shop: &Shop, user: &str) -> chatbill::domain::CustomerId {
    let mut tx = db.begin().await.expect("begin");
    let c = chatbill::store::customers::upsert(&mut tx, shop.id, "webchat", user, now())
        .await
        .expect("customer");
    tx.commit().await.expect("commit");
    c.id
}

/// A customer on `channel` whose name the seller typed.
pub async fn named_customer(
    db: &Db,
    shop: &Shop,
    channel: &str,
    user: &str,
    name: &str,
) -> chatbill::domain::CustomerId {
    let mut tx = db.begin().await.expect("begin");
    let c = chatbill::store::customers::upsert(&mut tx, shop.id, channel, user, now())
        .await
        .expect("customer");
    tx.commit().await.expect("commit");
    chatbill::app::customers::rename(db, shop.id, c.id, name, now())
        .await
        .expect("name");
    c.id
}

/// The owner confirms the whole of what the order owes, as a seller
/// confirming a slip does.
pub async fn pay_in_full(app: &TestApp, order: chatbill::domain::OrderId) {
    chatbill::app::orders::apply(
        &app.db,
        &app.shop,
        order,
        chatbill::domain::order::Command::ConfirmPayment {
            amount: None,
            credit_excess: false,
            slip: false,
        },
        &chatbill::domain::lifecycle::Actor::Seller("owner".into()),
        now(),
    )
    .await
    .expect("payment confirmed");
}

pub async fn make_shop(db: &Db, name: &str, currency: Currency) -> (Shop, String) {
    let shop = shops::create(db, name, currency, "en", &ShopSettings::default(), now())
        .await
        .expect("create shop");
    let (token, _) = tokens::create(db, shop.id, "test", Role::Owner, now())
        .await
        .expect("token");
    (shop, token)
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub shop: Shop,
    pub token: String,
    pub client: reqwest::Client,
    running: Option<Running>,
    test_db: Option<TestDb>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        // CHATBILL_TEST_LOG=debug shows the server's logs in failing tests.
        if let Ok(filter) = std::env::var("CHATBILL_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let test_db = fresh_db().await;
        let (shop, token) = make_shop(&test_db.db, "Test shop", Currency::THB).await;
        Self::serve(test_db, shop, token, extra).await
    }

    /// A server on a database and shop made elsewhere (e.g. by the
    /// `chatbill shop create` command).
    pub async fn serve(
        test_db: TestDb,
        shop: Shop,
        token: String,
        extra: &[(&str, &str)],
    ) -> TestApp {
        let db = test_db.db.clone();
        let config = test_config(extra);
        let running = server::start(config, db.clone())
            .await
            .expect("start server");
        TestApp {
            base: format!("http://{}", running.addr),
            db,
            shop,
            token,
            client: reqwest::Client::new(),
            running: Some(running),
            test_db: Some(test_db),
        }
    }

    /// Stops this server and starts another on the same database (a
    /// process restart, as far as the data can tell).
    pub async fn restart(mut self, extra: &[(&str, &str)]) -> TestApp {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        let running = server::start(test_config(extra), self.db.clone())
            .await
            .expect("restart server");
        TestApp {
            base: format!("http://{}", running.addr),
            db: self.db.clone(),
            shop: self.shop.clone(),
            token: self.token.clone(),
            client: self.client.clone(),
            running: Some(running),
            test_db: self.test_db.take(),
        }
    }

    /// Stops without shutting down gracefully: workers and server tasks are
    /// simply dropped, like a process that died.
    pub fn kill(mut self) -> (Db, Shop, TestDb) {
        if let Some(r) = self.running.take() {
            r.abort();
        }
        (
            self.db.clone(),
            self.shop.clone(),
            self.test_db.take().expect("db"),
        )
    }

    /// The test database, for a second process (the CLI) to open.
    pub fn database_url(&self) -> String {
        self.test_db.as_ref().expect("db").url.clone()
    }

    pub fn state(&self) -> &chatbill::app::AppState {
        &self.running.as_ref().expect("running").state
    }

    /// Signs in to the console with `token`; the session cookie to send.
    pub async fn console_cookie(&self, token: &str) -> String {
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .post(self.url("/admin/login"))
            .form(&[("token", token)])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "the console signs in");
        set_cookie(&r)
    }

    /// A new web-chat visitor's cookie, as the chat page hands it out.
    pub async fn visitor_cookie(&self) -> String {
        let r = self
            .client
            .get(self.url(&format!("/chat/{}", self.shop.id)))
            .send()
            .await
            .expect("chat page");
        set_cookie(&r)
    }

    /// Where `/metrics` listens when it has its own address.
    pub fn state_metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.running.as_ref().and_then(|r| r.metrics_addr)
    }

    /// `/metrics` as the operator reads it.
    pub async fn metrics(&self) -> String {
        let r = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("metrics");
        assert_eq!(r.status(), 200, "metrics with the operator's token");
        r.text().await.expect("metrics text")
    }

    /// Runs the server's queued work (inbox, slips, outbox, timers) until
    /// nothing is left that is due now: the test then sees its effects.
    pub async fn drain(&self) {
        if let Err(e) = chatbill::workers::drain(self.state(), Duration::from_secs(30)).await {
            panic!("the server's work did not finish: {e}");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

/// A product with one variant; returns the variant to buy.
pub async fn product(
    db: &Db,
    shop: &Shop,
    name: &str,
    price: i64,
    stock: Option<i64>,
) -> chatbill::domain::VariantId {
    let p = chatbill::store::catalog::create_product(
        db,
        shop.id,
        &chatbill::store::catalog::NewProduct {
            name: name.into(),
            description: String::new(),
            category: "Test".into(),
            image_url: None,
            price,
            variants: vec![chatbill::store::catalog::NewVariant {
                name: String::new(),
                price: None,
                stock,
            }],
        },
        now(),
    )
    .await
    .expect("create product");
    p.variants[0].id
}

/// Polls `check` until it holds or `secs` pass. For what only the outside
/// world shows (a process, a browser); the server's own work is waited for
/// with [`TestApp::drain`].
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
