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
