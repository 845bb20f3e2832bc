//! The HTTP skeleton: health, metrics, body limits, graceful shutdown.

use crate::common;

use common::TestApp;

#[tokio::test]
async fn healthz_checks_the_database() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    // With the database gone, health says so instead of lying.
    app.db.pool().close().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_request_counts() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.client.get(app.url("/healthz")).send().await.unwrap();
    }
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(common::METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let body = r.text().await.unwrap();
    assert!(
        body.contains(
            r#"chatbill_http_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{body}"
    );
    assert!(body.contains("chatbill_outbox_pending 0"), "{body}");
    assert!(body.contains("chatbill_inbox_pending 0"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_are_404_and_demo_images_are_png() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .get(app.url("/static/demo/0.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    let r = app
        .client
        .get(app.url("/static/demo/..%2F..%2Fetc%2Fpasswd"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_and_stops_listening() {
    let app = TestApp::spawn().await;
    let url = app.url("/healthz");
    let client = app.client.clone();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    app.stop().await;
    assert!(
        client.get(&url).send().await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/admin/login", "/api/v1/orders", "/nope"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let id = h["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 12, "{path}: {id}");
    }
    // A caller's own request id is kept, so a proxy's id follows the request.
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "lb-7f3a");
    app.stop().await;
}
