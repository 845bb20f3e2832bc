//! Hostile clients (issue 16): each test mounts an attack that worked
//! against an earlier version and checks that it no longer does. Each one
//! was run with its defense taken out to see it fail (docs/reliability.md).

use crate::common::{self, TestApp};
use reqwest::StatusCode;

async fn get(app: &TestApp, method: &str, path: &str, bearer: Option<&str>) -> StatusCode {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app.client.request(m, app.url(path));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request").status()
}

#[tokio::test]
async fn made_up_http_methods_do_not_grow_the_metrics() {
    let app = TestApp::spawn().await;
    for i in 0..300 {
        let status = get(&app, &format!("BREW{i}"), "/healthz", None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
    let text = app.metrics().await;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("chatbill_http_requests_total{"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("method=\"other\"") && l.ends_with(" 300")),
        "{lines:#?}"
    );
    assert!(lines.len() < 5, "one label for all of them: {lines:#?}");
    app.stop().await;
}

#[tokio::test]
async fn metrics_need_the_operator_s_token_or_their_own_address() {
    let app = TestApp::spawn().await;
    assert_eq!(
        get(&app, "GET", "/metrics", None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(
            &app,
            "GET",
            "/metrics",
            Some("test-metrics-token-0123456780")
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "a near miss is refused"
    );
    assert_eq!(
        get(&app, "GET", "/metrics", Some(&app.token)).await,
        StatusCode::UNAUTHORIZED,
        "a seller's token is not the operator's"
    );
    assert_eq!(
        get(&app, "GET", "/metrics", Some(common::METRICS_TOKEN)).await,
        StatusCode::OK
    );
    app.stop().await;

    // Their own address: never on the main one, open on the second.
    let app = TestApp::spawn_with(&[
        ("CHATBILL_METRICS_TOKEN", ""),
        ("CHATBILL_METRICS_BIND", "127.0.0.1:0"),
    ])
    .await;
    assert_eq!(
        get(&app, "GET", "/metrics", Some(common::METRICS_TOKEN)).await,
        StatusCode::NOT_FOUND
    );
    let at = app.state_metrics_addr().expect("a metrics address");
    let r = app
        .client
        .get(format!("http://{at}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .expect("text")
            .contains("chatbill_inbox_pending")
    );
    app.stop().await;

    // Neither chosen: nothing to read.
    let app = TestApp::spawn_with(&[("CHATBILL_METRICS_TOKEN", "")]).await;
    assert_eq!(
        get(&app, "GET", "/metrics", Some(common::METRICS_TOKEN)).await,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

async fn orders_as(app: &TestApp, token: &str, forwarded_for: &str) -> StatusCode {
    app.client
        .get(app.url("/api/v1/orders"))
        .bearer_auth(token)
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn one_attacker_behind_the_proxy_cannot_lock_sellers_out_but_is_slowed_down() {
    // The operator's reverse proxy is this machine (every test client
    // connects from 127.0.0.1, as through a proxy on the same host).
    let app = TestApp::spawn_with(&[("CHATBILL_TRUSTED_PROXIES", "127.0.0.1")]).await;
    const ATTACKER: &str = "203.0.113.66";
    let mut statuses = Vec::new();
    for i in 0..15 {
        statuses.push(orders_as(&app, &format!("cbk_guess{i}"), ATTACKER).await);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(
        statuses.last().copied(),
        Some(StatusCode::TOO_MANY_REQUESTS),
        "the attacker is told to wait: {statuses:?}"
    );
    // Another client behind the same proxy is not the attacker.
    assert_eq!(
        orders_as(&app, "cbk_typo", "198.51.100.5").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        orders_as(&app, &app.token, "198.51.100.5").await,
        StatusCode::OK
    );
    // Even from the attacker's own address a valid token gets in.
    assert_eq!(orders_as(&app, &app.token, ATTACKER).await, StatusCode::OK);
    assert_eq!(
        orders_as(&app, "cbk_more", ATTACKER).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The console's login page keeps to the same rules.
    let login = |token: String, from: &'static str| {
        let (client, url) = (app.client.clone(), app.url("/admin/login"));
        async move {
            client
                .post(url)
                .header("x-forwarded-for", from)
                .form(&[("token", token)])
                .send()
                .await
                .expect("login")
                .status()
        }
    };
    assert_eq!(
        login("cbk_nope".into(), ATTACKER).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let ok = login(app.token.clone(), ATTACKER).await;
    assert!(ok.is_success() || ok.is_redirection(), "{ok}");
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_writes_its_own_forwarded_for_is_still_counted_by_its_address() {
    // No trusted proxy: the header is the client's own words.
    let app = TestApp::spawn().await;
    let mut last = StatusCode::OK;
    for i in 0..15 {
        last = orders_as(&app, &format!("cbk_guess{i}"), &format!("198.51.100.{i}")).await;
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "made-up addresses do not buy more guesses"
    );
    app.stop().await;
}

/// The `error` a refusal explains itself with.
async fn error_of(r: reqwest::Response) -> String {
    let body: serde_json::Value = r.json().await.expect("a JSON refusal");
    body["error"].as_str().unwrap_or("").to_string()
}

/// After an attack, an ordinary visitor's message is still taken and
/// processed, and nothing is left stuck in the inbox.
async fn chat_goes_on(app: &TestApp, cookie: &str, client_id: &str) {
    let r = app
        .client
        .post(app.url(&format!("/chat/{}/send", app.shop.id)))
        .header("cookie", cookie)
        .json(&serde_json::json!({"payload": "GET_STARTED", "client_id": client_id}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "the chat still takes messages"
    );
    app.drain().await;
    assert_eq!(pending_inbox(app).await, 0, "every message processed");
}

async fn pending_inbox(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "select count(*) from inbox_events where status <> 'done' and status <> 'ignored'",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("count")
}

/// PostgreSQL cannot store NUL in text: a NUL that got past the edge in a
/// body not labelled JSON used to fail the whole inbox batch it was in.
#[tokio::test]
async fn nul_in_a_body_not_labelled_json_is_refused_and_other_customers_are_answered() {
    let app = TestApp::spawn().await;
    let cookie = app.visitor_cookie().await;
    let nul_json = "{\"text\": \"hi\\u0000there\", \"client_id\": \"nul-1\"}";
    for content_type in ["application/octet-stream", "application/x-json", ""] {
        let r = app
            .client
            .post(app.url(&format!("/chat/{}/send", app.shop.id)))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(nul_json)
            .send()
            .await
            .expect("send");
        assert_eq!(
            r.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
    }
    // JSON by any spelling of its type is read, and its NUL refused.
    let r = app
        .client
        .post(app.url(&format!("/chat/{}/send", app.shop.id)))
        .header("cookie", &cookie)
        .header("content-type", "Application/JSON; charset=utf-8")
        .body(nul_json)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The same for a seller's order action.
    let r = app
        .client
        .post(app.url("/api/v1/orders/1/cancel"))
        .bearer_auth(&app.token)
        .header("content-type", "application/octet-stream")
        .body("{\"reason\": \"x\\u0000\"}")
        .send()
        .await
        .expect("action");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let error = error_of(r).await;
    assert!(error.contains("application/json"), "{error}");

    chat_goes_on(&app, &cookie, "good-1").await;
    app.stop().await;
}

#[tokio::test]
async fn pages_carry_a_content_policy_and_a_slip_is_never_served_as_a_page() {
    let media = tempfile_dir("csp-media");
    let app = TestApp::spawn_with(&[("CHATBILL_MEDIA_DIR", media.to_str().expect("utf-8"))]).await;
    let console_policy = chatbill::http::CONTENT_SECURITY_POLICY;
    for path in ["/admin/login", "/api/v1/orders"] {
        let r = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(
            r.headers()["content-security-policy"],
            console_policy,
            "{path}"
        );
    }
    let script_src = console_policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .expect("a script policy");
    assert_eq!(
        script_src, "script-src 'self'",
        "no inline script in the console"
    );
    // The web chat's inline script runs by a nonce that is new each time.
    let page = |n: u8| {
        let (client, url) = (
            app.client.clone(),
            app.url(&format!("/chat/{}", app.shop.id)),
        );
        async move {
            let r = client.get(url).send().await.expect("chat");
            let policy = r.headers()["content-security-policy"]
                .to_str()
                .expect("policy")
                .to_string();
            let html = r.text().await.expect("html");
            (n, policy, html)
        }
    };
    let (_, policy, html) = page(1).await;
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce")
        .to_string();
    assert!(
        html.contains(&format!("<script nonce=\"{nonce}\">")),
        "{html}"
    );
    assert!(policy.contains("frame-ancestors 'none'"));
    let (_, again, _) = page(2).await;
    assert_ne!(policy, again, "a fresh nonce per page");

    // A "slip" that is really a web page: a download in a sandbox.
    let v = common::product(&app.db, &app.shop, "Tee", 10_000, None).await;
    let c = crate::security::customer(&app.db, &app.shop, "webchat", "u1", "Alice").await;
    let o = crate::security::place(&app.db, &app.shop, c, v).await;
    let pay = crate::security::payment_row(&app.db, &app.shop, o.id).await;
    let sha = "cd".repeat(32);
    let path = chatbill::slips::media::original_path(&media, &sha).expect("path");
    std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
    std::fs::write(
        &path,
        b"<html><script>alert(document.cookie)</script></html>",
    )
    .expect("write");
    sqlx::query("update payments set slip_sha256 = $1, slip_path = $2 where id = $3")
        .bind(&sha)
        .bind(path.to_str().expect("utf-8"))
        .bind(pay)
        .execute(app.db.pool())
        .await
        .expect("update");
    let r = app
        .client
        .get(app.url(&format!("/api/v1/payments/{pay}/slip")))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("slip");
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert!(
        h["content-disposition"]
            .to_str()
            .expect("text")
            .starts_with("attachment"),
        "{h:?}"
    );
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(h["x-content-type-options"], "nosniff");
    app.stop().await;
    let _ = std::fs::remove_dir_all(media);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chatbill-{name}-{}",
        chatbill::clock::hex(&chatbill::clock::random_bytes::<6>())
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

mod ssrf {
    use chatbill::slips::fetch::{self, FetchError, FetchPolicy, Resolver};
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A socket that counts the connections made to it (and says nothing).
    async fn counting_listener() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let at = listener.local_addr().expect("addr");
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        (at, count)
    }

    /// An attacker's DNS: every name points at `to`.
    fn resolving_to(to: SocketAddr, calls: Arc<AtomicUsize>) -> Resolver {
        Arc::new(move |_host, _port| {
            calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(vec![to]) })
        })
    }

    fn policy(extra: &[&str], resolver: Resolver) -> FetchPolicy {
        let mut p = FetchPolicy::new(&extra.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        p.resolver = resolver;
        p.attempts = 1;
        p.connect_timeout = Duration::from_secs(2);
        p.total_timeout = Duration::from_secs(5);
        p
    }

    #[tokio::test]
    async fn an_allowed_name_that_resolves_to_a_private_address_is_never_contacted() {
        let (at, connections) = counting_listener().await;
        let calls = Arc::new(AtomicUsize::new(0));
        for (listed, url) in [
            (vec![], "https://scontent.xx.fbcdn.net/v/slip.jpg"),
            (vec!["*.example.test"], "https://slips.example.test/a.jpg"),
            (
                vec!["media.example.test"],
                "https://media.example.test/a.jpg",
            ),
        ] {
            let p = policy(&listed, resolving_to(at, calls.clone()));
            let e = fetch::fetch_once(&p, url).await.expect_err("refused");
            assert!(
                matches!(&e, FetchError::NotAllowed(why) if why.contains("private")),
                "{url}: {e:?}"
            );
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3, "each name was resolved");
        assert_eq!(connections.load(Ordering::SeqCst), 0, "and never contacted");
        // A subdomain of a listed name is not listed.
        let p = policy(&["media.example.test"], resolving_to(at, calls.clone()));
        let e = fetch::fetch_once(&p, "https://evil.media.example.test/a.jpg")
            .await
            .expect_err("refused");
        assert!(matches!(e, FetchError::NotAllowed(_)), "{e:?}");
    }

    #[tokio::test]
    async fn the_connection_goes_to_the_address_that_was_checked() {
        // The operator allowed this address; the name has no other (no
        // real DNS knows it), so a connection at all means the checked
        // address was the one used, not a second lookup's.
        let (at, connections) = counting_listener().await;
        let calls = Arc::new(AtomicUsize::new(0));
        let p = policy(
            &["*.example.test", "127.0.0.1"],
            resolving_to(at, calls.clone()),
        );
        let e = fetch::fetch_once(&p, "https://slips.example.test/a.jpg")
            .await
            .expect_err("the listener is not an https server");
        assert!(!matches!(e, FetchError::NotAllowed(_)), "{e:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "resolved once");
        assert_eq!(connections.load(Ordering::SeqCst), 1, "{e:?}");
    }
}

/// Numbers and dates beyond what a shop can mean, from a valid token:
/// each refused with a reason, none a 500 or a wrapped-around total.
#[tokio::test]
async fn out_of_range_numbers_and_dates_are_refused_with_a_reason() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    let v = common::product(&app.db, &app.shop, "Tee", 10_000, Some(5)).await;
    let c = crate::security::customer(&app.db, &app.shop, "webchat", "u1", "Alice").await;
    let o = crate::security::place(&app.db, &app.shop, c, v).await;
    let (oid, cid) = (o.id.get(), c.get());
    let product_id: i64 = sqlx::query_scalar("select product_id from variants where id = $1")
        .bind(v.get())
        .fetch_one(app.db.pool())
        .await
        .expect("product");
    let line: i64 = sqlx::query_scalar("select id from order_lines where order_id = $1")
        .bind(oid)
        .fetch_one(app.db.pool())
        .await
        .expect("line");
    let huge = i64::MAX;
    let cases: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        ("GET", "/orders?from=1000000000-01-01".into(), None),
        ("GET", "/orders?to=9999-12-31".into(), None),
        ("GET", "/orders?from=2026-13-01".into(), None),
        ("GET", format!("/orders?limit={huge}"), None),
        ("GET", "/orders?limit=-1".into(), None),
        (
            "GET",
            "/reports/reconciliation?from=1000000000-01-01".into(),
            None,
        ),
        ("GET", "/exports/orders.csv?from=99999-01-01".into(), None),
        ("GET", "/dashboard?days=100000000000".into(), None),
        (
            "POST",
            "/products".into(),
            Some(json!({"name": "X", "price": huge, "variants": [{"name": "A", "stock": 1}]})),
        ),
        (
            "POST",
            "/products".into(),
            Some(json!({"name": "X", "price": 100, "variants": [{"name": "A", "stock": huge}]})),
        ),
        (
            "PATCH",
            format!("/products/{product_id}"),
            Some(json!({"price": -5})),
        ),
        (
            "POST",
            "/products".into(),
            Some(
                json!({"name": "X", "price": 1, "image_url": "javascript:alert(1)", "variants": [{"name": "A"}]}),
            ),
        ),
        (
            "PATCH",
            format!("/products/{product_id}"),
            Some(json!({"image_url": "http://169.254.169.254/"})),
        ),
        (
            "PATCH",
            format!("/variants/{}", v.get()),
            Some(json!({"stock": huge})),
        ),
        (
            "POST",
            format!("/variants/{}/stock", v.get()),
            Some(json!({"delta": huge})),
        ),
        (
            "POST",
            format!("/customers/{cid}/deposit"),
            Some(json!({"amount": huge, "note": "x"})),
        ),
        (
            "POST",
            format!("/customers/{cid}/withdraw"),
            Some(json!({"amount": huge, "note": "x"})),
        ),
        (
            "POST",
            format!("/orders/{oid}/collect-cod"),
            Some(json!({"amount": huge})),
        ),
        (
            "POST",
            format!("/orders/{oid}/confirm-payment"),
            Some(json!({"amount": huge})),
        ),
        (
            "POST",
            format!("/orders/{oid}/edit-line"),
            Some(json!({"line_id": line, "qty": huge})),
        ),
        (
            "POST",
            format!("/orders/{oid}/edit-line"),
            Some(
                json!({"line_id": line, "qty": 4_000_000_000_i64, "unit_price": 1_000_000_000_000_i64}),
            ),
        ),
        (
            "POST",
            format!("/orders/{oid}/edit-fees"),
            Some(
                json!({"fees": [{"label": "a", "amount": 1_000_000_000_000_i64}, {"label": "b", "amount": 1_000_000_000_000_i64}]}),
            ),
        ),
        (
            "PATCH",
            "/settings".into(),
            Some(json!({"shipping_flat_fee": huge})),
        ),
        ("PATCH", "/settings".into(), Some(json!({"cod_fee": huge}))),
        (
            "PATCH",
            "/settings".into(),
            Some(json!({"free_shipping_over": huge})),
        ),
        (
            "PATCH",
            "/settings".into(),
            Some(json!({"hold_hours": huge})),
        ),
        (
            "PATCH",
            "/settings".into(),
            Some(json!({"utc_offset_minutes": huge})),
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body) in &cases {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = app
            .client
            .request(m, app.url(&format!("/api/v1{path}")))
            .bearer_auth(&app.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.expect("request");
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        let reason = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_default();
        if !status.is_client_error() || reason.is_empty() {
            wrong.push(format!("{method} {path} {body:?}: {status} {text:.200}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "not refused with a reason:\n{}",
        wrong.join("\n")
    );
    // Nothing of it stuck: the order and the balance are as they were.
    let (status, order) = {
        let r = app
            .client
            .get(app.url(&format!("/api/v1/orders/{oid}")))
            .bearer_auth(&app.token)
            .send()
            .await
            .expect("order");
        (
            r.status(),
            r.json::<serde_json::Value>().await.expect("json"),
        )
    };
    assert_eq!(status, 200);
    assert_eq!(order["order"]["total"], o.totals().total.minor, "{order}");
    app.stop().await;
}

mod webchat_abuse {
    use super::{chat_goes_on, error_of};
    use crate::common::TestApp;
    use reqwest::StatusCode;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    async fn app_with_media(extra: &[(&str, &str)]) -> (TestApp, PathBuf) {
        let media = super::tempfile_dir("webchat-media");
        let mut vars = vec![("CHATBILL_MEDIA_DIR", media.to_str().expect("utf-8"))];
        vars.extend_from_slice(extra);
        (TestApp::spawn_with(&vars).await, media)
    }

    fn uploads(media: &Path) -> usize {
        std::fs::read_dir(media.join("uploads"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    async fn upload(app: &TestApp, cookie: Option<&str>, client_id: &str) -> StatusCode {
        let mut req = app
            .client
            .post(app.url(&format!(
                "/chat/{}/upload?client_id={client_id}",
                app.shop.id
            )))
            .header("content-type", "image/jpeg")
            .body(vec![0xff_u8, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.expect("upload").status()
    }

    #[tokio::test]
    async fn nothing_is_written_for_a_refused_or_repeated_upload() {
        let (app, media) = app_with_media(&[]).await;
        let cookie = app.visitor_cookie().await;
        assert_eq!(upload(&app, None, "a-1").await, StatusCode::UNAUTHORIZED);
        assert_eq!(
            upload(&app, Some("cb_chat=0123.forged"), "a-1").await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            upload(&app, Some(&cookie), "bad id!").await,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            upload(&app, Some(&cookie), &"x".repeat(65)).await,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(uploads(&media), 0, "refused uploads wrote nothing");
        assert_eq!(
            upload(&app, Some(&cookie), "a-1").await,
            StatusCode::ACCEPTED
        );
        // The page retries a POST it did not hear back from: stored once.
        assert_eq!(
            upload(&app, Some(&cookie), "a-1").await,
            StatusCode::ACCEPTED
        );
        app.drain().await;
        assert_eq!(
            upload(&app, Some(&cookie), "a-1").await,
            StatusCode::ACCEPTED
        );
        assert!(uploads(&media) <= 1, "one file for one photo");
        app.stop().await;
        let _ = std::fs::remove_dir_all(media);
    }

    #[tokio::test]
    async fn a_visitor_s_uploads_sends_and_new_chats_are_limited() {
        let (app, media) = app_with_media(&[]).await;
        let cookie = app.visitor_cookie().await;
        let mut statuses = Vec::new();
        for i in 0..12 {
            statuses.push(upload(&app, Some(&cookie), &format!("u-{i}")).await);
        }
        assert_eq!(statuses[..10], [StatusCode::ACCEPTED; 10]);
        assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
        assert!(uploads(&media) <= 10);
        // Another visitor is not held up by this one.
        let other = app.visitor_cookie().await;
        assert_eq!(
            upload(&app, Some(&other), "o-1").await,
            StatusCode::ACCEPTED
        );

        let send = |i: usize| {
            let (client, url, cookie) = (
                app.client.clone(),
                app.url(&format!("/chat/{}/send", app.shop.id)),
                cookie.clone(),
            );
            async move {
                client
                    .post(url)
                    .header("cookie", cookie)
                    .json(&serde_json::json!({"text": "hello", "client_id": format!("s-{i}")}))
                    .send()
                    .await
                    .expect("send")
            }
        };
        let mut last = None;
        for i in 0..45 {
            let r = send(i).await;
            if r.status() == StatusCode::TOO_MANY_REQUESTS {
                last = Some((i, r));
                break;
            }
            assert_eq!(r.status(), StatusCode::ACCEPTED);
        }
        let (at, r) = last.expect("sends are limited");
        assert_eq!(at, 40);
        assert!(r.headers().contains_key("retry-after"));
        let error = error_of(r).await;
        assert!(error.contains("very fast"), "{error}");

        // New chats from one address: cookies are not free.
        let mut refused = false;
        for _ in 0..40 {
            let r = app
                .client
                .get(app.url(&format!("/chat/{}", app.shop.id)))
                .send()
                .await
                .expect("page");
            if r.status() == StatusCode::TOO_MANY_REQUESTS {
                assert!(!r.headers().contains_key("set-cookie"));
                refused = true;
                break;
            }
        }
        assert!(refused, "visitor creation is limited per address");
        // A returning visitor still opens the page.
        let r = app
            .client
            .get(app.url(&format!("/chat/{}", app.shop.id)))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("page");
        assert_eq!(r.status(), StatusCode::OK);
        app.stop().await;
        let _ = std::fs::remove_dir_all(media);
    }

    #[tokio::test]
    async fn uploads_nothing_needs_are_swept_and_the_rest_kept() {
        // Workers off: the sweep runs here, not on the timer's schedule.
        let (app, media) = app_with_media(&[("CHATBILL_WORKERS", "off")]).await;
        let dir = media.join("uploads");
        std::fs::create_dir_all(&dir).expect("dir");
        let old = std::time::SystemTime::now() - Duration::from_secs(7 * 3600);
        let make = |name: &str, when: std::time::SystemTime| {
            let p = dir.join(format!("{name}.bin"));
            std::fs::write(&p, b"jpeg").expect("write");
            std::fs::File::options()
                .write(true)
                .open(&p)
                .expect("open")
                .set_modified(when)
                .expect("mtime");
            p
        };
        let stray = make(&"a".repeat(32), old);
        let fresh = make(&"b".repeat(32), std::time::SystemTime::now());
        let claimed = make(&"c".repeat(32), old);
        let v = crate::common::product(&app.db, &app.shop, "Tee", 10_000, None).await;
        let c = crate::security::customer(&app.db, &app.shop, "webchat", "u1", "Alice").await;
        let o = crate::security::place(&app.db, &app.shop, c, v).await;
        let mut tx = app.db.begin().await.expect("tx");
        let reference = format!("upload:{}", "c".repeat(32));
        chatbill::store::claims::file(
            &mut tx,
            &chatbill::store::claims::FileClaim {
                shop: app.shop.id,
                order: o.id,
                customer: c,
                filing: "chat:1:1",
                reason: chatbill::domain::claim::ClaimReason::Damaged,
                text: Some("it arrived broken"),
                image: Some(&reference),
            },
            crate::common::now(),
        )
        .await
        .expect("claim");
        tx.commit().await.expect("commit");
        // Leased to a worker that is still downloading it.
        sqlx::query("update claim_photos set lease_until = $1")
            .bind(crate::common::now().millis() + 3_600_000)
            .execute(app.db.pool())
            .await
            .expect("lease");
        let removed = chatbill::app::uploads::sweep(app.state())
            .await
            .expect("sweep");
        assert_eq!(removed, 1);
        assert!(!stray.exists(), "an old upload nothing refers to is gone");
        assert!(
            fresh.exists(),
            "a recent one may still be waiting in the inbox"
        );
        assert!(claimed.exists(), "a claim's photo is kept");
        app.stop().await;
        let _ = std::fs::remove_dir_all(media);
    }

    #[tokio::test]
    async fn a_full_or_broken_media_folder_is_answered_in_words_and_chat_goes_on() {
        let (app, media) = app_with_media(&[]).await;
        // Where the uploads folder should be, a file: nothing can be written.
        std::fs::write(media.join("uploads"), b"in the way").expect("block");
        let cookie = app.visitor_cookie().await;
        let r = app
            .client
            .post(app.url(&format!("/chat/{}/upload?client_id=p-1", app.shop.id)))
            .header("cookie", &cookie)
            .body(vec![1_u8, 2, 3])
            .send()
            .await
            .expect("upload");
        assert!(r.status().is_server_error(), "{}", r.status());
        let error = error_of(r).await;
        assert!(error.contains("cannot receive photos"), "{error}");
        chat_goes_on(&app, &cookie, "t-1").await;
        app.stop().await;
        let _ = std::fs::remove_dir_all(media);
    }

    async fn open_stream(app: &TestApp, cookie: &str) -> reqwest::Response {
        app.client
            .get(app.url(&format!("/chat/{}/events", app.shop.id)))
            .header("cookie", cookie)
            .send()
            .await
            .expect("events")
    }

    #[tokio::test]
    async fn one_stream_per_visitor_and_a_cap_on_all() {
        let app = TestApp::spawn_with(&[("CHATBILL_WEBCHAT_STREAMS", "2")]).await;
        let a = app.visitor_cookie().await;
        let mut first = open_stream(&app, &a).await;
        assert_eq!(first.status(), StatusCode::OK);
        let second = open_stream(&app, &a).await;
        assert_eq!(second.status(), StatusCode::OK);
        // The first one ends: its place went to the second.
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(Some(_)) = first.chunk().await {}
        })
        .await;
        assert!(ended.is_ok(), "the old stream was closed");
        let b = app.visitor_cookie().await;
        let b_stream = open_stream(&app, &b).await;
        assert_eq!(b_stream.status(), StatusCode::OK);
        let c = app.visitor_cookie().await;
        let refused = open_stream(&app, &c).await;
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        let error = error_of(refused).await;
        assert!(error.contains("busy"), "{error}");
        assert_eq!(app.state().chat_streams.count(), 2);
        drop(b_stream);
        drop(second);
        app.stop().await;
    }
}

mod console_sessions {
    use crate::common::TestApp;
    use reqwest::StatusCode;

    fn no_redirects() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    async fn orders_page(app: &TestApp, cookie: &str) -> (StatusCode, String) {
        let r = no_redirects()
            .get(app.url("/admin/orders"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("page");
        let to = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (r.status(), to)
    }

    #[tokio::test]
    async fn the_cookie_is_a_session_that_logout_and_revoking_end() {
        let app = TestApp::spawn().await;
        let cookie = app.console_cookie(&app.token).await;
        assert!(cookie.starts_with("cb_admin=cbs_"), "{cookie}");
        assert!(
            !cookie.contains(&app.token),
            "the token is not in the cookie"
        );
        assert_eq!(orders_page(&app, &cookie).await.0, StatusCode::OK);
        // The token itself planted as the cookie is not a session.
        let planted = format!("cb_admin={}", app.token);
        assert_eq!(
            orders_page(&app, &planted).await,
            (StatusCode::SEE_OTHER, "/admin/login?expired=1".into())
        );
        // Logout ends it on the server, not just in this browser.
        let r = no_redirects()
            .post(app.url("/admin/logout"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("logout");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(orders_page(&app, &cookie).await.0, StatusCode::SEE_OTHER);
        // Revoking a token ends its sessions.
        let r = app
            .client
            .post(app.url("/api/v1/tokens"))
            .bearer_auth(&app.token)
            .json(&serde_json::json!({"label": "Nok", "role": "staff"}))
            .send()
            .await
            .expect("token");
        let made: serde_json::Value = r.json().await.expect("json");
        let staff = app
            .console_cookie(made["token"].as_str().expect("token"))
            .await;
        assert_eq!(orders_page(&app, &staff).await.0, StatusCode::OK);
        let id = made["info"]["id"].as_i64().expect("token id");
        let r = app
            .client
            .delete(app.url(&format!("/api/v1/tokens/{id}")))
            .bearer_auth(&app.token)
            .send()
            .await
            .expect("revoke");
        assert!(r.status().is_success(), "{}", r.status());
        assert_eq!(orders_page(&app, &staff).await.0, StatusCode::SEE_OTHER);
        app.stop().await;
    }

    #[tokio::test]
    async fn forms_posted_from_another_site_are_refused() {
        let app = TestApp::spawn().await;
        let cookie = app.console_cookie(&app.token).await;
        let post = |headers: Vec<(&'static str, String)>| {
            let (url, cookie) = (app.url("/admin/products"), cookie.clone());
            async move {
                let mut req = no_redirects().post(url).header("cookie", cookie).form(&[
                    ("name", "Forged"),
                    ("price", "1"),
                    ("stock", "1"),
                ]);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                req.send().await.expect("post").status()
            }
        };
        assert_eq!(
            post(vec![("sec-fetch-site", "cross-site".into())]).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(vec![("sec-fetch-site", "same-site".into())]).await,
            StatusCode::FORBIDDEN,
            "a sibling subdomain is another site too"
        );
        assert_eq!(
            post(vec![("origin", "https://evil.example".into())]).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(vec![("origin", "null".into())]).await,
            StatusCode::FORBIDDEN
        );
        let products: i64 =
            sqlx::query_scalar("select count(*) from products where name = 'Forged'")
                .fetch_one(app.db.pool())
                .await
                .expect("count");
        assert_eq!(products, 0, "nothing was made");
        let ours = post(vec![
            ("sec-fetch-site", "same-origin".into()),
            ("origin", app.base.clone()),
        ])
        .await;
        assert_ne!(ours, StatusCode::FORBIDDEN);
        let ours = post(vec![("origin", app.base.clone())]).await;
        assert_ne!(ours, StatusCode::FORBIDDEN);
        app.stop().await;
    }

    #[tokio::test]
    async fn the_cookie_is_secure_when_the_shop_is_on_https() {
        let app = TestApp::spawn_with(&[("CHATBILL_PUBLIC_URL", "https://shop.example")]).await;
        let r = no_redirects()
            .post(app.url("/admin/login"))
            .form(&[("token", app.token.as_str())])
            .send()
            .await
            .expect("login");
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_string();
        assert!(
            cookie.contains("; Secure")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        app.stop().await;
    }
}

/// On https the visitor cookie is `__Host-`: a cookie planted under the
/// old name (as a sibling subdomain could) is not taken, and the visitor
/// gets a fresh id of their own.
#[tokio::test]
async fn a_planted_web_chat_cookie_is_not_taken_on_https() {
    let app = TestApp::spawn_with(&[("CHATBILL_PUBLIC_URL", "https://shop.example")]).await;
    let r = app
        .client
        .get(app.url(&format!("/chat/{}", app.shop.id)))
        .send()
        .await
        .expect("page");
    let set = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    let prefix = format!("__Host-cb_chat_{}=", app.shop.id);
    assert!(set.starts_with(&prefix), "{set}");
    assert!(set.contains("Path=/;") && set.contains("Secure"), "{set}");
    let value = set
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix(&prefix))
        .expect("value")
        .to_string();
    // The attacker's own valid id, planted under a name a subdomain can set.
    let planted = format!("cb_chat={value}");
    let r = app
        .client
        .post(app.url(&format!("/chat/{}/send", app.shop.id)))
        .header("cookie", &planted)
        .json(&serde_json::json!({"text": "my address is …", "client_id": "p-1"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .get(app.url(&format!("/chat/{}", app.shop.id)))
        .header("cookie", &planted)
        .send()
        .await
        .expect("page");
    let fresh = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        fresh.starts_with(&prefix) && !fresh.contains(&value),
        "a fresh id: {fresh}"
    );
    app.stop().await;
}

/// Only an owner manages tokens: a manager who could mint an owner token,
/// or revoke the owner's, would own the shop.
#[tokio::test]
async fn only_the_owner_lists_makes_and_revokes_tokens() {
    let app = TestApp::spawn().await;
    let call =
        |method: &'static str, path: String, token: String, body: Option<serde_json::Value>| {
            let (client, url) = (app.client.clone(), app.url(&format!("/api/v1{path}")));
            async move {
                let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut req = client.request(m, url).bearer_auth(token);
                if let Some(b) = body {
                    req = req.json(&b);
                }
                let r = req.send().await.expect("request");
                let status = r.status();
                (
                    status,
                    r.json::<serde_json::Value>().await.unwrap_or_default(),
                )
            }
        };
    let owner = app.token.clone();
    let (st, made) = call(
        "POST",
        "/tokens".into(),
        owner.clone(),
        Some(serde_json::json!({"label": "Nok", "role": "manager"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let manager = made["token"].as_str().expect("token").to_string();
    let owner_id: i64 = sqlx::query_scalar("select min(id) from api_tokens")
        .fetch_one(app.db.pool())
        .await
        .expect("owner's token id");
    for (method, path, body) in [
        ("GET", "/tokens".to_string(), None),
        (
            "POST",
            "/tokens".to_string(),
            Some(serde_json::json!({"label": "mine", "role": "owner"})),
        ),
        ("DELETE", format!("/tokens/{owner_id}"), None),
    ] {
        let (st, body) = call(method, path.clone(), manager.clone(), body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert_eq!(body["permission"], "manage_tokens");
    }
    let (st, _) = call("GET", "/orders".into(), owner, None).await;
    assert_eq!(st, StatusCode::OK, "the owner's token still works");
    app.stop().await;
}
