//! Product pictures: a seller uploads image files (multipart), they are
//! decoded under the slip limits, fitted, stored in the media folder and
//! served with a long cache; the first is on the carousel card. A bad file
//! is refused with the reason and leaves nothing behind.

use crate::common::{TestApp, now};
use crate::messenger::{PSID, app_with_graph, count, post_signed, postback};
use crate::undelivered::owner;
use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::{Value, json};
use std::io::Cursor;

fn png(w: u32, h: u32, shade: u8) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, shade])
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).expect("png");
    out.into_inner()
}

/// A media folder of the test's own, so counting its files counts only
/// this test's pictures.
fn own_media_dir() -> String {
    let dir = std::env::temp_dir().join(format!(
        "chatbill-media-{}",
        chatbill::clock::hex(&chatbill::clock::random_bytes::<6>())
    ));
    dir.display().to_string()
}

const BOUNDARY: &str = "chatbill-test-boundary-7f3a";

fn multipart(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, product: i64, files: &[(&str, &[u8])]) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/products/{product}/pictures")))
        .bearer_auth(&app.token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(files))
        .send()
        .await
        .expect("upload");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn new_product(app: &TestApp, name: &str) -> i64 {
    let (status, body) = owner(
        app,
        "POST",
        "/products",
        Some(json!({"name": name, "price": 25000, "variants": [{"name": "", "stock": 5}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["product"]["id"]
        .as_i64()
        .or(body["id"].as_i64())
        .expect("product id")
}

/// The path part of a picture's public URL.
fn path_of(url: &str) -> String {
    url.find("/media/")
        .map(|i| url[i..].to_string())
        .unwrap_or_default()
}

/// Every file under the media folder's product pictures.
fn stored_files(app: &TestApp) -> usize {
    let root = app.state().config.media_dir.join("public").join("products");
    let Ok(dirs) = std::fs::read_dir(root) else {
        return 0;
    };
    dirs.flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .map(|files| files.flatten().count())
        .sum()
}

/// The image on the first carousel card Messenger was sent.
fn card_image(graph: &chatbill_load::fake_graph::FakeGraph) -> String {
    graph
        .sends_to(PSID)
        .iter()
        .rev()
        .find_map(|s| {
            s.body["message"]["attachment"]["payload"]["elements"][0]["image_url"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_uploaded_picture_is_fitted_cached_for_long_and_first_on_the_carousel_card() {
    let media = own_media_dir();
    let (app, graph) = app_with_graph(&[("CHATBILL_MEDIA_DIR", &media)]).await;
    let product = new_product(&app, "Canvas tote").await;
    let big = png(2400, 1600, 10);
    let (status, body) = upload(&app, product, &[("tote.png", &big)]).await;
    assert_eq!(status, 201, "{body}");
    let first = body["pictures"][0].clone();
    assert_eq!(
        (first["width"].as_i64(), first["height"].as_i64()),
        (Some(1200), Some(800))
    );
    let url = first["url"].as_str().unwrap().to_string();
    assert!(url.ends_with(".jpg"), "{url}");

    let r = app
        .client
        .get(app.url(&path_of(&url)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let cache = r.headers()["cache-control"].to_str().unwrap().to_string();
    assert!(
        cache.contains("max-age=31536000") && cache.contains("immutable"),
        "{cache}"
    );
    let served = image::load_from_memory(&r.bytes().await.unwrap()).expect("a JPEG");
    assert_eq!((served.width(), served.height()), (1200, 800));

    // A second picture goes after the first; the card keeps the first.
    let (status, body) = upload(&app, product, &[("side.png", &png(400, 400, 200))]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["pictures"].as_array().map(Vec::len), Some(2));
    let second = body["pictures"][1].clone();
    post_signed(
        &app,
        &postback("m_p1", PSID, now().millis(), "MENU_PRODUCTS"),
    )
    .await;
    app.drain().await;
    assert_eq!(card_image(&graph), url, "the first picture is on the card");

    // The seller puts the second first: the next carousel shows it at once.
    let (status, _) = owner(
        &app,
        "POST",
        &format!("/products/{product}/pictures/{}/first", second["id"]),
        None,
    )
    .await;
    assert_eq!(status, 200);
    post_signed(
        &app,
        &postback("m_p2", PSID, now().millis(), "MENU_PRODUCTS"),
    )
    .await;
    app.drain().await;
    assert_eq!(card_image(&graph), second["url"].as_str().unwrap());

    // Deleting a picture removes its file too.
    assert_eq!(stored_files(&app), 2);
    let (status, body) = owner(
        &app,
        "DELETE",
        &format!("/products/{product}/pictures/{}", first["id"]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pictures"].as_array().map(Vec::len), Some(1));
    assert_eq!(stored_files(&app), 1);
    let r = app
        .client
        .get(app.url(&path_of(&url)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
    let _ = std::fs::remove_dir_all(media);
}

#[tokio::test]
async fn a_file_that_is_not_a_picture_or_too_big_is_refused_and_nothing_is_kept() {
    let media = own_media_dir();
    let app = TestApp::spawn_with(&[("CHATBILL_MEDIA_DIR", &media)]).await;
    let product = new_product(&app, "Mug").await;

    let (status, body) = upload(&app, product, &[("notes.txt", b"just some text")]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "file");
    assert!(
        body["reason"].as_str().unwrap().contains("not a picture"),
        "{body}"
    );

    let mut cut = png(300, 300, 1);
    cut.truncate(cut.len() / 2);
    let (status, body) = upload(&app, product, &[("cut.png", &cut)]).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["reason"].as_str().unwrap().contains("cut off"),
        "{body}"
    );

    let huge = vec![0x89u8; 10 * 1024 * 1024 + 1];
    let (status, body) = upload(&app, product, &[("huge.png", &huge)]).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("10 MiB"), "{body}");

    // No file part, or not multipart at all.
    let (status, body) = upload(&app, product, &[]).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = owner(
        &app,
        "POST",
        &format!("/products/{product}/pictures"),
        Some(json!({"url": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data"),
        "{body}"
    );

    // The second of two files is bad: the first is kept, and the refusal
    // says which one.
    let good = png(200, 200, 50);
    let (status, body) = upload(&app, product, &[("a.png", &good), ("b.txt", b"nope")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["reason"].as_str().unwrap().starts_with("file 2 of 2"),
        "{body}"
    );
    assert_eq!(
        count(&app, "select count(*) from product_pictures").await,
        1
    );
    assert_eq!(stored_files(&app), 1, "only the kept picture is on disk");

    // Another shop's product is not there.
    let (other, _) =
        crate::common::make_shop(&app.db, "Other", chatbill::domain::Currency::THB).await;
    let theirs = chatbill::store::catalog::create_product(
        &app.db,
        other.id,
        &chatbill::store::catalog::NewProduct {
            name: "Theirs".into(),
            description: String::new(),
            category: String::new(),
            image_url: None,
            price: 100,
            variants: vec![],
        },
        now(),
    )
    .await
    .unwrap();
    let (status, _) = upload(&app, theirs.id.get(), &[("a.png", &good)]).await;
    assert_eq!(status, 404);

    // Ten pictures at most.
    for shade in 0..9u8 {
        let (status, body) = upload(&app, product, &[("p.png", &png(64, 64, 100 + shade))]).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = upload(&app, product, &[("p.png", &png(64, 64, 250))]).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("at most 10"),
        "{body}"
    );
    assert_eq!(
        count(&app, "select count(*) from product_pictures").await,
        10
    );
    assert_eq!(stored_files(&app), 10);
    app.stop().await;
    let _ = std::fs::remove_dir_all(media);
}
