mod common;
#[tokio::test]
async fn scratch() {
    let app = common::TestApp::spawn().await;
    println!("n endpoints {}", chatbill::admin::endpoints().len());
    for p in ["/healthz", "/metrics", "/api/v1/openapi.json", "/admin/login", "/media/qr/x.png"] {
        let r = app.client.get(app.url(p)).send().await.unwrap();
        println!("{p} {} {:?}", r.status(), r.text().await.unwrap().chars().take(100).collect::<String>());
    }
}
